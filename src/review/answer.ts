/**
 * One review from its raw body to the bytes of its answer: decode and parse the body, read it as an
 * AdmissionReview, judge it, serialize the reply once. The result is plain data (a string and a small
 * record), because it runs either inline or on the review thread (thread.ts) for large bodies,
 * and whatever it returns crosses back by structured clone; it never throws.
 */
import { type Decision, type Endpoint, handleReview } from '../admission/handle.js';
import { parseReview } from '../admission/parse-review.js';
import { imageNameIn, targetOf } from '../admission/targets.js';
import type { DecisionKind, Policy } from '../admission/policy.js';
import type { AdmissionRequest } from '../admission/types.js';
import { signatureContentsOf } from '../admission/signatures.js';
import { type FieldError, formatPath } from '../image/index.js';
import { SignatureVerifier } from '../signature/index.js';
import { BodyError, parseJsonBody } from './json-body.js';

/**
 * Violations kept per list in the decision log: a hostile review can carry 100,000 of them and one log
 * line must stay readable (the metrics count them all).
 */
export const LOGGED_VIOLATIONS = 20;

/** A violation as the decision log shows it: never the offending value (it may be signature content). */
export interface LoggedViolation {
  rule: string;
  path: string;
  type: string;
  detail?: string;
}

/** How many violations of one rule, of one kind, a review found: what the metrics count. */
export interface RuleCount {
  rule: string;
  kind: 'violation' | 'pre-existing' | 'advisory';
  count: number;
}

/** What the metrics and the decision log need to know about one answered review. */
export interface ReviewRecord {
  uid: string;
  endpoint: Endpoint;
  operation: string;
  group: string;
  resource: string;
  name?: string;
  imageName?: string;
  namespace?: string;
  user?: string;
  groups?: string[];
  dryRun?: boolean;
  decision: DecisionKind;
  mode: Policy['mode'];
  patched: boolean;
  violations: LoggedViolation[];
  preExisting: LoggedViolation[];
  advisories: LoggedViolation[];
  counts: RuleCount[];
  /** From the parsed body to the serialized answer. */
  seconds: number;
}

/** Why a body is not a review that can be answered: the body's own fault, a closed set for metrics. */
export type RefusalReason = BodyError['reasonClass'] | 'not-a-review';

/** The outcome of one body. */
export type BodyAnswer =
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
export async function answerBody(body: Buffer, endpoint: Endpoint, policy: Policy, verifier: SignatureVerifier = UNTRUSTING): Promise<BodyAnswer> {
  let uid: string | undefined;
  try {
    const value = parseJsonBody(body);
    const started = process.hrtime.bigint();
    const parsed = parseReview(value);
    if (!parsed.ok) return { kind: 'refused', reason: 'not-a-review', message: parsed.problem, ...(parsed.uid === undefined ? {} : { uid: parsed.uid }) };
    uid = parsed.request.uid;
    const contents = signatureContentsOf(parsed.request, policy);
    const verdicts = contents.length === 0 ? new Map() : await verifier.verifyAll(contents);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const { reply, decision } = handleReview(parsed.apiVersion, parsed.request, endpoint, policy, { verdicts, now });
    const text = JSON.stringify(reply);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { kind: 'answered', reply: text, record: recordOf(parsed.request, endpoint, policy, decision, seconds) };
  } catch (error) {
    if (error instanceof BodyError) return { kind: 'refused', reason: error.reasonClass, message: error.message };
    const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
    return { kind: 'failed', ...(uid === undefined ? {} : { uid }), error: { type: name, message, ...(stack === undefined ? {} : { stack }) } };
  }
}

function recordOf(request: AdmissionRequest, endpoint: Endpoint, policy: Policy, decision: Decision, seconds: number): ReviewRecord {
  const { group, resource } = request.resource;
  const object = request.object as { metadata?: { name?: unknown } } | null | undefined;
  const objectName = typeof object?.metadata?.name === 'string' ? object.metadata.name : undefined;
  const name = request.name ?? objectName;
  const imageName = imageNameOf(request);
  return {
    uid: request.uid,
    endpoint,
    operation: request.operation,
    group,
    resource,
    ...(name === undefined ? {} : { name }),
    ...(imageName === undefined ? {} : { imageName }),
    ...(request.namespace === undefined ? {} : { namespace: request.namespace }),
    ...(request.userInfo.username === undefined ? {} : { user: request.userInfo.username }),
    ...(request.userInfo.groups === undefined ? {} : { groups: request.userInfo.groups }),
    ...(request.dryRun === undefined ? {} : { dryRun: request.dryRun }),
    decision: decision.decision,
    mode: policy.mode,
    patched: decision.patched,
    violations: logged(decision.violations),
    preExisting: logged(decision.inherited),
    advisories: logged(decision.advisories),
    counts: [...count(decision.violations, 'violation'), ...count(decision.inherited, 'pre-existing'), ...count(decision.advisories, 'advisory')],
    seconds,
  };
}

function logged(errors: readonly FieldError[]): LoggedViolation[] {
  return errors.slice(0, LOGGED_VIOLATIONS).map((e) => ({ rule: e.rule, path: formatPath(e.path), type: e.type, ...(e.detail === undefined ? {} : { detail: e.detail }) }));
}

function count(errors: readonly FieldError[], kind: RuleCount['kind']): RuleCount[] {
  const byRule = new Map<string, number>();
  for (const error of errors) byRule.set(error.rule, (byRule.get(error.rule) ?? 0) + 1);
  return [...byRule].map(([rule, n]) => ({ rule, kind, count: n }));
}

/** The Image's name: the object's for images, the embedded `image`'s for imagestreammappings. */
function imageNameOf(request: AdmissionRequest): string | undefined {
  const target = targetOf(request.resource.resource);
  return target === undefined ? undefined : imageNameIn(target, request.object);
}
