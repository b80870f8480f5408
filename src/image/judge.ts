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

/** How the rules are applied, from the configuration. */
export interface JudgeOptions {
  /** Catalogue rule identifiers turned off: their errors are dropped (and costly checks skipped). */
  readonly disabledRules?: ReadonlySet<string>;
  /**
   * Violations found outside these rules (signature verification, src/signature) that are judged like
   * create-rule violations: dropped when their rule is disabled, ratcheted on UPDATE.
   */
  readonly additional?: readonly FieldError[];
}

function split(errors: readonly FieldError[], inherited: FieldError[] = []): Verdict {
  const violations: FieldError[] = [];
  const advisories: FieldError[] = [];
  for (const error of errors) (ruleById(error.rule)?.enforcement === 'warn' ? advisories : violations).push(error);
  return { violations, inherited, advisories };
}

function enabledOnly(errors: FieldError[], options: JudgeOptions): FieldError[] {
  const disabled = options.disabledRules;
  return disabled === undefined || disabled.size === 0 ? errors : errors.filter((error) => !disabled.has(error.rule));
}

/** The verdict on creating `image`. */
export function judgeCreate(image: unknown, options: JudgeOptions = {}): Verdict {
  return split(enabledOnly([...validateImage(image, options), ...(options.additional ?? [])], options));
}

/** The verdict on replacing `prev` with `next`: create rules with ratcheting, then immutability. */
export function judgeUpdate(next: unknown, prev: unknown, phase: ReviewPhase, options: JudgeOptions = {}): Verdict {
  const { introduced, inherited } = ratchet(enabledOnly([...validateImage(next, options), ...(options.additional ?? [])], options), next, prev);
  return split([...introduced, ...enabledOnly(validateImageUpdate(next, prev, phase), options)], inherited);
}
