/**
 * The three benchmark workloads, built from the test fixtures (every digest and size true), each
 * request with the answer it must get. Every expectation is checked once before the run against the
 * server's own path in process (`answerBody`, signature verification included, with no trusted keys
 * as the bench's server runs), so a wrong expectation fails fast instead of being counted as the
 * server's mistake.
 *
 * Signatures are as a cluster has them: a writer sends a signature's type and content (and name) only,
 * /mutate derives its conditions and claims, and the API server stores that. So an Image the workloads
 * start from carries its signatures as stored (derived here by the webhook's own functions), a /mutate
 * request that adds a signature carries it as written (and expects a patch), and the write's /validate
 * request carries it as /mutate derived it.
 */
import { createHash } from 'node:crypto';
import type { Policy } from '../src/admission/policy.js';
import type { Image, ImageSignature } from '../src/image/types.js';
import { answerBody } from '../src/review/answer.js';
import { contentsToVerify, DERIVED_FIELDS, judgementsOf, SignatureVerifier, withDerivedSignatures } from '../src/signature/index.js';
import {
  admissionReview,
  buildSingleArchImage,
  type BuildStep,
  hugeAdmissionReview,
  largeSignedImage,
  SeededRandom,
  seededHex,
  trustedSignature,
} from '../test/fixtures/index.js';

/** What a request must be answered with. */
export interface Expectation {
  allowed: boolean;
  /** For /mutate only: whether a JSONPatch must come back. */
  patched: boolean;
  /** For denials: a rule that must be named in the `violations` audit annotation. */
  rule?: string;
}

/** One request of a workload: its body with a slot for the uid, where it goes, and what it must get. */
export interface BenchRequest {
  label: string;
  path: '/mutate' | '/validate';
  apiVersion: string;
  /** The body before and after the uid (a fresh uid per call, as the API server makes one). */
  prefix: Buffer;
  suffix: Buffer;
  expect: Expectation;
  /**
   * The body for the `pass`-th sending of this request, with content no earlier write had (salting,
   * below): the API server sends each write's content to /mutate and then /validate, once, so a
   * cache keyed by content must not be measured on the same bodies replayed round-robin.
   */
  fresh: (uid: string, pass: number) => Buffer;
}

export interface Workload {
  name: 'typical' | 'large' | 'huge';
  description: string;
  requests: BenchRequest[];
  /** Connections kept busy at saturation. */
  saturationConnections: number;
  /** Reviews per second of the moderate, open-loop phase. */
  moderateRate: number;
  /** Connections available to the moderate phase (1 = one review in flight at most). */
  moderateConnections: number;
  /** Reviews each server answers, unrecorded, before the first round. */
  warmupReviews: number;
  bodyBytes: { min: number; max: number; mean: number };
}

const UID_SLOT = '00000000-0000-4000-8000-0000000000ff';
const POLICY: Policy = { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set() };

type Review = ReturnType<typeof admissionReview>;

// Writes are numbered by label in the order they are built: a write's /mutate and /validate requests
// share a label, and so the salt of their n-th sending.
const writeIds = new Map<string, number>();

async function toRequest(label: string, endpoint: 'mutate' | 'validate', review: Review, expect: Expectation): Promise<BenchRequest> {
  review.request.uid = UID_SLOT;
  await selfCheck(label, endpoint, review, expect);
  const text = JSON.stringify(review);
  const at = text.indexOf(UID_SLOT);
  if (at < 0 || text.indexOf(UID_SLOT, at + 1) >= 0) throw new Error(`${label}: the uid slot must occur exactly once`);
  const key = `${workloadBeingBuilt}/${label}`;
  if (!writeIds.has(key)) writeIds.set(key, writeIds.size);
  const fresh = salting(review, writeIds.get(key)!);
  const request: BenchRequest = {
    label,
    path: `/${endpoint}`,
    apiVersion: review.apiVersion,
    prefix: Buffer.from(text.slice(0, at), 'utf8'),
    suffix: Buffer.from(text.slice(at + UID_SLOT.length), 'utf8'),
    expect: endpoint === 'validate' ? { ...expect, patched: false } : expect,
    fresh,
  };
  // A salted body must be judged as the original is.
  const salted = JSON.parse(fresh(UID_SLOT, 1).toString('utf8')) as Review;
  await selfCheck(`${label} (salted)`, endpoint, salted, expect);
  return request;
}

let workloadBeingBuilt = '';

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const SALT = '@'.repeat(16);

/**
 * Fresh content for every write, with every digest still true. The review's Image gets a config with a
 * 16-character `bench-salt` field; its manifest names that config, and the Image is named by the
 * manifest's digest. For the n-th sending of write w the salt is w and n in hex: the config's digest,
 * the manifest and so the name change, and each is written over the template's bytes at known offsets
 * (same lengths), so a 6 MiB body costs the load generator a copy and two hashes, not a serialisation.
 */
function salting(review: Review, writeId: number): (uid: string, pass: number) => Buffer {
  const request = review.request as unknown as { object?: Image | null; oldObject?: Image | null };
  const images = [request.object, request.oldObject].filter((image): image is Image => image !== null && image !== undefined);
  const first = images[0]!;
  const config = first.dockerImageConfig;
  const manifestText = first.dockerImageManifest;
  const name = String(first.metadata?.name ?? '');
  for (const image of images) {
    if (image.dockerImageConfig !== config || image.dockerImageManifest !== manifestText || image.metadata?.name !== name) {
      throw new Error('salting needs object and oldObject to share their content');
    }
  }
  if (typeof config !== 'string' || !config.endsWith('}') || typeof manifestText !== 'string' || !name.startsWith('sha256:')) {
    throw new Error('salting needs a JSON config, a manifest and a sha256 name');
  }
  const manifest = JSON.parse(manifestText) as { config: { digest: string; size: number } };
  // The salt goes last, so the hash of everything before it is computed once (Hash#copy).
  const configTemplate = `${config.slice(0, -1)},"bench-salt":"${SALT}"}`;
  const configHex = sha256Hex(configTemplate);
  const manifestTemplate = JSON.stringify({ ...manifest, config: { ...manifest.config, digest: `sha256:${configHex}`, size: Buffer.byteLength(configTemplate) } });
  const nameHex = sha256Hex(manifestTemplate);
  const escaped = (text: string) => JSON.stringify(text).slice(1, -1);
  const text = JSON.stringify(review)
    .replaceAll(escaped(config), escaped(configTemplate))
    .replaceAll(escaped(manifestText), escaped(manifestTemplate))
    .replaceAll(manifest.config.digest.slice('sha256:'.length), configHex)
    .replaceAll(name.slice('sha256:'.length), nameHex);
  const template = Buffer.from(text, 'utf8');
  const offsets = (token: string) => {
    const found: number[] = [];
    for (let at = template.indexOf(token); at >= 0; at = template.indexOf(token, at + 1)) found.push(at);
    if (found.length === 0) throw new Error(`salting: ${token.slice(0, 16)} not in the body`);
    return found;
  };
  const at = { uid: offsets(UID_SLOT), salt: offsets(SALT), config: offsets(configHex), name: offsets(nameHex) };
  if (at.uid.length !== 1) throw new Error('salting: the uid slot must occur exactly once');
  const saltInConfig = configTemplate.lastIndexOf(SALT);
  const configHead = createHash('sha256').update(configTemplate.slice(0, saltInConfig), 'utf8');
  const configTail = configTemplate.slice(saltInConfig + SALT.length);
  const configInManifest = manifestTemplate.indexOf(configHex);
  return (uid, pass) => {
    const salt = (writeId.toString(16).padStart(4, '0') + pass.toString(16).padStart(12, '0')).slice(-16);
    const newConfigHex = configHead.copy().update(salt + configTail, 'utf8').digest('hex');
    const newNameHex = sha256Hex(manifestTemplate.slice(0, configInManifest) + newConfigHex + manifestTemplate.slice(configInManifest + configHex.length));
    const before = template.subarray(0, at.uid[0]);
    const after = template.subarray(at.uid[0]! + UID_SLOT.length);
    const body = Buffer.concat([before, Buffer.from(uid, 'latin1'), after]);
    const shift = (offset: number) => (offset > at.uid[0]! ? offset + uid.length - UID_SLOT.length : offset);
    for (const offset of at.salt) body.write(salt, shift(offset), 'latin1');
    for (const offset of at.config) body.write(newConfigHex, shift(offset), 'latin1');
    for (const offset of at.name) body.write(newNameHex, shift(offset), 'latin1');
    return body;
  };
}

/**
 * The bench's server runs without --trusted-keys: its verifier trusts no key. One instance for the
 * self-checks, as the server keeps one (verdicts are cached by content, which changes no answer).
 */
const UNTRUSTING = new SignatureVerifier();

/** Runs the review through the server's path in process: the expectation must be what it answers. */
async function selfCheck(label: string, endpoint: 'mutate' | 'validate', review: Review, expect: Expectation): Promise<void> {
  const answer = await answerBody(Buffer.from(JSON.stringify(review), 'utf8'), endpoint, POLICY, UNTRUSTING);
  if (answer.kind !== 'answered') throw new Error(`bench workload ${label} (${endpoint}) is not a review the server answers: ${answer.kind}`);
  const problem = checkAnswer(JSON.parse(answer.reply), UID_SLOT, review.apiVersion, { ...expect, patched: endpoint === 'mutate' && expect.patched });
  if (problem) throw new Error(`bench workload ${label} (${endpoint}) is mis-specified: ${problem}`);
}

/** When the workloads' stored signatures were judged (any fixed time: /validate compares no times). */
const STORED_AT = '2024-03-19T08:30:00Z';

/** `image` as the API server stores it after /mutate: every signature with what verification derives. */
async function stored(image: Image): Promise<Image> {
  const record = image as unknown as Record<string, unknown>;
  const verdicts = await UNTRUSTING.verifyAll(contentsToVerify(record));
  return withDerivedSignatures(record, judgementsOf(record, verdicts), STORED_AT) as unknown as Image;
}

/** A signature as a writer sends it: its name, type and content; the rest is /mutate's to derive. */
function asWritten(signature: ImageSignature): ImageSignature {
  const copy = structuredClone(signature) as Record<string, unknown>;
  for (const field of ['conditions', ...DERIVED_FIELDS]) delete copy[field];
  return copy as ImageSignature;
}

/** Why `body` is not the right answer, or undefined when it is. Used for the server's answers too. */
export function checkAnswer(body: unknown, uid: string, apiVersion: string, expect: Expectation): string | undefined {
  const reply = body as {
    apiVersion?: unknown;
    kind?: unknown;
    response?: { uid?: unknown; allowed?: unknown; patch?: unknown; status?: { code?: unknown }; auditAnnotations?: Record<string, unknown> };
  };
  const response = reply?.response;
  if (reply?.kind !== 'AdmissionReview' || reply.apiVersion !== apiVersion) return 'not an AdmissionReview of the version sent';
  if (!response || response.uid !== uid) return `uid not echoed (got ${JSON.stringify(response?.uid)})`;
  if (response.allowed !== expect.allowed) return `allowed=${String(response.allowed)}, expected ${expect.allowed}`;
  if (response.auditAnnotations?.['decision-id'] !== uid) return 'decision-id annotation is not the uid';
  if (!expect.allowed) {
    if (response.status?.code !== 422) return `denial code ${String(response.status?.code)}, expected 422`;
    const violations = String(response.auditAnnotations?.violations ?? '').split(',');
    if (expect.rule !== undefined && !violations.includes(expect.rule)) return `violations ${violations.join(',')} do not name ${expect.rule}`;
  }
  if ((response.patch !== undefined) !== expect.patched) return expect.patched ? 'missing patch' : 'unexpected patch';
  return undefined;
}

/** The answer of the floor: the uid echoed and allowed, nothing else. */
export function checkFloorAnswer(body: unknown, uid: string): string | undefined {
  const response = (body as { response?: { uid?: unknown; allowed?: unknown } } | undefined)?.response;
  if (!response || response.uid !== uid) return 'uid not echoed';
  return response.allowed === true ? undefined : 'not allowed';
}

const BUILDKIT = 'buildkit.dockerfile.v0';
const PACKAGES = ['curl', 'git', 'openssl', 'tzdata', 'ca-certificates', 'nodejs', 'python3', 'libpq', 'jq', 'unzip', 'glibc-langpack-en', 'shadow-utils'];

/** A single-platform application image of `layers` layers, schema 2 or OCI, with a realistic history. */
function applicationImage(index: number, layers: number, format: 'docker' | 'oci') {
  const random = new SeededRandom(`bench/typical/${index}`);
  const created = `2024-0${1 + (index % 9)}-1${index % 10}T0${index % 10}:12:34.${String(100000000 + index * 7919).slice(1)}Z`;
  const steps: BuildStep[] = [
    { createdBy: `/bin/sh -c #(nop) ADD file:${seededHex(`bench/rootfs/${index}`, 64)} in / `, created: '2024-01-10T02:03:04.000000000Z', size: random.int(2_500_000, 80_000_000) },
    { createdBy: '/bin/sh -c #(nop)  CMD ["/bin/bash"]', created: '2024-01-10T02:03:04.000000000Z', emptyLayer: true },
    { createdBy: 'ENV LANG=C.UTF-8 APP_HOME=/opt/app-root', comment: BUILDKIT, emptyLayer: true },
  ];
  for (let i = 1; i < layers; i++) {
    const pkg = random.pick(PACKAGES);
    const createdBy =
      i % 3 === 0
        ? `COPY --chown=1001:0 build/stage-${i}/ /opt/app-root/src/stage-${i}/ # buildkit`
        : `RUN /bin/sh -c dnf install -y --setopt=tsflags=nodocs ${pkg} && dnf clean all && rm -rf /var/cache/dnf # buildkit`;
    steps.push({ createdBy, comment: BUILDKIT, size: random.int(200, 60_000_000) });
    if (i % 4 === 0) steps.push({ createdBy: `WORKDIR /opt/app-root/src/stage-${i}`, comment: BUILDKIT, emptyLayer: true });
  }
  steps.push({ createdBy: 'USER 1001', comment: BUILDKIT, emptyLayer: true }, { createdBy: 'CMD ["/opt/app-root/bin/run"]', comment: BUILDKIT, emptyLayer: true });
  const revision = seededHex(`bench/revision/${index}`, 40);
  return buildSingleArchImage({
    format,
    seed: `bench/typical/${format}/${index}`,
    repository: `quay.io/example/service-${index}`,
    architecture: index % 5 === 4 ? 'arm64' : 'amd64',
    os: 'linux',
    created,
    config: {
      User: '1001',
      ExposedPorts: { '8080/tcp': {} },
      Env: ['PATH=/opt/app-root/bin:/usr/local/bin:/usr/bin:/bin', 'LANG=C.UTF-8', 'APP_HOME=/opt/app-root'],
      Cmd: ['/opt/app-root/bin/run'],
      WorkingDir: '/opt/app-root/src',
      Labels: {
        'org.opencontainers.image.title': `service-${index}`,
        'org.opencontainers.image.version': `2.${index}.0`,
        'org.opencontainers.image.revision': revision,
        'io.openshift.tags': 'builder,web',
      },
    },
    steps,
    ...(format === 'oci' ? { manifestAnnotations: { 'org.opencontainers.image.revision': revision } } : {}),
  });
}

function withLabel(image: Image, key: string, value: string): Image {
  const copy = structuredClone(image);
  copy.metadata = { ...copy.metadata, labels: { ...copy.metadata?.labels, [key]: value } };
  return copy;
}

/** `image` with one more signature, as its writer sends it (to /mutate) and as it is stored (seen by /validate). */
async function withSignature(image: Image, seed: string): Promise<{ written: Image; stored: Image }> {
  const written = structuredClone(image);
  const name = String(image.metadata?.name);
  // The fixture's content (pseudo-random bytes) and name; its claimed conditions are dropped.
  const signature = asWritten(trustedSignature({ imageName: name, seed, identity: `${String(image.dockerImageReference).split('@')[0]}:latest` }));
  written.signatures = [...(written.signatures ?? []), signature];
  return { written, stored: await stored(written) };
}

const allow = (patched = false): Expectation => ({ allowed: true, patched });
const deny = (rule: string): Expectation => ({ allowed: false, patched: false, rule });

/**
 * 10 requests per image, one of them a violation: CREATE and UPDATE, /mutate and /validate, images of
 * 5 to 15 layers alternating schema 2 and OCI. Some CREATEs leave the metadata version to be defaulted.
 */
async function typical(): Promise<Workload> {
  workloadBeingBuilt = 'typical';
  const requests: BenchRequest[] = [];
  const IMAGES = 24;
  for (let i = 0; i < IMAGES; i++) {
    const layers = 5 + ((i * 7) % 11); // 5..15
    const format = i % 2 === 0 ? 'docker' : 'oci';
    const { image } = applicationImage(i, layers, format);
    const unversioned = structuredClone(image);
    delete unversioned.dockerImageMetadataVersion;
    const labelled = withLabel(image, 'app.kubernetes.io/part-of', `shop-${i}`);
    const signed = await withSignature(image, `bench/typical/signature/${i}`);
    const tag = `${format}-${layers}l-${i}`;
    const create = (object: Image) => admissionReview({ operation: 'CREATE', object });
    const update = (object: Image, oldObject: Image = image) => admissionReview({ operation: 'UPDATE', object, oldObject });
    requests.push(
      await toRequest(`create/${tag}`, 'mutate', create(image), allow()),
      await toRequest(`create/${tag}`, 'validate', create(image), allow()),
      await toRequest(`create-default/${tag}`, 'mutate', create(unversioned), allow(true)),
      await toRequest(`create-default/${tag}`, 'validate', create(unversioned), allow()),
      await toRequest(`update-label/${tag}`, 'mutate', update(labelled), allow()),
      await toRequest(`update-label/${tag}`, 'validate', update(labelled), allow()),
      // /mutate derives the new signature's conditions (a patch); /validate sees them derived.
      await toRequest(`update-sign/${tag}`, 'mutate', update(signed.written), allow(true)),
      await toRequest(`update-sign/${tag}`, 'validate', update(signed.stored), allow()),
      await toRequest(`update-relabel/${tag}`, i % 2 === 0 ? 'mutate' : 'validate', update(withLabel(labelled, 'tier', 'web'), labelled), allow()),
    );
    // The violation: one of four kinds, on either endpoint.
    const endpoint = i % 2 === 0 ? 'validate' : 'mutate';
    switch (i % 4) {
      case 0: {
        const bad = structuredClone(image);
        bad.dockerImageLayers![1]!.size = -1;
        requests.push(await toRequest(`bad-layer-size/${tag}`, endpoint, create(bad), deny('layer-size')));
        break;
      }
      case 1: {
        const bad = structuredClone(image);
        bad.dockerImageReference = String(image.dockerImageReference).replace('quay.io/example', 'Quay.io/Example');
        requests.push(await toRequest(`bad-reference/${tag}`, endpoint, create(bad), deny('reference-format')));
        break;
      }
      case 2: {
        const bad = structuredClone(labelled);
        bad.dockerImageReference = String(image.dockerImageReference).replace(`service-${i}`, `service-${i}-moved`);
        requests.push(await toRequest(`update-reference/${tag}`, endpoint, update(bad), deny('immutable-field')));
        break;
      }
      default: {
        const bad = structuredClone(image);
        bad.dockerImageLayers![0]!.size = (bad.dockerImageLayers![0]!.size ?? 0) + 1;
        requests.push(await toRequest(`update-layers/${tag}`, endpoint, update(bad), deny('immutable-field')));
      }
    }
  }
  return finish({
    name: 'typical',
    description: `${IMAGES} schema 2 and OCI Images of 5-15 layers; CREATE and UPDATE to /mutate and /validate; 1 in 10 a violation`,
    requests: interleave(requests),
    saturationConnections: 8,
    moderateRate: 500,
    moderateConnections: 16,
    warmupReviews: 8000,
  });
}

/** The 60-layer signed image: CREATE, label and signature UPDATEs, 1 in 10 a changed signature. */
async function large(): Promise<Workload> {
  workloadBeingBuilt = 'large';
  // Its three signatures as stored: the fixture's claimed Trusted=True is not what verification says.
  const image = await stored(largeSignedImage());
  const labelled = withLabel(image, 'example.com/scanned', 'true');
  const signed = await withSignature(image, 'bench/large/extra-signature');
  const resigned = structuredClone(image);
  resigned.signatures![0]!.content = Buffer.from('a different signature').toString('base64');
  const unversioned = structuredClone(image);
  delete unversioned.dockerImageMetadataVersion;
  const create = (object: Image) => admissionReview({ operation: 'CREATE', object });
  const update = (object: Image) => admissionReview({ operation: 'UPDATE', object, oldObject: image });
  const requests = [
    await toRequest('create', 'mutate', create(image), allow()),
    await toRequest('create', 'validate', create(image), allow()),
    await toRequest('create-default', 'mutate', create(unversioned), allow(true)),
    await toRequest('update-label', 'mutate', update(labelled), allow()),
    await toRequest('update-label', 'validate', update(labelled), allow()),
    await toRequest('update-sign', 'mutate', update(signed.written), allow(true)),
    await toRequest('update-sign', 'validate', update(signed.stored), allow()),
    await toRequest('create-default', 'validate', create(unversioned), allow()),
    await toRequest('update-label-2', 'validate', update(withLabel(labelled, 'tier', 'ml')), allow()),
    await toRequest('update-resign', 'mutate', update(resigned), deny('signature-immutable')),
  ];
  return finish({
    name: 'large',
    description: '60-layer signed schema 2 Image (3 signatures); CREATE and UPDATE to /mutate and /validate; 1 in 10 a violation',
    requests,
    saturationConnections: 8,
    moderateRate: 200,
    moderateConnections: 16,
    warmupReviews: 4000,
  });
}

/** The ~6 MiB UPDATE review (object and oldObject ~3 MiB each) to both endpoints. */
async function huge(): Promise<Workload> {
  workloadBeingBuilt = 'huge';
  const review = hugeAdmissionReview();
  const requests = [
    await toRequest('update-label', 'mutate', structuredClone(review), allow()),
    await toRequest('update-label', 'validate', structuredClone(review), allow()),
  ];
  return finish({
    name: 'huge',
    description: 'UPDATE AdmissionReview of ~6 MiB (object and oldObject ~3 MiB each) to /mutate and /validate',
    requests,
    saturationConnections: 2,
    moderateRate: 8,
    moderateConnections: 1,
    warmupReviews: 40,
  });
}

function finish(workload: Omit<Workload, 'bodyBytes'>): Workload {
  const sizes = workload.requests.map((r) => r.prefix.length + UID_SLOT.length + r.suffix.length);
  return {
    ...workload,
    bodyBytes: { min: Math.min(...sizes), max: Math.max(...sizes), mean: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length) },
  };
}

/** A fixed, well-mixed order: requests of one image are spread out rather than sent back to back. */
function interleave<T>(items: T[]): T[] {
  const random = new SeededRandom('bench/order');
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export const WORKLOADS = { typical, large, huge } as const;
export type WorkloadName = keyof typeof WORKLOADS;
