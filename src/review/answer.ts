/**
 * One review from its raw body to the bytes of its answer: decode and parse the body, read it as an
 * AdmissionReview, judge it, serialize the reply once. The result is plain data (a string and a small
 * record), because it runs either inline or on the review thread (thread.ts) for large bodies,
 * and whatever it returns crosses back by structured clone; it never throws.
 */
import type { AdmissionPhase } from '../image/index.js';
import { type AdmissionResult, handleReview } from '../admission/handle.js';
import { parseReview } from '../admission/parse-review.js';
import type { Policy } from '../admission/policy.js';
import { signatureContentsOf } from '../admission/signatures.js';
import type { AdmissionRequest, AdmissionReviewReply, AdmissionVersion } from '../admission/types.js';
import { SignatureVerifier } from '../signature/index.js';
import { BodyError, parseJsonBody } from './json-body.js';
import { recordOf, type ReviewRecord } from './record.js';

/** Why a body is not a review that can be answered: the body's own fault, a closed set for metrics. */
export type RefusalReason = BodyError['reasonClass'] | 'not-a-review';

/** What became of one body: answered, refused or failed. */
export type BodyResult =
  /** A review answered: `reply` is the AdmissionReview to send with HTTP 200. */
  | { kind: 'answered'; reply: string; record: ReviewRecord }
  /** Not a review that can be answered: HTTP 400 with `message` as the reason. */
  | { kind: 'refused'; reason: RefusalReason; message: string; uid?: string }
  /** A bug: HTTP 500, and the error goes to the log (never to the client). */
  | { kind: 'failed'; uid?: string; error: { type: string; message: string; stack?: string } };

/** The verifier of callers that bring none: it trusts no key, so no signature is Trusted. */
const UNTRUSTING = new SignatureVerifier();

/**
 * Answers one review body received at `endpoint`. Signatures the review carries are verified first
 * (asynchronously, bounded and cached by `verifier`), then the review is judged with their verdicts.
 */
export async function answerBody(body: Buffer, endpoint: AdmissionPhase, policy: Policy, verifier: SignatureVerifier = UNTRUSTING): Promise<BodyResult> {
  let uid: string | undefined;
  try {
    const value = parseJsonBody(body);
    const started = process.hrtime.bigint();
    const parsed = parseReview(value);
    if (!parsed.ok) return { kind: 'refused', reason: 'not-a-review', message: parsed.problem, ...(parsed.uid === undefined ? {} : { uid: parsed.uid }) };
    uid = parsed.request.uid;
    const { reply, result } = await judgeRequest(parsed.apiVersion, parsed.request, endpoint, policy, verifier);
    const text = JSON.stringify(reply);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { kind: 'answered', reply: text, record: recordOf(parsed.request, endpoint, policy, result, seconds) };
  } catch (error) {
    if (error instanceof BodyError) return { kind: 'refused', reason: error.reasonClass, message: error.message };
    const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
    return { kind: 'failed', ...(uid === undefined ? {} : { uid }), error: { type: name, message, ...(stack === undefined ? {} : { stack }) } };
  }
}

/**
 * Judges one parsed request as the server does: the signatures it carries verified first, then the
 * admission code with their verdicts. `image-admission check` calls this too, so its verdicts are
 * the server's.
 */
export async function judgeRequest(
  apiVersion: AdmissionVersion,
  request: AdmissionRequest,
  endpoint: AdmissionPhase,
  policy: Policy,
  verifier: SignatureVerifier = UNTRUSTING,
): Promise<{ reply: AdmissionReviewReply; result: AdmissionResult }> {
  const contents = signatureContentsOf(request, policy, (content) => verifier.knows(content));
  const verdicts = contents.length === 0 ? new Map() : await verifier.verifyAll(contents);
  // The time is read only when a signature's conditions are written: most Images carry none.
  const signatures = {
    verdicts,
    get now() {
      return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    },
  };
  return handleReview(apiVersion, request, endpoint, policy, signatures);
}
