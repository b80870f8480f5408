/**
 * The JSON body parser of the review routes, replacing fastify's. It answers every bad body with a
 * 400 and a reason that says what is wrong, and never lets a body crash or stall the process:
 *
 * - bytes that are not UTF-8 are refused (RFC 8259 §8.1), not silently turned into U+FFFD;
 * - nesting is measured before parsing and refused beyond MAX_JSON_DEPTH, so neither JSON.parse nor
 *   the recursive code after it (schema validation, deep comparison) can overflow the stack;
 * - `__proto__` and `constructor` keys are kept as plain data. JSON.parse defines them as own
 *   properties, which pollutes nothing; rejecting them (fastify's secure-json-parse does, calling the
 *   body "not valid JSON") would deny Images the API server accepts, since container config labels
 *   are free-form keys, and with failurePolicy Fail that blocks a valid write. Nothing downstream
 *   copies input keys with assignment, and the hostile-input suite checks Object.prototype afterwards.
 */

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

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes and parses a request body as JSON, or throws a BodyError saying why it cannot. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new BodyError('body is empty: expected an AdmissionReview as JSON', 'empty-body');
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new BodyError('body is not valid UTF-8', 'invalid-utf8');
  }
  const depth = nestingDepth(text, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) throw new BodyError(`body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`, 'too-deep');
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8's messages give the position and are safe to echo (they quote at most a few characters).
    const detail = error instanceof Error ? error.message : 'cannot be parsed';
    throw new BodyError(`body is not valid JSON: ${detail}`, 'not-json');
  }
}

/**
 * The deepest nesting of `[` and `{` outside strings, scanning until it passes `limit`. Malformed
 * text just gets a number here: JSON.parse judges validity afterwards.
 */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return deepest;
}
