/**
 * The audit annotations a review's answer carries: their keys, defined once, and the function that
 * writes them. The API server stores each in the audit event as `<webhook name>/<key>`, where
 * `audit review` reads them back with `auditAnnotationKey`.
 */
import type { FieldError, RuleId } from '../image/index.js';
import { EXPECT_RULE } from '../signature/index.js';
import type { AppliedAction, Decision, Policy } from './policy.js';

/** The keys, at most 63 characters and without `/` (the API server drops others). */
export const AUDIT_KEYS = {
  decision: 'decision',
  decisionId: 'decision-id',
  mode: 'mode',
  violations: 'violations',
  preExisting: 'pre-existing-violations',
  advisories: 'advisories',
  ruleActions: 'rule-actions',
  /** `missing`: the Image is in an --expect-trusted-signature scope and carries no trusted signature. */
  expectedTrustedSignature: 'expected-trusted-signature',
} as const;

/** The annotation key the API server stores `key` under, for the webhook named `webhookName`. */
export function auditAnnotationKey(webhookName: string, key: keyof typeof AUDIT_KEYS): string {
  return `${webhookName}/${AUDIT_KEYS[key]}`;
}

/**
 * The annotations of one answer: the decision, its id (the review's uid), the mode, the rules found,
 * and what each of those rules did (`rule-actions`: `RULE=deny|warn|record`, after --rule-actions,
 * the mode and exemptions).
 */
export function auditAnnotations(
  uid: string,
  result: {
    decision: Decision;
    violations: readonly FieldError[];
    inherited: readonly FieldError[];
    advisories: readonly FieldError[];
    actions: ReadonlyMap<RuleId, AppliedAction>;
  },
  policy: Policy,
): Record<string, string> {
  const annotations: Record<string, string> = { [AUDIT_KEYS.decision]: result.decision, [AUDIT_KEYS.decisionId]: uid, [AUDIT_KEYS.mode]: policy.mode };
  const violated = ruleList(result.violations);
  const inherited = ruleList(result.inherited);
  const advised = ruleList(result.advisories);
  if (violated) annotations[AUDIT_KEYS.violations] = violated;
  if (inherited) annotations[AUDIT_KEYS.preExisting] = inherited;
  if (advised) annotations[AUDIT_KEYS.advisories] = advised;
  const findings = [...result.violations, ...result.inherited, ...result.advisories];
  if (findings.some((e) => e.rule === EXPECT_RULE)) annotations[AUDIT_KEYS.expectedTrustedSignature] = 'missing';
  if (result.actions.size > 0) annotations[AUDIT_KEYS.ruleActions] = [...result.actions].map(([rule, action]) => `${rule}=${action}`).join(',');
  return annotations;
}

function ruleList(errors: readonly FieldError[]): string {
  return [...new Set(errors.map((e) => e.rule))].join(',');
}
