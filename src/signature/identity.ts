/**
 * Whether a signature's claimed identity (`critical.identity.docker-reference`) names the Image, as
 * containers/image's `signedIdentity: matchRepoDigestOrExact` decides it
 * (signature/policy_reference_match.go), with both references normalised as docker/reference's
 * `ParseNormalizedNamed` does (`ubuntu` → `docker.io/library/ubuntu`, `index.docker.io` →
 * `docker.io`). Pure: no I/O.
 *
 * matchRepoDigestOrExact, for the Image's reference ("intended") and the signed one:
 * - the signed reference must not be name-only (no tag, no digest): it never matches;
 * - intended has a tag (with or without a digest): the two normalised strings must be equal;
 * - intended has only a digest: the repositories must be equal (the digest itself is compared
 *   against the manifest separately, as ForImage);
 * - intended is name-only: nothing matches.
 */
import { parseReference } from '../image/reference.js';

/** A reference as docker/reference's Named holds it after normalisation. */
export interface NormalizedReference {
  /** `domain/path`. */
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';

/** A 64-hex identifier is an image ID, which ParseNormalizedNamed refuses as a name. */
const IDENTIFIER = /^[a-f0-9]{64}$/;

export type NormalizeResult = { ok: true; reference: NormalizedReference } | { ok: false; problem: string };

/** docker/reference's ParseNormalizedNamed. */
export function normalizeReference(text: string): NormalizeResult {
  if (IDENTIFIER.test(text)) return { ok: false, problem: 'cannot specify 64-byte hexadecimal strings' };
  const { domain, remainder } = splitDockerDomain(text);
  const tagSeparator = remainder.indexOf(':');
  const remoteName = tagSeparator === -1 ? remainder : remainder.slice(0, tagSeparator);
  if (remoteName.toLowerCase() !== remoteName) return { ok: false, problem: 'repository name must be lowercase' };
  const parsed = parseReference(`${domain}/${remainder}`);
  if (!parsed.ok) return { ok: false, problem: parsed.message };
  const { repository, tag, digest } = parsed.reference;
  return { ok: true, reference: { name: repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) } };
}

/**
 * docker/reference's splitDockerDomain. The first path segment is a registry when it contains `.` or
 * `:`, is `localhost`, or has an upper-case letter (a repository component never has one, so
 * `Foo/bar` names the host `Foo`); otherwise the reference is on Docker Hub.
 */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = slash === -1 ? '' : name.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/** The normalised reference as a string (`Named.String()`). */
export function formatReference(reference: NormalizedReference): string {
  return `${reference.name}${reference.tag === undefined ? '' : `:${reference.tag}`}${reference.digest === undefined ? '' : `@${reference.digest}`}`;
}

export type IdentityResult = { ok: true } | { ok: false; problem: string };

/** matchRepoDigestOrExact of the Image's `dockerImageReference` and the signed `docker-reference`. */
export function matchRepoDigestOrExact(imageReference: string, signedReference: string): IdentityResult {
  const intended = normalizeReference(imageReference);
  if (!intended.ok) return { ok: false, problem: `the Image's dockerImageReference does not parse: ${intended.problem}` };
  const signed = normalizeReference(signedReference);
  if (!signed.ok) return { ok: false, problem: `the signed docker-reference does not parse: ${signed.problem}` };
  const want = intended.reference;
  const have = signed.reference;
  if (have.tag === undefined && have.digest === undefined) {
    return { ok: false, problem: 'the signed docker-reference names no tag or digest' };
  }
  if (want.tag !== undefined) {
    return formatReference(have) === formatReference(want)
      ? { ok: true }
      : { ok: false, problem: `the signature is for ${formatReference(have)}, not ${formatReference(want)}` };
  }
  if (want.digest !== undefined) {
    return have.name === want.name ? { ok: true } : { ok: false, problem: `the signature is for repository ${have.name}, not ${want.name}` };
  }
  return { ok: false, problem: "the Image's dockerImageReference names no tag or digest" };
}
