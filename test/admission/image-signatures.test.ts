/**
 * `imagesignatures` CREATE through the webhook's routes: the lone ImageSignature (named
 * `<imageName>@<signatureName>`) is judged with the rules of a signature inside an Image, and /mutate
 * derives its conditions from verification under the trusted keys, with real signatures.
 */
import fastJsonPatch from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/admission/policy.js';
import { buildApp } from '../../src/http/app.js';
import { SignatureVerifier } from '../../src/signature/verifier.js';
import { admissionReview } from '../fixtures/index.js';
import { caseNamed, contentOf, fixtures, trustedKeysOf } from '../signature/helpers.js';

const policy: Policy = { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set() };
const app = buildApp({ policy, verifier: new SignatureVerifier(await trustedKeysOf(fixtures)) });
beforeAll(() => app.ready());
afterAll(() => app.close());

const SIGNATURES = { group: 'image.openshift.io', version: 'v1', resource: 'imagesignatures' };
const SIGNATURE_KIND = { group: 'image.openshift.io', version: 'v1', kind: 'ImageSignature' };

/** An ImageSignature object as `oc` creates it: for the fixtures' Image, carrying the named real signature. */
function imageSignature(fixture: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { imageName } = caseNamed(fixtures, fixture);
  return { apiVersion: 'image.openshift.io/v1', kind: 'ImageSignature', metadata: { name: `${imageName}@0123456789abcdef0123456789abcdef` }, type: 'atomic', content: contentOf(fixtures, fixture), ...extra };
}

async function post(endpoint: 'mutate' | 'validate', object: unknown) {
  const review = admissionReview({ operation: 'CREATE', object, resource: SIGNATURES, kind: SIGNATURE_KIND });
  const res = await app.inject({ method: 'POST', url: `/${endpoint}`, payload: review });
  expect(res.statusCode).toBe(200);
  return (res.json() as { response: { allowed: boolean; patch?: string; warnings?: string[]; status?: { message: string; details?: { kind: string; causes: { field: string }[] } } } }).response;
}

function mutated(object: Record<string, unknown>, patch: string | undefined): Record<string, unknown> {
  if (patch === undefined) return object;
  return fastJsonPatch.applyPatch(structuredClone(object), JSON.parse(Buffer.from(patch, 'base64').toString('utf8'))).newDocument;
}

const conditionsOf = (signature: Record<string, unknown>) => (signature.conditions as { type: string; status: string; reason: string }[]).map((c) => [c.type, c.status, c.reason]);

describe('imagesignatures CREATE', () => {
  it('/mutate derives ForImage from the digest in its name; Trusted waits for the Image (its repository is not in the object)', async () => {
    const answer = await post('mutate', imageSignature('rsa-valid'));
    expect(answer.allowed).toBe(true);
    const stored = mutated(imageSignature('rsa-valid'), answer.patch);
    expect(conditionsOf(stored)).toEqual([
      ['Trusted', 'Unknown', 'IdentityUnknown'],
      ['ForImage', 'True', 'DigestMatches'],
    ]);
    expect(stored.issuedTo).toBeUndefined();
    expect(answer.warnings).toBeUndefined();
    // What /mutate stored passes /validate (and so does the signature with its fields cleared, as
    // openshift-apiserver's strategy clears them before validating admission).
    expect((await post('validate', stored)).allowed).toBe(true);
    expect((await post('validate', imageSignature('rsa-valid'))).allowed).toBe(true);
  });

  it.each([
    ['untrusted-key', [['Trusted', 'False', 'UntrustedKey'], ['ForImage', 'Unknown', 'NotVerified']]],
    ['tampered', [['Trusted', 'False', 'BadSignature'], ['ForImage', 'Unknown', 'NotVerified']]],
    ['other-image-digest', [['Trusted', 'False', 'NotForImage'], ['ForImage', 'False', 'DigestMismatch']]],
  ])('a writer claiming Trusted=True on %s has the claim replaced at /mutate and denied at /validate', async (fixture, want) => {
    const now = '2026-01-01T00:00:00Z';
    const claimed = imageSignature(fixture, {
      conditions: [
        { type: 'Trusted', status: 'True', lastProbeTime: now, lastTransitionTime: now },
        { type: 'ForImage', status: 'True', lastProbeTime: now, lastTransitionTime: now },
      ],
    });
    const answer = await post('mutate', claimed);
    expect(answer.allowed).toBe(true);
    expect(conditionsOf(mutated(claimed, answer.patch))).toEqual(want);
    expect(answer.warnings).toEqual([expect.stringMatching(/^conditions: replaced: must be what verification derives/)]);

    const skipped = await post('validate', claimed);
    expect(skipped.allowed).toBe(false);
    expect(skipped.status?.details?.kind).toBe('ImageSignature');
    // A signature that verified for another digest also owes its claims (imageIdentity, ...).
    expect(skipped.status?.details?.causes.map((c) => c.field)[0]).toBe('conditions');
  });

  it('is judged with the signature rules: a name without "@" and content that is not base64 are denied, each at its field', async () => {
    const bad = { ...imageSignature('rsa-valid'), metadata: { name: 'no-separator' }, content: 'not base64!' };
    for (const endpoint of ['mutate', 'validate'] as const) {
      const answer = await post(endpoint, bad);
      expect(answer.allowed).toBe(false);
      expect(answer.status?.message).toMatch(/^ImageSignature\.image\.openshift\.io "no-separator" is invalid: /);
      expect(answer.status?.details?.causes.map((c) => c.field).sort()).toEqual(['content', 'metadata.name']);
    }
  });

  it('a signature without type is denied, and nothing is verified for it', async () => {
    const { type: _type, ...untyped } = imageSignature('rsa-valid');
    const answer = await post('mutate', untyped);
    expect(answer.allowed).toBe(false);
    expect(answer.status?.details?.causes.map((c) => c.field)).toContain('type');
  });
});
