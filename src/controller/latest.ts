/**
 * Which asynchronous judgement of an Image may record its verdict: judging waits for signature
 * verification, so two versions of one Image (or a version and its deletion) can overtake each other.
 * Each judgement takes a ticket; only the Image's latest ticket counts, and a deletion withdraws it.
 * Names are held only while a judgement of them is in flight.
 */
export class LatestJudgements {
  private readonly latest = new Map<string, number>();
  private issued = 0;

  /** Starts a judgement of `name`: every earlier one in flight no longer counts. */
  begin(name: string): number {
    const ticket = ++this.issued;
    this.latest.set(name, ticket);
    return ticket;
  }

  /** Whether the judgement holding `ticket` is still the latest of `name` (its verdict may be recorded). */
  current(name: string, ticket: number): boolean {
    return this.latest.get(name) === ticket;
  }

  /** Ends the judgement holding `ticket`, forgetting `name` if nothing newer is in flight. */
  end(name: string, ticket: number): void {
    if (this.current(name, ticket)) this.latest.delete(name);
  }

  /** `name` was deleted: no judgement in flight may record a verdict for it. */
  withdraw(name: string): void {
    this.latest.delete(name);
  }

  /** Names with a judgement in flight. */
  get inFlight(): number {
    return this.latest.size;
  }
}
