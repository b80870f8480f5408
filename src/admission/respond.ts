/**
 * The only place AdmissionResponses and AdmissionReview replies are built: outcome-named helpers
 * (allowed, denied, misrouted) and the one function that writes apiVersion, kind and uid.
 */
import fastJsonPatch, { type Operation as PatchOperation } from 'fast-json-patch';
import { bounded, causeReason, errorBody, type FieldError, formatError, formatPath } from '../image/index.js';
import type { AdmissionResponse, AdmissionReviewReply, AdmissionVersion, Status } from './types.js';

/** What a denial is about: the object the API server will name in its error. */
export interface Target {
  group: string;
  kind: string;
  name: string;
}

type Fields = Omit<AdmissionResponse, 'uid' | 'allowed'>;

/** An allowed response, with optional warnings, patch and annotations. */
export function allowed(fields: Fields = {}): Omit<AdmissionResponse, 'uid'> {
  return { allowed: true, ...fields };
}

/**
 * The most causes a denial lists. Enough for any Image a person wrote; a hostile 100,000-layer Image
 * with a bad field in each would otherwise get a 50 MB answer that takes seconds to build. The message
 * then ends with "and N more errors", or "and more errors" when the rules stopped looking (they keep
 * at most FINDINGS_LIMIT of each kind, src/image/findings.ts).
 */
const MAX_CAUSES = 100;

/**
 * The most warnings a response carries. The API server keeps only about 4 KiB of warnings per
 * request, so more would be dropped anyway; the last one says how many were left out.
 */
const MAX_WARNINGS = 30;

/** Warnings for `texts`, printable, at most MAX_WARNINGS of them. */
export function toWarnings(texts: readonly string[]): string[] {
  if (texts.length <= MAX_WARNINGS) return texts.map(toWarning);
  return [...texts.slice(0, MAX_WARNINGS - 1).map(toWarning), `and ${texts.length - (MAX_WARNINGS - 1)} more warnings`];
}

/**
 * A denial that reads like the API server's own for an invalid object: code 422, reason Invalid,
 * `Kind.group "name" is invalid: [path: body, ...]` and one cause per error. kubectl then prints
 * `The Kind "name" is invalid: ...` exactly as for built-in validation.
 */
export function denied(
  errors: readonly FieldError[],
  target: Target,
  fields: Omit<Fields, 'patch' | 'patchType'> = {},
  truncated = false,
): Omit<AdmissionResponse, 'uid'> {
  const shown = errors.slice(0, MAX_CAUSES);
  const lines = shown.map(formatError);
  const hidden = errors.length - shown.length;
  if (truncated) lines.push(hidden > 0 ? `and at least ${hidden} more errors` : 'and more errors');
  else if (hidden > 0) lines.push(`and ${hidden} more errors`);
  const list = lines.length === 1 ? lines[0]! : `[${lines.join(', ')}]`;
  // An over-long name is itself denied (name-format); it is named here only as far as bounded() goes.
  const name = bounded(target.name);
  const status: Status = {
    metadata: {},
    status: 'Failure',
    message: `${target.kind}.${target.group} ${JSON.stringify(name)} is invalid: ${list}`,
    reason: 'Invalid',
    code: 422,
    details: {
      name,
      group: target.group,
      kind: target.kind,
      causes: shown.map((error) => ({ reason: causeReason(error), message: errorBody(error), field: formatPath(error.path) })),
    },
  };
  return { allowed: false, status, ...fields };
}

/** A denial for a request this webhook should never have received (its configuration is wrong). */
export function misrouted(message: string, fields: Omit<Fields, 'patch' | 'patchType'> = {}): Omit<AdmissionResponse, 'uid'> {
  return { allowed: false, status: { metadata: {}, status: 'Failure', message, reason: 'BadRequest', code: 400 }, ...fields };
}

/** The reply to a review: the same apiVersion and kind as received, and the request's uid. */
export function toReply(apiVersion: AdmissionVersion, uid: string, response: Omit<AdmissionResponse, 'uid'>): AdmissionReviewReply {
  return { apiVersion, kind: 'AdmissionReview', response: { uid, ...response } };
}

/**
 * The JSONPatch (RFC 6902) turning `original` into `next`. Only top-level fields whose value is a
 * different reference are diffed, so a 3 MiB object that gained one field costs one comparison per
 * key, not a deep walk of everything.
 */
export function patchOperations(original: Record<string, unknown>, next: Record<string, unknown>): PatchOperation[] {
  const operations: PatchOperation[] = [];
  for (const key of new Set([...Object.keys(original), ...Object.keys(next)])) {
    const before = original[key];
    const after = next[key];
    if (before === after) continue;
    const path = `/${escapePointer(key)}`;
    if (!Object.hasOwn(original, key)) operations.push({ op: 'add', path, value: after });
    else if (!Object.hasOwn(next, key)) operations.push({ op: 'remove', path });
    else if (isContainer(before) && isContainer(after) && Array.isArray(before) === Array.isArray(after)) {
      for (const op of fastJsonPatch.compare(before, after)) operations.push({ ...op, path: `${path}${op.path}` });
    } else operations.push({ op: 'replace', path, value: after });
  }
  return operations;
}

/** The patch fields of a mutating response: both or neither, the patch in standard base64. */
export function patchFields(operations: readonly PatchOperation[]): Pick<AdmissionResponse, 'patch' | 'patchType'> {
  if (operations.length === 0) return {};
  return { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(operations), 'utf8').toString('base64') };
}

/**
 * `object` as the API server stores it after a mutating answer: its JSONPatch (base64, as patchFields
 * writes it) applied to a copy. No patch: the object itself.
 */
export function patchedObject(object: Record<string, unknown>, response: Pick<AdmissionResponse, 'patch'>): Record<string, unknown> {
  if (response.patch === undefined) return object;
  const operations = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as PatchOperation[];
  return fastJsonPatch.applyPatch(structuredClone(object), operations, true, true).newDocument;
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** RFC 6901: `~` becomes `~0` and `/` becomes `~1`. */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

// kubectl and the API server want short, printable warnings.
const WARNING_MAX = 119;

/** One admission warning: printable, under 120 characters. */
function toWarning(text: string): string {
  // eslint-disable-next-line no-control-regex
  const printable = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return printable.length > WARNING_MAX ? `${printable.slice(0, WARNING_MAX - 3)}...` : printable;
}
