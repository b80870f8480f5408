/**
 * Answers one parsed review: picks the rules for the resource and operation, applies the mode and
 * exemptions, and builds the response.
 *
 * | request                                   | /mutate                                   | /validate                     |
 * |-------------------------------------------|-------------------------------------------|-------------------------------|
 * | images CREATE, no violation               | allowed; patch if defaulting changed it   | allowed, never a patch        |
 * | images CREATE, violations (enforce)       | denied 422 Invalid, no patch              | denied 422 Invalid            |
 * | images UPDATE                             | as CREATE, plus immutability (strict)     | immutability tolerates OpenShift's own derivations |
 * | imagestreammappings CREATE                | the embedded `image`, paths `image.…`     | same                          |
 * | imagesignatures CREATE                    | the signature rules; derived fields set   | same; derived fields checked only when present |
 * | DELETE, CONNECT; imagestreammappings other| allowed, untouched                        | allowed, untouched            |
 * | any other group, resource or subresource  | denied 400 (misrouted: fix the webhook's rules) | same                    |
 * | violations in warn mode                   | allowed with warnings (and the patch)     | allowed with warnings         |
 * | violations in dry-run mode                | allowed silently; only annotated and logged | same                        |
 * | an exempt user or group, with violations  | allowed with warnings (none in dry-run); decision "exempt" | same         |
 * | only inherited violations (ratcheting)    | allowed with warnings                     | same                          |
 * | a rule with --rule-actions RULE=deny      | its violations deny in any mode (unless exempt); others follow the mode | same |
 * | a rule with --rule-actions RULE=warn      | its violations warn in any mode, never deny | same                        |
 */
import {
  bounded,
  type FieldError,
  type FieldPath,
  errorBody,
  formatError,
  formatPath,
  type AdmissionPhase,
  type RuleId,
  type ImageVerdict,
  judgeCreate,
  judgeSignatureCreate,
  judgeUpdate,
  withDefaults,
  withPathPrefix,
} from '../image/index.js';
import { checkDerivedSignature, checkDerivedSignatures, deriveSignature, hasDerivedFields, SIGNATURE_RULE, withDerivedSignatures } from '../signature/index.js';
import { auditAnnotations } from './audit-annotations.js';
import type { AppliedAction, Decision, Policy } from './policy.js';
import { expectedTrustFindings, loneSignatureJudgement, type SignatureVerdicts, signatureJudgementsOf, signatureViolations } from './signatures.js';
import { allowed, denied, escapePointer, misrouted, patchFields, patchOperations, type Target, toReply, toWarnings } from './respond.js';
import { IMAGE_GROUP, IMAGE_VERSION, imagesIn, REVIEWED_RESOURCES, reviewedTarget, type ReviewTarget, signatureIn } from './targets.js';
import type { AdmissionRequest, AdmissionResponse, AdmissionReviewReply, AdmissionVersion } from './types.js';

/** What handling one review found and decided, for the decision log, audit annotations and metrics. */
export interface AdmissionResult {
  decision: Decision;
  /** Violations that deny the write in enforce mode. */
  violations: FieldError[];
  /** Violations the old object already had: they warn (ratcheting). */
  inherited: FieldError[];
  /** Violations of warn-only rules. */
  advisories: FieldError[];
  /** Whether the request was one this webhook judges (not DELETE, not misrouted). */
  reviewed: boolean;
  patched: boolean;
  /** What each rule found did to the write (after --rule-actions, the mode and exemptions). */
  actions: ReadonlyMap<RuleId, AppliedAction>;
  /** Signature claims /mutate replaced with what verification derives (each told as a warning). */
  replaced?: FieldError[];
}

/** Answers a review in admission `phase` under `policy`. */
export function handleReview(
  apiVersion: AdmissionVersion,
  request: AdmissionRequest,
  phase: AdmissionPhase,
  policy: Policy,
  signatures?: SignatureVerdicts,
): { reply: AdmissionReviewReply; result: AdmissionResult } {
  const { response, result } = decide(request, phase, policy, signatures);
  const annotations = auditAnnotations(request.uid, result, policy);
  return { reply: toReply(apiVersion, request.uid, { ...response, auditAnnotations: annotations }), result };
}

/** The response to send and the result to record, before the envelope and the audit annotations. */
type Handled = { response: Omit<AdmissionResponse, 'uid'>; result: AdmissionResult };

const untouched = (): Handled => ({
  response: allowed(),
  result: { decision: 'allowed', violations: [], inherited: [], advisories: [], reviewed: false, patched: false, actions: new Map() },
});

function decide(request: AdmissionRequest, phase: AdmissionPhase, policy: Policy, signatures: SignatureVerdicts | undefined): Handled {
  const { group, version, resource } = request.resource;
  const target = group === IMAGE_GROUP && version === IMAGE_VERSION ? reviewedTarget(resource) : undefined;
  if (target === undefined || request.subResource) {
    const what = bounded(`${group || 'core'}/${version} ${resource}${request.subResource ? `/${request.subResource}` : ''}`);
    return {
      response: misrouted(
        `image-admission-webhook reviews only ${IMAGE_GROUP}/${IMAGE_VERSION} ${REVIEWED_RESOURCES.join(', ')}, but received ${what}: the webhook configuration's rules are wrong`,
      ),
      result: { decision: 'denied', violations: [], inherited: [], advisories: [], reviewed: false, patched: false, actions: new Map() },
    };
  }
  if (!target.judged.includes(request.operation)) return untouched();
  return judgeImage(request, phase, policy, target, signatures);
}

/** What the rules found in the Image (or signature) a write carries, before modes, exemptions and actions. */
interface Judged {
  readonly verdict: ImageVerdict;
  /** Where the judged Image or signature sits in the object written. */
  readonly at: FieldPath;
  /** The signatures whose claimed conditions /mutate replaced (paths from the object's root). */
  readonly replaced: FieldError[];
  /** /mutate's patch (defaulting and derived signature fields), from the object's root. */
  readonly patch: ReturnType<typeof patchFields>;
}

/** Judges the Image the request's object carries (the object itself, or a mapping's `image`). */
function judgeCarriedImage(request: AdmissionRequest, phase: AdmissionPhase, policy: Policy, target: ReviewTarget, signatures: SignatureVerdicts | undefined): Judged {
  // A judged resource carries exactly one Image, in the object written.
  const { image: written, at } = imagesIn(target, request.object)![0]!;
  // Signatures: /mutate writes what verification derives (the write itself is judged as sent, so a
  // malformed condition is still denied); /validate denies a write whose signatures disagree with
  // verification (one that skipped /mutate, or changed after it). Those findings go through the same
  // per-rule actions as the catalogue's (signature-verified=warn only warns).
  // (/validate's judgement is the one stored Images get too: src/audit/existing.ts.)
  const judgementOf = signatureJudgementsOf(written, policy, signatures?.verdicts);
  const signed = isRecord(written) && Array.isArray(written.signatures) && written.signatures.length > 0;
  const derived = phase === 'mutate' && judgementOf !== undefined && signed ? withDerivedSignatures(written as Record<string, unknown>, judgementOf, signatures!.now) : written;
  const corrected = phase === 'mutate' && judgementOf !== undefined ? checkDerivedSignatures(written as Record<string, unknown>, judgementOf) : [];
  // An Image in an --expect-trusted-signature scope without a trusted signature is warned about, in
  // both phases (a warn-only rule), whether or not the signature rule itself is on.
  const expected = expectedTrustFindings(written, policy, signatures?.verdicts);
  const additional = [...(phase === 'validate' ? signatureViolations(written, policy, signatures?.verdicts) : []), ...expected];
  const options = { disabledRules: policy.disabledRules, ruleActions: policy.ruleActions, additional };
  const verdict: ImageVerdict =
    request.operation === 'UPDATE' ? judgeUpdate(written, request.oldObject, phase, options) : judgeCreate(written, options);
  const patch = phase === 'mutate' && isRecord(written) ? defaultingPatch(written, derived as Record<string, unknown>, at) : {};
  return { verdict, at, replaced: replacedClaims(corrected, written, at), patch };
}

/**
 * Judges the lone signature an `imagesignatures` CREATE writes, with the rules of a signature inside
 * an Image; /mutate derives its conditions as there (the Image's digest from its name; its repository
 * is not in the object, so a good signature is Trusted=Unknown until it is judged inside the Image).
 * openshift-apiserver clears every derived field of an ImageSignature (its strategy's PrepareForCreate)
 * between the mutating and the validating webhooks, and then derives nothing: /validate holds the
 * signature to verification only when it still carries such fields.
 */
function judgeCarriedSignature(request: AdmissionRequest, phase: AdmissionPhase, policy: Policy, target: ReviewTarget, signatures: SignatureVerdicts | undefined): Judged {
  const written = signatureIn(target, request.object);
  const at: FieldPath = [...(target.signaturePath ?? [])];
  const judgement = loneSignatureJudgement(written, policy, signatures?.verdicts);
  const sent = written as Record<string, unknown>;
  const corrected = phase === 'mutate' && judgement !== undefined ? checkDerivedSignature(sent, judgement, []) : [];
  const additional = phase === 'validate' && judgement !== undefined && hasDerivedFields(sent) ? checkDerivedSignature(sent, judgement, []) : [];
  const verdict = judgeSignatureCreate(written, { disabledRules: policy.disabledRules, ruleActions: policy.ruleActions, additional });
  const derived = phase === 'mutate' && judgement !== undefined ? deriveSignature(sent, judgement, signatures!.now) : written;
  const patch = phase === 'mutate' && isRecord(written) ? patchAt(patchOperations(written, derived as Record<string, unknown>), at) : {};
  const claimed = isRecord(written) && Array.isArray(written.conditions);
  const replaced = claimed ? corrected.filter((e) => e.path.at(-1) === 'conditions').map((e) => withPathPrefix(e, at)) : [];
  return { verdict, at, replaced, patch };
}

/** Judges what the request's object carries, then applies the per-rule actions, the mode and exemptions. */
function judgeImage(request: AdmissionRequest, phase: AdmissionPhase, policy: Policy, target: ReviewTarget, signatures: SignatureVerdicts | undefined): Handled {
  const judge = target.signaturePath !== undefined ? judgeCarriedSignature : judgeCarriedImage;
  const { verdict, at, replaced: replacedFound, patch } = judge(request, phase, policy, target, signatures);
  const subject: Target = { group: IMAGE_GROUP, kind: target.kind, name: objectName(request) };
  const prefixed = (errors: FieldError[]) => errors.map((e) => withPathPrefix(e, at));
  const violations = prefixed(verdict.violations);
  const inherited = prefixed(verdict.inherited);
  const advisories = prefixed(verdict.advisories);
  const exempt = isExempt(request, policy);
  const actions = new Map<RuleId, AppliedAction>();
  const act = (kind: FindingKind) => (e: FieldError) => {
    const action = appliedAction(policy, e.rule, kind, exempt);
    // One action per rule: the strongest any of its findings got.
    if (STRENGTH[action] > STRENGTH[actions.get(e.rule) ?? 'record']) actions.set(e.rule, action);
    else if (!actions.has(e.rule)) actions.set(e.rule, action);
    return action;
  };
  const denying = violations.filter((e) => act('violation')(e) === 'deny');
  const warned = (errors: FieldError[], kind: FindingKind) => errors.filter((e) => act(kind)(e) === 'warn');
  const warnTexts = [
    ...warned(violations, 'violation').map(formatError),
    ...warned(inherited, 'pre-existing').map((e) => `pre-existing: ${formatError(e)}`),
    ...warned(advisories, 'advisory').map(formatError),
  ];
  // Claims /mutate replaced are not findings (the stored object is right), but the writer should hear
  // of them wherever the signature rule would warn.
  const replacedErrors = replacedFound;
  const replaced = appliedAction(policy, SIGNATURE_RULE, 'advisory', false) === 'warn' ? replacedErrors.map(formatReplaced) : [];

  const base = { violations, inherited, advisories, reviewed: true, actions, ...(replacedErrors.length === 0 ? {} : { replaced: replacedErrors }) };
  if (denying.length > 0) {
    return {
      response: denied(denying, subject, warningFields([...warnTexts, ...replaced]), verdict.truncated),
      result: { ...base, decision: 'denied', patched: false },
    };
  }

  const findings = violations.length + inherited.length + advisories.length > 0;
  // Exempt only matters when there was something to exempt from; what is only recorded stays silent.
  const decision: Decision = !findings ? 'allowed' : exempt ? 'exempt' : warnTexts.length > 0 ? 'warned' : 'dry-run';
  const texts = [...(exempt ? warnTexts.map((t) => `exempt: ${t}`) : warnTexts), ...replaced];

  return {
    response: allowed({ ...warningFields(texts), ...patch }),
    result: { ...base, decision, patched: patch.patch !== undefined },
  };
}

type FindingKind = 'violation' | 'pre-existing' | 'advisory';
const STRENGTH: Record<AppliedAction, number> = { record: 0, warn: 1, deny: 2 };

/**
 * What one finding does. An explicit --rule-actions entry wins over the mode (Gatekeeper's
 * per-constraint enforcementAction over a cluster default): `deny` denies in any mode, `warn` warns in
 * any mode. Without one, the mode decides: enforce denies (warns for the catalogue's warn-only rules),
 * warn warns, dry-run only records. A violation the old object already had never denies (ratcheting),
 * and an exempt writer is warned where others would be denied.
 */
function appliedAction(policy: Policy, rule: RuleId, kind: FindingKind, exempt: boolean): AppliedAction {
  const explicit = policy.ruleActions?.get(rule);
  let action: AppliedAction;
  if (kind === 'violation') action = explicit === 'deny' || policy.mode === 'enforce' ? 'deny' : policy.mode === 'warn' ? 'warn' : 'record';
  else action = explicit === 'deny' || explicit === 'warn' || policy.mode !== 'dry-run' ? 'warn' : 'record';
  return action === 'deny' && exempt ? 'warn' : action;
}

/** The patch from the Image as written to `next` defaulted, with paths from the object's root. */
function defaultingPatch(written: Record<string, unknown>, next: Record<string, unknown>, at: FieldPath): ReturnType<typeof patchFields> {
  return patchAt(patchOperations(written, withDefaults(next)), at);
}

/** `operations` on the value at `at`, as a patch with paths from the object's root. */
function patchAt(operations: ReturnType<typeof patchOperations>, at: FieldPath): ReturnType<typeof patchFields> {
  const prefix = at.map((step) => `/${escapePointer(String(step))}`).join('');
  return patchFields(prefix === '' ? operations : operations.map((op) => ({ ...op, path: `${prefix}${op.path}` })));
}

/**
 * The signatures whose writer claimed conditions that /mutate replaced (paths from the object's root):
 * the writer should know its claim was not stored. Signatures written without conditions are left out.
 */
function replacedClaims(corrected: readonly FieldError[], written: unknown, at: FieldPath): FieldError[] {
  const signatures = isRecord(written) && Array.isArray(written.signatures) ? written.signatures : [];
  return corrected
    .filter((e) => e.path.at(-1) === 'conditions' && Array.isArray((signatures[e.path[1] as number] as { conditions?: unknown } | undefined)?.conditions))
    .map((e) => withPathPrefix(e, at));
}

/** The warning for one replaced claim: `signatures[0].conditions: replaced: ...`. */
function formatReplaced(error: FieldError): string {
  return `${formatPath(error.path)}: ${replacedBody(error)}`;
}

/** What a replaced claim's warning says after its field. */
export function replacedBody(error: FieldError): string {
  return errorBody(error).replace('Invalid value', 'replaced');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function warningFields(texts: string[]): { warnings?: string[] } {
  return texts.length === 0 ? {} : { warnings: toWarnings(texts) };
}

function isExempt(request: AdmissionRequest, policy: Policy): boolean {
  const { username, groups } = request.userInfo;
  if (username !== undefined && policy.exemptUsers.has(username)) return true;
  return (groups ?? []).some((group) => policy.exemptGroups.has(group));
}

function objectName(request: AdmissionRequest): string {
  const metadata = (request.object as { metadata?: { name?: unknown } }).metadata;
  if (typeof metadata?.name === 'string') return metadata.name;
  return request.name ?? '';
}
