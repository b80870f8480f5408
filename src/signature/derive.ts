/**
 * Puts verification's judgements on an Image's signatures (what /mutate writes) and finds the
 * signatures whose written fields disagree with them (what /validate denies). Pure and synchronous:
 * `judgementOf` answers from verdicts computed beforehand (see plan.ts).
 *
 * The derived fields of a signature are its `conditions` (exactly Trusted and ForImage),
 * `imageIdentity`, `signedClaims`, `created`, `issuedBy` and `issuedTo`: whatever a writer put there is
 * replaced. Condition times follow Kubernetes' convention so that re-deriving an unchanged signature
 * changes nothing: `lastTransitionTime` moves only when the status changes, `lastProbeTime` whenever
 * the condition's status, reason or message changes. /validate compares everything but the times.
 */
import { deepEqual, isObject, valueAt } from '../image/json.js';
import { type FieldError, type FieldPath, invalidHidden } from '../image/field-error.js';
import type { DerivedCondition, DerivedFields, SignatureJudgement } from './judge.js';

/** The fields verification owns, in the order they are compared. */
export const DERIVED_FIELDS = ['imageIdentity', 'signedClaims', 'created', 'issuedBy', 'issuedTo'] as const;

/** The rule whose violations these are (src/image/rules.ts). */
export const RULE = 'signature-verified';

/** Messages longer than this are cut: a signed reference can be long, and messages are echoed. */
const MAX_MESSAGE = 512;

/** Looks up the judgement of the i-th signature; undefined when it is not an object (the schema's business). */
export type JudgementOf = (index: number) => SignatureJudgement | undefined;

/**
 * Returns `image` with every signature's derived fields replaced by the judgement's, or `image` itself
 * when nothing changes (so that an unchanged write gets no patch). Never changes its input.
 */
export function withDerivedSignatures<T extends Record<string, unknown>>(image: T, judgementOf: JudgementOf, now: string): T {
  const signatures = image.signatures;
  if (!Array.isArray(signatures)) return image;
  let changed = false;
  const next = signatures.map((signature: unknown, i) => {
    const judgement = judgementOf(i);
    if (judgement === undefined || !isObject(signature)) return signature;
    const derived = deriveSignature(signature, judgement, now);
    if (derived !== signature) changed = true;
    return derived;
  });
  return changed ? { ...image, signatures: next } : image;
}

/** One signature with its derived fields replaced by `judgement`'s, or itself when nothing changes. */
export function deriveSignature(signature: Record<string, unknown>, judgement: SignatureJudgement, now: string): Record<string, unknown> {
  const written = Array.isArray(signature.conditions) ? signature.conditions.filter(isObject) : [];
  const conditions = [condition(judgement.trusted, written, now), condition(judgement.forImage, written, now)];
  const next: Record<string, unknown> = { ...signature, conditions };
  for (const field of DERIVED_FIELDS) delete next[field];
  Object.assign(next, expectedFields(judgement.fields));
  return deepEqual(next, signature) ? signature : next;
}

function condition(derived: DerivedCondition, written: readonly Record<string, unknown>[], now: string): Record<string, unknown> {
  const wanted = { ...derived, message: cut(derived.message) };
  const before = written.find((c) => c.type === derived.type);
  const sameStatus = before !== undefined && before.status === wanted.status;
  const same = sameStatus && before.reason === wanted.reason && before.message === wanted.message;
  return {
    type: wanted.type,
    status: wanted.status,
    lastProbeTime: same && typeof before.lastProbeTime === 'string' ? before.lastProbeTime : now,
    lastTransitionTime: sameStatus && typeof before.lastTransitionTime === 'string' ? before.lastTransitionTime : now,
    reason: wanted.reason,
    message: wanted.message,
  };
}

// One copy per judgement: judgements are kept per review (plan.ts), and /mutate derives and checks each.
const expectedOf = new WeakMap<DerivedFields, Record<string, unknown>>();

function expectedFields(fields: DerivedFields): Record<string, unknown> {
  let expected = expectedOf.get(fields);
  if (expected === undefined) {
    // Plain copies: the result is serialized into a patch and compared with parsed JSON. Shared by
    // the derived signature and the check, which only read it.
    expected = JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
    expectedOf.set(fields, expected);
  }
  return expected;
}

/**
 * Every signature whose derived fields disagree with verification, each at the field that disagrees.
 * The detail never shows signature content; it shows what verification derived for the conditions.
 */
export function checkDerivedSignatures(image: Record<string, unknown>, judgementOf: JudgementOf): FieldError[] {
  const signatures = image.signatures;
  if (!Array.isArray(signatures)) return [];
  const errors: FieldError[] = [];
  signatures.forEach((signature: unknown, i) => {
    const judgement = judgementOf(i);
    if (judgement === undefined || !isObject(signature)) return;
    errors.push(...checkDerivedSignature(signature, judgement, ['signatures', i]));
  });
  return errors;
}

/** The fields of one signature (at `path`) that disagree with `judgement`. */
export function checkDerivedSignature(signature: Record<string, unknown>, judgement: SignatureJudgement, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const written = Array.isArray(signature.conditions) ? signature.conditions.filter(isObject) : [];
  const wanted = [judgement.trusted, judgement.forImage];
  const matches =
    written.length === wanted.length &&
    wanted.every((want) => {
      const have = written.find((c) => c.type === want.type);
      return have !== undefined && have.status === want.status && have.reason === want.reason && have.message === cut(want.message);
    });
  if (!matches) {
    const trusted = `Trusted=${judgement.trusted.status} (${judgement.trusted.reason})`;
    const forImage = `ForImage=${judgement.forImage.status} (${judgement.forImage.reason})`;
    errors.push(invalidHidden(RULE, [...path, 'conditions'], `must be what verification derives: ${trusted}, ${forImage}`));
  }
  const expected = expectedFields(judgement.fields);
  for (const field of DERIVED_FIELDS) {
    const have = valueAt(signature, [field]);
    const want = expected[field];
    if (deepEqual(emptyAsUndefined(have), want)) continue;
    errors.push(
      want === undefined
        ? invalidHidden(RULE, [...path, field], 'must be unset: the signature was not verified by a trusted key')
        : invalidHidden(RULE, [...path, field], `must be what verification derives: ${cut(JSON.stringify(want))}`),
    );
  }
  return errors;
}

/** Whether a writer set any field verification owns (conditions included) on `signature`. */
export function hasDerivedFields(signature: Record<string, unknown>): boolean {
  if (Array.isArray(signature.conditions) && signature.conditions.length > 0) return true;
  return DERIVED_FIELDS.some((field) => emptyAsUndefined(signature[field]) !== undefined);
}

/** The API server drops empty strings, maps and null pointers: they are "unset". */
function emptyAsUndefined(value: unknown): unknown {
  if (value === null || value === '') return undefined;
  if (isObject(value) && Object.keys(value).length === 0) return undefined;
  return value;
}

function cut(text: string): string {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`;
}
