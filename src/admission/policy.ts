/** How violations are enforced (docs/rules.md §6). */
import type { RuleOptions } from '../image/index.js';

export const MODES = ['enforce', 'warn', 'dry-run'] as const;
/** enforce: violations deny; warn: allowed with warnings; dry-run: allowed silently, only recorded. */
export type Mode = (typeof MODES)[number];

/**
 * The enforcement settings the admission layer needs from the configuration: the mode, the exemptions,
 * and the operator's rule options (`--disable-rules`, `--rule-actions`; none when absent).
 */
export interface Policy extends RuleOptions {
  mode: Mode;
  /** User names whose writes are allowed with a warning (registry migration, break-glass). */
  exemptUsers: ReadonlySet<string>;
  exemptGroups: ReadonlySet<string>;
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

/** The decision on a write, as the audit annotation `decision` and the decision log record it. */
export type Decision = 'allowed' | 'denied' | 'warned' | 'exempt' | 'dry-run';
