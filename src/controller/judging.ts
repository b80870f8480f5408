/**
 * Bounds what the controller holds while it judges the Images the watch brings. Judging an Image with
 * signatures waits for them to be verified, and a burst of watch events (a push storm, a mass
 * re-signing, a relist) must not pile whole Images up in memory behind that wait. So at most
 * `maxHeld` Images from the watch are held whole; past that only the name is kept, as a client-go
 * work queue keeps keys, and the Image is read again from the API server when a place frees. Memory
 * then grows with the number of names, not with the size of the Images. An Image with nothing to
 * verify is judged at once and never held.
 *
 * Only an Image's latest judgement records its verdict, and none after its deletion (LatestJudgements):
 * a read again takes its ticket before it asks, so a deletion seen while it waits withdraws it. A read
 * that fails puts its name back and pauses all reads (the API server is likely failing), from a
 * second, doubling up to a minute, until one succeeds.
 */
import { LatestJudgements } from './latest.js';

const READ_PAUSE = { initialMs: 1_000, maxMs: 60_000 };

export interface JudgingOptions<V> {
  /** The most Images from the watch held whole while they wait for their verdict. */
  maxHeld: number;
  /** Whether judging `object` must wait (for signature verification); one that need not is never held. */
  waits(object: unknown): boolean;
  /** The verdict on `object`: a promise exactly when `waits(object)`. */
  judge(object: unknown): V | Promise<V>;
  /** Records the verdict of the latest judgement of `name`. */
  record(name: string, verdict: V): void;
  /** Reads the Image `name` again; undefined when it is gone (its deletion is on its way through the watch). */
  read(name: string): Promise<unknown>;
  /** A judgement or a read that failed: the next event or rescan judges the Image again. */
  failed(name: string, error: unknown): void;
  /** Hears every change of the load: Images held whole, names waiting to be read again. */
  load?(held: number, deferred: number): void;
  /** Hears each name kept without its Image (for a counter). */
  deferredOne?(): void;
  /** The pause after a failed read (tests); 1 s doubling to 60 s otherwise. */
  readPause?: { initialMs: number; maxMs: number };
}

export class JudgingQueue<V> {
  private readonly latest = new LatestJudgements();
  private readonly waiting = new Set<string>();
  private holding = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  private readPauseMs = 0;
  private readsPausedUntil = 0;
  private resumeReads: NodeJS.Timeout | undefined;

  constructor(private readonly options: JudgingOptions<V>) {}

  /** Images held whole now (from the watch, waiting for their verdict or being read again). */
  get held(): number {
    return this.holding;
  }

  /** Names waiting to be read again. */
  get deferred(): number {
    return this.waiting.size;
  }

  /** A new version of the Image `name` from the watch. */
  offer(name: string, object: unknown): void {
    if (this.stopped) return;
    // This version is newer than any the name was kept for.
    this.waiting.delete(name);
    if (!this.options.waits(object)) {
      this.judgeNow(name, object);
    } else if (this.holding < this.options.maxHeld) {
      this.hold(name, this.latest.begin(name), Promise.resolve(object), false);
    } else {
      this.waiting.add(name);
      this.options.deferredOne?.();
    }
    this.changed();
  }

  /**
   * Judges the Images of a listed page (in memory anyway, so not counted against `maxHeld`); resolves
   * once every verdict is recorded. A name waiting to be read again is satisfied by its listed version.
   */
  async judgeAll(items: readonly { name: string; object: unknown }[]): Promise<void> {
    await Promise.all(
      items.map(async ({ name, object }) => {
        this.waiting.delete(name);
        const ticket = this.latest.begin(name);
        try {
          const verdict = await this.options.judge(object);
          if (this.latest.current(name, ticket)) this.options.record(name, verdict);
        } catch (error) {
          this.options.failed(name, error);
        } finally {
          this.latest.end(name, ticket);
        }
      }),
    );
    this.changed();
  }

  /** The Image `name` was deleted: nothing in flight or waiting may record a verdict for it. */
  forget(name: string): void {
    this.latest.withdraw(name);
    if (this.waiting.delete(name)) this.changed();
  }

  /** Starts nothing more; what is in flight finishes. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.resumeReads);
    this.waiting.clear();
    this.changed();
  }

  /** Resolves when nothing is held and no name waits (tests). */
  idle(): Promise<void> {
    if (this.holding === 0 && this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private judgeNow(name: string, object: unknown): void {
    const ticket = this.latest.begin(name);
    try {
      this.options.record(name, this.options.judge(object) as V);
    } catch (error) {
      this.options.failed(name, error);
    } finally {
      this.latest.end(name, ticket);
    }
  }

  /** Holds one place until `object` (once it arrives, read again when `read`) is judged and its verdict recorded. */
  private hold(name: string, ticket: number, object: Promise<unknown>, read: boolean): void {
    this.holding++;
    void object
      .then(
        async (image) => {
          if (read) this.readPauseMs = 0;
          // Gone, or overtaken by a newer version or a deletion while it was read: nothing to record.
          if (image === undefined || !this.latest.current(name, ticket)) return;
          const verdict = await this.options.judge(image);
          if (this.latest.current(name, ticket)) this.options.record(name, verdict);
        },
        (error: unknown) => {
          // Only a read can fail here: its name waits again (unless overtaken), behind a pause.
          this.options.failed(name, error);
          if (this.latest.current(name, ticket) && !this.stopped) this.waiting.add(name);
          const pause = this.options.readPause ?? READ_PAUSE;
          this.readPauseMs = Math.min(Math.max(this.readPauseMs * 2, pause.initialMs), pause.maxMs);
          this.readsPausedUntil = Date.now() + this.readPauseMs;
        },
      )
      .catch((error: unknown) => this.options.failed(name, error))
      .finally(() => {
        this.latest.end(name, ticket);
        this.holding--;
        this.readWaiting();
        this.changed();
      });
  }

  /** Reads again, into the places freed, the Images whose names were kept (after a pause, if a read failed). */
  private readWaiting(): void {
    const wait = this.readsPausedUntil - Date.now();
    if (wait > 0) {
      if (this.resumeReads === undefined && this.waiting.size > 0 && !this.stopped) {
        this.resumeReads = setTimeout(() => {
          this.resumeReads = undefined;
          this.readWaiting();
          this.changed();
        }, wait);
        this.resumeReads.unref();
      }
      return;
    }
    for (const name of this.waiting) {
      if (this.stopped || this.holding >= this.options.maxHeld) return;
      this.waiting.delete(name);
      // The ticket is taken before the read: a deletion or a newer version seen meanwhile wins.
      const ticket = this.latest.begin(name);
      this.hold(name, ticket, this.options.read(name), true);
    }
  }

  private changed(): void {
    this.options.load?.(this.holding, this.waiting.size);
    if (this.holding === 0 && this.waiting.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
