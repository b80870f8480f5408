/**
 * Judging Image manifests before they are applied, through the admission code the server runs, end to
 * end as the API server calls it: each Image becomes the request the API server would send for
 * creating it (or, given the Image it replaces, for updating it); /mutate answers it with the
 * signatures verified, its patch is applied as the API server applies it, and /validate judges the
 * patched object. What the API server itself derives between the two calls on OpenShift (frozen
 * fields restored on UPDATE) is not modelled: /validate only tolerates more than /mutate there.
 */
import { type AdmissionResult, replacedBody } from '../admission/handle.js';
import type { AppliedAction, Policy } from '../admission/policy.js';
import { patchedObject } from '../admission/respond.js';
import { IMAGE_GROUP, IMAGE_VERSION } from '../admission/targets.js';
import type { AdmissionRequest } from '../admission/types.js';
import { type AdmissionPhase, bounded, errorBody, type FieldError, formatPath, type RuleId } from '../image/index.js';
import type { SignatureVerifier } from '../signature/index.js';
import { judgeRequest } from './answer.js';

/** What one finding is: a violation, one the old Image already had, a warn-only rule's, or a signature claim /mutate replaced. */
export type FindingKind = 'violation' | 'pre-existing' | 'advisory' | 'replaced';

/** One finding of the webhook on one Image, with the rule that found it and what it did to the write. */
export interface CheckFinding {
  rule: RuleId;
  /** The field, as `dockerImageLayers[2].size`. */
  field: string;
  /** The API server's wording, such as `Required value`. */
  message: string;
  kind: FindingKind;
  action: AppliedAction;
}

/** The verdict on one Image of one input. */
export interface CheckResult {
  name: string;
  operation: 'CREATE' | 'UPDATE';
  /** Whether the API server would store it: both webhooks allowed it. */
  valid: boolean;
  /** The webhook that denied it. */
  deniedAt?: AdmissionPhase;
  findings: CheckFinding[];
}

/** Checks `image` as a create, or as an update of `old`, under `policy`, with `verifier`'s trusted keys. */
export async function checkImage(image: Record<string, unknown>, old: Record<string, unknown> | undefined, policy: Policy, verifier?: SignatureVerifier): Promise<CheckResult> {
  const name = nameOf(image);
  const operation = old === undefined ? 'CREATE' : 'UPDATE';
  const request = (object: Record<string, unknown>): AdmissionRequest => ({
    uid: 'image-admission-check',
    operation,
    resource: { group: IMAGE_GROUP, version: IMAGE_VERSION, resource: 'images' },
    ...(name === '' ? {} : { name }),
    userInfo: {},
    object,
    oldObject: old ?? null,
    dryRun: false,
  });
  const mutate = await judgeRequest('admission.k8s.io/v1', request(image), 'mutate', policy, verifier);
  const found = findingsOf(mutate.result);
  if (!mutate.reply.response.allowed) return { name, operation, valid: false, deniedAt: 'mutate', findings: found };

  const validate = await judgeRequest('admission.k8s.io/v1', request(patchedObject(image, mutate.reply.response)), 'validate', policy, verifier);
  const findings = distinct([...found, ...findingsOf(validate.result)]);
  if (!validate.reply.response.allowed) return { name, operation, valid: false, deniedAt: 'validate', findings };
  return { name, operation, valid: true, findings };
}

/** The findings of one webhook's result, each with the action it got. */
function findingsOf(result: AdmissionResult): CheckFinding[] {
  // AdmissionResult.actions holds each rule's strongest action. A violation's is its rule's; a finding of any
  // other kind never denies, so it warns unless its rule was only recorded (handle.ts appliedAction).
  const of = (errors: readonly FieldError[], kind: FindingKind, action: (e: FieldError) => AppliedAction) =>
    errors.map((e): CheckFinding => ({ rule: e.rule, field: bounded(formatPath(e.path)), message: kind === 'replaced' ? replacedBody(e) : errorBody(e), kind, action: action(e) }));
  const ruleAction = (e: FieldError) => result.actions.get(e.rule) ?? 'deny';
  const atMostWarn = (e: FieldError) => (result.actions.get(e.rule) === 'record' ? 'record' : 'warn');
  return [
    ...of(result.violations, 'violation', ruleAction),
    ...of(result.inherited, 'pre-existing', atMostWarn),
    ...of(result.advisories, 'advisory', atMostWarn),
    ...of(result.replaced ?? [], 'replaced', () => 'warn'),
  ];
}

/** Findings once each: /mutate and /validate report the same warning of an allowed write. */
function distinct(findings: readonly CheckFinding[]): CheckFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = JSON.stringify([f.kind, f.rule, f.field, f.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function nameOf(image: Record<string, unknown>): string {
  const name = (image.metadata as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : '';
}
