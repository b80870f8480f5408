/**
 * Signature verification in the admission protocol: which contents a review asks to verify (before it
 * is judged, since verification is asynchronous), and the verdicts handed to the judging.
 */
import { contentsToVerify, SIGNATURE_RULE, type SignatureVerdict } from '../signature/index.js';
import type { Policy } from './policy.js';
import { IMAGE_GROUP, imagesIn, reviewedTarget } from './targets.js';
import type { AdmissionRequest } from './types.js';

/** What verification found for the contents of one review, and the time it judged them at. */
export interface SignatureVerdicts {
  readonly verdicts: ReadonlyMap<string, SignatureVerdict>;
  /** RFC 3339: the time written into conditions that change. */
  readonly now: string;
}

/** Whether signatures are verified under `policy` (the operator can turn the rule off, by either flag). */
export function verifiesSignatures(policy: Policy): boolean {
  return policy.disabledRules?.has(SIGNATURE_RULE) !== true && policy.ruleActions?.get(SIGNATURE_RULE) !== 'off';
}

/**
 * The signature contents the Images written by `request` ask to verify (none for requests not judged).
 * `verified(content)`: whether a content has been verified before (its format check is skipped).
 */
export function signatureContentsOf(request: AdmissionRequest, policy: Policy, verified?: (content: string) => boolean): string[] {
  if (!verifiesSignatures(policy) || request.resource.group !== IMAGE_GROUP || request.subResource) return [];
  const target = reviewedTarget(request.resource.resource);
  if (target === undefined || !target.judged.includes(request.operation)) return [];
  const contents: string[] = [];
  for (const { image } of imagesIn(target, request.object) ?? []) {
    if (typeof image === 'object' && image !== null && !Array.isArray(image)) contents.push(...contentsToVerify(image as Record<string, unknown>, verified));
  }
  return contents;
}
