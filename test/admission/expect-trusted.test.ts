/**
 * --expect-trusted-signature through the webhook's routes, with real signatures: an Image in scope
 * without a signature that verifies as Trusted=True and ForImage=True is allowed with a warning and
 * the `expected-trusted-signature` audit annotation, in every mode, never denied.
 */
import fastJsonPatch from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/admission/policy.js';
import { buildApp } from '../../src/http/app.js';
import type { Image } from '../../src/image/types.js';
import { SignatureVerifier } from '../../src/signature/verifier.js';
import { admissionReview, anImage } from '../fixtures/index.js';
import { untrustedRealSignature } from '../fixtures/signatures.js';
import { fixtures, trustedKeysOf } from '../signature/helpers.js';

const verifier = new SignatureVerifier(await trustedKeysOf(fixtures));
const policy = (overrides: Partial<Policy> = {}): Policy => ({ mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set(), expectTrustedSignature: ['quay.io/example'], ...overrides });
const apps = {
  inScope: buildApp({ policy: policy(), verifier }),
  otherScope: buildApp({ policy: policy({ expectTrustedSignature: ['quay.io/other'] }), verifier }),
  noSignatureRule: buildApp({ policy: policy({ disabledRules: new Set(['signature-verified']) }), verifier }),
  dryRun: buildApp({ policy: policy({ mode: 'dry-run' }), verifier }),
};
beforeAll(() => Promise.all(Object.values(apps).map((app) => app.ready())));
afterAll(() => Promise.all(Object.values(apps).map((app) => app.close())));

/** The known-good Image (quay.io/example/hello, whose manifest the fixtures signed) with the named real signatures. */
function signedBy(...fixtureNames: string[]): Image {
  const image = anImage();
  const name = String(image.metadata?.name);
  image.signatures = fixtureNames.map((fixture) => {
    const { metadata, type, content } = untrustedRealSignature(name, { fixture });
    return { metadata, type, content };
  });
  return image;
}

type Response = { allowed: boolean; patch?: string; warnings?: string[]; auditAnnotations?: Record<string, string> };

/** The answer of `endpoint`; /validate is given what /mutate made of the write, as the API server does. */
async function post(app: keyof typeof apps, endpoint: 'mutate' | 'validate', image: Image): Promise<Response> {
  const call = async (path: string, object: unknown) => {
    const res = await apps[app].inject({ method: 'POST', url: path, payload: admissionReview({ operation: 'CREATE', object }) });
    expect(res.statusCode).toBe(200);
    return (res.json() as { response: Response }).response;
  };
  const mutated = await call('/mutate', image);
  if (endpoint === 'mutate') return mutated;
  const stored = mutated.patch === undefined ? image : fastJsonPatch.applyPatch(structuredClone(image), JSON.parse(Buffer.from(mutated.patch, 'base64').toString('utf8'))).newDocument;
  return call('/validate', stored);
}

const expectation = (warnings: string[] | undefined) => (warnings ?? []).filter((w) => w.includes('expected to carry a trusted signature'));

describe('--expect-trusted-signature', () => {
  it.each([
    ['no signature', []],
    ['only a signature by an untrusted key', ['untrusted-key']],
    ['only a tampered signature', ['tampered']],
    ['only a signature for another repository', ['other-repository']],
  ])('an Image in scope with %s is allowed with a warning and the audit annotation, at both endpoints', async (_what, names) => {
    for (const endpoint of ['mutate', 'validate'] as const) {
      const answer = await post('inScope', endpoint, signedBy(...names));
      expect(answer.allowed, endpoint).toBe(true);
      expect(expectation(answer.warnings), endpoint).toEqual([
        expect.stringMatching(/^signatures: Invalid value: images of quay\.io\/example are expected to carry a trusted signature: /),
      ]);
      expect(answer.auditAnnotations?.['expected-trusted-signature'], endpoint).toBe('missing');
      expect(answer.auditAnnotations?.advisories, endpoint).toContain('trusted-signature-expected');
    }
  });

  it('an Image in scope with one trusted signature among bad ones gets neither', async () => {
    for (const endpoint of ['mutate', 'validate'] as const) {
      const answer = await post('inScope', endpoint, signedBy('untrusted-key', 'ed25519-valid'));
      expect(answer.allowed).toBe(true);
      expect(expectation(answer.warnings)).toEqual([]);
      expect(answer.auditAnnotations).not.toHaveProperty('expected-trusted-signature');
    }
  });

  it('an Image out of scope is not concerned', async () => {
    const answer = await post('otherScope', 'validate', signedBy('untrusted-key'));
    expect(expectation(answer.warnings)).toEqual([]);
    expect(answer.auditAnnotations).not.toHaveProperty('expected-trusted-signature');
  });

  it('is judged even with the signature rule off: signatures are still verified for it', async () => {
    expect(expectation((await post('noSignatureRule', 'validate', signedBy('rsa-valid'))).warnings)).toEqual([]);
    const untrusted = await post('noSignatureRule', 'validate', signedBy('untrusted-key'));
    expect(expectation(untrusted.warnings)).toHaveLength(1);
  });

  it('in dry-run mode only records it', async () => {
    const answer = await post('dryRun', 'validate', signedBy('untrusted-key'));
    expect(answer.allowed).toBe(true);
    expect(answer.warnings).toBeUndefined();
    expect(answer.auditAnnotations?.['expected-trusted-signature']).toBe('missing');
  });
});
