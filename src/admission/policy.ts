/** How violations are enforced (docs/rules.md §6). */

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
  disabledRules?: ReadonlySet<string>;
}

/** The outcome recorded in audit annotations and the decision log. */
export type DecisionKind = 'allowed' | 'denied' | 'warned' | 'exempt' | 'dry-run';
