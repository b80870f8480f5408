/**
 * The webhook behind a real kube-apiserver (v1.20.2), with Images served from a
 * CustomResourceDefinition and the webhook registered in URL mode on 127.0.0.1. Every write goes
 * through kubectl, as a person would make it, and what kubectl prints is checked word for word.
 *
 * Needs the cluster of scripts/apiserver/run.sh: run it with `npm run test:apiserver`. The blocks
 * run in order and build on each other (the update block replaces what the create block stored; the
 * audit block reads every write the others made).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Image } from '../../src/image/types.js';
import { anImage, largeSignedImage, LARGE_IMAGE_LAYERS, manifestListImage, ociImage, ociIndexImage, schema2Image } from '../fixtures/index.js';
import { untrustedRealSignature } from '../fixtures/signatures.js';
import {
  CONTROLLER_SUITE_PREFIX,
  EXEMPT_USER,
  type ExpectedWrite,
  forCrd,
  imageWriteEvents,
  kubectl,
  kubectlJson,
  MUTATING_WEBHOOK,
  nameOf,
  ROOT,
  type Run,
  suiteEnvironment,
  type User,
  PROBE_PREFIX,
  registerWebhook,
  SIGNATURES_SUITE_PREFIX,
  AUDIT_REVIEW_SUITE_PREFIX,
  VALIDATING_WEBHOOK,
  startWebhook,
  type Webhook,
} from './harness.js';

const env = suiteEnvironment();
let webhook: Webhook;
/** Every Image write the suite makes, in order, with what the audit log must say about it. */
const ledger: ExpectedWrite[] = [];

/** `kubectl create -f -` of `image` as `user`, recorded in the ledger. */
function create(image: Image, as: User, expected: Omit<ExpectedWrite, 'name' | 'verb'>, extra: string[] = []): Run {
  ledger.push({ name: nameOf(image), verb: 'create', ...expected });
  return kubectl(env, ['create', '-f', '-', ...extra], { as, input: JSON.stringify(image) });
}

/** `kubectl replace -f -` of `image` as `user`, recorded in the ledger. */
function replace(image: Image, as: User, expected: Omit<ExpectedWrite, 'name' | 'verb'>): Run {
  ledger.push({ name: nameOf(image), verb: 'update', ...expected });
  return kubectl(env, ['replace', '-f', '-'], { as, input: JSON.stringify(image) });
}

function get(name: string): Image {
  return kubectlJson<Image>(env, ['get', 'images.image.openshift.io', name]);
}

function exists(name: string): boolean {
  const run = kubectl(env, ['get', 'images.image.openshift.io', name, '--ignore-not-found', '-o', 'name']);
  expect(run.code).toBe(0);
  return run.stdout.trim() !== '';
}

/** What kubectl prints for a 422 Invalid denial: one cause on the line, several as a list. */
function invalid(name: string, causes: string[]): string {
  const head = `The Image "${name}" is invalid: `;
  return causes.length === 1 ? `${head}${causes[0]}\n` : `${head}\n${causes.map((c) => `* ${c}\n`).join('')}`;
}

const ALLOWED = { code: 201, mutate: 'allowed', validate: 'allowed' } as const;
const DENIED = { code: 422, mutate: 'denied' } as const;

beforeAll(async () => {
  webhook = await startWebhook(env);
  await registerWebhook(env, webhook);
});

afterAll(async () => {
  await webhook?.stop();
});

// ---------------------------------------------------------------------------------------------

/** kubectl's stderr without the `Warning: ` lines it prints for the webhooks' warnings. */
const withoutWarnings = (stderr: string): string =>
  stderr
    .split('\n')
    .filter((line) => !line.startsWith('Warning: '))
    .join('\n');

const withoutVersion = (image: Image): Image => {
  delete image.dockerImageMetadataVersion;
  return image;
};

/**
 * The Image with three real signatures stored as this webhook stores them without --trusted-keys
 * (Trusted=False, UntrustedKey): a writer's Trusted=True on bytes nobody verified is replaced by /mutate.
 */
const withRealSignatures = (image: Image): Image => {
  const name = String(image.metadata?.name);
  image.signatures = ['rsa-valid', 'ed25519-valid', 'untrusted-key'].map((fixture) => untrustedRealSignature(name, { fixture }));
  return image;
};

const VALID: [string, () => Image, boolean][] = [
  ['a Docker schema 2 image without dockerImageMetadataVersion', () => withoutVersion(forCrd(schema2Image())), true],
  ['an OCI image without dockerImageMetadataVersion', () => withoutVersion(forCrd(ociImage())), true],
  ['a Docker manifest list', () => forCrd(manifestListImage()), false],
  [`a ${LARGE_IMAGE_LAYERS}-layer image with three real signatures by keys nobody trusts`, () => forCrd(withRealSignatures(largeSignedImage())), false],
  ['a small signed image (the update target)', () => forCrd(anImage()), false],
];

describe('valid Images are stored', () => {
  it.each(VALID)('%s', (_title, build, lacksVersion) => {
    const image = build();
    expect('dockerImageMetadataVersion' in image).toBe(!lacksVersion);
    const run = create(image, 'jane', ALLOWED, ['-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const returned = JSON.parse(run.stdout) as Image;
    const stored = get(nameOf(image));
    for (const object of [returned, stored]) {
      expect(object.dockerImageMetadataVersion).toBe('1.0');
      const { metadata: _sentMetadata, dockerImageMetadataVersion: _sentVersion, ...sent } = image;
      const { metadata, dockerImageMetadataVersion: _storedVersion, ...kept } = object;
      // Byte for byte: the manifest's digest is the Image's name, and the layers and signatures are all there.
      expect(kept).toEqual(sent);
      expect(metadata?.name).toBe(nameOf(image));
    }
    if (image.dockerImageLayers) expect(stored.dockerImageLayers).toHaveLength(image.dockerImageLayers.length);
  });

  it('keeps all 60 layers and the three signatures of the large image', () => {
    const stored = get(nameOf(forCrd(largeSignedImage())));
    expect(stored.dockerImageLayers).toHaveLength(60);
    expect(stored.signatures).toHaveLength(3);
  });
});

// ---------------------------------------------------------------------------------------------

/** Invalid Images, each with the exact causes kubectl must print. */
const INVALID: [string, () => Image, string[]][] = [
  [
    'no dockerImageReference',
    () => {
      const image = forCrd(schema2Image());
      delete image.dockerImageReference;
      image.metadata = { name: 'sha256.invalid-no-reference' };
      return image;
    },
    ['dockerImageReference: Required value'],
  ],
  [
    'a dockerImageReference that is no pull spec',
    () => ({ ...forCrd(schema2Image()), metadata: { name: 'sha256.invalid-reference' }, dockerImageReference: 'quay.io/Example/app@sha256:zz' }),
    ['dockerImageReference: Invalid value: "quay.io/Example/app@sha256:zz": invalid reference format'],
  ],
  [
    'a layer without a name and a layer of negative size',
    () => {
      const image = forCrd(ociImage());
      image.metadata = { name: 'sha256.invalid-layers' };
      const layers = image.dockerImageLayers!;
      layers[0]!.name = '';
      layers[1]!.size = -1;
      return image;
    },
    [
      'dockerImageLayers[0].name: Required value',
      'dockerImageLayers[1].size: Invalid value: -1: must be greater than or equal to 0',
      // The content rules: the layers are no longer the manifest's.
      `dockerImageLayers[0].name: Invalid value: "": the manifest's layer 0 is sha256:dd8e7f87e74b1cee74a5f84075f9526a8832cb45eb064b6898d273a2cc9e0869`,
      "dockerImageLayers[1].size: Invalid value: -1: the manifest's layer 1 is 127703 bytes",
    ],
  ],
  [
    'an unknown dockerImageMetadataVersion',
    () => ({ ...forCrd(anImage()), metadata: { name: 'sha256.invalid-metadata-version' }, dockerImageMetadataVersion: '2.0' }),
    ['dockerImageMetadataVersion: Unsupported value: "2.0": supported values: "", "1.0", "pre012"'],
  ],
  [
    'no dockerImageLayers on a single-platform image',
    () => {
      const image = forCrd(anImage());
      image.metadata = { name: 'sha256.invalid-no-layers' };
      delete image.dockerImageLayers;
      return image;
    },
    ['dockerImageLayers: Required value'],
  ],
  [
    'layers on a manifest list',
    () => ({ ...forCrd(manifestListImage()), metadata: { name: 'sha256.invalid-list-layers' }, dockerImageLayers: schema2Image().dockerImageLayers }),
    ['dockerImageLayers: Forbidden: dockerImageLayers should not be set when dockerImageManifests is set'],
  ],
  [
    "a dockerImageConfig that is not the manifest's config",
    () => {
      const image = forCrd(schema2Image());
      image.metadata = { name: 'sha256.invalid-config-digest' };
      image.dockerImageConfig = image.dockerImageConfig!.replace('"amd64"', '"arm64"');
      return image;
    },
    [
      "dockerImageConfig: Invalid value: the config's digest is sha256:a23de65163963b265b616d6c3b4e254cc57f792a4cb44598aba7cae3a1758907, but the manifest's config.digest is sha256:a32b95ec02a7c6c4d30019bf36b4395f3a7b7bd6184affb5e2cf87873b2e3561",
    ],
  ],
  [
    'a manifest list missing one of its platforms',
    () => {
      const image = forCrd(manifestListImage());
      image.metadata = { name: 'sha256.invalid-list-entries' };
      image.dockerImageManifests!.pop();
      return image;
    },
    ['dockerImageManifests: Invalid value: the manifest list has 4 entries, dockerImageManifests has 3'],
  ],
  [
    'a signature named without "@"',
    () => {
      const image = forCrd(anImage());
      image.metadata = { name: 'sha256.invalid-signature-name' };
      (image.signatures![0]!.metadata as { name: string }).name = 'nosep';
      return image;
    },
    ['signatures[0].metadata.name: Invalid value: "nosep": name must be of format <imageName>@<signatureName>: expected exactly one "@"'],
  ],
];

describe('invalid Images are denied with the fields named', () => {
  it.each(INVALID)('%s', (_title, build, causes) => {
    const image = build();
    const run = create(image, 'jane', DENIED);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(invalid(nameOf(image), causes));
    expect(exists(nameOf(image))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * Changes to a stored Image's frozen fields, each with the causes kubectl must print: the change
 * itself, and where the field must also agree with the manifest, that disagreement first.
 */
const FROZEN: [string, (image: Image) => void, string | string[]][] = [
  [
    'dockerImageReference',
    (i) => {
      i.dockerImageReference = `quay.io/example/other@${i.dockerImageReference!.split('@')[1]}`;
    },
    'dockerImageReference: Invalid value: "quay.io/example/other@sha256:948cd34b7db8a62f8241a4e9dfeb24088cb712f1ddfa07b405e5290a5a405eb2": field is immutable',
  ],
  [
    'dockerImageLayers',
    (i) => void i.dockerImageLayers!.pop(),
    ['dockerImageLayers: Invalid value: the manifest has 2 layers, dockerImageLayers has 1', 'dockerImageLayers: Invalid value: field is immutable'],
  ],
  [
    'dockerImageMetadata',
    (i) => {
      (i.dockerImageMetadata as Record<string, unknown>).Architecture = 'arm64';
    },
    'dockerImageMetadata: Invalid value: field is immutable',
  ],
  ['dockerImageManifest', (i) => void (i.dockerImageManifest += '\n'), 'dockerImageManifest: Invalid value: field is immutable'],
  [
    'dockerImageConfig',
    (i) => void (i.dockerImageConfig += ' '),
    [
      "dockerImageConfig: Invalid value: the config's digest is sha256:a518323c57066055c76581d43929d04c4e94bb0dc1d9fbba8b891be5950aa758, but the manifest's config.digest is sha256:8a30964d165f5d3e5373baf47fee920d61c535c7c27d7ef8fba1c1555323c59e",
      "dockerImageConfig: Invalid value: the config is 708 bytes, but the manifest's config.size is 707",
      'dockerImageConfig: Invalid value: field is immutable',
    ],
  ],
  [
    'dockerImageManifestMediaType',
    (i) => void (i.dockerImageManifestMediaType = 'application/vnd.oci.image.manifest.v1+json'),
    [
      `dockerImageManifestMediaType: Invalid value: "application/vnd.oci.image.manifest.v1+json": the manifest's media type is "application/vnd.docker.distribution.manifest.v2+json"`,
      'dockerImageManifestMediaType: Invalid value: "application/vnd.oci.image.manifest.v1+json": field is immutable',
    ],
  ],
  ['dockerImageMetadataVersion', (i) => void (i.dockerImageMetadataVersion = 'pre012'), 'dockerImageMetadataVersion: Invalid value: "pre012": field is immutable'],
  ['dockerImageSignatures', (i) => void (i.dockerImageSignatures = ['c2lnbmF0dXJl']), 'dockerImageSignatures: Invalid value: field is immutable'],
  [
    "a signature's content",
    (i) => void (i.signatures![0]!.content = Buffer.from('another signature').toString('base64')),
    'signatures[0].content: Invalid value: field is immutable',
  ],
];

describe('a stored Image keeps what it is', () => {
  const target = () => nameOf(forCrd(anImage()));

  it.each(FROZEN)('a replace changing %s is denied', (_field, change, causes) => {
    const image = get(target());
    change(image);
    const run = replace(image, 'jane', { code: 422, mutate: 'denied' });
    expect(run.code).toBe(1);
    // A changed signature content also makes /mutate re-derive that signature's conditions, which
    // kubectl prints as a warning before the denial.
    expect(withoutWarnings(run.stderr)).toBe(invalid(target(), typeof causes === 'string' ? [causes] : causes));
  });

  it('stores nothing of the denied replaces', () => {
    const stored = get(target());
    const { metadata: _m, ...fields } = stored;
    const { metadata: _n, ...original } = forCrd(anImage());
    expect(fields).toEqual(original);
  });

  it('stores a new label (replace)', () => {
    const image = get(target());
    image.metadata = { ...image.metadata, labels: { 'example.com/scanned': 'true' } };
    const run = replace(image, 'jane', { code: 200, mutate: 'allowed', validate: 'allowed' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`image.image.openshift.io/${target()} replaced\n`);
    expect(get(target()).metadata?.labels).toEqual({ 'example.com/scanned': 'true' });
  });

  it('stores a label added with kubectl label (a patch)', () => {
    ledger.push({ name: target(), verb: 'patch', code: 200, mutate: 'allowed', validate: 'allowed' });
    const run = kubectl(env, ['label', 'images.image.openshift.io', target(), 'example.com/tier=gold'], { as: 'jane' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`image.image.openshift.io/${target()} labeled\n`);
    expect(get(target()).metadata?.labels).toEqual({ 'example.com/scanned': 'true', 'example.com/tier': 'gold' });
  });

  it('stores a new signature', () => {
    const image = get(target());
    const added = structuredClone(image.signatures![0]!);
    (added.metadata as { name: string }).name = `${target()}@0123456789abcdef0123456789abcdef`;
    added.content = Buffer.from('a second signature by another key').toString('base64');
    image.signatures!.push(added);
    const run = replace(image, 'jane', { code: 200, mutate: 'allowed', validate: 'allowed' });
    expect(run.code).toBe(0);
    const stored = get(target());
    expect(stored.signatures).toHaveLength(2);
    // The copied claims are replaced by what verification derives from the new (non-OpenPGP) content.
    const { conditions, ...kept } = stored.signatures![1]!;
    const { conditions: _claimed, ...sent } = added;
    expect(kept).toEqual(sent);
    expect(conditions?.find((c) => c.type === 'Trusted')).toMatchObject({ status: 'False', reason: 'NotOpenPGP' });
    expect(run.stderr).toMatch(/^Warning: signatures\[1\]\.conditions: /);
  });
});

// ---------------------------------------------------------------------------------------------

const BAD_REFERENCE = 'quay.io/Example/app@sha256:zz';
const BAD_REFERENCE_CAUSE = `dockerImageReference: Invalid value: "${BAD_REFERENCE}": invalid reference format`;

/** A schema 2 Image with an unparseable reference (and no dockerImageMetadataVersion) named `name`. */
function badReference(name: string): Image {
  const image = withoutVersion(forCrd(schema2Image()));
  image.metadata = { name };
  image.dockerImageReference = BAD_REFERENCE;
  return image;
}

describe('exemptions and modes', () => {
  it(`allows an exempt user's (${EXEMPT_USER}) invalid write with a warning`, () => {
    const image = badReference('sha256.exempt-bad-reference');
    const run = create(image, EXEMPT_USER, { code: 201, mutate: 'exempt', validate: 'exempt' });
    expect(run.stderr).toBe(`Warning: exempt: ${BAD_REFERENCE_CAUSE}\n`);
    expect(run.stdout).toBe(`image.image.openshift.io/${nameOf(image)} created\n`);
    const stored = get(nameOf(image));
    expect(stored.dockerImageReference).toBe(BAD_REFERENCE);
    expect(stored.dockerImageMetadataVersion).toBe('1.0');
  });

  it('still denies the same write by anyone else', () => {
    const image = badReference('sha256.not-exempt-bad-reference');
    const run = create(image, 'jane', DENIED);
    expect(run.stderr).toBe(invalid(nameOf(image), [BAD_REFERENCE_CAUSE]));
    expect(exists(nameOf(image))).toBe(false);
  });

  it('in warn mode allows the invalid write and kubectl prints the warning', async () => {
    await webhook.restart('warn');
    const image = badReference('sha256.warn-bad-reference');
    const run = create(image, 'jane', { code: 201, mutate: 'warned', validate: 'warned' });
    expect(run.stderr).toBe(`Warning: ${BAD_REFERENCE_CAUSE}\n`);
    expect(run.stdout).toBe(`image.image.openshift.io/${nameOf(image)} created\n`);
    expect(get(nameOf(image)).dockerImageMetadataVersion).toBe('1.0');
  });

  it('in warn mode warns about a frozen field change and stores it', () => {
    const name = nameOf(forCrd(ociImage()));
    const image = get(name);
    (image.dockerImageMetadata as Record<string, unknown>).Architecture = 'arm64';
    const run = replace(image, 'jane', { code: 200, mutate: 'warned', validate: 'warned' });
    expect(run.stderr).toBe('Warning: dockerImageMetadata: Invalid value: field is immutable\n');
    expect((get(name).dockerImageMetadata as Record<string, unknown>).Architecture).toBe('arm64');
  });

  it('in dry-run mode allows the invalid write silently', async () => {
    await webhook.restart('dry-run');
    const image = badReference('sha256.dry-run-bad-reference');
    const run = create(image, 'jane', { code: 201, mutate: 'dry-run', validate: 'dry-run' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`image.image.openshift.io/${nameOf(image)} created\n`);
    expect(get(nameOf(image)).dockerImageReference).toBe(BAD_REFERENCE);
  });

  it('back in enforce mode denies it again', async () => {
    await webhook.restart('enforce');
    const image = badReference('sha256.enforce-again-bad-reference');
    const run = create(image, 'jane', DENIED);
    expect(run.stderr).toBe(invalid(nameOf(image), [BAD_REFERENCE_CAUSE]));
  });
});

// ---------------------------------------------------------------------------------------------

describe('failurePolicy Fail', () => {
  const index = () => forCrd(ociIndexImage());
  const target = () => nameOf(forCrd(anImage()));

  it('refuses writes while the webhook is down', async () => {
    await webhook.stop();
    const run = create(index(), 'jane', { code: 500 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`failed calling webhook "${MUTATING_WEBHOOK}"`);
    expect(run.stderr).toContain(`${webhook.url}/mutate`);
    expect(run.stderr).toContain('connection refused');
    expect(exists(nameOf(index()))).toBe(false);

    ledger.push({ name: target(), verb: 'patch', code: 500 });
    const label = kubectl(env, ['label', 'images.image.openshift.io', target(), 'example.com/down=true'], { as: 'jane' });
    expect(label.code).toBe(1);
    expect(label.stderr).toContain(`failed calling webhook "${MUTATING_WEBHOOK}"`);
    expect(get(target()).metadata?.labels).not.toHaveProperty('example.com/down');
  });

  it('lets them through once the webhook is back', async () => {
    await webhook.start('enforce');
    const run = create(index(), 'jane', ALLOWED);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`image.image.openshift.io/${nameOf(index())} created\n`);

    ledger.push({ name: target(), verb: 'patch', code: 200, mutate: 'allowed', validate: 'allowed' });
    const label = kubectl(env, ['label', 'images.image.openshift.io', target(), 'example.com/down=false'], { as: 'jane' });
    expect(label.stderr).toBe('');
    expect(get(target()).metadata?.labels).toHaveProperty('example.com/down', 'false');
  });
});

// ---------------------------------------------------------------------------------------------

describe('the audit log', () => {
  // The controller suite's Images are its own writes, made while no webhook was registered.
  const events = () =>
    imageWriteEvents(env.auditLog).filter((e) => ![PROBE_PREFIX, CONTROLLER_SUITE_PREFIX, SIGNATURES_SUITE_PREFIX, AUDIT_REVIEW_SUITE_PREFIX].some((prefix) => e.objectRef?.name?.startsWith(prefix)));

  it('has one event per write, each annotated with the decision of every webhook called', () => {
    const remaining = events();
    expect(remaining).toHaveLength(ledger.length);
    for (const expected of ledger) {
      const index = remaining.findIndex((e) => e.objectRef?.name === expected.name && e.verb === expected.verb);
      expect(index, `audit event for ${expected.verb} ${expected.name}`).toBeGreaterThanOrEqual(0);
      const [event] = remaining.splice(index, 1);
      const annotations = event!.annotations ?? {};
      const context = `${expected.verb} ${expected.name}`;
      expect(event!.responseStatus?.code, context).toBe(expected.code);
      expect(annotations[`${MUTATING_WEBHOOK}/decision`], context).toBe(expected.mutate);
      expect(annotations[`${VALIDATING_WEBHOOK}/decision`], context).toBe(expected.validate);
      for (const [name, decision] of [
        [MUTATING_WEBHOOK, expected.mutate],
        [VALIDATING_WEBHOOK, expected.validate],
      ] as const) {
        if (decision === undefined) expect(annotations[`${name}/decision-id`], context).toBeUndefined();
        else expect(annotations[`${name}/decision-id`], context).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      }
    }
  });

  it('names the violated rules of denied writes', () => {
    const denied = events().filter((e) => e.annotations?.[`${MUTATING_WEBHOOK}/decision`] === 'denied');
    expect(denied.length).toBe(ledger.filter((w) => w.mutate === 'denied').length);
    const rules = new Set(denied.flatMap((e) => (e.annotations?.[`${MUTATING_WEBHOOK}/violations`] ?? '').split(',')));
    expect([...rules].sort()).toEqual(
      [
        'config-digest',
        'config-size',
        'immutable-field',
        'layer-name',
        'layer-size',
        'layers-match-manifest',
        'layers-on-manifest-list',
        'layers-required',
        'manifest-list-match',
        'manifest-media-type',
        'metadata-version',
        'reference-format',
        'signature-immutable',
        'signature-name',
      ].sort(),
    );
  });

  it("joins to the webhook's decision log through decision-id", () => {
    const logged = new Set(webhook.decisions().map((d) => d.decisionId));
    const ids = events().flatMap((e) =>
      Object.entries(e.annotations ?? {})
        .filter(([key]) => key.endsWith('/decision-id'))
        .map(([, id]) => id),
    );
    expect(ids.length).toBeGreaterThan(ledger.length);
    for (const id of ids) expect(logged.has(id), id).toBe(true);
  });

  it('records who wrote: the exempt write is the only one by the exempt user', () => {
    const byExempt = events().filter((e) => e.user.username === EXEMPT_USER);
    expect(byExempt.map((e) => e.annotations?.[`${MUTATING_WEBHOOK}/decision`])).toEqual(['exempt']);
    expect(readFileSync(env.auditLog, 'utf8')).toContain('"username":"jane"');
  });

  it('is summed up the same way by image-admission audit review, write by write', () => {
    const review = spawnSync(process.execPath, ['dist/cli/main.js', 'audit', 'review', env.auditLog, '--json', '--list-all', '--max-entries', '0', '--decisions', webhook.logFile], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    // Exit 1: writes need attention (the exempt, warn-mode and dry-run-mode ones, the outage).
    expect(review.status, review.stderr).toBe(1);
    const report = JSON.parse(review.stdout) as {
      entries: { auditID: string; verb: string; name: string; outcome: string; violationsFrom: string }[];
    };
    const byAuditID = new Map(report.entries.map((e) => [e.auditID, e]));
    // Each write of the ledger, found in the log by name and verb, has the outcome its decisions make.
    const remaining = events();
    for (const expected of ledger) {
      const index = remaining.findIndex((e) => e.objectRef?.name === expected.name && e.verb === expected.verb);
      const [event] = remaining.splice(index, 1);
      const entry = byAuditID.get(event!.auditID);
      const want = expected.code === 500 ? 'failed-closed' : expected.mutate;
      expect(entry?.outcome, `${expected.verb} ${expected.name}`).toBe(want);
      if (want === 'exempt' || want === 'warned' || want === 'dry-run') expect(entry?.violationsFrom, `${expected.verb} ${expected.name}`).toBe('decision-log');
    }
  });
});
