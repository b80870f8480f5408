/**
 * `--expect-trusted-signature SCOPE,...`: repositories whose Images are expected to carry a trusted
 * signature. An Image in scope (by the repository of its `dockerImageReference`, normalised as
 * identity matching normalises it: `ubuntu` is `docker.io/library/ubuntu`) without a signature that
 * verifies as Trusted=True and ForImage=True gets a finding of the warn-only rule
 * `trusted-signature-expected`: a policy the operator is rolling out, never a reason to refuse an
 * Image (the integrity rules are for that). Pure: no I/O.
 */
import { type FieldError, invalidHidden } from '../image/field-error.js';
import type { JudgementOf } from './derive.js';
import { normalizeReference } from './identity.js';

/** The rule whose findings these are (src/image/rules.ts). */
export const EXPECT_RULE = 'trusted-signature-expected';

/**
 * A repository prefix: a registry host (`quay.io`, `registry.example.com:5000`) or a normalised
 * repository path (`quay.io/example`, `docker.io/library/ubuntu`).
 */
export type RepositoryScope = string;

/** Reads the comma-separated scopes, or says which ones are not repository prefixes. */
export function parseRepositoryScopes(list: string): { ok: true; scopes: RepositoryScope[] } | { ok: false; problems: string[] } {
  const scopes: RepositoryScope[] = [];
  const problems: string[] = [];
  for (const entry of list.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const text = entry.replace(/\/+$/, '');
    // A bare host: docker/reference would read `quay.io` as the Docker Hub repository library/quay.io.
    if (!text.includes('/') && (/[.:]/.test(text) || text === 'localhost')) {
      scopes.push(text === 'index.docker.io' ? 'docker.io' : text);
      continue;
    }
    const parsed = normalizeReference(text);
    if (!parsed.ok) problems.push(`${JSON.stringify(entry)} is not a repository prefix: ${parsed.problem}`);
    else if (parsed.reference.tag !== undefined || parsed.reference.digest !== undefined) problems.push(`${JSON.stringify(entry)} names a tag or digest; a scope is a repository prefix`);
    else scopes.push(parsed.reference.name);
  }
  return problems.length === 0 ? { ok: true, scopes } : { ok: false, problems };
}

/** The first scope the repository of `reference` falls in (whole path components only), if any. */
export function scopeOf(reference: unknown, scopes: readonly RepositoryScope[]): RepositoryScope | undefined {
  if (scopes.length === 0 || typeof reference !== 'string') return undefined;
  const parsed = normalizeReference(reference);
  if (!parsed.ok) return undefined;
  const repository = parsed.reference.name;
  return scopes.find((scope) => repository === scope || repository.startsWith(`${scope}/`));
}

/**
 * The finding for an Image in scope none of whose signatures is judged Trusted=True and ForImage=True
 * (empty when out of scope or trusted). `judgementOf` is undefined when no verdicts were computed.
 */
export function checkExpectedTrust(image: Record<string, unknown>, judgementOf: JudgementOf | undefined, scopes: readonly RepositoryScope[]): FieldError[] {
  const scope = scopeOf(image.dockerImageReference, scopes);
  if (scope === undefined) return [];
  const count = Array.isArray(image.signatures) ? image.signatures.length : 0;
  for (let i = 0; i < count && judgementOf !== undefined; i++) {
    const judgement = judgementOf(i);
    if (judgement?.trusted.status === 'True' && judgement.forImage.status === 'True') return [];
  }
  const why = count === 0 ? 'the Image carries no signature' : 'none of its signatures verifies as Trusted=True and ForImage=True under the trusted keys';
  return [invalidHidden(EXPECT_RULE, ['signatures'], `images of ${scope} are expected to carry a trusted signature: ${why}`)];
}
