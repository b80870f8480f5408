/**
 * Signature verification in the admission protocol: which contents an Image asks to verify (before it
 * is judged, since verification is asynchronous), and the violations verification adds to the rules.
 * The webhook (a review's Images), the controller and `audit scan` (stored Images) use these same
 * functions, so a stored signature is judged exactly as /validate judges a write.
 */
import { type FieldError, isRuleOff, type RuleOptions } from '../image/index.js';
import { checkDerivedSignatures, checkExpectedTrust, contentsToVerify, judgementOfLoneSignature, judgementsOf, loneSignatureContents, SIGNATURE_RULE, type SignatureVerdict } from '../signature/index.js';
import type { SignatureJudgement } from '../signature/judge.js';
import type { JudgementOf } from '../signature/derive.js';
import type { Policy } from './policy.js';
import { IMAGE_GROUP, imagesIn, reviewedTarget, signatureIn } from './targets.js';
import type { AdmissionRequest } from './types.js';

/** What verification found for the contents of one review, and the time it judged them at. */
export interface SignatureVerdicts {
  readonly verdicts: ReadonlyMap<string, SignatureVerdict>;
  /** RFC 3339: the time written into conditions that change. */
  readonly now: string;
}

/** What decides which signatures are judged: the rule options, and the --expect-trusted-signature scopes. */
type SignaturePolicy = RuleOptions & Pick<Policy, 'expectTrustedSignature'>;

/** Whether signatures are verified under `policy` (the operator can turn the rule off, by either flag). */
function verifiesSignatures(policy: RuleOptions): boolean {
  return !isRuleOff(SIGNATURE_RULE, policy);
}

/** Whether `policy` expects trusted signatures on some repositories (which needs their verdicts too). */
function expectsTrustedSignatures(policy: SignaturePolicy): boolean {
  return (policy.expectTrustedSignature?.length ?? 0) > 0;
}

/**
 * The signature contents the Images written by `request` ask to verify (none for requests not judged).
 * `verified(content)`: whether a content has been verified before (its format check is skipped).
 */
export function signatureContentsOf(request: AdmissionRequest, policy: Policy, verified?: (content: string) => boolean): string[] {
  if (request.resource.group !== IMAGE_GROUP || request.subResource) return [];
  const target = reviewedTarget(request.resource.resource);
  if (target === undefined || !target.judged.includes(request.operation)) return [];
  if (target.signaturePath !== undefined) {
    const signature = signatureIn(target, request.object);
    return verifiesSignatures(policy) && isRecord(signature) ? loneSignatureContents(signature) : [];
  }
  return (imagesIn(target, request.object) ?? []).flatMap(({ image }) => imageSignatureContents(image, policy, verified));
}

/**
 * The judgement of a lone ImageSignature object (`imagesignatures` CREATE) from the verdict on its
 * content, or undefined when signatures are not judged or its name names no Image.
 */
export function loneSignatureJudgement(signature: unknown, policy: RuleOptions, verdicts: ReadonlyMap<string, SignatureVerdict> | undefined): SignatureJudgement | undefined {
  return verdicts !== undefined && verifiesSignatures(policy) && isRecord(signature) ? judgementOfLoneSignature(signature, verdicts) : undefined;
}

/**
 * The signature contents one Image asks to verify: none when it is not an object, or when neither the
 * signature rule nor an --expect-trusted-signature scope needs them. `verified(content)`: whether a
 * content has been verified before (its format check is skipped).
 */
export function imageSignatureContents(image: unknown, policy: SignaturePolicy, verified?: (content: string) => boolean): string[] {
  return (verifiesSignatures(policy) || expectsTrustedSignatures(policy)) && isRecord(image) ? contentsToVerify(image, verified) : [];
}

/**
 * The `trusted-signature-expected` finding of `image` (an Image in an --expect-trusted-signature scope
 * none of whose signatures verifies as Trusted=True and ForImage=True), judged whether or not the
 * signature rule is on. What the webhook warns about, and what `audit scan` lists.
 */
export function expectedTrustFindings(image: unknown, policy: SignaturePolicy, verdicts: ReadonlyMap<string, SignatureVerdict> | undefined): FieldError[] {
  if (!expectsTrustedSignatures(policy) || !isRecord(image)) return [];
  return checkExpectedTrust(image, verdicts === undefined ? undefined : judgementsOf(image, verdicts), policy.expectTrustedSignature ?? []);
}

/**
 * The judgement of each signature of `image` from the verdicts on its contents, or undefined when
 * signatures are not judged (the rule is off, no verdicts were brought, or it is not an object).
 */
export function signatureJudgementsOf(image: unknown, policy: RuleOptions, verdicts: ReadonlyMap<string, SignatureVerdict> | undefined): JudgementOf | undefined {
  return verdicts !== undefined && verifiesSignatures(policy) && isRecord(image) ? judgementsOf(image, verdicts) : undefined;
}

/**
 * The `signature-verified` violations of `image` as written: every signature whose conditions or
 * derived fields disagree with verification. What /validate adds to the create rules, and what judging
 * a stored Image adds (src/audit/existing.ts).
 */
export function signatureViolations(image: unknown, policy: RuleOptions, verdicts: ReadonlyMap<string, SignatureVerdict> | undefined): FieldError[] {
  const judgementOf = signatureJudgementsOf(image, policy, verdicts);
  return judgementOf === undefined ? [] : checkDerivedSignatures(image as Record<string, unknown>, judgementOf);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
