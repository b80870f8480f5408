/**
 * Puts the rules together for one write: which violations deny it and which only warn.
 * Modes and exemptions are not decided here (they belong to the admission layer).
 *
 * Every error is sorted as it is found (disabled, inherited, advisory or violation) into capped lists
 * (findings.ts), so a hostile Image costs the cap, not its million errors, and the cap never hides a
 * violation behind inherited ones or a disabled rule's.
 */
import type { FieldError } from './field-error.js';
import { type FindingKind, Findings } from './findings.js';
import { ratchetOf } from './ratchet.js';
import { type Enforcement, ruleById, type RuleId, type RuleOptions } from './rules.js';
import { collectImageErrors, collectSignatureErrors } from './validate.js';
import { type AdmissionPhase, validateImageUpdate } from './validate-update.js';

/** The rules' verdict on one write. */
export interface ImageVerdict {
  /** Violations that deny the write in enforce mode (at most FINDINGS_LIMIT). */
  readonly violations: FieldError[];
  /** Violations the old object already had (ratcheting): they warn, they do not deny. */
  readonly inherited: FieldError[];
  /** Violations of warn-only rules: they never deny. */
  readonly advisories: FieldError[];
  /** Whether the rules stopped looking or left errors out because a list was full. */
  readonly truncated: boolean;
}

/** How the rules are applied, from the configuration. */
export interface JudgeOptions extends RuleOptions {
  /**
   * Violations found outside these rules (signature verification, src/signature) that are judged like
   * create-rule violations: dropped when their rule is off, warned when its action is warn, ratcheted on UPDATE.
   */
  readonly additional?: readonly FieldError[];
}

/** Whether a violation of `rule` denies or only warns, before modes and exemptions. */
export function enforcementOf(rule: RuleId, options: JudgeOptions = {}): Enforcement {
  const action = options.ruleActions?.get(rule);
  return action === 'deny' || action === 'warn' ? action : (ruleById(rule)?.enforcement ?? 'deny');
}

/** --disable-rules and the rules whose action is `off`, as one set (costly checks of either are skipped). */
function withOffRules(options: JudgeOptions): JudgeOptions {
  const off = [...(options.ruleActions ?? [])].filter(([, action]) => action === 'off').map(([id]) => id);
  return off.length === 0 ? options : { ...options, disabledRules: new Set([...(options.disabledRules ?? []), ...off]) };
}

/**
 * Whether `rule` is off: named by `--disable-rules` or given the action `off`. The one place that
 * decides it; the judges below drop its errors, and callers that skip work for it ask here.
 */
export function isRuleOff(rule: RuleId, options: RuleOptions): boolean {
  return options.disabledRules?.has(rule) === true || options.ruleActions?.get(rule) === 'off';
}

/** Disabled rules' errors are dropped; warn-only rules advise; everything else is a violation. */
function kindOf(error: FieldError, options: JudgeOptions): FindingKind {
  if (isRuleOff(error.rule, options)) return 'dropped';
  return enforcementOf(error.rule, options) === 'warn' ? 'advisory' : 'violation';
}

function verdictOf(findings: Findings): ImageVerdict {
  const { violations, inherited, advisories, truncated } = findings;
  return { violations, inherited, advisories, truncated };
}

/** The verdict on creating `image`. */
export function judgeCreate(image: unknown, given: JudgeOptions = {}): ImageVerdict {
  const options = withOffRules(given);
  const findings = new Findings({ classify: (error) => kindOf(error, options) });
  collectImageErrors(image, findings, options);
  findings.addAll(options.additional ?? []);
  return verdictOf(findings);
}

/** The verdict on creating a lone ImageSignature object (`imagesignatures` CREATE). */
export function judgeSignatureCreate(signatureObject: unknown, given: JudgeOptions = {}): ImageVerdict {
  const options = withOffRules(given);
  const findings = new Findings({ classify: (error) => kindOf(error, options) });
  collectSignatureErrors(signatureObject, findings);
  findings.addAll(options.additional ?? []);
  return verdictOf(findings);
}

/** The verdict on replacing `prev` with `next`: immutability, then create rules with ratcheting. */
export function judgeUpdate(next: unknown, prev: unknown, phase: AdmissionPhase, given: JudgeOptions = {}): ImageVerdict {
  const options = withOffRules(given);
  // Immutability first: when it already denies the write, the create rules may stop early (findings.ts).
  const immutability = new Findings({ classify: (error) => kindOf(error, options) });
  immutability.addAll(validateImageUpdate(next, prev, phase));

  const ratchet = ratchetOf(next, prev);
  const findings = new Findings({
    classify: (error) => {
      const kind = kindOf(error, options);
      return kind !== 'dropped' && ratchet.isInherited(error) ? 'inherited' : kind;
    },
    unchanged: ratchet.isUnchanged,
    certainViolations: immutability.violations.length,
  });
  collectImageErrors(next, findings, options);
  findings.addAll(options.additional ?? []);
  return {
    violations: [...findings.violations, ...immutability.violations],
    inherited: findings.inherited,
    advisories: [...findings.advisories, ...immutability.advisories],
    truncated: findings.truncated || immutability.truncated,
  };
}
