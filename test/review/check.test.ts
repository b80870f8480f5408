/**
 * `check` judges a manifest as the server does, end to end: /mutate, its patch applied, /validate on
 * the patched object. Its verdicts are compared with the real server app's, answering the same writes.
 */
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/admission/policy.js';
import { buildApp } from '../../src/http/app.js';
import { judgeRequest } from '../../src/review/answer.js';
import { checkImage } from '../../src/review/check.js';
import { SignatureVerifier } from '../../src/signature/index.js';
import type { Image } from '../../src/image/types.js';
import { admissionReview, anImage, notOpenPGPConditions } from '../fixtures/index.js';
import { brokenImage } from '../audit/audit-log.js';

function policy(overrides: Partial<Policy> = {}): Policy {
  return { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set(), ...overrides };
}

/** An Image whose signature (not an OpenPGP message) claims it is Trusted: verification derives otherwise. */
function claimingTrust(): Image {
  const image = anImage();
  const conditions = notOpenPGPConditions().map(({ type, lastProbeTime, lastTransitionTime }) => ({ type, status: 'True', lastProbeTime, lastTransitionTime }));
  image.signatures = [{ metadata: { name: `${image.metadata!.name}@${'a'.repeat(32)}` }, type: 'atomic', content: Buffer.from('not a signature').toString('base64'), conditions }];
  return image;
}

type Reply = { response: { allowed: boolean; patch?: string; status?: { details?: { causes?: { field: string }[] } } } };

/** What the server app answers for the write: /mutate, then /validate on the patched object. */
async function serverVerdict(p: Policy, object: Image, oldObject?: Image) {
  const app = buildApp({ policy: p, logger: false });
  try {
    const operation = oldObject === undefined ? 'CREATE' : 'UPDATE';
    const post = async (endpoint: string, obj: unknown) =>
      (await app.inject({ method: 'POST', url: `/${endpoint}`, payload: admissionReview({ operation, object: obj as Image, ...(oldObject ? { oldObject } : {}) }) })).json() as Reply;
    const mutate = await post('mutate', object);
    const fields = (r: Reply) => (r.response.status?.details?.causes ?? []).map((c) => c.field);
    if (!mutate.response.allowed) return { valid: false, deniedAt: 'mutate', denied: fields(mutate) };
    const operations = mutate.response.patch === undefined ? [] : (JSON.parse(Buffer.from(mutate.response.patch, 'base64').toString()) as Operation[]);
    const patched = fastJsonPatch.applyPatch(structuredClone(object), operations, true, false).newDocument;
    const validate = await post('validate', patched);
    return validate.response.allowed ? { valid: true, denied: [] } : { valid: false, deniedAt: 'validate', denied: fields(validate) };
  } finally {
    await app.close();
  }
}

const changedReference = () => {
  const old = anImage();
  return { object: anImage({ dockerImageReference: `quay.io/example/other@${old.metadata!.name}` }), old };
};

const rows = [
  { name: 'a valid Image', p: policy(), object: () => anImage() },
  { name: 'a broken Image', p: policy(), object: () => brokenImage('same') },
  { name: 'a missing reference', p: policy(), object: () => anImage({ dockerImageReference: undefined }) },
  { name: 'a missing reference under reference-format=warn', p: policy({ ruleActions: new Map([['reference-format', 'warn']]) }), object: () => anImage({ dockerImageReference: undefined }) },
  { name: 'no metadata version (defaulted by the patch)', p: policy(), object: () => anImage({ dockerImageMetadataVersion: undefined }) },
  { name: 'a signature claiming trust it does not have', p: policy(), object: claimingTrust },
  { name: 'an UPDATE changing the reference', p: policy(), object: () => changedReference().object, old: () => changedReference().old },
];

describe('check gives the server its verdicts', () => {
  it.each(rows)('$name', async ({ p, object, old }) => {
    const image = object();
    const before = old?.();
    const server = await serverVerdict(p, image, before);
    const checked = await checkImage(image as unknown as Record<string, unknown>, before as unknown as Record<string, unknown> | undefined, p);
    expect(checked.valid).toBe(server.valid);
    expect(checked.deniedAt).toBe(server.deniedAt);
    expect(checked.findings.filter((f) => f.action === 'deny').map((f) => f.field)).toEqual(server.denied);
  });
});

describe('check runs the whole write', () => {
  it('judges /validate on the object /mutate patched, not on the object as written', async () => {
    const image = claimingTrust() as unknown as Record<string, unknown>;
    // As written, /validate denies it: the claimed conditions are not what verification derives ...
    const written = await judgeRequest(
      'admission.k8s.io/v1',
      { uid: 'u', operation: 'CREATE', resource: { group: 'image.openshift.io', version: 'v1', resource: 'images' }, userInfo: {}, object: image, oldObject: null },
      'validate',
      policy(),
    );
    expect(written.reply.response.allowed).toBe(false);
    // ... but /mutate replaces them, so the stored object passes /validate, with a warning naming the rule.
    const checked = await checkImage(image, undefined, policy());
    expect(checked.valid).toBe(true);
    expect(checked.findings).toEqual([expect.objectContaining({ rule: 'signature-verified', kind: 'replaced', action: 'warn' })]);
  });

  it('verifies each signature at /mutate and again (from the cache) at /validate', async () => {
    const verifier = new SignatureVerifier();
    await checkImage(claimingTrust() as unknown as Record<string, unknown>, undefined, policy(), verifier);
    expect(verifier.work.verifications).toBe(1);
    expect(verifier.work.cacheHits).toBe(1);
  });

  it('stops at /mutate when /mutate denies', async () => {
    const verifier = new SignatureVerifier();
    const image = brokenImage('stop') as unknown as Record<string, unknown>;
    const checked = await checkImage(image, undefined, policy(), verifier);
    expect(checked).toMatchObject({ valid: false, deniedAt: 'mutate' });
    expect(verifier.work.cacheHits).toBe(0);
  });
});
