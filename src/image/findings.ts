/**
 * Where the rules put what they find, with a cap: a hostile Image of a few hundred thousand empty
 * layers has about a million violations, and materialising them all took seconds and most of the
 * process's memory (docs/performance.md, "Hostile shapes"). The
 * answer lists at most 100 causes, so the rules keep at most FINDINGS_LIMIT of each kind and stop
 * looking once the denial's list is full.
 *
 * The cap must never turn a denial into an allowance. So errors are sorted as they are found, before
 * the cap applies: a disabled rule's errors are dropped, an inherited violation (ratcheting) or a
 * warn-only rule's finding goes to its own list, and only violations fill the list that ends the walk.
 * A write with one violation and a million inherited ones is still denied.
 */
import type { FieldError, FieldPath } from './field-error.js';

/** The most findings of each kind (violations, inherited, advisories) a review keeps. */
export const FINDINGS_LIMIT = 100;

/**
 * How many errors, of any kind, the rules may look at once a violation is certain. Past it, more looking
 * could only refill lists that are capped anyway: a write that changes 340,000 empty layers is denied for
 * changing them, and its million inherited errors need not be built to say so.
 */
export const FINDINGS_BUDGET = 10 * FINDINGS_LIMIT;

/** What one error is to the verdict. */
export type FindingKind = 'violation' | 'inherited' | 'advisory' | 'dropped';

/** How errors are sorted and when the rules may skip part of an Image. */
export interface FindingsOptions {
  /** The kind of each error as it is found; every error is a violation without it. */
  readonly classify?: (error: FieldError) => FindingKind;
  /**
   * On UPDATE: whether everything under `path` equals the old object's. Every error found under such a
   * path is inherited, so once that list is full the rules skip the element instead of walking it.
   */
  readonly unchanged?: (path: FieldPath) => boolean;
  readonly limit?: number;
  /** Violations found elsewhere (immutability): the write is denied whatever these findings hold. */
  readonly certainViolations?: number;
}

/** The errors found so far, each kind capped. */
export class Findings {
  readonly violations: FieldError[] = [];
  readonly inherited: FieldError[] = [];
  readonly advisories: FieldError[] = [];
  /** Whether an error was left out (a full list, or a part of the Image not looked at). */
  truncated = false;
  private seen = 0;
  private readonly limit: number;
  private readonly certainViolations: number;
  private readonly classify: (error: FieldError) => FindingKind;
  private readonly unchanged: ((path: FieldPath) => boolean) | undefined;

  constructor(options: FindingsOptions = {}) {
    this.limit = options.limit ?? FINDINGS_LIMIT;
    this.certainViolations = options.certainViolations ?? 0;
    this.classify = options.classify ?? (() => 'violation');
    this.unchanged = options.unchanged;
  }

  /** Sorts `error` into its list, or counts it as left out when that list is full. */
  add(error: FieldError): void {
    const kind = this.classify(error);
    if (kind === 'dropped') return;
    this.seen++;
    const list = kind === 'violation' ? this.violations : kind === 'inherited' ? this.inherited : this.advisories;
    if (list.length < this.limit) list.push(error);
    else this.truncated = true;
  }

  /** Adds each of `errors`. */
  addAll(errors: readonly FieldError[]): void {
    for (const error of errors) this.add(error);
  }

  /**
   * Whether the rules should stop looking: the answer is a denial and more looking cannot change what
   * it shows (the list of violations is full, or FINDINGS_BUDGET errors were seen). A loop over an
   * Image's elements asks this before each element.
   */
  get done(): boolean {
    const full = this.violations.length >= this.limit || (this.violations.length + this.certainViolations > 0 && this.seen >= FINDINGS_BUDGET);
    if (!full) return false;
    this.truncated = true;
    return true;
  }

  /**
   * Whether the element at `path` is worth walking: not when the rules are done, nor when it is
   * unchanged from the old object and the inherited list is already full. (This relies on every error
   * found under an element depending only on values under that element.)
   */
  wants(path: FieldPath): boolean {
    if (this.done) return false;
    if (this.inherited.length < this.limit || this.unchanged === undefined || !this.unchanged(path)) return true;
    this.truncated = true;
    return false;
  }
}
