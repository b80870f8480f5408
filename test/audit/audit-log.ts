/**
 * Realistic Kubernetes audit logs (audit.k8s.io/v1 Event JSON lines) for the audit review's tests and
 * benchmark: the events an OpenShift API server writes around Image writes, at levels Metadata,
 * Request and RequestResponse, plus the unrelated traffic (leases, pods, configmaps) that dominates a
 * real log.
 */
import type { WriteOutcome } from '../../src/audit/events.js';
import type { Image } from '../../src/image/types.js';
import { buildSingleArchImage, REGISTRY_USER, seededUuid, trustedSignature } from '../fixtures/index.js';

export const MUTATING = 'mutate.images.image-admission.io';
export const VALIDATING = 'validate.images.image-admission.io';

/** The kinds of Image events the generator writes, each with the outcome the review should find. */
export const SCENARIOS = [
  'allowed',
  'denied',
  'denied-422-annotation-only',
  'warned',
  'exempt',
  'dry-run',
  'failed-open',
  'failed-open-inferred',
  'failed-closed',
  'failed-closed-inferred',
  'validating-failed-closed-inferred',
  'other-failed-open',
  'bypassed',
  'partial',
  'refused-elsewhere',
  'not-found',
  'dry-run-request',
  'impersonated',
  'import-bypassed',
  'mapping-allowed',
  'signature-bypassed',
  'update-allowed',
  'patch-allowed',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The outcome `classify` should give each scenario. */
export const EXPECTED_OUTCOME: Record<Scenario, WriteOutcome> = {
  allowed: 'allowed',
  denied: 'denied',
  'denied-422-annotation-only': 'denied',
  warned: 'warned',
  exempt: 'exempt',
  'dry-run': 'dry-run',
  'failed-open': 'failed-open',
  'failed-open-inferred': 'failed-open',
  'failed-closed': 'failed-closed',
  'failed-closed-inferred': 'failed-closed',
  'validating-failed-closed-inferred': 'failed-closed',
  'other-failed-open': 'allowed',
  bypassed: 'bypassed',
  partial: 'partial',
  'refused-elsewhere': 'refused-elsewhere',
  'not-found': 'not-stored',
  'dry-run-request': 'not-stored',
  impersonated: 'allowed',
  'import-bypassed': 'bypassed',
  'mapping-allowed': 'allowed',
  'signature-bypassed': 'bypassed',
  'update-allowed': 'allowed',
  'patch-allowed': 'allowed',
};

export type Level = 'Metadata' | 'Request' | 'RequestResponse';

export interface EventOptions {
  scenario: Scenario;
  level: Level;
  /** Seeds the ids and names. */
  seed: string;
  /** RFC 3339 time of the response. */
  time: string;
  user?: { username: string; groups?: string[] };
}

const DEVELOPER = { username: 'alice@example.com', groups: ['dev-team', 'system:authenticated:oauth', 'system:authenticated'] };
const ADMIN = { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
const MIGRATOR = { username: 'system:serviceaccount:registry-migration:migrator', groups: ['system:serviceaccounts', 'system:authenticated'] };

const built = new Map<string, Image>();

/**
 * A valid, content-consistent Image for `seed` (its name is its manifest's digest, its config and
 * layers those of the manifest), with one trusted signature; built once per seed.
 */
export function goodImage(seed: string): Image {
  let image = built.get(seed);
  if (!image) {
    const result = buildSingleArchImage({
      format: 'oci',
      seed: `audit/${seed}`,
      repository: 'quay.io/example/app',
      architecture: 'amd64',
      os: 'linux',
      created: '2024-05-06T12:00:00.000000000Z',
      config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/app'], Labels: { 'io.example.build': seed } },
      steps: [
        { createdBy: '/bin/sh -c #(nop) ADD file:base in / ', size: 2_814_446 },
        { createdBy: 'COPY app /app # buildkit', comment: 'buildkit.dockerfile.v0', size: 7_361 },
      ],
    });
    result.image.signatures = [trustedSignature({ imageName: result.digest, seed: `audit/${seed}/signature`, identity: 'quay.io/example/app:latest', contentBytes: 256 })];
    image = result.image;
    built.set(seed, image);
  }
  return structuredClone(image);
}

/**
 * An Image that breaks two create rules that do not touch its content: a signature without a type,
 * and a signature condition whose status is not True, False or Unknown.
 */
export function brokenImage(seed: string): Image {
  const image = goodImage(seed);
  delete image.signatures![0]!.type;
  image.signatures![0]!.conditions![1]!.status = 'Maybe';
  return image;
}

/** The rules {@link brokenImage} breaks, and their paths. */
export const BROKEN_RULES = ['signature-type', 'signature-condition-status'];
export const BROKEN_PATHS = ['signatures[0].type', 'signatures[0].conditions[1].status'];

function annotate(decision: string, uid: string, extra: Record<string, string> = {}, mode = 'enforce'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [MUTATING, VALIDATING]) {
    out[`${name}/decision`] = decision;
    out[`${name}/decision-id`] = `${uid}-${name === MUTATING ? 'm' : 'v'}`;
    out[`${name}/mode`] = mode;
    for (const [k, v] of Object.entries(extra)) out[`${name}/${k}`] = v;
    // A denial stops at the first webhook that denies: the mutating one.
    if (decision === 'denied') break;
  }
  return out;
}

/** The decision ids the generator gives an event's webhooks (see `annotate`). */
export function decisionIdsOf(seed: string): { mutating: string; validating: string } {
  const uid = seededUuid(`${seed}/uid`);
  return { mutating: `${uid}-m`, validating: `${uid}-v` };
}

/** One audit Event, as the API server writes it at stage ResponseComplete. */
export function auditEvent(options: EventOptions): Record<string, unknown> {
  const { scenario, level, seed, time } = options;
  const uid = seededUuid(`${seed}/uid`);
  const received = new Date(Date.parse(time) - 35).toISOString();
  const authz = {
    'authorization.k8s.io/decision': 'allow',
    'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "registry-registry-role" of ClusterRole "system:registry" to ServiceAccount "registry/openshift-image-registry"',
  };
  let user: { username: string; groups?: string[] } = options.user ?? REGISTRY_USER;
  let verb = 'create';
  let resource = 'images';
  let name: string | undefined;
  let namespace: string | undefined;
  let requestObject: unknown;
  let responseObject: unknown;
  let code = 201;
  let status: Record<string, unknown> = { metadata: {}, code };
  let annotations: Record<string, string> = { ...authz };
  let dryRun = false;
  let impersonated: { username: string; groups?: string[] } | undefined;
  const broken = brokenImage(seed);
  const good = goodImage(seed);
  const violations = BROKEN_RULES.join(',');
  switch (scenario) {
    case 'allowed':
      name = good.metadata!.name;
      requestObject = good;
      responseObject = good;
      annotations = { ...annotations, ...annotate('allowed', uid) };
      break;
    case 'denied':
    case 'denied-422-annotation-only': {
      name = broken.metadata!.name;
      requestObject = broken;
      code = 422;
      user = options.user ?? DEVELOPER;
      const invalid = `Image.image.openshift.io "${name}" is invalid: [signatures[0].type: Required value, signatures[0].conditions[1].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"]`;
      status = {
        metadata: {},
        status: 'Failure',
        message: scenario === 'denied' ? `admission webhook "${MUTATING}" denied the request: ${invalid}` : invalid,
        reason: 'Invalid',
        details: { name, group: 'image.openshift.io', kind: 'Image', causes: [] },
        code,
      };
      annotations = { ...annotations, ...annotate('denied', uid, { violations }) };
      break;
    }
    case 'warned':
      name = broken.metadata!.name;
      requestObject = broken;
      responseObject = broken;
      user = options.user ?? DEVELOPER;
      annotations = { ...annotations, ...annotate('warned', uid, { violations }, 'warn') };
      break;
    case 'exempt':
      name = broken.metadata!.name;
      requestObject = broken;
      responseObject = broken;
      user = options.user ?? MIGRATOR;
      annotations = { ...annotations, ...annotate('exempt', uid, { violations }) };
      break;
    case 'dry-run':
      name = broken.metadata!.name;
      requestObject = broken;
      responseObject = broken;
      annotations = { ...annotations, ...annotate('dry-run', uid, { violations }, 'dry-run') };
      break;
    case 'failed-open':
      name = good.metadata!.name;
      requestObject = good;
      responseObject = good;
      annotations = {
        ...annotations,
        'failed-open.mutation.webhook.admission.k8s.io/round_0_index_0': MUTATING,
        'failed-open.validating.webhook.admission.k8s.io/round_0_index_0': VALIDATING,
      };
      break;
    case 'failed-open-inferred':
      // A server without the failed-open annotation: only the mutating call is recorded.
      name = good.metadata!.name;
      requestObject = good;
      responseObject = good;
      annotations = { ...annotations, 'mutation.webhook.admission.k8s.io/round_0_index_0': JSON.stringify({ configuration: 'image-admission-webhook', webhook: MUTATING, mutated: false }) };
      break;
    case 'failed-closed':
      name = good.metadata!.name;
      requestObject = good;
      code = 500;
      status = {
        metadata: {},
        status: 'Failure',
        message: `Internal error occurred: failed calling webhook "${VALIDATING}": Post "https://image-admission-webhook.image-admission.svc:443/validate?timeout=10s": dial tcp 10.0.0.7:443: connect: connection refused`,
        reason: 'InternalError',
        details: { causes: [{ message: 'failed calling webhook' }] },
        code,
      };
      annotations = { ...annotations, [`${MUTATING}/decision`]: 'allowed', [`${MUTATING}/decision-id`]: `${uid}-m`, [`${MUTATING}/mode`]: 'enforce' };
      break;
    case 'failed-closed-inferred':
      // What a 1.20 API server logs below RequestResponse: the call, no decision, a 500 without message.
      name = good.metadata!.name;
      requestObject = good;
      code = 500;
      status = { metadata: {}, status: 'Failure', reason: 'InternalError', code };
      annotations = { ...annotations, 'mutation.webhook.admission.k8s.io/round_0_index_0': JSON.stringify({ configuration: 'image-admission-webhook', webhook: MUTATING, mutated: false }) };
      break;
    case 'validating-failed-closed-inferred':
      name = good.metadata!.name;
      requestObject = good;
      code = 500;
      status = { metadata: {}, status: 'Failure', reason: 'InternalError', code };
      annotations = { ...annotations, [`${MUTATING}/decision`]: 'allowed', [`${MUTATING}/decision-id`]: `${uid}-m`, [`${MUTATING}/mode`]: 'enforce' };
      break;
    case 'other-failed-open':
      name = good.metadata!.name;
      requestObject = good;
      responseObject = good;
      annotations = { ...annotations, ...annotate('allowed', uid), 'failed-open.validating.webhook.admission.k8s.io/round_0_index_1': 'validation.gatekeeper.sh' };
      break;
    case 'bypassed':
      name = broken.metadata!.name;
      requestObject = broken;
      responseObject = broken;
      break;
    case 'partial':
      name = broken.metadata!.name;
      requestObject = broken;
      responseObject = broken;
      annotations = { ...annotations, [`${MUTATING}/decision`]: 'allowed', [`${MUTATING}/decision-id`]: `${uid}-m`, [`${MUTATING}/mode`]: 'enforce' };
      break;
    case 'refused-elsewhere':
      name = good.metadata!.name;
      requestObject = good;
      code = 409;
      status = { metadata: {}, status: 'Failure', message: `images.image.openshift.io "${name}" already exists`, reason: 'AlreadyExists', code };
      annotations = { ...annotations, ...annotate('allowed', uid) };
      break;
    case 'not-found':
      verb = 'update';
      name = good.metadata!.name;
      requestObject = good;
      code = 404;
      status = { metadata: {}, status: 'Failure', message: `images.image.openshift.io "${name}" not found`, reason: 'NotFound', code };
      break;
    case 'dry-run-request':
      name = broken.metadata!.name;
      requestObject = broken;
      responseObject = broken;
      dryRun = true;
      annotations = { ...annotations, ...annotate('allowed', uid) };
      break;
    case 'impersonated':
      name = good.metadata!.name;
      requestObject = good;
      responseObject = good;
      user = options.user ?? ADMIN;
      impersonated = { username: 'jane', groups: ['developers', 'system:authenticated'] };
      annotations = { ...annotations, ...annotate('allowed', uid) };
      break;
    case 'import-bypassed': {
      resource = 'imagestreamimports';
      namespace = 'ml';
      name = 'trainer';
      user = options.user ?? DEVELOPER;
      const imported = brokenImage(`${seed}/imported`);
      requestObject = {
        kind: 'ImageStreamImport',
        apiVersion: 'image.openshift.io/v1',
        metadata: { name, namespace },
        spec: { import: true, images: [{ from: { kind: 'DockerImage', name: 'quay.io/example/trainer:2.1' }, to: { name: '2.1' } }] },
      };
      responseObject = { ...(requestObject as object), status: { images: [{ status: { metadata: {}, code: 200, status: 'Success' }, tag: '2.1', image: imported }] } };
      break;
    }
    case 'mapping-allowed':
      resource = 'imagestreammappings';
      namespace = 'example';
      name = 'app';
      requestObject = { kind: 'ImageStreamMapping', apiVersion: 'image.openshift.io/v1', metadata: { name, namespace }, image: good, tag: 'latest' };
      annotations = { ...annotations, ...annotate('allowed', uid) };
      break;
    case 'signature-bypassed':
      resource = 'imagesignatures';
      name = good.signatures![0]!.metadata!.name;
      user = options.user ?? ADMIN;
      requestObject = { kind: 'ImageSignature', apiVersion: 'image.openshift.io/v1', ...good.signatures![0] };
      break;
    case 'update-allowed':
      verb = 'update';
      code = 200;
      name = good.metadata!.name;
      good.metadata!.labels = { team: 'ml' };
      requestObject = good;
      responseObject = good;
      user = options.user ?? ADMIN;
      annotations = { ...annotations, ...annotate('allowed', uid) };
      break;
    case 'patch-allowed':
      verb = 'patch';
      code = 200;
      name = good.metadata!.name;
      requestObject = { metadata: { labels: { reviewed: 'true' } } };
      responseObject = good;
      user = options.user ?? ADMIN;
      annotations = { ...annotations, ...annotate('allowed', uid) };
      break;
  }
  if (status.code !== code) status = { metadata: {}, code };
  const path = `/apis/image.openshift.io/v1${namespace ? `/namespaces/${namespace}` : ''}/${resource}${verb === 'create' ? '' : `/${encodeURIComponent(name ?? '')}`}${dryRun ? '?dryRun=All&fieldManager=kubectl-create' : ''}`;
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level,
    auditID: seededUuid(`${seed}/audit`),
    stage: 'ResponseComplete',
    requestURI: path,
    verb,
    user: { uid: seededUuid(`user/${user.username}`), ...user },
    ...(impersonated ? { impersonatedUser: impersonated } : {}),
    sourceIPs: ['10.128.2.15'],
    userAgent: user === REGISTRY_USER ? 'dockerregistry/v0.0.0 (linux/amd64) kubernetes/$Format' : 'oc/4.16.0 (linux/amd64) kubernetes/a1b2c3d',
    objectRef: { resource, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}), apiGroup: 'image.openshift.io', apiVersion: 'v1' },
    responseStatus: status,
    ...(level !== 'Metadata' && requestObject !== undefined ? { requestObject } : {}),
    ...(level === 'RequestResponse' && responseObject !== undefined ? { responseObject } : {}),
    requestReceivedTimestamp: received,
    stageTimestamp: time,
    annotations,
  };
}

/** Unrelated events of a busy cluster: lease renewals, pod reads, configmap watches, Image reads. */
export function noiseEvent(i: number, time: string): Record<string, unknown> {
  const kinds = [
    { verb: 'update', resource: 'leases', apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease', name: `worker-${i % 7}`, user: `system:node:worker-${i % 7}` },
    { verb: 'get', resource: 'pods', apiGroup: '', namespace: 'openshift-monitoring', name: `prometheus-k8s-${i % 2}`, user: 'system:serviceaccount:openshift-monitoring:prometheus-k8s' },
    { verb: 'watch', resource: 'configmaps', apiGroup: '', namespace: 'openshift-config', name: undefined, user: 'system:serviceaccount:openshift-config-operator:openshift-config-operator' },
    { verb: 'list', resource: 'images', apiGroup: 'image.openshift.io', namespace: undefined, name: undefined, user: 'system:serviceaccount:openshift-image-registry:pruner' },
  ] as const;
  const k = kinds[i % kinds.length]!;
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: seededUuid(`noise/${i}`),
    stage: 'ResponseComplete',
    requestURI: `/apis/${k.apiGroup || 'v1'}/${k.resource}`,
    verb: k.verb,
    user: { username: k.user, groups: ['system:authenticated'] },
    sourceIPs: ['10.0.0.12'],
    userAgent: 'kubelet/v1.29.5 (linux/amd64) kubernetes/a1b2c3d',
    objectRef: { resource: k.resource, ...(k.namespace ? { namespace: k.namespace } : {}), ...(k.name ? { name: k.name } : {}), apiGroup: k.apiGroup, apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: time,
    stageTimestamp: time,
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
  };
}

/** A decision log line as the server writes it (pino JSON, msg "decision"). */
export function decisionLine(decisionId: string, decision: string, violations: { rule: string; path: string; type: string; detail?: string }[], time: number): string {
  return JSON.stringify({ level: 30, time, pid: 1, hostname: 'image-admission-webhook-5d9c7', reqId: 'req-1', decisionId, endpoint: 'mutate', operation: 'CREATE', resource: 'images.image.openshift.io', decision, mode: 'enforce', violations, preExisting: [], advisories: [], patched: false, latencyMs: 0.8, msg: 'decision' });
}

/** Options of {@link auditLines}. */
export interface LogOptions {
  /** Image events per scenario. */
  perScenario: number;
  /** Noise events per Image event. */
  noise: number;
  start?: string;
}

/** A log holding every scenario at every level, spread over hours, interleaved with noise. */
export function auditLines(options: LogOptions): string[] {
  const start = Date.parse(options.start ?? '2024-06-03T08:00:00.000Z');
  const lines: string[] = [];
  let n = 0;
  const levels: Level[] = ['Metadata', 'Request', 'RequestResponse'];
  for (let i = 0; i < options.perScenario; i++) {
    for (const [k, scenario] of SCENARIOS.entries()) {
      const time = new Date(start + n * 97_000).toISOString();
      // Every scenario at every level once in three rounds.
      lines.push(JSON.stringify(auditEvent({ scenario, level: levels[(i + k) % 3]!, seed: `${scenario}/${i}`, time })));
      // The same request's first stage: the review must not count it twice.
      if (n % 5 === 0) lines.push(JSON.stringify({ ...auditEvent({ scenario, level: 'Metadata', seed: `${scenario}/${i}`, time }), stage: 'RequestReceived' }));
      for (let j = 0; j < options.noise; j++) lines.push(JSON.stringify(noiseEvent(n * options.noise + j, time)));
      n++;
    }
  }
  return lines;
}

/** Templates for fast generation of large logs: each line split where its time goes. */
export function lineTemplates(count: number, noisePerImageEvent: number): { parts: string[] }[] {
  const marker = '2099-01-01T00:00:00.000000Z';
  const templates: { parts: string[] }[] = [];
  const levels: Level[] = ['Metadata', 'Request', 'RequestResponse'];
  for (let i = 0; i < count; i++) {
    const scenario = SCENARIOS[i % SCENARIOS.length]!;
    const event = auditEvent({ scenario, level: levels[i % 3]!, seed: `bench/${i}`, time: '2099-01-01T00:00:00.000Z' });
    event.stageTimestamp = marker;
    event.requestReceivedTimestamp = marker;
    templates.push({ parts: JSON.stringify(event).split(marker) });
    for (let j = 0; j < noisePerImageEvent; j++) {
      const noise = noiseEvent(i * noisePerImageEvent + j, marker);
      templates.push({ parts: JSON.stringify(noise).split(marker) });
    }
  }
  return templates;
}
