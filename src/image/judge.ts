/**
 * Puts the rules together for one write: which violations deny it and which only warn.
 * Modes and exemptions are not decided here (they belong to the admission layer).
 */
import type { FieldError } from './field-error.js';
import { ratchet } from './ratchet.js';
import { type Enforcement, ruleById, type RuleAction, type RuleId } from './rules.js';
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
  readonly disabledRules?: ReadonlySet<RuleId>;
  /** Per-rule actions over the catalogue's: `deny` and `warn` decide which list a violation joins, `off` disables. */
  readonly ruleActions?: ReadonlyMap<RuleId, RuleAction>;
}

/** Whether a violation of `rule` denies or only warns, before modes and exemptions. */
export function enforcementOf(rule: string, options: JudgeOptions = {}): Enforcement {
  const action = options.ruleActions?.get(rule as RuleId);
  return action === 'deny' || action === 'warn' ? action : (ruleById(rule)?.enforcement ?? 'deny');
}

function split(errors: readonly FieldError[], options: JudgeOptions, inherited: FieldError[] = []): Verdict {
  const violations: FieldError[] = [];
  const advisories: FieldError[] = [];
  for (const error of errors) (enforcementOf(error.rule, options) === 'warn' ? advisories : violations).push(error);
  return { violations, inherited, advisories };
}

/** --disable-rules and the rules whose action is `off`: one set. */
function disabledOf(options: JudgeOptions): ReadonlySet<string> {
  const off = [...(options.ruleActions ?? [])].filter(([, action]) => action === 'off').map(([id]) => id);
  return off.length === 0 ? (options.disabledRules ?? new Set()) : new Set([...(options.disabledRules ?? []), ...off]);
}

function enabledOnly(errors: FieldError[], disabled: ReadonlySet<string>): FieldError[] {
  return disabled.size === 0 ? errors : errors.filter((error) => !disabled.has(error.rule));
}

/** The verdict on creating `image`. */
export function judgeCreate(image: unknown, options: JudgeOptions = {}): Verdict {
  const disabled = disabledOf(options);
  return split(enabledOnly(validateImage(image, { disabledRules: disabled }), disabled), options);
}

/** The verdict on replacing `prev` with `next`: create rules with ratcheting, then immutability. */
export function judgeUpdate(next: unknown, prev: unknown, phase: ReviewPhase, options: JudgeOptions = {}): Verdict {
  const disabled = disabledOf(options);
  const { introduced, inherited } = ratchet(enabledOnly(validateImage(next, { disabledRules: disabled }), disabled), next, prev);
  return split([...introduced, ...enabledOnly(validateImageUpdate(next, prev, phase), disabled)], options, inherited);
}
