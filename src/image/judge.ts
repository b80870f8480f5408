/**
 * Puts the rules together for one write: which violations deny it and which only warn.
 * Modes and exemptions are not decided here (they belong to the admission layer).
 */
import type { FieldError } from './field-error.js';
import { ratchet } from './ratchet.js';
import { ruleById } from './rules.js';
import { validateImage } from './validate.js';
import { type ReviewPhase, validateImageUpdate } from './validate-update.js';

/** The rules' verdict on one write. */
export interface Verdict {
  /** Violations that deny the write in enforce mode. */
  readonly violations: FieldError[];
  /** Violations the old object already had (ratcheting): they warn, they do not deny. */
  readonly inherited: FieldError[];
  /** Violations of warn-only rules: they never deny. */
  readonly advisories: FieldError[];
}

function split(errors: readonly FieldError[], inherited: FieldError[] = []): Verdict {
  const violations: FieldError[] = [];
  const advisories: FieldError[] = [];
  for (const error of errors) (ruleById(error.rule)?.enforcement === 'warn' ? advisories : violations).push(error);
  return { violations, inherited, advisories };
}

/** The verdict on creating `image`. */
export function judgeCreate(image: unknown): Verdict {
  return split(validateImage(image));
}

/** The verdict on replacing `prev` with `next`: create rules with ratcheting, then immutability. */
export function judgeUpdate(next: unknown, prev: unknown, phase: ReviewPhase): Verdict {
  const { introduced, inherited } = ratchet(validateImage(next), next, prev);
  return split([...introduced, ...validateImageUpdate(next, prev, phase)], inherited);
}
