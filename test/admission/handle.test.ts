/**
 * The admission layer on its own: AdmissionReview objects in, through parseReview and handleReview,
 * replies and results out, with no HTTP server, no body bytes and no fastify. test/admission/
 * protocol.test.ts drives the same outcomes through the HTTP edge.
 */
import fastJsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { handleReview } from '../../src/admission/handle.js';
import { parseReview } from '../../src/admission/parse-review.js';
import type { Policy } from '../../src/admission/policy.js';
import type { Image } from '../../src/image/types.js';
import { admissionReview, anImage, imageStreamMappingReview, type AdmissionReview } from '../fixtures/index.js';

const enforce: Policy = { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set() };

/** What the admission layer answers `review` (as it arrives: a JSON copy) at `endpoint`. */
function admit(review: AdmissionReview, endpoint: 'mutate' | 'validate', policy: Policy = enforce) {
  const parsed = parseReview(JSON.parse(JSON.stringify(review)) as unknown);
  if (!parsed.ok) throw new Error(`not a review: ${parsed.problem}`);
  return handleReview(parsed.apiVersion, parsed.request, endpoint, policy);
}

// Without the manifest its layers come from, so the bad layer breaks only the shape rules.
const badImage = (): Image =>
  anImage({ dockerImageManifest: undefined, dockerImageConfig: undefined, dockerImageReference: 'Quay.io/Bad', dockerImageLayers: [{ name: '', size: -1, mediaType: 'x' }] });
const unversioned = (): Image => anImage({ dockerImageMetadataVersion: undefined });
const patchOf = (patch: string | undefined) => JSON.parse(Buffer.from(patch!, 'base64').toString('utf8')) as fastJsonPatch.Operation[];

describe('the admission layer without HTTP', () => {
  it.each(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'])('answers %s in the version received, with the request uid', (apiVersion) => {
    const review = admissionReview({ operation: 'CREATE', object: anImage(), apiVersion });
    const { reply } = admit(review, 'validate');
    expect(reply).toMatchObject({ apiVersion, kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true } });
    expect(reply.response.auditAnnotations).toMatchObject({ decision: 'allowed', 'decision-id': review.request.uid });
  });

  it('allows a valid Image, with no patch at /validate', () => {
    const { reply, result } = admit(admissionReview({ operation: 'CREATE', object: unversioned() }), 'validate');
    expect(reply.response.allowed).toBe(true);
    expect(reply.response).not.toHaveProperty('patch');
    expect(reply.response).not.toHaveProperty('warnings');
    expect(result).toMatchObject({ decision: 'allowed', reviewed: true, patched: false, violations: [] });
  });

  it('denies an invalid Image with a 422 Invalid Status naming each field', () => {
    const review = admissionReview({ operation: 'CREATE', object: badImage() });
    const { reply, result } = admit(review, 'validate');
    expect(reply.response).toMatchObject({ allowed: false, status: { code: 422, reason: 'Invalid', details: { name: review.request.name, group: 'image.openshift.io', kind: 'Image' } } });
    expect(reply.response.status!.details!.causes.map((cause) => cause.field).sort()).toEqual(['dockerImageLayers[0].name', 'dockerImageLayers[0].size', 'dockerImageReference']);
    expect(result.decision).toBe('denied');
    expect([...new Set(result.violations.map((e) => e.rule))].sort()).toEqual(['layer-name', 'layer-size', 'reference-format']);
    expect(reply.response.auditAnnotations).toMatchObject({ decision: 'denied', violations: 'layer-name,layer-size,reference-format' });
  });

  it.each(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'])('patches the defaults at /mutate (%s) with a JSONPatch that applies to the object sent', (apiVersion) => {
    const object = unversioned();
    const { reply, result } = admit(admissionReview({ operation: 'CREATE', object, apiVersion }), 'mutate');
    expect(reply).toMatchObject({ apiVersion, response: { allowed: true, patchType: 'JSONPatch' } });
    const operations = patchOf(reply.response.patch);
    expect(operations).toEqual([{ op: 'add', path: '/dockerImageMetadataVersion', value: '1.0' }]);
    expect(fastJsonPatch.applyPatch(structuredClone(object), operations).newDocument).toEqual({ ...object, dockerImageMetadataVersion: '1.0' });
    expect(result.patched).toBe(true);
  });

  it("patches a mapping's Image under /image, and never patches what it denies", () => {
    const mapped = admit(imageStreamMappingReview({ image: unversioned(), tag: 'latest' }), 'mutate');
    expect(patchOf(mapped.reply.response.patch)).toEqual([{ op: 'add', path: '/image/dockerImageMetadataVersion', value: '1.0' }]);
    const denied = admit(admissionReview({ operation: 'CREATE', object: { ...badImage(), dockerImageMetadataVersion: undefined } }), 'mutate');
    expect(denied.reply.response.allowed).toBe(false);
    expect(denied.reply.response).not.toHaveProperty('patch');
    expect(denied.reply.response).not.toHaveProperty('patchType');
  });

  it('warns instead of denying in warn mode', () => {
    const { reply, result } = admit(admissionReview({ operation: 'CREATE', object: badImage() }), 'validate', { ...enforce, mode: 'warn' });
    expect(reply.response).toMatchObject({ allowed: true, auditAnnotations: { decision: 'warned', mode: 'warn' } });
    expect(reply.response.warnings).toHaveLength(3);
    expect(reply.response.warnings!.every((warning) => warning.length < 120)).toBe(true);
    expect(result.decision).toBe('warned');
  });

  it('warns about violations an UPDATE inherited, marked pre-existing', () => {
    const old = badImage();
    const next = { ...structuredClone(old), metadata: { ...old.metadata, labels: { fixed: 'later' } } };
    const { reply, result } = admit(admissionReview({ operation: 'UPDATE', object: next, oldObject: old }), 'validate');
    expect(reply.response).toMatchObject({ allowed: true, auditAnnotations: { decision: 'warned', 'pre-existing-violations': 'layer-name,layer-size,reference-format' } });
    expect(reply.response.warnings!.every((warning) => warning.startsWith('pre-existing: '))).toBe(true);
    expect(result.violations).toEqual([]);
    expect(result.inherited.length).toBeGreaterThan(0);
  });

  it.each([
    { name: 'another group and resource', review: () => admissionReview({ operation: 'CREATE', object: { metadata: { name: 'x' } }, resource: { group: 'apps', version: 'v1', resource: 'deployments' } }), what: 'apps/v1 deployments' },
    { name: 'a resource of the group the webhook does not judge', review: () => admissionReview({ operation: 'CREATE', object: anImage(), resource: { group: 'image.openshift.io', version: 'v1', resource: 'imagestreamimports' } }), what: 'image.openshift.io/v1 imagestreamimports' },
    {
      name: 'a subresource of images',
      review: () => {
        const review = admissionReview({ operation: 'UPDATE', object: anImage(), oldObject: anImage() });
        return { ...review, request: { ...review.request, subResource: 'status' } };
      },
      what: 'image.openshift.io/v1 images/status',
    },
  ])('denies a misrouted review with 400 naming what arrived: $name', ({ review, what }) => {
    const { reply, result } = admit(review(), 'validate');
    expect(reply.response).toMatchObject({ allowed: false, status: { code: 400, reason: 'BadRequest' } });
    expect(reply.response.status!.message).toContain(`received ${what}`);
    expect(result).toMatchObject({ decision: 'denied', reviewed: false });
  });

  it.each(['DELETE', 'CONNECT'])('leaves %s untouched', (operation) => {
    const { reply, result } = admit(admissionReview({ operation, oldObject: badImage() }), 'mutate');
    expect(reply.response).toMatchObject({ allowed: true, auditAnnotations: { decision: 'allowed' } });
    expect(reply.response).not.toHaveProperty('patch');
    expect(result.reviewed).toBe(false);
  });

  it.each([
    { name: 'another kind', body: { ...admissionReview({ operation: 'CREATE', object: anImage() }), kind: 'Status' }, problem: 'kind must be "AdmissionReview"' },
    { name: 'an unknown apiVersion', body: { ...admissionReview({ operation: 'CREATE', object: anImage() }), apiVersion: 'admission.k8s.io/v2' }, problem: 'apiVersion must be one of' },
    { name: 'no request', body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, problem: 'request must be an object' },
  ])('refuses $name before judging, saying why', ({ body, problem }) => {
    const parsed = parseReview(body);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problem).toContain(problem);
  });
});
