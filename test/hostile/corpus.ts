/**
 * The hostile-input corpus: requests no API server would send, each with the answer the webhook must
 * give. A bad body is a 4xx with a reason (a failed call: failurePolicy decides); a well-formed review
 * of a bad Image is a denial; nothing is a crash, a hang or a 5xx.
 */
import { randomUUID } from 'node:crypto';
import { admissionReview, anImage, type AdmissionReview } from '../fixtures/index.js';

/** What the webhook must answer. */
export type Want =
  | { http: number; reason: RegExp }
  | { allowed: true }
  | { allowed: false; code: 422; fields?: string[]; causes?: number; message?: RegExp }
  | { allowed: false; code: 400 };

/** One hostile request. */
export interface HostileCase {
  name: string;
  path?: string;
  method?: string;
  /** Built lazily: some bodies are megabytes. */
  body: () => string | Buffer | undefined;
  headers?: Record<string, string>;
  want: Want;
}

const create = (object: unknown = anImage()): AdmissionReview => admissionReview({ operation: 'CREATE', object });
const text = (review: unknown) => JSON.stringify(review);

/** A review's JSON with `@@key@@` placeholders turned into the given key: object literals cannot hold `__proto__` as data. */
const withKey = (review: unknown, key: string) => text(review).replaceAll('"@@key@@"', JSON.stringify(key));

/** `depth` nested arrays around 1. */
const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
/** The review's JSON with the string "@@deep@@" replaced by `depth` nested arrays. */
const deepAt = (review: unknown, depth: number) => text(review).replace('"@@deep@@"', nested(depth));

const imageWith = (patch: (image: Record<string, unknown>) => void) => {
  const image = anImage() as unknown as Record<string, unknown>;
  patch(image);
  return image;
};
const request = (review: AdmissionReview) => review.request as unknown as Record<string, unknown>;
const reviewWith = (patch: (review: Record<string, unknown>, request: Record<string, unknown>) => void, base: AdmissionReview = create()) => {
  const review = base as unknown as Record<string, unknown>;
  patch(review, request(base));
  return review;
};
const layers = <T>(count: number, layer: (i: number) => T): T[] => Array.from({ length: count }, (_, i) => layer(i));
const metadata = (image: Record<string, unknown>) => image.metadata as Record<string, unknown>;
const dockerConfig = (image: Record<string, unknown>) => (image.dockerImageMetadata as Record<string, Record<string, unknown>>).Config!;

/** Base64 of `bytes` pseudo-random bytes (fast: a repeated block). */
const base64Of = (bytes: number) => Buffer.alloc(bytes, 'q8Zt').toString('base64');
const withSignatureContent = (bytes: number) =>
  imageWith((image) => {
    const signature = (image.signatures as Record<string, unknown>[])[0]!;
    signature.content = base64Of(bytes);
    // Refused unread by the verifier (over its size cap): stored with the conditions it derives.
    const conditions = signature.conditions as Record<string, unknown>[];
    Object.assign(conditions[0]!, { reason: 'TooLarge', message: 'the signature is larger than 65536 bytes' });
  });

const notJson = /body is not valid JSON/;
const notObject = /body must be a JSON object/;
const tooDeep = /deeper than 100 levels/;
const notUtf8 = /not valid UTF-8/;
const empty = /body is empty/;
const mediaType = /Unsupported Media Type/i;

export const HOSTILE_CASES: HostileCase[] = [
  // --- bodies that are not JSON, or not UTF-8
  { name: 'plain words', body: () => 'hello, webhook', want: { http: 400, reason: notJson } },
  { name: 'truncated JSON', body: () => text(create()).slice(0, 500), want: { http: 400, reason: notJson } },
  { name: 'JSON cut after the last brace', body: () => text(create()).slice(0, -1), want: { http: 400, reason: notJson } },
  { name: 'whitespace only', body: () => '   \n\t ', want: { http: 400, reason: notJson } },
  { name: 'two JSON documents', body: () => `${text(create())}${text(create())}`, want: { http: 400, reason: notJson } },
  { name: 'a trailing comma', body: () => text(create()).replace(/}$/, ',}'), want: { http: 400, reason: notJson } },
  { name: 'NaN as a value', body: () => text(create()).replace('"dryRun":false', '"dryRun":NaN'), want: { http: 400, reason: notJson } },
  { name: 'invalid UTF-8 (0xff) inside a string', body: () => Buffer.concat([Buffer.from(text(create()).slice(0, 200)), Buffer.from([0xff, 0xfe]), Buffer.from(text(create()).slice(200))]), want: { http: 400, reason: notUtf8 } },
  { name: 'an overlong UTF-8 encoding of "/"', body: () => Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]), want: { http: 400, reason: notUtf8 } },
  { name: 'a UTF-8-encoded lone surrogate', body: () => Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), want: { http: 400, reason: notUtf8 } },
  { name: 'UTF-16 instead of UTF-8', body: () => Buffer.from(text(create()), 'utf16le'), want: { http: 400, reason: notJson } },
  { name: 'NUL bytes', body: () => Buffer.alloc(64, 0), want: { http: 400, reason: notJson } },
  // --- JSON that is not an object
  { name: 'a JSON array', body: () => '[]', want: { http: 400, reason: notObject } },
  { name: 'the review wrapped in an array', body: () => `[${text(create())}]`, want: { http: 400, reason: notObject } },
  { name: 'a JSON number', body: () => '42', want: { http: 400, reason: notObject } },
  { name: 'a JSON string', body: () => '"AdmissionReview"', want: { http: 400, reason: notObject } },
  { name: 'JSON null', body: () => 'null', want: { http: 400, reason: notObject } },
  { name: 'JSON true', body: () => 'true', want: { http: 400, reason: notObject } },
  { name: 'an empty object', body: () => '{}', want: { http: 400, reason: /kind must be "AdmissionReview"/ } },
  // --- content type and size
  { name: 'text/plain', body: () => text(create()), headers: { 'content-type': 'text/plain' }, want: { http: 415, reason: mediaType } },
  { name: 'form encoded', body: () => text(create()), headers: { 'content-type': 'application/x-www-form-urlencoded' }, want: { http: 415, reason: mediaType } },
  { name: 'application/xml', body: () => '<review/>', headers: { 'content-type': 'application/xml' }, want: { http: 415, reason: mediaType } },
  { name: 'application/yaml', body: () => 'kind: AdmissionReview', headers: { 'content-type': 'application/yaml' }, want: { http: 415, reason: mediaType } },
  { name: 'an empty JSON body', body: () => '', want: { http: 400, reason: empty } },
  { name: 'no body and no content type', body: () => undefined, want: { http: 400, reason: empty } },
  { name: 'a body over the 7 MiB limit', body: () => `{"pad":"${'x'.repeat(8 * 1024 * 1024)}"}`, want: { http: 413, reason: /Request body is too large/ } },
  { name: 'a signature with 10 MB of content (over the limit)', body: () => text(create(withSignatureContent(7_500_000))), want: { http: 413, reason: /Request body is too large/ } },
  { name: 'a 100,000-layer image with real digests (15 MB, over the limit)', body: () => text(create(imageWith((image) => {
    image.dockerImageLayers = layers(100_000, (i) => ({ name: `sha256:${i.toString(16).padStart(64, '0')}`, size: 1024, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }));
  }))), want: { http: 413, reason: /Request body is too large/ } },
  // --- the envelope
  { name: 'no uid', body: () => text(reviewWith((_r, req) => delete req.uid)), want: { http: 400, reason: /request.uid must be a non-empty string/ } },
  { name: 'a numeric uid', body: () => text(reviewWith((_r, req) => (req.uid = 12345))), want: { http: 400, reason: /request.uid/ } },
  { name: 'a null uid', body: () => text(reviewWith((_r, req) => (req.uid = null))), want: { http: 400, reason: /request.uid/ } },
  { name: 'an empty uid', body: () => text(reviewWith((_r, req) => (req.uid = ''))), want: { http: 400, reason: /request.uid/ } },
  { name: 'an object as uid', body: () => text(reviewWith((_r, req) => (req.uid = { id: 1 }))), want: { http: 400, reason: /request.uid/ } },
  { name: 'an unknown apiVersion', body: () => text(reviewWith((r) => (r.apiVersion = 'admission.k8s.io/v2'))), want: { http: 400, reason: /apiVersion must be one of/ } },
  { name: 'no apiVersion', body: () => text(reviewWith((r) => delete r.apiVersion)), want: { http: 400, reason: /apiVersion must be one of/ } },
  { name: 'another kind', body: () => text(reviewWith((r) => (r.kind = 'TokenReview'))), want: { http: 400, reason: /kind must be "AdmissionReview"/ } },
  { name: 'no request', body: () => text(reviewWith((r) => delete r.request)), want: { http: 400, reason: /request must be an object/ } },
  { name: 'a null request', body: () => text(reviewWith((r) => (r.request = null))), want: { http: 400, reason: /request must be an object/ } },
  { name: 'a request that is an array', body: () => text(reviewWith((r) => (r.request = [1]))), want: { http: 400, reason: /request must be an object/ } },
  { name: 'a null object on CREATE', body: () => text(reviewWith((_r, req) => (req.object = null))), want: { http: 400, reason: /request.object must be an object for CREATE/ } },
  { name: 'a string object', body: () => text(reviewWith((_r, req) => (req.object = 'image'))), want: { http: 400, reason: /request.object must be an object/ } },
  { name: 'an array object', body: () => text(reviewWith((_r, req) => (req.object = [anImage()]))), want: { http: 400, reason: /request.object must be an object/ } },
  { name: 'a numeric object', body: () => text(reviewWith((_r, req) => (req.object = 7))), want: { http: 400, reason: /request.object must be an object/ } },
  { name: 'an UPDATE without oldObject', body: () => text(admissionReview({ operation: 'UPDATE', object: anImage() })), want: { http: 400, reason: /request.oldObject must be an object for UPDATE/ } },
  { name: 'an UPDATE with an array oldObject', body: () => text(admissionReview({ operation: 'UPDATE', object: anImage(), oldObject: [] })), want: { http: 400, reason: /oldObject/ } },
  { name: 'an unknown operation', body: () => text(admissionReview({ operation: 'PATCH', object: anImage() })), want: { http: 400, reason: /request.operation must be one of/ } },
  { name: 'a lower-case operation', body: () => text(admissionReview({ operation: 'create', object: anImage() })), want: { http: 400, reason: /request.operation/ } },
  { name: 'a numeric operation', body: () => text(reviewWith((_r, req) => (req.operation = 1))), want: { http: 400, reason: /request.operation/ } },
  { name: 'no resource', body: () => text(reviewWith((_r, req) => delete req.resource)), want: { http: 400, reason: /request.resource must be an object/ } },
  { name: 'groups that are not strings', body: () => text(reviewWith((_r, req) => (req.userInfo = { username: 'x', groups: [1] }))), want: { http: 400, reason: /request.userInfo/ } },
  { name: 'a pod (non-Image kind)', body: () => text(admissionReview({ operation: 'CREATE', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' } })), want: { allowed: false, code: 400 } },
  { name: 'an ImageStream (non-Image kind)', body: () => text(admissionReview({ operation: 'CREATE', object: { kind: 'ImageStream' }, resource: { group: 'image.openshift.io', version: 'v1', resource: 'imagestreams' } })), want: { allowed: false, code: 400 } },
  { name: 'the images/status subresource', body: () => text(reviewWith((_r, req) => (req.subResource = 'status'))), want: { allowed: false, code: 400 } },
  { name: 'DELETE of an Image', body: () => text(admissionReview({ operation: 'DELETE', oldObject: anImage() })), want: { allowed: true } },
  { name: 'CONNECT', body: () => text(admissionReview({ operation: 'CONNECT', object: anImage() })), want: { allowed: true } },
  // --- prototype keys, kept as plain data: the rules judge the Image as they would without them
  { name: '__proto__ at the review root', body: () => withKey({ '@@key@@': { polluted: 'yes' }, ...create() }, '__proto__'), want: { allowed: true } },
  { name: '__proto__ in the request', body: () => withKey(reviewWith((_r, req) => (req['@@key@@'] = { allowed: true, polluted: 'yes' })), '__proto__'), want: { allowed: true } },
  { name: '__proto__ in the Image', body: () => withKey(create(imageWith((image) => (image['@@key@@'] = { polluted: 'yes' }))), '__proto__'), want: { allowed: true } },
  { name: '__proto__ in metadata', body: () => withKey(create(imageWith((image) => (metadata(image)['@@key@@'] = { name: 'other' }))), '__proto__'), want: { allowed: true } },
  { name: '__proto__ as a label key', body: () => withKey(create(imageWith((image) => (metadata(image).labels = { '@@key@@': 'yes' }))), '__proto__'), want: { allowed: true } },
  { name: '__proto__ as a label key with an object value', body: () => withKey(create(imageWith((image) => (metadata(image).labels = { '@@key@@': { polluted: 'yes' } }))), '__proto__'), want: { allowed: false, code: 422, fields: ['metadata.labels[__proto__]'] } },
  { name: '__proto__ as a container config label', body: () => withKey(create(imageWith((image) => (dockerConfig(image).Labels = { '@@key@@': 'yes' }))), '__proto__'), want: { allowed: true } },
  { name: '__proto__ in a layer', body: () => withKey(create(imageWith((image) => ((image.dockerImageLayers as Record<string, unknown>[])[0]!['@@key@@'] = { size: -1 }))), '__proto__'), want: { allowed: true } },
  { name: '__proto__ in the userInfo', body: () => withKey(reviewWith((_r, req) => ((req.userInfo as Record<string, unknown>)['@@key@@'] = { username: 'system:admin' })), '__proto__'), want: { allowed: true } },
  { name: 'constructor.prototype at the review root', body: () => withKey({ '@@key@@': { prototype: { polluted: 'yes' } }, ...create() }, 'constructor'), want: { allowed: true } },
  { name: 'constructor in the Image', body: () => withKey(create(imageWith((image) => (image['@@key@@'] = { prototype: { polluted: 'yes' } }))), 'constructor'), want: { allowed: true } },
  { name: 'constructor as a label key', body: () => withKey(create(imageWith((image) => (metadata(image).labels = { '@@key@@': 'yes' }))), 'constructor'), want: { allowed: true } },
  { name: 'constructor in dockerImageMetadata', body: () => withKey(create(imageWith((image) => ((image.dockerImageMetadata as Record<string, unknown>)['@@key@@'] = { prototype: { polluted: 'yes' } }))), 'constructor'), want: { allowed: true } },
  // --- deep nesting: refused after parsing (V8's parser is not recursive), wherever it is
  { name: '10,000-deep arrays as the body', body: () => nested(10_000), want: { http: 400, reason: tooDeep } },
  { name: '10,000-deep objects as the body', body: () => `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, want: { http: 400, reason: tooDeep } },
  { name: '10,000-deep nesting as the object', body: () => deepAt(reviewWith((_r, req) => (req.object = '@@deep@@')), 10_000), want: { http: 400, reason: tooDeep } },
  { name: '10,000-deep nesting in dockerImageMetadata', body: () => deepAt(create(imageWith((image) => ((image.dockerImageMetadata as Record<string, unknown>).Config = '@@deep@@'))), 10_000), want: { http: 400, reason: tooDeep } },
  { name: '10,000-deep nesting in a label value', body: () => deepAt(create(imageWith((image) => (metadata(image).labels = { a: '@@deep@@' }))), 10_000), want: { http: 400, reason: tooDeep } },
  { name: '1,000,000-deep arrays (would overflow a recursive parser)', body: () => nested(1_000_000), want: { http: 400, reason: tooDeep } },
  { name: 'unclosed 100,000-deep arrays', body: () => '['.repeat(100_000), want: { http: 400, reason: notJson } },
  { name: 'one level over the limit', body: () => nested(101), want: { http: 400, reason: tooDeep } },
  { name: 'deep nesting inside a string is just text', body: () => text(create(imageWith((image) => (metadata(image).labels = { a: '['.repeat(10_000) })))), want: { allowed: true } },
  { name: 'nesting well within the limit in dockerImageMetadata', body: () => deepAt(create(imageWith((image) => ((image.dockerImageMetadata as Record<string, unknown>).Extra = '@@deep@@'))), 80), want: { allowed: true } },
  // --- numbers and types
  { name: 'a layer size beyond 2^63', body: () => text(create()).replace(/"size":\d+/, '"size":9223372036854775808'), want: { allowed: false, code: 422, fields: ['dockerImageLayers[0].size'] } },
  { name: 'a layer size of 1e400 (Infinity)', body: () => text(create()).replace(/"size":\d+/, '"size":1e400'), want: { allowed: false, code: 422, fields: ['dockerImageLayers[0].size'] } },
  { name: 'a layer size of 2^53', body: () => text(create()).replace(/"size":\d+/, '"size":9007199254740992'), want: { allowed: false, code: 422, fields: ['dockerImageLayers[0].size'] } },
  { name: 'a layer size as a string', body: () => text(create()).replace(/"size":(\d+)/, '"size":"$1"'), want: { allowed: false, code: 422, fields: ['dockerImageLayers[0].size'] } },
  { name: 'a negative zero-point-five layer size', body: () => text(create()).replace(/"size":\d+/, '"size":-0.5'), want: { allowed: false, code: 422, fields: ['dockerImageLayers[0].size'] } },
  { name: 'a huge exponent in a number field the rules ignore', body: () => text(create(imageWith((image) => ((image.dockerImageMetadata as Record<string, unknown>).Size = 0)))).replace('"Size":0', '"Size":1e999999'), want: { allowed: true } },
  // --- sizes: large inputs get an answer, not a crash
  { name: 'a signature with 5 MB of content (under the limit)', body: () => text(create(withSignatureContent(3_750_000))), want: { allowed: true } },
  // With its manifest the Image could not fit under the body limit (each layer is listed again there),
  // so the valid one is stored as OpenShift keeps Images once the registry holds the manifest blob.
  {
    name: 'a valid 100,000-layer image (no manifest kept)',
    body: () => text(create(imageWith((image) => {
      delete image.dockerImageManifest;
      image.dockerImageLayers = layers(100_000, () => ({ name: 'a', size: 1, mediaType: 'b' }));
    }))),
    want: { allowed: true },
  },
  { name: 'a 100,000-layer image whose manifest lists 2', body: () => text(create(imageWith((image) => (image.dockerImageLayers = layers(100_000, () => ({ name: 'a', size: 1, mediaType: 'b' })))))), want: { allowed: false, code: 422, fields: ['dockerImageLayers'] } },
  {
    name: 'a 100,000-layer image with a bad size in every layer',
    body: () => text(create(imageWith((image) => (image.dockerImageLayers = layers(100_000, () => ({ name: 'a', size: -1, mediaType: 'b' })))))),
    want: { allowed: false, code: 422, causes: 100, message: /, and more errors\]$/ },
  },
  // The rules stop at their cap (src/image/findings.ts): ajv once built a million errors here, 13 s and
  // 900 MiB on the main thread (the body is under 1 MiB), and the process died. test/image/bounded-work.test.ts bounds the work.
  {
    name: '340,000 empty layers (under 1 MiB)',
    body: () => text(create(imageWith((image) => {
      delete image.dockerImageManifest;
      image.dockerImageLayers = layers(340_000, () => ({}));
    }))),
    want: { allowed: false, code: 422, causes: 100, message: /dockerImageLayers\[0\]\.name: Required value.*, and more errors\]$/ },
  },
  // OpenShift's own reordering of legacy layers, at a size where a quadratic comparison blocked for 9-13 s.
  {
    name: '12,300 layers reversed under dockerLayersOrder: ascending (UPDATE)',
    body: () => {
      const oldObject = imageWith((image) => {
        delete image.dockerImageManifest;
        metadata(image).annotations = { 'image.openshift.io/dockerLayersOrder': 'descending' };
        image.dockerImageLayers = layers(12_300, (i) => ({ name: `sha256:${i.toString(16).padStart(64, '0')}`, size: 1000 + i, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }));
      });
      const object = structuredClone(oldObject);
      (object.dockerImageLayers as unknown[]).reverse();
      metadata(object).annotations = { 'image.openshift.io/dockerLayersOrder': 'ascending' };
      return text(admissionReview({ operation: 'UPDATE', object, oldObject }));
    },
    want: { allowed: true },
  },
  { name: '50,000 labels', body: () => text(create(imageWith((image) => (metadata(image).labels = Object.fromEntries(layers(50_000, (i) => [`l${i}`, 'v'] as const)))))), want: { allowed: true } },
  // --- routes
  { name: 'GET on a review route', method: 'GET', body: () => undefined, want: { http: 405, reason: /GET is not allowed on \/validate: use POST/ } },
  { name: 'an unknown path', path: '/admit', body: () => text(create()), want: { http: 404, reason: /no route for POST \/admit/ } },
];

/** A valid review with a fresh uid, for the check after each hostile request. */
export function validCreate(): AdmissionReview {
  return admissionReview({ operation: 'CREATE', object: anImage(), uid: randomUUID() });
}
