import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type FieldError, formatPath, judgeCreate, judgeUpdate, RULES, type RuleId, validateContent, validateImage } from '../../src/image/index.js';
import type { Image } from '../../src/image/types.js';
import {
  anImage,
  hugeImage,
  largeSignedBuilt,
  largeSignedImage,
  manifestListImage,
  ociImage,
  ociIndexImage,
  schema1Image,
  schema1Payload,
  schema1SigningKey,
  SCHEMA1_DIGEST,
  schema2Built,
  schema2Image,
  sha256Digest,
  signSchema1,
} from '../fixtures/index.js';

/** The errors as `type path rule` rows. */
const rows = (errors: readonly FieldError[]) => errors.map((e) => `${e.type} ${formatPath(e.path)} ${e.rule}`).sort();

const CONTENT_RULES = RULES.filter((rule) => rule.section === 'content').map((rule) => rule.id);

/** `image` with a new manifest, renamed to that manifest's digest (and its reference with it). */
function withManifest(image: Image, manifest: string, digest = sha256Digest(manifest)): Image {
  const repository = image.dockerImageReference!.split('@')[0]!;
  return { ...image, metadata: { ...image.metadata, name: digest }, dockerImageReference: `${repository}@${digest}`, dockerImageManifest: manifest };
}

/** `image` whose manifest, re-serialised after `change`, is consistent with its name again. */
function withManifestChange(image: Image, change: (manifest: Record<string, unknown>) => void): Image {
  const manifest = JSON.parse(image.dockerImageManifest!) as Record<string, unknown>;
  change(manifest);
  return withManifest(image, JSON.stringify(manifest, null, 3));
}

/** The canonical payload of a signed schema 1 manifest, computed here independently of src/. */
function canonicalPayload(manifest: string): Buffer {
  const { signatures } = JSON.parse(manifest) as { signatures: { protected: string }[] };
  const header = JSON.parse(Buffer.from(signatures[0]!.protected, 'base64url').toString('utf8')) as { formatLength: number; formatTail: string };
  const bytes = Buffer.from(manifest, 'utf8');
  return Buffer.concat([bytes.subarray(0, header.formatLength), Buffer.from(header.formatTail, 'base64url')]);
}

/** A signed schema 1 Image whose manifest holds multi-byte UTF-8 characters. */
function schema1UnicodeImage(): Image {
  const payload = schema1Payload().replace('"tag": "2.4"', '"tag": "2.4-ünïcødé-版"');
  const { manifest } = signSchema1(payload, schema1SigningKey(), '2016-09-12T14:03:11Z');
  return withManifest(schema1Image(), manifest, sha256Digest(payload));
}

describe('validateContent accepts what registries and OpenShift write', () => {
  it.each<[string, () => Image]>([
    ['a Docker schema 2 image', schema2Image],
    ['an OCI image', ociImage],
    ['a Docker manifest list', manifestListImage],
    ['an OCI index', ociIndexImage],
    ['a 60-layer signed image', largeSignedImage],
    ['a signed schema 1 image', schema1Image],
    ['a signed schema 1 image with multi-byte characters', schema1UnicodeImage],
    ['the known-good builder', () => anImage()],
    ['a ~3 MiB image', () => hugeImage()],
    ['legacy descending layers without the order annotation', () => {
      const image = schema2Image();
      image.dockerImageLayers!.reverse();
      delete image.metadata!.annotations;
      return image;
    }],
    ['legacy descending layers annotated descending', () => {
      const image = schema2Image();
      image.dockerImageLayers!.reverse();
      image.metadata!.annotations = { 'image.openshift.io/dockerLayersOrder': 'descending' };
      return image;
    }],
    ['an image named by its sha512 digest', () => {
      const image = schema2Image();
      const digest = `sha512:${createHash('sha512').update(image.dockerImageManifest!).digest('hex')}`;
      return withManifest(image, image.dockerImageManifest!, digest);
    }],
    ['a schema 1 image recorded as application/vnd.docker.distribution.manifest.v1+json', () => ({
      ...schema1Image(),
      dockerImageManifestMediaType: 'application/vnd.docker.distribution.manifest.v1+json',
    })],
    ['an OCI manifest without mediaType recorded as OCI', () => withManifestChange(ociImage(), (m) => delete m.mediaType)],
    ['an image whose manifest the registry stores', () => ({ ...schema2Image(), dockerImageManifest: undefined, dockerImageConfig: undefined })],
    ['an image without a config (the manifest alone is checked)', () => ({ ...schema2Image(), dockerImageConfig: undefined })],
  ])('%s', (_name, image) => {
    expect(validateImage(image())).toEqual([]);
  });

  it('names a schema 1 image by the digest of its canonical payload, not of its bytes', () => {
    const image = schema1Image();
    const payload = canonicalPayload(image.dockerImageManifest!);
    expect(sha256Digest(payload)).toBe(SCHEMA1_DIGEST);
    expect(sha256Digest(image.dockerImageManifest!)).not.toBe(SCHEMA1_DIGEST);
    expect(validateContent(image)).toEqual([]);
  });

  it('cuts the schema 1 payload at a byte offset, not a string index', () => {
    const image = schema1UnicodeImage();
    const manifest = image.dockerImageManifest!;
    const { formatLength } = JSON.parse(Buffer.from((JSON.parse(manifest) as { signatures: { protected: string }[] }).signatures[0]!.protected, 'base64url').toString()) as {
      formatLength: number;
    };
    expect(sha256Digest(canonicalPayload(manifest))).toBe(image.metadata!.name);
    expect(sha256Digest(`${manifest.slice(0, formatLength)}\n}`)).not.toBe(image.metadata!.name);
    expect(validateContent(image)).toEqual([]);
  });
});

type Case = { name: string; image: () => Image; want: string[] };

const schema2 = () => schema2Image();
const list = () => manifestListImage();

const contradictions: Case[] = [
  // manifest-json, config-json
  { name: 'a manifest that is not JSON', image: () => ({ ...schema2(), dockerImageManifest: '{"schemaVersion": 2' }), want: ['Invalid dockerImageManifest manifest-json'] },
  { name: 'a manifest that is JSON but not an object', image: () => ({ ...schema2(), dockerImageManifest: '[]' }), want: ['Invalid dockerImageManifest manifest-json'] },
  { name: 'a config that is not JSON', image: () => ({ ...schema2(), dockerImageManifest: undefined, dockerImageConfig: 'not json' }), want: ['Invalid dockerImageConfig config-json'] },
  // manifest-digest
  { name: 'a manifest with one more byte than the name', image: () => ({ ...schema2(), dockerImageManifest: `${schema2Built().manifest}\n` }), want: ['Invalid dockerImageManifest manifest-digest'] },
  {
    name: 'a name of another algorithm that is not the manifest digest',
    image: () => withManifest(schema2(), schema2Built().manifest, `sha384:${'c'.repeat(96)}`),
    want: ['Invalid dockerImageManifest manifest-digest'],
  },
  { name: 'a schema 1 payload changed under its signature', image: () => ({ ...schema1Image(), dockerImageManifest: schema1Image().dockerImageManifest!.replace('"tag": "2.4"', '"tag": "2.5"') }), want: ['Invalid dockerImageManifest manifest-digest'] },
  {
    name: 'a schema 1 manifest whose protected header is not base64url JSON',
    image: () => {
      const image = schema1Image();
      const manifest = JSON.parse(image.dockerImageManifest!) as { signatures: { protected: string }[] };
      return { ...image, dockerImageManifest: image.dockerImageManifest!.replace(manifest.signatures[0]!.protected, 'e30') };
    },
    want: ['Invalid dockerImageManifest manifest-digest'],
  },
  {
    name: 'a prettyjws manifest without signatures',
    image: () => ({ ...schema1Image(), dockerImageManifest: schema1Payload() }),
    want: ['Invalid dockerImageManifest manifest-digest'],
  },
  // manifest-media-type
  { name: 'a schema 2 manifest recorded as OCI', image: () => ({ ...schema2(), dockerImageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' }), want: ['Invalid dockerImageManifestMediaType manifest-media-type'] },
  { name: 'a manifest list recorded as an OCI index', image: () => ({ ...list(), dockerImageManifestMediaType: 'application/vnd.oci.image.index.v1+json' }), want: ['Invalid dockerImageManifestMediaType manifest-media-type'] },
  { name: 'a schema 1 manifest recorded as schema 2', image: () => ({ ...schema1Image(), dockerImageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json' }), want: ['Invalid dockerImageManifestMediaType manifest-media-type'] },
  // config-digest, config-size
  { name: 'a config changed without changing its size', image: () => ({ ...schema2(), dockerImageConfig: schema2Built().config.replace('"amd64"', '"arm64"') }), want: ['Invalid dockerImageConfig config-digest'] },
  {
    name: "a manifest whose config.size is not the config's size",
    image: () => withManifestChange(schema2(), (m) => ((m.config as { size: number }).size += 1)),
    want: ['Invalid dockerImageConfig config-size'],
  },
  // layers-match-manifest
  { name: 'a layer size that differs from the manifest', image: () => { const i = schema2(); i.dockerImageLayers![1]!.size! += 1; return i; }, want: ['Invalid dockerImageLayers[1].size layers-match-manifest'] },
  { name: 'a layer digest that differs from the manifest', image: () => { const i = schema2(); i.dockerImageLayers![0]!.name = `sha256:${'d'.repeat(64)}`; return i; }, want: ['Invalid dockerImageLayers[0].name layers-match-manifest'] },
  { name: 'a layer media type that differs from the manifest', image: () => { const i = schema2(); i.dockerImageLayers![2]!.mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip'; return i; }, want: ['Invalid dockerImageLayers[2].mediaType layers-match-manifest'] },
  { name: 'a layer missing', image: () => { const i = schema2(); i.dockerImageLayers!.pop(); return i; }, want: ['Invalid dockerImageLayers layers-match-manifest'] },
  {
    name: 'descending layers on an Image that says they ascend',
    image: () => { const i = largeSignedImage(); [i.dockerImageLayers![0], i.dockerImageLayers![59]] = [i.dockerImageLayers![59]!, i.dockerImageLayers![0]!]; return i; },
    want: ['Invalid dockerImageLayers[0].name layers-match-manifest', 'Invalid dockerImageLayers[0].size layers-match-manifest', 'Invalid dockerImageLayers[59].name layers-match-manifest', 'Invalid dockerImageLayers[59].size layers-match-manifest'],
  },
  // manifest-list-match
  { name: 'a list entry whose variant differs', image: () => { const i = list(); i.dockerImageManifests![1]!.variant = 'v7'; return i; }, want: ['Invalid dockerImageManifests[1].variant manifest-list-match'] },
  { name: 'a list entry whose size differs', image: () => { const i = list(); i.dockerImageManifests![0]!.manifestSize! += 1; return i; }, want: ['Invalid dockerImageManifests[0].manifestSize manifest-list-match'] },
  { name: 'a list entry whose digest differs', image: () => { const i = ociIndexImage(); i.dockerImageManifests![3]!.digest = `sha256:${'e'.repeat(64)}`; return i; }, want: ['Invalid dockerImageManifests[3].digest manifest-list-match'] },
  { name: 'a list entry whose platform differs', image: () => { const i = list(); i.dockerImageManifests![2]!.architecture = 'amd64'; return i; }, want: ['Invalid dockerImageManifests[2].architecture manifest-list-match'] },
  { name: 'a list entry missing', image: () => { const i = list(); i.dockerImageManifests!.pop(); return i; }, want: ['Invalid dockerImageManifests manifest-list-match'] },
  // reference-digest
  { name: 'a reference to another digest', image: () => ({ ...schema2(), dockerImageReference: `quay.io/mirror/app@sha256:${'f'.repeat(64)}` }), want: ['Invalid dockerImageReference reference-digest'] },
];

describe('each content rule rejects its minimal contradiction at the field that carries it', () => {
  it.each(contradictions)('$name', ({ image, want }) => {
    expect(rows(validateImage(image()))).toEqual([...want].sort());
  });

  it('covers every content rule', () => {
    const raised = new Set(contradictions.flatMap(({ image }) => validateImage(image()).map((e) => e.rule)));
    expect([...raised].sort()).toEqual([...CONTENT_RULES].sort());
  });

  it('never echoes a manifest or config', () => {
    for (const { image } of contradictions) {
      for (const error of validateImage(image())) if (error.path[0] === 'dockerImageManifest' || error.path[0] === 'dockerImageConfig') expect(error).not.toHaveProperty('value');
    }
  });
});

describe('enforcement', () => {
  it('only warns when the reference names another digest (a mirror may)', () => {
    const verdict = judgeCreate({ ...schema2(), dockerImageReference: `quay.io/mirror/app@sha256:${'f'.repeat(64)}` });
    expect(verdict.violations).toEqual([]);
    expect(rows(verdict.advisories)).toEqual(['Invalid dockerImageReference reference-digest']);
  });

  it('denies the other contradictions', () => {
    const verdict = judgeCreate({ ...schema2(), dockerImageConfig: `${schema2Built().config} ` });
    expect(rows(verdict.violations)).toEqual(['Invalid dockerImageConfig config-digest', 'Invalid dockerImageConfig config-size']);
  });
});

describe('rules can be disabled by name', () => {
  it.each(contradictions)('$name: no error once its rules are disabled', ({ image, want }) => {
    const disabledRules = new Set(want.map((row) => row.split(' ')[2]! as RuleId));
    const verdict = judgeCreate(image(), { disabledRules });
    expect([...verdict.violations, ...verdict.advisories]).toEqual([]);
  });

  it('disables any catalogue rule, not only content rules', () => {
    const image = anImage({ dockerImageReference: 'quay.io/Upper/app' });
    expect(rows(judgeCreate(image).violations)).toEqual(['Invalid dockerImageReference reference-format']);
    expect(judgeCreate(image, { disabledRules: new Set(['reference-format']) }).violations).toEqual([]);
  });

  it('drops disabled update rules too', () => {
    const prev = anImage();
    const next = { ...anImage(), dockerImageReference: 'quay.io/other/app:1' };
    expect(rows(judgeUpdate(next, prev, 'mutate').violations)).toEqual(['Invalid dockerImageReference immutable-field']);
    expect(judgeUpdate(next, prev, 'mutate', { disabledRules: new Set(['immutable-field']) }).violations).toEqual([]);
  });
});

describe('on UPDATE, content rules ratchet on the field that carries the contradiction', () => {
  it('only warns about a config the old Image already contradicted', () => {
    const prev = { ...largeSignedImage(), dockerImageConfig: `${largeSignedBuilt().config} ` };
    const next = structuredClone(prev);
    next.metadata!.labels = { scanned: 'yes' };
    const verdict = judgeUpdate(next, prev, 'mutate');
    expect(verdict.violations).toEqual([]);
    expect(rows(verdict.inherited)).toEqual(['Invalid dockerImageConfig config-digest', 'Invalid dockerImageConfig config-size']);
  });

  it('denies a "repair" that sets a manifest the name is not the digest of', () => {
    const image = schema2Image();
    const prev = { ...structuredClone(image), dockerImageManifest: undefined, dockerImageConfig: undefined };
    const next = { ...structuredClone(image), dockerImageManifest: `${image.dockerImageManifest} ` };
    expect(rows(judgeUpdate(next, prev, 'mutate').violations)).toEqual(['Invalid dockerImageManifest immutable-field', 'Invalid dockerImageManifest manifest-digest']);
  });
});
