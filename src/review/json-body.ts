import { isAscii, isUtf8 } from 'node:buffer';

/**
 * The JSON body parser of the review routes, replacing fastify's. It answers every bad body with a
 * 400 and a reason that says what is wrong, and never lets a body crash or stall the process:
 *
 * - bytes that are not UTF-8 are refused (RFC 8259 §8.1), not silently turned into U+FFFD;
 * - nesting is measured on the parsed value and refused beyond MAX_JSON_DEPTH, so the recursive code
 *   after it (schema validation, deep comparison) cannot overflow the stack. V8's JSON.parse is not
 *   recursive (a million levels parse), and walking the parsed value visits nodes, not characters:
 *   a review's long manifest and config strings cost nothing here;
 * - `__proto__` and `constructor` keys are kept as plain data. JSON.parse defines them as own
 *   properties, which pollutes nothing; rejecting them (fastify's secure-json-parse does, calling the
 *   body "not valid JSON") would deny Images the API server accepts, since container config labels
 *   are free-form keys, and with failurePolicy Fail that blocks a valid write. Nothing downstream
 *   copies input keys with assignment, and the hostile-input suite checks Object.prototype afterwards.
 */

/**
 * The largest review body, in bytes: the server answers a longer one with 413 and `image-admission
 * review` refuses it. The API server caps each object at 3 MiB and a review can carry two (object and
 * oldObject); 7 MiB leaves room for the envelope, as controller-runtime does. fastify's 1 MiB default
 * would answer large reviews with 413, which the API server counts as a failed call.
 */
export const BODY_LIMIT = 7 * 1024 * 1024;

/**
 * Deepest nesting accepted, counting every object and array from the review's root. A real review
 * nests about 12 levels (review → request → object → dockerImageMetadata → Config → Healthcheck → Test,
 * or managedFields' fieldsV1); 100 leaves ample room and keeps recursion shallow.
 */
export const MAX_JSON_DEPTH = 100;

/** A body that cannot be a review, with the 400 reason and its class for metrics. */
export class BodyError extends Error {
  readonly statusCode = 400;
  constructor(
    message: string,
    readonly reasonClass: 'not-json' | 'invalid-utf8' | 'too-deep' | 'empty-body',
  ) {
    super(message);
    this.name = 'BodyError';
  }
}


/** Decodes and parses a request body as JSON, or throws a BodyError saying why it cannot. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new BodyError('body is empty: expected an AdmissionReview as JSON', 'empty-body');
  const text = decode(body);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8's messages give the position and are safe to echo (they quote at most a few characters).
    const detail = error instanceof Error ? error.message : 'cannot be parsed';
    throw new BodyError(`body is not valid JSON: ${detail}`, 'not-json');
  }
  if (nestingDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new BodyError(`body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`, 'too-deep');
  }
  return value;
}

/**
 * The body as a string, refusing bytes that are not UTF-8. Nearly every review is pure ASCII (digests,
 * references, manifests and configs), and ASCII bytes decode to the same string as latin1, which is a
 * plain copy, many times faster than the UTF-8 decoder, which on a large review costs more than
 * JSON.parse itself. isAscii and isUtf8 are native scans; a fatal TextDecoder is much slower than
 * isUtf8 (figures: docs/performance.md, "Figures the code relies on").
 */
function decode(body: Buffer): string {
  if (isAscii(body)) return body.toString('latin1');
  if (!isUtf8(body)) throw new BodyError('body is not valid UTF-8', 'invalid-utf8');
  return body.toString('utf8');
}

/**
 * The deepest nesting of objects and arrays in a parsed JSON value (a scalar is 0), stopping as soon
 * as it passes `limit`. Recursive, but never deeper than `limit` + 1 calls; it allocates nothing (an
 * explicit stack of [node, depth] pairs and Object.values arrays was 9 % of a typical review's
 * allocations: docs/performance.md, "Issue 14, speed").
 */
export function nestingDepth(value: unknown, limit: number): number {
  return depthBelow(value, 0, limit);
}

/** The nesting of `node` counted from `above` levels above it, stopping past `limit`. */
function depthBelow(node: unknown, above: number, limit: number): number {
  if (typeof node !== 'object' || node === null) return above;
  const depth = above + 1;
  if (depth > limit) return depth;
  let deepest = depth;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const child: unknown = node[i];
      if (typeof child !== 'object' || child === null) continue;
      const below = depthBelow(child, depth, limit);
      if (below > deepest) {
        deepest = below;
        if (deepest > limit) return deepest;
      }
    }
    return deepest;
  }
  const object = node as Record<string, unknown>;
  for (const key in object) {
    // JSON.parse makes only own properties; an inherited one is not part of the body.
    if (!Object.hasOwn(object, key)) continue;
    const child = object[key];
    if (typeof child !== 'object' || child === null) continue;
    const below = depthBelow(child, depth, limit);
    if (below > deepest) {
      deepest = below;
      if (deepest > limit) return deepest;
    }
  }
  return deepest;
}
