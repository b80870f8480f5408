/**
 * The "simple signing" payload of containers/image (containers-signature(5)), read as strictly as
 * containers/image's `untrustedSignature.strictUnmarshalJSON` reads it:
 *
 *     {"critical": {"type": "atomic container signature",
 *                   "image": {"docker-manifest-digest": "sha256:…"},
 *                   "identity": {"docker-reference": "registry/repo:tag"}},
 *      "optional": {"creator": "…", "timestamp": 1700000000}}
 *
 * - the top level is exactly {critical, optional}; critical exactly {type, image, identity}; image
 *   exactly {docker-manifest-digest}; identity exactly {docker-reference}: a missing or unknown key
 *   rejects the payload (a missing `optional` too);
 * - unknown keys of `optional` are ignored; `timestamp` must be an integer;
 * - a key repeated in any object rejects the payload (`JSON.parse` would silently keep the last one,
 *   so this module has its own parser);
 * - the digest must parse as go-digest parses it (lower-case hex of the algorithm's length).
 *
 * Only ever called on bytes whose signature was verified (containers/image never parses an unverified
 * payload). Pure: no I/O.
 */
import { parseDigest } from '../image/reference.js';

/** The type string of every simple-signing payload. */
const SIGNATURE_TYPE = 'atomic container signature';

/** What a valid payload claims. */
export interface SignedClaims {
  readonly dockerManifestDigest: string;
  readonly dockerReference: string;
  readonly creator?: string;
  /** Seconds since the epoch. */
  readonly timestamp?: number;
}

export type PayloadResult = { ok: true; claims: SignedClaims } | { ok: false; problem: string };

/** JSON's number grammar, matched where the parser stands (sticky); it cannot backtrack much. */
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** Nesting deeper than this is refused before it can exhaust the stack (a valid payload has depth 3). */
const MAX_DEPTH = 32;

/** Reads a verified payload, or says why it is not a valid simple-signing payload. */
export function parsePayload(bytes: Uint8Array): PayloadResult {
  let value: Json;
  try {
    // Go's decoder replaces invalid UTF-8 with U+FFFD rather than failing; TextDecoder does the same.
    value = new StrictJsonParser(new TextDecoder('utf-8').decode(bytes)).parseDocument();
  } catch (error) {
    if (error instanceof PayloadError) return { ok: false, problem: error.message };
    throw error;
  }
  try {
    return { ok: true, claims: readClaims(value) };
  } catch (error) {
    if (error instanceof PayloadError) return { ok: false, problem: error.message };
    throw error;
  }
}

class PayloadError extends Error {}

type Json = null | boolean | number | string | Json[] | JsonObject;
/** A parsed object: a Map, so that keys such as `__proto__` are ordinary keys. */
type JsonObject = Map<string, Json>;

function readClaims(document: Json): SignedClaims {
  const top = exactFields(document, 'the payload', ['critical', 'optional']);
  const critical = exactFields(top.get('critical')!, 'critical', ['type', 'image', 'identity']);
  const type = stringField(critical.get('type')!, 'critical.type');
  if (type !== SIGNATURE_TYPE) throw new PayloadError(`unrecognized signature type ${JSON.stringify(type.slice(0, 100))}`);
  const image = exactFields(critical.get('image')!, 'critical.image', ['docker-manifest-digest']);
  const digest = stringField(image.get('docker-manifest-digest')!, 'critical.image.docker-manifest-digest');
  const parsed = parseDigest(digest);
  if (!parsed.ok) throw new PayloadError(`invalid docker-manifest-digest value ${JSON.stringify(digest.slice(0, 200))}: ${parsed.message}`);
  const identity = exactFields(critical.get('identity')!, 'critical.identity', ['docker-reference']);
  const reference = stringField(identity.get('docker-reference')!, 'critical.identity.docker-reference');

  const optional = objectOf(top.get('optional')!, 'optional');
  const claims: { -readonly [K in keyof SignedClaims]: SignedClaims[K] } = { dockerManifestDigest: digest, dockerReference: reference };
  if (optional.has('creator')) claims.creator = stringField(optional.get('creator')!, 'optional.creator');
  if (optional.has('timestamp')) {
    const timestamp = optional.get('timestamp')!;
    // Go decodes into a float64 (null leaves it 0) and requires the value to be a whole number.
    const seconds = timestamp === null ? 0 : timestamp;
    if (typeof seconds !== 'number') throw new PayloadError('optional.timestamp is not a number');
    if (!Number.isSafeInteger(seconds)) throw new PayloadError('optional.timestamp is not an integer');
    claims.timestamp = seconds;
  }
  return claims;
}

function objectOf(value: Json, what: string): JsonObject {
  if (!(value instanceof Map)) throw new PayloadError(`${what} is not a JSON object`);
  return value;
}

/** containers/image's ParanoidUnmarshalJSONObjectExactFields: these keys, all of them, and no other. */
function exactFields(value: Json, what: string, keys: readonly string[]): JsonObject {
  const object = objectOf(value, what);
  for (const key of object.keys()) {
    if (!keys.includes(key)) throw new PayloadError(`unknown key ${JSON.stringify(key.slice(0, 100))} in ${what}`);
  }
  for (const key of keys) {
    if (!object.has(key)) throw new PayloadError(`key ${JSON.stringify(key)} missing in ${what}`);
  }
  return object;
}

/** A string field; Go decodes null into a string as "" (which then fails whatever check follows). */
function stringField(value: Json, what: string): string {
  if (value === null) return '';
  if (typeof value !== 'string') throw new PayloadError(`${what} is not a string`);
  return value;
}

/**
 * RFC 8259 JSON, rejecting duplicate keys and trailing data, in one linear pass. Numbers are read
 * with Number() after their grammar is checked, strings with JSON.parse of the checked token.
 */
class StrictJsonParser {
  private i = 0;

  constructor(private readonly text: string) {}

  parseDocument(): Json {
    const value = this.value(0);
    this.whitespace();
    if (this.i !== this.text.length) throw new PayloadError('unexpected data after the JSON document');
    return value;
  }

  private value(depth: number): Json {
    if (depth > MAX_DEPTH) throw new PayloadError('the payload is nested too deeply');
    this.whitespace();
    const c = this.text[this.i];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        throw new PayloadError(c === undefined ? 'the payload ends early' : `invalid JSON at offset ${this.i}`);
    }
  }

  private object(depth: number): JsonObject {
    const object: JsonObject = new Map();
    this.i++; // {
    this.whitespace();
    if (this.text[this.i] === '}') {
      this.i++;
      return object;
    }
    for (;;) {
      this.whitespace();
      if (this.text[this.i] !== '"') throw new PayloadError(`expected a key at offset ${this.i}`);
      const key = this.string();
      if (object.has(key)) throw new PayloadError(`duplicate key ${JSON.stringify(key.slice(0, 100))}`);
      this.whitespace();
      if (this.text[this.i] !== ':') throw new PayloadError(`expected ":" at offset ${this.i}`);
      this.i++;
      object.set(key, this.value(depth + 1));
      this.whitespace();
      const next = this.text[this.i++];
      if (next === '}') return object;
      if (next !== ',') throw new PayloadError(`expected "," or "}" at offset ${this.i - 1}`);
    }
  }

  private array(depth: number): Json[] {
    const array: Json[] = [];
    this.i++; // [
    this.whitespace();
    if (this.text[this.i] === ']') {
      this.i++;
      return array;
    }
    for (;;) {
      array.push(this.value(depth + 1));
      this.whitespace();
      const next = this.text[this.i++];
      if (next === ']') return array;
      if (next !== ',') throw new PayloadError(`expected "," or "]" at offset ${this.i - 1}`);
    }
  }

  private string(): string {
    const start = this.i;
    this.i++; // opening quote
    for (;;) {
      const code = this.text.charCodeAt(this.i);
      if (Number.isNaN(code)) throw new PayloadError('unterminated string');
      if (code === 0x22) break;
      if (code < 0x20) throw new PayloadError(`control character in a string at offset ${this.i}`);
      this.i += code === 0x5c ? 2 : 1;
    }
    this.i++; // closing quote
    try {
      // The token's grammar is JSON's except possibly for escapes, which JSON.parse checks.
      return JSON.parse(this.text.slice(start, this.i)) as string;
    } catch {
      throw new PayloadError(`invalid string at offset ${start}`);
    }
  }

  private number(): number {
    NUMBER.lastIndex = this.i;
    const match = NUMBER.exec(this.text);
    if (match === null) throw new PayloadError(`invalid number at offset ${this.i}`);
    this.i += match[0].length;
    const value = Number(match[0]);
    if (!Number.isFinite(value)) throw new PayloadError('number out of range');
    return value;
  }

  private literal(word: string, value: Json): Json {
    if (!this.text.startsWith(word, this.i)) throw new PayloadError(`invalid JSON at offset ${this.i}`);
    this.i += word.length;
    return value;
  }

  private whitespace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.i++;
    }
  }
}
