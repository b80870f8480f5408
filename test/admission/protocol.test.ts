import fastJsonPatch from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/admission/policy.js';
import { buildApp } from '../../src/http/app.js';
import type { Image } from '../../src/image/types.js';
import {
  admissionReview,
  anImage,
  hugeAdmissionReview,
  imageStreamMappingReview,
  type AdmissionReview,
} from '../fixtures/index.js';

const policy = (overrides: Partial<Policy> = {}): Policy => ({ mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set(), ...overrides });

const apps = {
  enforce: buildApp({ policy: policy() }),
  warn: buildApp({ policy: policy({ mode: 'warn' }) }),
  dryRun: buildApp({ policy: policy({ mode: 'dry-run' }) }),
  exempting: buildApp({ policy: policy({ exemptUsers: new Set(['migrator']), exemptGroups: new Set(['break-glass']) }) }),
  exemptingDryRun: buildApp({ policy: policy({ mode: 'dry-run', exemptUsers: new Set(['migrator']) }) }),
};
beforeAll(() => Promise.all(Object.values(apps).map((app) => app.ready())));
afterAll(() => Promise.all(Object.values(apps).map((app) => app.close())));

async function post(endpoint: 'mutate' | 'validate', review: unknown, app = apps.enforce) {
  const res = await app.inject({ method: 'POST', url: `/${endpoint}?timeout=10s`, payload: review as object });
  return { status: res.statusCode, body: res.json() };
}

// Without the manifest its layers come from, so the bad layer breaks only the shape rules.
const badImage = (): Image =>
  anImage({ dockerImageManifest: undefined, dockerImageConfig: undefined, dockerImageReference: 'Quay.io/Bad', dockerImageLayers: [{ name: '', size: -1, mediaType: 'x' }] });
const unversioned = (): Image => anImage({ dockerImageMetadataVersion: undefined });
const decodePatch = (patch: string) => JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as fastJsonPatch.Operation[];

describe('the reply envelope', () => {
  it.each(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'])('answers %s in the version received, with the request uid', async (apiVersion) => {
    const review = admissionReview({ operation: 'CREATE', object: anImage(), apiVersion });
    const { status, body } = await post('validate', review);
    expect(status).toBe(200);
    expect(body).toMatchObject({ apiVersion, kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true } });
  });
});

type Row = {
  name: string;
  endpoint: 'mutate' | 'validate';
  review: () => AdmissionReview;
  app?: keyof typeof apps;
  want: Record<string, unknown>;
  patched?: boolean;
  /** No warnings may reach the writer. */
  silent?: boolean;
};

const rows: Row[] = [
  { name: 'a valid CREATE is allowed at /validate without a patch', endpoint: 'validate', review: () => admissionReview({ operation: 'CREATE', object: unversioned() }), want: { allowed: true, auditAnnotations: { decision: 'allowed' } }, patched: false },
  { name: 'a valid CREATE lacking the version is patched at /mutate', endpoint: 'mutate', review: () => admissionReview({ operation: 'CREATE', object: unversioned() }), want: { allowed: true, patchType: 'JSONPatch' }, patched: true },
  { name: 'a valid CREATE that needs no default is not patched', endpoint: 'mutate', review: () => admissionReview({ operation: 'CREATE', object: anImage() }), want: { allowed: true }, patched: false },
  { name: 'an invalid CREATE is denied at /mutate, never patched', endpoint: 'mutate', review: () => admissionReview({ operation: 'CREATE', object: { ...badImage(), dockerImageMetadataVersion: undefined } }), want: { allowed: false, status: { code: 422, reason: 'Invalid' } }, patched: false },
  { name: 'an invalid CREATE is denied at /validate', endpoint: 'validate', review: () => admissionReview({ operation: 'CREATE', object: badImage() }), want: { allowed: false, auditAnnotations: { decision: 'denied', violations: 'layer-name,layer-size,reference-format' } } },
  {
    name: 'an UPDATE changing a frozen field is denied',
    endpoint: 'validate',
    review: () => admissionReview({ operation: 'UPDATE', object: anImage({ dockerImageReference: 'quay.io/x/y:2' }), oldObject: anImage() }),
    want: { allowed: false, status: { details: { causes: [{ field: 'dockerImageReference', reason: 'FieldValueInvalid' }] } } },
  },
  { name: 'an UPDATE adding a label is allowed', endpoint: 'validate', review: () => admissionReview({ operation: 'UPDATE', object: anImage({ metadata: { ...anImage().metadata, labels: { a: 'b' } } }), oldObject: anImage() }), want: { allowed: true } },
  { name: 'DELETE is allowed untouched', endpoint: 'mutate', review: () => admissionReview({ operation: 'DELETE', oldObject: badImage() }), want: { allowed: true, auditAnnotations: { decision: 'allowed' } }, patched: false },
  { name: 'CONNECT is allowed untouched', endpoint: 'validate', review: () => admissionReview({ operation: 'CONNECT' }), want: { allowed: true } },
  {
    name: 'a misrouted resource is denied with 400',
    endpoint: 'validate',
    review: () => admissionReview({ operation: 'CREATE', object: { metadata: { name: 'x' } }, resource: { group: 'apps', version: 'v1', resource: 'deployments' } }),
    want: { allowed: false, status: { code: 400, reason: 'BadRequest' } },
  },
  {
    name: 'an imagestreammapping is judged through its image, paths prefixed',
    endpoint: 'validate',
    review: () => imageStreamMappingReview({ image: badImage(), tag: 'latest' }),
    want: { allowed: false, status: { details: { kind: 'ImageStreamMapping' } } },
  },
  {
    name: 'an imagestreammapping image is defaulted at /mutate',
    endpoint: 'mutate',
    review: () => imageStreamMappingReview({ image: unversioned(), tag: 'latest' }),
    want: { allowed: true, patchType: 'JSONPatch' },
    patched: true,
  },
  { name: 'warn mode allows with warnings', endpoint: 'validate', app: 'warn', review: () => admissionReview({ operation: 'CREATE', object: badImage() }), want: { allowed: true, auditAnnotations: { decision: 'warned', mode: 'warn' } } },
  { name: 'dry-run mode allows silently', endpoint: 'validate', app: 'dryRun', review: () => admissionReview({ operation: 'CREATE', object: badImage() }), want: { allowed: true, auditAnnotations: { decision: 'dry-run', mode: 'dry-run' } }, silent: true },
  {
    name: 'an exempt user is allowed with warnings',
    endpoint: 'validate',
    app: 'exempting',
    review: () => admissionReview({ operation: 'CREATE', object: badImage(), userInfo: { username: 'migrator' } }),
    want: { allowed: true, auditAnnotations: { decision: 'exempt' } },
  },
  {
    name: 'an exempt group is allowed with warnings',
    endpoint: 'mutate',
    app: 'exempting',
    review: () => admissionReview({ operation: 'CREATE', object: badImage(), userInfo: { username: 'alice', groups: ['break-glass'] } }),
    want: { allowed: true, auditAnnotations: { decision: 'exempt' } },
  },
  {
    name: 'a clean write by an exempt user is simply allowed',
    endpoint: 'validate',
    app: 'exempting',
    review: () => admissionReview({ operation: 'CREATE', object: anImage(), userInfo: { username: 'migrator' } }),
    want: { allowed: true, auditAnnotations: { decision: 'allowed' } },
  },
  {
    name: 'an exempt user in dry-run mode is allowed silently',
    endpoint: 'validate',
    app: 'exemptingDryRun',
    review: () => admissionReview({ operation: 'CREATE', object: badImage(), userInfo: { username: 'migrator' } }),
    want: { allowed: true, auditAnnotations: { decision: 'exempt', mode: 'dry-run' } },
    silent: true,
  },
  { name: 'a dryRun request is judged the same', endpoint: 'validate', review: () => admissionReview({ operation: 'CREATE', object: badImage(), dryRun: true }), want: { allowed: false } },
];

describe('the outcome table', () => {
  it.each(rows)('$name', async ({ endpoint, review, app, want, patched, silent }) => {
    const sent = review();
    const { status, body } = await post(endpoint, sent, apps[app ?? 'enforce']);
    expect(status).toBe(200);
    expect(body.response).toMatchObject({ uid: sent.request.uid, ...want });
    expect(body.response.auditAnnotations['decision-id']).toBe(sent.request.uid);
    if (endpoint === 'validate') expect(body.response).not.toHaveProperty('patch');
    if (patched !== undefined) expect('patch' in body.response).toBe(patched);
    expect('patch' in body.response).toBe('patchType' in body.response);
    if (!body.response.allowed) expect(body.response).not.toHaveProperty('patch');
    if (silent) expect(body.response).not.toHaveProperty('warnings');
  });
});

describe('the defaulting patch', () => {
  it('adds the version when absent and applies cleanly', async () => {
    const object = unversioned();
    const { body } = await post('mutate', admissionReview({ operation: 'CREATE', object }));
    const operations = decodePatch(body.response.patch);
    expect(operations).toEqual([{ op: 'add', path: '/dockerImageMetadataVersion', value: '1.0' }]);
    expect(fastJsonPatch.applyPatch(structuredClone(object), operations).newDocument).toEqual({ ...object, dockerImageMetadataVersion: '1.0' });
  });

  it('replaces an empty version', async () => {
    const { body } = await post('mutate', admissionReview({ operation: 'CREATE', object: anImage({ dockerImageMetadataVersion: '' }) }));
    expect(decodePatch(body.response.patch)).toEqual([{ op: 'replace', path: '/dockerImageMetadataVersion', value: '1.0' }]);
  });

  it('replaces a null version, as a Go client may send an absent string', async () => {
    const { body } = await post('mutate', admissionReview({ operation: 'CREATE', object: anImage({ dockerImageMetadataVersion: null as never }) }));
    expect(body.response.allowed).toBe(true);
    expect(decodePatch(body.response.patch)).toEqual([{ op: 'replace', path: '/dockerImageMetadataVersion', value: '1.0' }]);
  });

  it('patches an imagestreammapping under /image', async () => {
    const { body } = await post('mutate', imageStreamMappingReview({ image: unversioned(), tag: 'v1' }));
    expect(decodePatch(body.response.patch)).toEqual([{ op: 'add', path: '/image/dockerImageMetadataVersion', value: '1.0' }]);
  });

  it('is standard base64, not base64url', async () => {
    const { body } = await post('mutate', admissionReview({ operation: 'CREATE', object: unversioned() }));
    expect(body.response.patch).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
  });
});

describe('denials read like the API server', () => {
  it('pins the exact Status of an invalid Image', async () => {
    const review = admissionReview({ operation: 'CREATE', object: badImage(), uid: '00000000-0000-0000-0000-000000000001' });
    const { body } = await post('validate', review);
    expect(body.response.status).toMatchSnapshot();
  });

  it('prints one error without brackets', async () => {
    const { body } = await post('validate', admissionReview({ operation: 'CREATE', object: anImage({ dockerImageLayers: undefined }) }));
    expect(body.response.status.message).toBe(`Image.image.openshift.io "${anImage().metadata!.name}" is invalid: dockerImageLayers: Required value`);
  });

  it('prefixes paths of an imagestreammapping with image.', async () => {
    const { body } = await post('validate', imageStreamMappingReview({ image: anImage({ dockerImageLayers: undefined }), tag: 'v1' }));
    expect(body.response.status.details.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'image.dockerImageLayers' }]);
  });

  it('requires the image of an imagestreammapping that carries none', async () => {
    const review = imageStreamMappingReview({ image: anImage(), tag: 'v1' });
    delete (review.request.object as { image?: unknown }).image;
    const { body } = await post('validate', review);
    expect(body.response.status.details.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'image' }]);
  });

  it('warns in warn mode with printable warnings under 120 characters', async () => {
    const { body } = await post('validate', admissionReview({ operation: 'CREATE', object: badImage() }), apps.warn);
    expect(body.response.warnings.length).toBe(3);
    for (const warning of body.response.warnings as string[]) {
      expect(warning.length).toBeLessThan(120);
      expect([...warning].every((c) => c >= ' ' && c !== '\u007f')).toBe(true);
    }
  });

  it('warns about violations an UPDATE inherited instead of denying it', async () => {
    const old = badImage();
    const next = { ...structuredClone(old), metadata: { ...old.metadata, labels: { fixed: 'later' } } };
    const { body } = await post('validate', admissionReview({ operation: 'UPDATE', object: next, oldObject: old }));
    expect(body.response).toMatchObject({ allowed: true, auditAnnotations: { decision: 'warned', 'pre-existing-violations': 'layer-name,layer-size,reference-format' } });
    expect(body.response.warnings[0]).toMatch(/^pre-existing: /);
  });
});

describe('bad requests get a 4xx with a JSON reason, and the server keeps serving', () => {
  const valid = () => admissionReview({ operation: 'CREATE', object: anImage() });
  it.each<[string, { payload: string | Buffer; contentType?: string; url?: string; method?: 'GET' | 'POST' }, number]>([
    ['not JSON', { payload: '{nope' }, 400],
    ['truncated JSON', { payload: JSON.stringify(valid()).slice(0, 100) }, 400],
    ['an empty body', { payload: '' }, 400],
    ['a JSON array', { payload: '[]' }, 400],
    ['a JSON number', { payload: '42' }, 400],
    ['the wrong content type', { payload: JSON.stringify(valid()), contentType: 'text/plain' }, 415],
    ['not an AdmissionReview', { payload: JSON.stringify({ kind: 'Pod' }) }, 400],
    ['an unknown apiVersion', { payload: JSON.stringify({ ...valid(), apiVersion: 'admission.k8s.io/v2' }) }, 400],
    ['no request', { payload: JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }) }, 400],
    ['no uid', { payload: JSON.stringify({ ...valid(), request: { ...valid().request, uid: undefined } }) }, 400],
    ['a numeric uid', { payload: JSON.stringify({ ...valid(), request: { ...valid().request, uid: 7 } }) }, 400],
    ['an unknown operation', { payload: JSON.stringify({ ...valid(), request: { ...valid().request, operation: 'PATCH' } }) }, 400],
    ['a null object', { payload: JSON.stringify({ ...valid(), request: { ...valid().request, object: null } }) }, 400],
    ['an UPDATE without oldObject', { payload: JSON.stringify({ ...valid(), request: { ...valid().request, operation: 'UPDATE' } }) }, 400],
    ['a body over 7 MiB', { payload: Buffer.alloc(7 * 1024 * 1024 + 1, 0x20) }, 413],
    ['an unknown route', { payload: '{}', url: '/admit' }, 404],
  ])('%s', async (_name, { payload, contentType, url, method }, want) => {
    const res = await apps.enforce.inject({ method: method ?? 'POST', url: url ?? '/validate', payload, headers: { 'content-type': contentType ?? 'application/json' } });
    expect(res.statusCode).toBe(want);
    expect(typeof res.json().reason).toBe('string');
    const after = await post('validate', valid());
    expect(after.body.response.allowed).toBe(true);
  });
});

describe('a known path asked with the wrong method', () => {
  it.each([
    { method: 'GET', url: '/validate', allow: 'POST' },
    { method: 'GET', url: '/mutate?timeout=10s', allow: 'POST' },
    { method: 'PUT', url: '/validate/', allow: 'POST' },
    { method: 'DELETE', url: '/mutate', allow: 'POST' },
    { method: 'POST', url: '/healthz', allow: 'GET, HEAD' },
    { method: 'POST', url: '/metrics', allow: 'GET, HEAD' },
  ] as const)('$method $url is a 405 with Allow: $allow and a JSON reason, not a 404', async ({ method, url, allow }) => {
    const res = await apps.enforce.inject({ method, url });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(res.json()).toEqual({ code: 405, reason: expect.stringContaining(`${method} is not allowed on ${url.split('?')[0]}: use ${allow}`) as string });
  });

  it('an unknown path is still a 404', async () => {
    const res = await apps.enforce.inject({ method: 'GET', url: '/admit' });
    expect(res.statusCode).toBe(404);
  });
});

describe('large reviews', () => {
  it('answers an AdmissionReview near 6 MiB', async () => {
    const review = hugeAdmissionReview();
    const size = Buffer.byteLength(JSON.stringify(review));
    expect(size).toBeGreaterThan(6 * 1024 * 1024);
    const { status, body } = await post('validate', review);
    expect(status).toBe(200);
    expect(body.response).toMatchObject({ uid: review.request.uid, allowed: true });
  });
});

describe('health', () => {
  it.each(['/healthz', '/readyz'])('%s answers 200', async (url) => {
    expect((await apps.enforce.inject({ method: 'GET', url })).statusCode).toBe(200);
  });
});

describe('an unexpected exception', () => {
  it('is answered 500 with a short JSON reason and logged with the request uid', async () => {
    const lines: string[] = [];
    const stream = { write: (line: string) => lines.push(line) };
    // A policy whose exemption lookup throws stands in for any bug below the HTTP edge.
    const broken = { mode: 'enforce' as const, exemptUsers: { has: () => { throw new Error('boom at 0xdeadbeef'); } } as unknown as Set<string>, exemptGroups: new Set<string>() };
    const app = buildApp({ policy: broken, logger: { level: 'info', stream } });
    const review = admissionReview({ operation: 'CREATE', object: anImage() });
    const res = await app.inject({ method: 'POST', url: '/validate', payload: review });
    expect(res.statusCode).toBe(500);
    expect(res.json().reason).not.toContain('boom');
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.level === 50);
    expect(logged).toMatchObject({ uid: review.request.uid, err: { message: 'boom at 0xdeadbeef' } });
    const after = await app.inject({ method: 'GET', url: '/healthz' });
    expect(after.statusCode).toBe(200);
    await app.close();
  });
});
