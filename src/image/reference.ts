/**
 * Parses a container image pull spec (an Image's `dockerImageReference`) the way OpenShift does.
 *
 * OpenShift validates the field with openshift/library-go `pkg/image/reference.Parse`, which runs an
 * internal copy of docker/distribution's `reference` package (the 2017-era grammar, before IPv6 hosts)
 * and library-go's own copy of the digest package, then splits the name into registry, namespace and
 * name with its own heuristic. This module follows that behaviour and those error messages, so that the
 * webhook denies exactly what the API server would and says it in the same words.
 *
 * Grammar (docker/distribution `reference/regexp.go`):
 *
 *     reference  := name [ ":" tag ] [ "@" digest ]
 *     name       := [ domain "/" ] component ( "/" component )*
 *     domain     := label ( "." label )* [ ":" port ]            label := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *     component  := [a-z0-9]+ ( separator [a-z0-9]+ )*           separator := "." | "_" | "__" | "-"+
 *     tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
 *     digest     := algorithm ":" [0-9A-Fa-f]{32,}               algorithm := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
 *
 * Upstream matches that grammar with Go's RE2 engine, which runs in linear time. JavaScript's engine
 * backtracks, and the input comes from untrusted writers, so this module does not translate the regexes:
 * it splits the string at its only possible delimiters and checks each part with a single left-to-right
 * scan. Every step is linear in the input length, and the input is capped first anyway.
 *
 * Pure: no I/O, no imports.
 */

/** The parts of a pull spec, as library-go's `DockerImageReference` names them. */
export interface ParsedReference {
  /**
   * The registry `host[:port]`, when the first path component looks like one (library-go: it contains
   * `.` or `:`, or is `localhost`). Absent for e.g. `busybox` or `library/busybox`.
   */
  registry?: string;
  /** The first path component after the registry, when at least two remain (`library` in `docker.io/library/busybox`). */
  namespace?: string;
  /** The rest of the path (may itself contain `/`). Empty for a registry-only reference such as `quay.io`. */
  name: string;
  tag?: string;
  /** `algorithm:hex`. */
  digest?: string;
  /** The whole name (registry and path) as docker/distribution's `Named.Name()` gives it; at most 255 characters. */
  repository: string;
}

/** Why a pull spec was rejected; `message` carries upstream's wording. */
export type ReferenceErrorReason =
  | 'Empty'
  | 'InvalidFormat'
  | 'NameContainsUppercase'
  | 'NameTooLong'
  | 'DigestInvalidFormat'
  | 'DigestInvalidLength'
  | 'DigestUnsupported';

export type ReferenceResult =
  | { ok: true; reference: ParsedReference }
  | { ok: false; reason: ReferenceErrorReason; message: string };

export interface ParseReferenceOptions {
  /**
   * Accept bracketed IPv6 registry hosts (`[::1]:5000/app`). docker/distribution gained them in 2022
   * (distribution/distribution#3489); library-go's internal copy of the grammar predates that, so
   * OpenShift rejects them and so does this parser unless asked.
   */
  allowIPv6Host?: boolean;
}

/**
 * The messages of docker/distribution's `reference` package (ErrNameEmpty, ErrReferenceInvalidFormat,
 * ErrNameContainsUppercase, ErrNameTooLong) and of the digest package library-go carries
 * (ErrDigestInvalidFormat, ErrDigestInvalidLength, ErrDigestUnsupported). Note that upstream's
 * upper-case message has no `invalid reference format: ` prefix; that prefix is added by the Docker CLI.
 */
const REFERENCE_ERROR_MESSAGES: Readonly<Record<ReferenceErrorReason, string>> = {
  Empty: 'repository name must have at least one component',
  InvalidFormat: 'invalid reference format',
  NameContainsUppercase: 'repository name must be lowercase',
  NameTooLong: 'repository name must not be more than 255 characters',
  DigestInvalidFormat: 'invalid checksum digest format',
  DigestInvalidLength: 'invalid checksum digest length',
  DigestUnsupported: 'unsupported digest algorithm',
};

/** docker/distribution `NameTotalLengthMax`: the name (registry and path) may not be longer. */
const NAME_TOTAL_LENGTH_MAX = 255;

/**
 * Inputs longer than this are rejected before any scanning. The longest valid reference is far shorter
 * (255-character name, 128-character tag, `sha512:` and 128 hex = 520), so no valid input is lost; only
 * the message for a very long invalid one may differ from upstream's (always `invalid reference format`).
 */
export const MAX_REFERENCE_INPUT = 4096;

/** Hex length per supported algorithm: the hash size in bytes times two (go-digest `Algorithm.Size`). */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** docker/distribution: a tag is at most 128 characters. */
const TAG_MAX = 128;

/** docker/distribution: a digest in a reference carries at least 32 hex characters (128 bits). */
const DIGEST_HEX_MIN = 32;

/**
 * Parses `spec` as library-go's `reference.Parse` would.
 *
 * The order of checks is upstream's, because it decides which message a doubly-wrong input gets:
 * empty; grammar (retried on the lower-cased input to tell upper case apart); name length; digest.
 */
export function parseReference(spec: string, options: ParseReferenceOptions = {}): ReferenceResult {
  // Two rules parse the same reference in one review: the last answer is kept (results are never changed).
  if (options.allowIPv6Host !== true && spec === last.spec) return last.result;
  const result = parseUncached(spec, options);
  if (options.allowIPv6Host !== true) {
    last.spec = spec;
    last.result = result;
  }
  return result;
}

const last: { spec: string | undefined; result: ReferenceResult } = { spec: undefined, result: { ok: false, reason: 'Empty', message: REFERENCE_ERROR_MESSAGES.Empty } };

function parseUncached(spec: string, options: ParseReferenceOptions): ReferenceResult {
  if (spec === '') return failure('Empty');
  if (spec.length > MAX_REFERENCE_INPUT) return failure('InvalidFormat');

  const allowIPv6 = options.allowIPv6Host === true;
  const parts = splitReference(spec, allowIPv6);
  if (parts === undefined) {
    // docker/distribution `Parse`: when the grammar fails but would pass after lower-casing, the
    // writer used upper case where only lower case is allowed; say so rather than "invalid format".
    const lower = spec.toLowerCase();
    if (lower !== spec && splitReference(lower, allowIPv6) !== undefined) return failure('NameContainsUppercase');
    return failure('InvalidFormat');
  }

  if (parts.name.length > NAME_TOTAL_LENGTH_MAX) return failure('NameTooLong');

  if (parts.digest !== undefined) {
    const problem = digestProblem(parts.digest);
    if (problem !== undefined) return failure(problem);
  }

  return { ok: true, reference: splitName(parts.name, parts.tag, parts.digest) };
}

export type DigestResult =
  | { ok: true; algorithm: string; hex: string }
  | { ok: false; reason: 'DigestInvalidFormat' | 'DigestInvalidLength' | 'DigestUnsupported'; message: string };

/**
 * Checks a standalone digest (`algorithm:hex`, e.g. a manifest list entry's `digest`) with the digest
 * package's rules and messages: malformed, unsupported algorithm, wrong length, upper-case hex.
 */
export function parseDigest(value: string): DigestResult {
  const colon = value.indexOf(':');
  // go-digest's loose format check: `[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+`.
  if (
    value.length > MAX_REFERENCE_INPUT ||
    colon <= 0 ||
    colon === value.length - 1 ||
    !everyChar(value, 0, colon, isLooseAlgorithmChar) ||
    !everyChar(value, colon + 1, value.length, isHexDigit)
  ) {
    return { ok: false, reason: 'DigestInvalidFormat', message: REFERENCE_ERROR_MESSAGES.DigestInvalidFormat };
  }
  const problem = digestProblem(value);
  if (problem !== undefined) return { ok: false, reason: problem, message: REFERENCE_ERROR_MESSAGES[problem] };
  return { ok: true, algorithm: value.slice(0, colon), hex: value.slice(colon + 1) };
}

function failure(reason: ReferenceErrorReason): ReferenceResult {
  return { ok: false, reason, message: REFERENCE_ERROR_MESSAGES[reason] };
}

interface ReferenceParts {
  name: string;
  tag?: string;
  digest?: string;
}

/**
 * Splits and checks the whole grammar; `undefined` when `s` is not a reference.
 *
 * The delimiters are unambiguous, so no search is needed: `@` appears in no part but the separator
 * before the digest; a tag contains neither `/` nor `:`, and a name holds `:` only in its host's port,
 * which is followed by `/`. So a `:` after the last `/` (before any `@`) must start the tag.
 */
function splitReference(s: string, allowIPv6: boolean): ReferenceParts | undefined {
  let rest = s;
  let digest: string | undefined;
  const at = s.indexOf('@');
  if (at !== -1) {
    digest = s.slice(at + 1);
    rest = s.slice(0, at);
    if (!isReferenceDigest(digest)) return undefined;
  }

  let name = rest;
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    name = rest.slice(0, colon);
    tag = rest.slice(colon + 1);
    if (!isTag(tag)) return undefined;
  }

  if (!isName(name, allowIPv6)) return undefined;

  const parts: ReferenceParts = { name };
  if (tag !== undefined) parts.tag = tag;
  if (digest !== undefined) parts.digest = digest;
  return parts;
}

/** `[domain "/"] component ("/" component)*`: the first segment may be either a host or a component. */
function isName(name: string, allowIPv6: boolean): boolean {
  const segments = name.split('/');
  for (let i = 1; i < segments.length; i++) {
    if (!isPathComponent(segments[i] ?? '')) return false;
  }
  const first = segments[0] ?? '';
  if (isPathComponent(first)) return true;
  return segments.length > 1 && isDomain(first, allowIPv6);
}

/** `[a-z0-9]+ ( ("." | "_" | "__" | "-"+) [a-z0-9]+ )*` in one pass. */
function isPathComponent(s: string): boolean {
  if (s.length === 0) return false;
  let i = 0;
  for (;;) {
    // A run of lower-case alphanumerics (at least one).
    const runStart = i;
    while (i < s.length && isLowerAlnum(s.charCodeAt(i))) i++;
    if (i === runStart) return false;
    if (i === s.length) return true;
    // A separator, which must be followed by another run.
    const c = s.charCodeAt(i);
    if (c === DOT) {
      i++;
    } else if (c === UNDERSCORE) {
      i++;
      if (s.charCodeAt(i) === UNDERSCORE) i++;
    } else if (c === DASH) {
      while (s.charCodeAt(i) === DASH) i++;
    } else {
      return false;
    }
  }
}

/** `label ("." label)* [":" port]`, or `"[" [0-9A-Fa-f:]+ "]" [":" port]` when IPv6 hosts are allowed. */
function isDomain(s: string, allowIPv6: boolean): boolean {
  let hostEnd: number;
  if (s.charCodeAt(0) === OPEN_BRACKET) {
    // newer docker/distribution: an IPv6 address in brackets, loosely checked as upstream does.
    if (!allowIPv6) return false;
    hostEnd = s.indexOf(']');
    if (hostEnd < 2 || !everyChar(s, 1, hostEnd, isIPv6Char)) return false;
    hostEnd++;
  } else {
    const colon = s.indexOf(':');
    hostEnd = colon === -1 ? s.length : colon;
    if (!isDomainName(s, hostEnd)) return false;
  }
  if (hostEnd === s.length) return true;
  return s.charCodeAt(hostEnd) === COLON && hostEnd + 1 < s.length && everyChar(s, hostEnd + 1, s.length, isDigit);
}

/** `label ("." label)*` over `s[0, end)`; a label is alphanumerics with inner `-`, no leading or trailing `-`. */
function isDomainName(s: string, end: number): boolean {
  let labelStart = 0;
  for (let i = 0; i <= end; i++) {
    if (i === end || s.charCodeAt(i) === DOT) {
      if (i === labelStart) return false;
      if (s.charCodeAt(labelStart) === DASH || s.charCodeAt(i - 1) === DASH) return false;
      labelStart = i + 1;
    } else if (!isAlnum(s.charCodeAt(i)) && s.charCodeAt(i) !== DASH) {
      return false;
    }
  }
  return true;
}

/** `[\w][\w.-]{0,127}` with Go's ASCII-only `\w`. */
function isTag(s: string): boolean {
  if (s.length === 0 || s.length > TAG_MAX || !isWordChar(s.charCodeAt(0))) return false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isWordChar(c) && c !== DOT && c !== DASH) return false;
  }
  return true;
}

/**
 * The digest as the reference grammar admits it, before the digest package looks at it:
 * `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*` then `:` then at least 32 hex digits of either case.
 * A digest outside this shape makes the whole reference `invalid reference format`.
 */
function isReferenceDigest(s: string): boolean {
  const colon = s.indexOf(':');
  if (colon <= 0 || s.length - colon - 1 < DIGEST_HEX_MIN) return false;
  if (!everyChar(s, colon + 1, s.length, isHexDigit)) return false;
  let expectLetter = true;
  for (let i = 0; i < colon; i++) {
    const c = s.charCodeAt(i);
    if (expectLetter) {
      if (!isLetter(c)) return false;
      expectLetter = false;
    } else if (c === DASH || c === UNDERSCORE || c === PLUS || c === DOT) {
      expectLetter = true;
    } else if (!isAlnum(c)) {
      return false;
    }
  }
  return !expectLetter;
}

/**
 * The digest package's verdict on a well-formed digest. library-go's copy checks the algorithm, then
 * the length (`invalid checksum digest length`). It accepts upper-case hex; this webhook does not (the
 * OCI image spec and current opencontainers/go-digest allow only lower case, and registries address
 * content by the lower-case form), and reports it with go-digest's `invalid checksum digest format`.
 */
function digestProblem(digest: string): 'DigestInvalidFormat' | 'DigestInvalidLength' | 'DigestUnsupported' | undefined {
  const colon = digest.indexOf(':');
  const expected = DIGEST_HEX_LENGTH[digest.slice(0, colon)];
  if (expected === undefined) return 'DigestUnsupported';
  if (digest.length - colon - 1 !== expected) return 'DigestInvalidLength';
  if (!everyChar(digest, colon + 1, digest.length, isLowerHexDigit)) return 'DigestInvalidFormat';
  return undefined;
}

/**
 * library-go `reference.Parse`'s split of a valid name into registry, namespace and name. Its rules,
 * including the odd ones, are kept because other OpenShift code reads the parts the same way:
 * - a name without `/` is a registry when it contains `.` or starts with `localhost` (`quay.io`,
 *   `localhost:5000`, where the "tag" is really the port); its tag then becomes part of the registry;
 * - otherwise the first segment is a registry when it contains `.` or `:` or is `localhost`;
 * - the first remaining segment is the namespace when another follows.
 * (library-go also folds the digest into a registry-only reference's registry; that is a bug, and here
 * the digest stays in `digest`.)
 */
function splitName(repository: string, tag: string | undefined, digest: string | undefined): ParsedReference {
  const reference: ParsedReference = { name: '', repository };
  let path = repository;
  let keepTag = true;
  const slash = repository.indexOf('/');
  if (slash === -1) {
    if (repository.includes('.') || repository.startsWith('localhost')) {
      reference.registry = tag === undefined ? repository : `${repository}:${tag}`;
      path = '';
      keepTag = false;
    }
  } else {
    const first = repository.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      reference.registry = first;
      path = repository.slice(slash + 1);
    }
  }

  const namespaceEnd = path.indexOf('/');
  if (namespaceEnd === -1) {
    reference.name = path;
  } else {
    reference.namespace = path.slice(0, namespaceEnd);
    reference.name = path.slice(namespaceEnd + 1);
  }
  if (keepTag && tag !== undefined) reference.tag = tag;
  if (digest !== undefined) reference.digest = digest;
  return reference;
}

const DOT = 0x2e;
const DASH = 0x2d;
const UNDERSCORE = 0x5f;
const PLUS = 0x2b;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;

function everyChar(s: string, start: number, end: number, test: (c: number) => boolean): boolean {
  for (let i = start; i < end; i++) {
    if (!test(s.charCodeAt(i))) return false;
  }
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLowerLetter(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

function isLetter(c: number): boolean {
  return isLowerLetter(c) || (c >= 0x41 && c <= 0x5a);
}

function isAlnum(c: number): boolean {
  return isDigit(c) || isLetter(c);
}

function isLowerAlnum(c: number): boolean {
  return isDigit(c) || isLowerLetter(c);
}

function isWordChar(c: number): boolean {
  return isAlnum(c) || c === UNDERSCORE;
}

function isLowerHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66);
}

function isHexDigit(c: number): boolean {
  return isLowerHexDigit(c) || (c >= 0x41 && c <= 0x46);
}

function isIPv6Char(c: number): boolean {
  return isHexDigit(c) || c === COLON;
}

function isLooseAlgorithmChar(c: number): boolean {
  return isAlnum(c) || c === DASH || c === UNDERSCORE || c === PLUS || c === DOT;
}
