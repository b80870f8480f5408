import { describe, expect, it } from 'vitest';
import { type FieldError, formatError, formatPath, RULES, validateImage } from '../../src/image/index.js';
import type { Image } from '../../src/image/types.js';
import { anImage, largeSignedImage, manifestListImage, ociImage, ociIndexImage, schema1Image, schema2Image, trustedSignature } from '../fixtures/index.js';

/** The errors as `type path rule` rows: what a user (and the audit trail) depends on. */
const rows = (errors: FieldError[]) => errors.map((e) => `${e.type} ${formatPath(e.path)} ${e.rule}`).sort();

const HEX = 'a'.repeat(64);
const layer = { name: `sha256:${HEX}`, size: 10, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' };
/** A signature carrying the claims a verifier records (these rules judge claims, not cryptography). */
const signatureOf = (image: Image) => trustedSignature({ imageName: image.metadata!.name!, seed: 'validate/signature', identity: 'quay.io/example/hello:latest' });
/**
 * The known-good Image without the manifest and config its layers come from (as once the registry
 * stores the manifest blob): shape rules on layers are then not also content contradictions.
 */
const withoutContent = (overrides: Partial<Image> = {}): Image => anImage({ dockerImageManifest: undefined, dockerImageConfig: undefined, ...overrides });

describe('validateImage accepts realistic Images', () => {
  it.each([
    ['the known-good builder', anImage()],
    ['a Docker schema 2 image', schema2Image()],
    ['an OCI image', ociImage()],
    ['a Docker manifest list', manifestListImage()],
    ['an OCI index', ociIndexImage()],
    ['a 60-layer image with signatures', largeSignedImage()],
    ['a signed schema 1 image', schema1Image()],
    ['an image with zero layers', withoutContent({ dockerImageLayers: [] })],
    ['an image named by generateName', anImage({ metadata: { generateName: 'sha256-' } })],
    ['a pre012 metadata version', anImage({ dockerImageMetadataVersion: 'pre012' })],
    ['an empty metadata version', anImage({ dockerImageMetadataVersion: '' })],
    ['null signatures (omitted by the API server)', anImage({ signatures: null })],
    ['a null metadata version (how a Go client may send an absent string)', anImage({ dockerImageMetadataVersion: null as never })],
    [
      'null claims, issuer and labels on a signature (Go decodes null as absent)',
      (() => {
        const image = anImage();
        Object.assign(image.signatures![0]!, { signedClaims: null, issuedBy: null });
        image.metadata!.labels = null as never;
        return image;
      })(),
    ],
  ])('%s', (_name, image) => {
    expect(validateImage(image)).toEqual([]);
  });
});

type Case = { name: string; image: () => unknown; want: string[] };

const withSignature = (change: (s: NonNullable<Image['signatures']>[number]) => void): (() => Image) => () => {
  const image = anImage();
  const signature = signatureOf(image);
  change(signature);
  image.signatures = [signature];
  return image;
};

const cases: Case[] = [
  // §2 shape
  { name: 'a non-object is rejected at the root', image: () => 'x', want: ['Invalid <root> object-shape'] },
  { name: 'no object at all is required at the root', image: () => undefined, want: ['Required <root> object-shape'] },
  { name: 'a name that is not a string is one error, not two', image: () => anImage({ metadata: { name: 5 as never } }), want: ['Invalid metadata.name object-shape'] },
  { name: 'a null reference is missing', image: () => anImage({ dockerImageReference: null as never }), want: ['Required dockerImageReference reference-format'] },
  { name: 'a missing name without generateName', image: () => anImage({ metadata: {} }), want: ['Required metadata.name name-required'] },
  // A name that is not the manifest's digest also contradicts the manifest and the reference's digest.
  { name: 'a name of ".."', image: () => anImage({ metadata: { name: '..' } }), want: ['Invalid metadata.name name-format', 'Invalid dockerImageManifest manifest-digest', 'Invalid dockerImageReference reference-digest'] },
  { name: 'a name with "/" and "%"', image: () => anImage({ metadata: { name: 'a/b%c' } }), want: ['Invalid metadata.name name-format', 'Invalid metadata.name name-format', 'Invalid dockerImageManifest manifest-digest', 'Invalid dockerImageReference reference-digest'] },
  { name: 'missing dockerImageLayers', image: () => anImage({ dockerImageLayers: undefined }), want: ['Required dockerImageLayers layers-required'] },
  { name: 'null dockerImageLayers counts as absent', image: () => anImage({ dockerImageLayers: null }), want: ['Required dockerImageLayers layers-required'] },
  { name: 'dockerImageLayers that is not an array', image: () => anImage({ dockerImageLayers: 'x' as never }), want: ['Invalid dockerImageLayers object-shape'] },
  {
    name: 'a layer with nothing set',
    image: () => withoutContent({ dockerImageLayers: [{}] }),
    want: ['Required dockerImageLayers[0].mediaType layer-media-type', 'Required dockerImageLayers[0].name layer-name', 'Required dockerImageLayers[0].size layer-size'],
  },
  { name: 'an empty layer name', image: () => withoutContent({ dockerImageLayers: [{ ...layer, name: '' }] }), want: ['Required dockerImageLayers[0].name layer-name'] },
  { name: 'an empty layer media type', image: () => withoutContent({ dockerImageLayers: [layer, { ...layer, mediaType: '' }] }), want: ['Required dockerImageLayers[1].mediaType layer-media-type'] },
  { name: 'a negative layer size', image: () => withoutContent({ dockerImageLayers: [{ ...layer, size: -1 }] }), want: ['Invalid dockerImageLayers[0].size layer-size'] },
  { name: 'a fractional layer size', image: () => withoutContent({ dockerImageLayers: [{ ...layer, size: 1.5 }] }), want: ['Invalid dockerImageLayers[0].size layer-size'] },
  { name: 'a layer size above 2^53-1', image: () => withoutContent({ dockerImageLayers: [{ ...layer, size: 2 ** 53 }] }), want: ['Invalid dockerImageLayers[0].size layer-size'] },
  { name: 'a layer size as a string', image: () => withoutContent({ dockerImageLayers: [{ ...layer, size: '10' as never }] }), want: ['Invalid dockerImageLayers[0].size layer-size'] },
  { name: 'an unsupported metadata version', image: () => anImage({ dockerImageMetadataVersion: '2.0' }), want: ['NotSupported dockerImageMetadataVersion metadata-version'] },
  { name: 'dockerImageMetadata that is not an object', image: () => anImage({ dockerImageMetadata: [] as never }), want: ['Invalid dockerImageMetadata object-shape'] },
  { name: 'dockerImageSignatures that are not base64', image: () => anImage({ dockerImageSignatures: ['AAAA', 'not base64!'] }), want: ['Invalid dockerImageSignatures[1] docker-signatures-base64'] },
  { name: 'a label value that is not a string', image: () => anImage({ metadata: { ...anImage().metadata, labels: { a: 1 as never } } }), want: ['Invalid metadata.labels[a] object-shape'] },
  { name: 'a signature without type', image: withSignature((s) => delete s.type), want: ['Required signatures[0].type signature-type'] },
  { name: 'a signature with an empty content', image: withSignature((s) => (s.content = '')), want: ['Required signatures[0].content signature-content'] },
  { name: 'a signature whose content is not standard base64', image: withSignature((s) => (s.content = 'abc-_def')), want: ['Invalid signatures[0].content signature-content'] },
  {
    name: 'a signature condition without type or status',
    image: withSignature((s) => s.conditions!.push({})),
    want: ['Required signatures[0].conditions[2].status signature-condition-status', 'Required signatures[0].conditions[2].type signature-condition-type'],
  },
  { name: 'a condition status of the wrong type is one error, not two', image: withSignature((s) => (s.conditions![0]!.status = 5 as never)), want: ['Invalid signatures[0].conditions[0].status signature-condition-status'] },
  { name: 'a condition status outside True, False, Unknown', image: withSignature((s) => (s.conditions![0]!.status = 'Yes')), want: ['NotSupported signatures[0].conditions[0].status signature-condition-status'] },
  { name: 'issuedTo without publicKeyID', image: withSignature((s) => (s.issuedTo = { commonName: 'x' })), want: ['Required signatures[0].issuedTo.publicKeyID signature-public-key-id'] },
  { name: 'a probe time that is not RFC 3339', image: withSignature((s) => (s.conditions![0]!.lastProbeTime = 'yesterday')), want: ['Invalid signatures[0].conditions[0].lastProbeTime object-shape'] },
  // §3 OpenShift's create rules
  { name: 'a missing reference', image: () => anImage({ dockerImageReference: undefined }), want: ['Required dockerImageReference reference-format'] },
  { name: 'an upper-case reference', image: () => anImage({ dockerImageReference: 'quay.io/Example/app' }), want: ['Invalid dockerImageReference reference-format'] },
  { name: 'a signature name without "@"', image: withSignature((s) => (s.metadata!.name = 'nope')), want: ['Invalid signatures[0].metadata.name signature-name'] },
  { name: 'a signature name with two "@"', image: withSignature((s) => (s.metadata!.name = 'a@b@c')), want: ['Invalid signatures[0].metadata.name signature-name'] },
  { name: 'a signature name with an empty part', image: withSignature((s) => (s.metadata!.name = '@b')), want: ['Invalid signatures[0].metadata.name signature-name'] },
  { name: 'a signature name with "/"', image: withSignature((s) => (s.metadata!.name = 'a@b/c')), want: ['Invalid signatures[0].metadata.name signature-name'] },
  { name: 'signature labels', image: withSignature((s) => (s.metadata!.labels = { a: 'b' })), want: ['Forbidden signatures[0].metadata.labels signature-metadata'] },
  {
    name: 'signature annotations other than managed-signature',
    image: withSignature((s) => (s.metadata!.annotations = { 'image.openshift.io/managed-signature': 'true', other: 'x' })),
    want: ['Forbidden signatures[0].metadata.annotations[other] signature-metadata'],
  },
  { name: 'a signature namespace', image: withSignature((s) => (s.metadata!.namespace = 'ns')), want: ['Forbidden signatures[0].metadata.namespace signature-metadata'] },
  {
    name: 'Trusted without ForImage',
    image: withSignature((s) => (s.conditions = s.conditions!.filter((c) => c.type !== 'ForImage'))),
    want: ['Required signatures[0].conditions signature-trust-conditions'],
  },
  {
    name: 'ForImage without Trusted, with claims set',
    image: withSignature((s) => (s.conditions = s.conditions!.filter((c) => c.type !== 'Trusted'))),
    want: [
      'Invalid signatures[0].imageIdentity signature-unverified-fields',
      'Invalid signatures[0].issuedBy signature-unverified-fields',
      'Invalid signatures[0].issuedTo signature-unverified-fields',
      'Invalid signatures[0].signedClaims signature-unverified-fields',
      'Required signatures[0].conditions signature-trust-conditions',
    ],
  },
  {
    name: 'claims while the latest Trusted condition is Unknown',
    image: withSignature((s) => {
      s.signedClaims = {};
      delete s.issuedBy;
      delete s.issuedTo;
      s.conditions!.push({ type: 'Trusted', status: 'Unknown', lastProbeTime: '2100-01-01T00:00:00Z' });
    }),
    want: ['Invalid signatures[0].imageIdentity signature-unverified-fields'],
  },
  {
    name: 'a manifest list entry with nothing valid',
    image: () => anImage({ dockerImageLayers: undefined, dockerImageManifests: [{ digest: 'nope', mediaType: 'x', manifestSize: -1 }] }),
    want: [
      'Invalid dockerImageManifests[0].digest manifest-list-entry',
      'Invalid dockerImageManifests[0].manifestSize manifest-list-entry',
      'Invalid dockerImageManifests[0].mediaType manifest-list-entry',
      'Required dockerImageManifests[0].architecture manifest-list-entry',
      'Required dockerImageManifests[0].os manifest-list-entry',
    ],
  },
  {
    name: 'manifest list entries with a digest of an unknown algorithm or none',
    image: () => {
      const image = manifestListImage();
      image.dockerImageManifests![0]!.digest = `foo:${'Z'.repeat(40)}`;
      delete image.dockerImageManifests![1]!.digest;
      return image;
    },
    want: [
      'Invalid dockerImageManifests[0].digest manifest-list-entry',
      'Invalid dockerImageManifests[0].digest manifest-list-match',
      'Invalid dockerImageManifests[1].digest manifest-list-match',
      'Required dockerImageManifests[1].digest manifest-list-entry',
    ],
  },
  {
    name: 'a manifest list that also has layers',
    image: () => ({ ...manifestListImage(), dockerImageLayers: [layer] }),
    want: ['Forbidden dockerImageLayers layers-on-manifest-list'],
  },
];

describe('validateImage rejects each violation at its own path', () => {
  it.each(cases)('$name', ({ image, want }) => {
    expect(rows(validateImage(image()))).toEqual([...want].sort());
  });
});

describe('validateImage reports everything at once', () => {
  it('collects violations of several rules in one call', () => {
    const image = withoutContent({ dockerImageReference: 'UPPER', dockerImageLayers: [{ ...layer, size: -5 }], dockerImageMetadataVersion: '9' });
    expect(new Set(validateImage(image).map((e) => e.rule))).toEqual(new Set(['reference-format', 'layer-size', 'metadata-version']));
  });

  it('never echoes signature contents', () => {
    const secret = 'c2VjcmV0!!';
    const errors = validateImage(withSignature((s) => (s.content = secret))());
    expect(errors.map(formatError).join('\n')).not.toContain(secret);
  });

  it('only raises rules of the catalogue', () => {
    const known = new Set(RULES.map((r) => r.id));
    for (const { image } of cases) for (const error of validateImage(image())) expect(known).toContain(error.rule);
  });
});
