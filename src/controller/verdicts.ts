/**
 * What the controller knows of the stored Images: for each Image in violation its finding (never the
 * Image itself), and how many Images of each rule are in violation. Memory grows with the Images in
 * violation and their (capped) findings, not with the size of the Images.
 */
import { contentDigest, type Finding } from './report.js';

/** A stored Image in violation. */
export interface Violating {
  readonly uid?: string;
  readonly finding: Finding;
  /** When this finding was first seen (stamps the report's results). */
  readonly since: Date;
}

/** What tells two verdicts on an Image apart: a digest, not the finding's JSON a second time. */
export function verdictKey(uid: string | undefined, finding: Finding): string {
  return contentDigest({ uid, finding });
}

/** Called with the name of an Image whose verdict changed (a new finding, or none any more). */
export type ChangeListener = (name: string) => void;

/** The verdicts of the stored Images. */
export class VerdictStore {
  /** `key`: a digest of uid and finding, to tell a change (the finding itself is held once). */
  private readonly violating = new Map<string, Violating & { key: string }>();
  private readonly byRule = new Map<string, number>();
  private known = 0;

  constructor(private readonly onChange: ChangeListener = () => {}) {}

  /** Records the verdict on the Image `name` (undefined finding: clean). */
  set(name: string, uid: string | undefined, finding: Finding | undefined, now = new Date()): void {
    const previous = this.violating.get(name);
    if (!finding) {
      if (previous) this.remove(name);
      return;
    }
    const key = verdictKey(uid, finding);
    if (previous?.key === key) return;
    if (previous) this.count(previous.finding, -1);
    this.violating.set(name, { uid, finding, since: now, key });
    this.count(finding, 1);
    this.onChange(name);
  }

  /** Forgets the Image `name` (deleted). */
  delete(name: string): void {
    if (this.violating.has(name)) this.remove(name);
  }

  get(name: string): Violating | undefined {
    return this.violating.get(name);
  }

  /** The names of the Images in violation. */
  names(): IterableIterator<string> {
    return this.violating.keys();
  }

  /** Images in violation, by rule. */
  counts(): ReadonlyMap<string, number> {
    return this.byRule;
  }

  get size(): number {
    return this.violating.size;
  }

  /** How many Images are stored in all (set by the informer, which knows every name). */
  get total(): number {
    return this.known;
  }

  set total(value: number) {
    this.known = value;
  }

  private remove(name: string): void {
    const previous = this.violating.get(name)!;
    this.violating.delete(name);
    this.count(previous.finding, -1);
    this.onChange(name);
  }

  private count(finding: Finding, delta: 1 | -1): void {
    for (const rule of finding.rules) {
      const next = (this.byRule.get(rule) ?? 0) + delta;
      if (next === 0) this.byRule.delete(rule);
      else this.byRule.set(rule, next);
    }
  }
}
