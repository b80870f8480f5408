/**
 * The verdict on an Image that is already stored: the create rules (shape, OpenShift's create rules,
 * content addressing) and its signatures, exactly as the webhook's /validate judges a create: a stored
 * signature whose conditions or derived fields disagree with verification against the trusted keys is
 * a `signature-verified` violation with the webhook's message (src/admission/signatures.ts).
 * `audit scan` and the in-cluster controller both judge through `judgeStoredImage`, so they agree
 * Image for Image.
 */
import type { Policy } from '../admission/policy.js';
import { expectedTrustFindings, imageSignatureContents, signatureViolations } from '../admission/signatures.js';
import { errorBody, type FieldError, formatError, formatPath, judgeCreate, type JudgeOptions } from '../image/index.js';
import type { SignatureVerdict, SignatureVerifier } from '../signature/index.js';

/**
 * How stored Images are judged: the rule options, and the `--expect-trusted-signature` scopes whose
 * Images without a trusted signature are a `trusted-signature-expected` warning (as on the webhook).
 */
export type StoredImageOptions = JudgeOptions & Pick<Policy, 'expectTrustedSignature'>;

/** One violation of a stored Image, ready to print or report. */
export interface ExistingViolation {
  rule: string;
  /** `fail` when the rule denies a create, `warn` when it only warns (rules.md: warn-only rules). */
  result: 'fail' | 'warn';
  /** The field path as the API server prints it, e.g. `dockerImageLayers[2].size`. */
  path: string;
  /** The message without its path, e.g. `Invalid value: -1: ...`. */
  detail: string;
  /** `path: detail`, the line kubectl would print for a denied create. */
  message: string;
}

/** The verdict on a stored Image: failing violations first, then warnings, each in rule order. */
export interface ExistingVerdict {
  violations: ExistingViolation[];
}

function toViolation(error: FieldError, result: ExistingViolation['result']): ExistingViolation {
  return { rule: error.rule, result, path: formatPath(error.path), detail: errorBody(error), message: formatError(error) };
}

/**
 * Judges a stored Image as if it were created now, with the verdicts on its signatures' contents
 * (from `judgeStoredImage`). Without `verdicts` its signatures are not judged, as a review brought
 * without verdicts is not (tests of report shapes use that).
 */
export function judgeExisting(image: unknown, options: StoredImageOptions = {}, verdicts?: ReadonlyMap<string, SignatureVerdict>): ExistingVerdict {
  const additional = [...signatureViolations(image, options, verdicts), ...expectedTrustFindings(image, options, verdicts)];
  const verdict = judgeCreate(image, { ...options, additional });
  return {
    violations: [...verdict.violations.map((e) => toViolation(e, 'fail')), ...verdict.advisories.map((e) => toViolation(e, 'warn'))],
  };
}

/** Whether judging `image` must wait for its signatures to be verified (it has some to verify). */
export function waitsForVerification(image: unknown, options: StoredImageOptions): boolean {
  return imageSignatureContents(image, options).length > 0;
}

/**
 * Verifies the signatures of a stored Image with `verifier` (its trusted keys, its bounded cache; at
 * most MAX_VERIFIED_PER_REVIEW contents per Image), then judges it. Nothing but the verdict is kept.
 * The verdict comes at once, not as a promise, when there is no signature to verify, so that a
 * caller bounding what it holds while verification runs (src/controller/judging.ts) need not hold it.
 */
export function judgeStoredImage(image: unknown, options: StoredImageOptions, verifier: SignatureVerifier): ExistingVerdict | Promise<ExistingVerdict> {
  const contents = imageSignatureContents(image, options);
  if (contents.length === 0) return judgeExisting(image, options, new Map());
  return verifier.verifyAll(contents).then((verdicts) => judgeExisting(image, options, verdicts));
}
