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
import { ruleById } from './rules.js';
import { collectImageErrors } from './validate.js';
import { type ReviewPhase, validateImageUpdate } from './validate-update.js';

/** The rules' verdict on one write. */
export interface Verdict {
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
export interface JudgeOptions {
  /** Catalogue rule identifiers turned off: their errors are dropped (and costly checks skipped). */
  readonly disabledRules?: ReadonlySet<string>;
  /**
   * Violations found outside these rules (signature verification, src/signature) that are judged like
   * create-rule violations: dropped when their rule is disabled, ratcheted on UPDATE.
   */
  readonly additional?: readonly FieldError[];
}

/** Disabled rules' errors are dropped; warn-only rules advise; everything else is a violation. */
function kindOf(error: FieldError, options: JudgeOptions): FindingKind {
  if (options.disabledRules?.has(error.rule)) return 'dropped';
  return ruleById(error.rule)?.enforcement === 'warn' ? 'advisory' : 'violation';
}

function verdictOf(findings: Findings): Verdict {
  const { violations, inherited, advisories, truncated } = findings;
  return { violations, inherited, advisories, truncated };
}

/** The verdict on creating `image`. */
export function judgeCreate(image: unknown, options: JudgeOptions = {}): Verdict {
  const findings = new Findings({ classify: (error) => kindOf(error, options) });
  collectImageErrors(image, findings, options);
  findings.addAll(options.additional ?? []);
  return verdictOf(findings);
}

/** The verdict on replacing `prev` with `next`: immutability, then create rules with ratcheting. */
export function judgeUpdate(next: unknown, prev: unknown, phase: ReviewPhase, options: JudgeOptions = {}): Verdict {
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
