import { describe, expect, it } from 'vitest';
import { type FieldError, formatPath, judgeUpdate, type AdmissionPhase, validateImageUpdate } from '../../src/image/index.js';
import type { Image } from '../../src/image/types.js';
import { sha256Digest } from '../../src/image/digest.js';
import { anImage, schema1Image, schema2Image } from '../fixtures/index.js';

const rows = (errors: FieldError[]) => errors.map((e) => `${e.type} ${formatPath(e.path)} ${e.rule}`).sort();
const HEX = 'b'.repeat(64);

type Case = { name: string; change: (image: Image) => void; want: string[]; phase?: AdmissionPhase; prepare?: (prev: Image) => void };

const frozen: Case[] = [
  { name: 'renaming the Image', change: (i) => (i.metadata!.name = `sha256:${HEX}`), want: ['Invalid metadata.name immutable-field'] },
  { name: 'changing the reference', change: (i) => (i.dockerImageReference = 'quay.io/other/app:1'), want: ['Invalid dockerImageReference immutable-field'] },
  { name: 'changing a metadata value', change: (i) => (i.dockerImageMetadata!.Architecture = 'arm64'), want: ['Invalid dockerImageMetadata immutable-field'] },
  { name: 'changing the metadata version', change: (i) => (i.dockerImageMetadataVersion = 'pre012'), want: ['Invalid dockerImageMetadataVersion immutable-field'] },
  { name: 'changing a layer size', change: (i) => (i.dockerImageLayers![0]!.size! += 1), want: ['Invalid dockerImageLayers immutable-field', 'Invalid dockerImageLayers[0].size layers-match-manifest'] },
  { name: 'dropping a layer', change: (i) => i.dockerImageLayers!.pop(), want: ['Invalid dockerImageLayers immutable-field', 'Invalid dockerImageLayers layers-match-manifest'] },
  {
    name: 'reordering layers',
    change: (i) => i.dockerImageLayers!.reverse(),
    // The Image says its layers are ascending, so the reversed list contradicts the manifest too.
    want: [
      'Invalid dockerImageLayers immutable-field',
      'Invalid dockerImageLayers[0].name layers-match-manifest',
      'Invalid dockerImageLayers[0].size layers-match-manifest',
      'Invalid dockerImageLayers[1].name layers-match-manifest',
      'Invalid dockerImageLayers[1].size layers-match-manifest',
    ],
  },
  { name: 'changing the manifest', change: (i) => (i.dockerImageManifest = '{}'), want: ['Invalid dockerImageManifest immutable-field', 'Invalid dockerImageManifest manifest-digest'] },
  { name: 'changing the config', change: (i) => (i.dockerImageConfig = '{}'), want: ['Invalid dockerImageConfig config-digest', 'Invalid dockerImageConfig config-size', 'Invalid dockerImageConfig immutable-field'] },
  { name: 'changing the manifest media type', change: (i) => (i.dockerImageManifestMediaType = 'application/vnd.oci.image.manifest.v1+json'), want: ['Invalid dockerImageManifestMediaType immutable-field', 'Invalid dockerImageManifestMediaType manifest-media-type'] },
  {
    name: 'adding manifest list entries',
    change: (i) => (i.dockerImageManifests = [{ digest: `sha256:${HEX}`, mediaType: 'a/b', manifestSize: 1, architecture: 'amd64', os: 'linux' }]),
    // layers-on-manifest-list is inherited here: dockerImageLayers itself did not change.
    want: ['Invalid dockerImageManifests immutable-field'],
  },
  { name: 'adding schema 1 signatures', change: (i) => (i.dockerImageSignatures = ['AAAA']), want: ['Invalid dockerImageSignatures immutable-field'] },
  { name: "changing a signature's content", change: (i) => (i.signatures![0]!.content = 'QUFBQQ=='), want: ['Invalid signatures[0].content signature-immutable'] },
  { name: "changing a signature's type", change: (i) => (i.signatures![0]!.type = 'other'), want: ['Invalid signatures[0].type signature-immutable'] },
  {
    name: 'several frozen fields at once, each at its own path',
    change: (i) => {
      i.dockerImageReference = 'quay.io/other/app:1';
      i.dockerImageLayers = [];
    },
    want: ['Invalid dockerImageLayers immutable-field', 'Invalid dockerImageLayers layers-match-manifest', 'Invalid dockerImageReference immutable-field'],
  },
];

const allowedChanges: Case[] = [
  { name: 'editing labels and annotations', change: (i) => (i.metadata!.labels = { team: 'a' }), want: [] },
  { name: 'adding a signature', change: (i) => i.signatures!.push({ ...structuredClone(i.signatures![0]!), metadata: { name: `${i.metadata!.name}@${'c'.repeat(32)}` } }), want: [] },
  { name: 'removing every signature', change: (i) => (i.signatures = []), want: [] },
  { name: "updating a signature's conditions", change: (i) => (i.signatures![0]!.conditions![0]!.lastProbeTime = '2030-01-01T00:00:00Z'), want: [] },
  { name: 'moving a signature to another position', change: (i) => i.signatures!.unshift({ ...structuredClone(i.signatures![0]!), metadata: { name: `${i.metadata!.name}@${'d'.repeat(32)}` } }), want: [] },
  { name: 'the metadata version going from absent to "1.0"', change: (i) => (i.dockerImageMetadataVersion = '1.0'), want: [] },
  {
    name: 'an absent layer list becoming empty',
    change: (i) => (i.dockerImageLayers = []),
    want: [],
    // A zero-layer Image whose manifest the registry stores: no manifest here to contradict [].
    prepare: (prev) => {
      delete prev.dockerImageLayers;
      delete prev.dockerImageManifest;
      delete prev.dockerImageConfig;
      prev.metadata!.annotations = { ...prev.metadata!.annotations, 'image.openshift.io/manifestBlobStored': 'true' };
    },
  },
];

describe('validateImageUpdate: an Image is immutable', () => {
  const base = () => anImage({ dockerImageMetadataVersion: undefined });
  it.each([...frozen, ...allowedChanges])('$name', ({ change, want, prepare }) => {
    const prev = base();
    prepare?.(prev);
    const next = structuredClone(prev);
    change(next);
    expect(rows(judgeUpdate(next, prev, 'mutate').violations)).toEqual([...want].sort());
  });

  it('compares objects regardless of key order', () => {
    const prev = anImage();
    const next = structuredClone(prev);
    next.dockerImageMetadata = Object.fromEntries(Object.entries(prev.dockerImageMetadata!).reverse());
    expect(validateImageUpdate(next, prev, 'mutate')).toEqual([]);
  });
});

describe('identity-preserving transitions', () => {
  const image = schema2Image();
  const stripped = () => ({ ...structuredClone(image), dockerImageManifest: undefined, dockerImageConfig: undefined });

  it('allows setting the manifest and config when their digests match the name and the manifest', () => {
    expect(validateImageUpdate(image, stripped(), 'mutate')).toEqual([]);
  });

  it('denies setting a manifest whose digest is not the name', () => {
    const next = { ...structuredClone(image), dockerImageManifest: `${image.dockerImageManifest} ` };
    expect(sha256Digest(next.dockerImageManifest)).not.toBe(image.metadata!.name);
    // The config still matches the manifest's config digest, so only the manifest is wrong.
    expect(rows(validateImageUpdate(next, stripped(), 'mutate'))).toEqual(['Invalid dockerImageManifest immutable-field']);
  });

  it('allows the repair of a signed schema 1 manifest, whose digest is that of its canonical payload', () => {
    const legacy = schema1Image();
    expect(validateImageUpdate(legacy, { ...structuredClone(legacy), dockerImageManifest: undefined }, 'mutate')).toEqual([]);
  });

  it('allows clearing manifest and config once the registry stores the manifest blob', () => {
    const next = stripped();
    next.metadata!.annotations = { ...next.metadata!.annotations, 'image.openshift.io/manifestBlobStored': 'true' };
    expect(validateImageUpdate(next, image, 'mutate')).toEqual([]);
  });

  it('denies clearing them without that annotation', () => {
    expect(rows(validateImageUpdate(stripped(), image, 'mutate'))).toEqual(['Invalid dockerImageConfig immutable-field', 'Invalid dockerImageManifest immutable-field']);
  });
});

describe('/validate tolerates what OpenShift derives itself; /mutate does not', () => {
  const legacy = () => {
    const image = anImage();
    image.dockerImageLayers!.reverse();
    image.metadata!.annotations = { 'image.openshift.io/dockerLayersOrder': 'descending' };
    return image;
  };

  it.each<[string, (prev: Image) => Image, string[], string[]]>([
    [
      'layers reordered to ascending with the annotation',
      (prev) => {
        const next = structuredClone(prev);
        next.dockerImageLayers!.reverse();
        next.metadata!.annotations = { 'image.openshift.io/dockerLayersOrder': 'ascending' };
        return next;
      },
      ['Invalid dockerImageLayers immutable-field'],
      [],
    ],
    [
      'layers reordered without the annotation turning ascending',
      (prev) => {
        const next = structuredClone(prev);
        next.dockerImageLayers!.reverse();
        return next;
      },
      ['Invalid dockerImageLayers immutable-field'],
      ['Invalid dockerImageLayers immutable-field'],
    ],
    [
      'metadata keys filled in',
      (prev) => ({ ...structuredClone(prev), dockerImageMetadata: { ...prev.dockerImageMetadata, Size: 123 } }),
      ['Invalid dockerImageMetadata immutable-field'],
      [],
    ],
    [
      'an existing metadata key changed',
      (prev) => ({ ...structuredClone(prev), dockerImageMetadata: { ...prev.dockerImageMetadata, Architecture: 's390x' } }),
      ['Invalid dockerImageMetadata immutable-field'],
      ['Invalid dockerImageMetadata immutable-field'],
    ],
  ])('%s', (_name, change, atMutate, atValidate) => {
    const prev = legacy();
    delete prev.dockerImageMetadata!.Size;
    const next = change(prev);
    expect(rows(validateImageUpdate(next, prev, 'mutate'))).toEqual(atMutate);
    expect(rows(validateImageUpdate(next, prev, 'validate'))).toEqual(atValidate);
  });
});
