/** How violations are enforced (docs/rules.md §6). */
import type { RuleAction, RuleId } from '../image/index.js';

export const MODES = ['enforce', 'warn', 'dry-run'] as const;
/** enforce: violations deny; warn: allowed with warnings; dry-run: allowed silently, only recorded. */
export type Mode = (typeof MODES)[number];

/** The enforcement settings the admission layer needs from the configuration. */
export interface Policy {
  mode: Mode;
  /** User names whose writes are allowed with a warning (registry migration, break-glass). */
  exemptUsers: ReadonlySet<string>;
  exemptGroups: ReadonlySet<string>;
  /** Catalogue rule identifiers turned off by the operator: their errors are dropped before judging (none when absent). */
  disabledRules?: ReadonlySet<RuleId>;
  /**
   * Per-rule actions (`--rule-actions`), over the mode for the rules they name: `deny` denies even in
   * warn or dry-run mode, `warn` only warns even in enforce mode or dry-run, `off` disables.
   */
  ruleActions?: ReadonlyMap<RuleId, RuleAction>;
  /**
   * Repository prefixes (`--expect-trusted-signature`, normalised by src/signature/expect.ts) whose
   * Images should carry a trusted signature: those without one are warned about, never denied.
   */
  expectTrustedSignature?: readonly string[];
}

/**
 * What a finding does to the write: `deny` it, `warn` the writer, or only `record` it (audit
 * annotations, decision log, metrics). Recorded per rule in the trail (`rule-actions`).
 */
export const APPLIED_ACTIONS = ['deny', 'warn', 'record'] as const;
export type AppliedAction = (typeof APPLIED_ACTIONS)[number];

/** The outcome recorded in audit annotations and the decision log. */
export type DecisionKind = 'allowed' | 'denied' | 'warned' | 'exempt' | 'dry-run';
