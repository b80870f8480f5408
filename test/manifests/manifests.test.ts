import { X509Certificate } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from '../../src/admission/policy.js';
import { run as runCerts } from '../../src/cli/certs.js';
import { readControllerFlags } from '../../src/cli/controller.js';
import { createControllerMetrics } from '../../src/controller/metrics.js';
import { run as runManifests } from '../../src/cli/manifests.js';
import { SERVE_OPTIONS, loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { bodyBudgetBytes } from '../../src/http/memory-budget.js';
import { BODY_LIMIT } from '../../src/review/json-body.js';
import { admissionReview, anImage, manifestListImage, largeSignedImage, ociImage, schema2Image } from '../fixtures/index.js';
import {
  MANIFESTS,
  type K8sObject,
  find,
  isKustomization,
  kustomize,
  kustomizeError,
  kubectl,
  memoryIo,
  parseYaml,
  readText,
  rel,
  validateObject,
  yamlFiles,
} from './helpers.js';

const NAMESPACE = 'image-admission';
const SERVICE = 'image-admission-webhook';
const TLS_SECRET = 'image-admission-webhook-tls';
const OVERLAYS = ['openshift', 'cert-manager', 'self-signed'] as const;
/** The image the rendered manifests are given, as an administrator would with `manifests --image`. */
const IMAGE = 'quay.io/example/image-admission-webhook:0.1.0';
/** What the webhook and the controller must judge by alike: set once, in the ConfigMap image-admission-rules. */
const JUDGING_SETTINGS = ['DISABLE_RULES', 'RULE_ACTIONS', 'EXPECT_TRUSTED_SIGNATURE', 'TRUSTED_KEYS_DIR'];
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

// The self-signed overlay needs two generated, git-ignored inputs: render it in a copy of manifests/.
let scratch: string;
let selfSignedCa: string;
let selfSignedCert: string;
/** What `kubectl kustomize` said for an overlay before the image was set, and with `IMAGE=` empty. */
let unsetImage: string;
let emptyImage: string;
const rendered = new Map<string, K8sObject[]>();

/**
 * An ingress-only NetworkPolicy's rules as `{namespace labels} -> ports` lines, checking that every rule
 * names its sources (none admits every pod) and that each source is a namespace selector.
 */
function admittedByNamespace(policy: K8sObject): string[] {
  expect(policy.spec.policyTypes).toEqual(['Ingress']);
  return policy.spec.ingress.flatMap((rule: { from?: { namespaceSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }) => {
    expect(rule.from?.length).toBeGreaterThan(0);
    return rule.from!.map((source) => {
      expect(Object.keys(source)).toEqual(['namespaceSelector']);
      return `${JSON.stringify(source.namespaceSelector!.matchLabels)} -> ${rule.ports.map((p) => p.port).join(',')}`;
    });
  });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'manifests-'));
  await cp(MANIFESTS, join(scratch, 'manifests'), {
    recursive: true,
    // What a fresh clone has: none of the per-cluster, git-ignored inputs.
    filter: (src) => !/self-signed\/(certs|webhook-ca-bundle\.yaml)|base\/image\.env$/.test(src),
  });
  unsetImage = kustomizeError(join(scratch, 'manifests/overlays/openshift'));
  // `echo IMAGE=$UNSET_VARIABLE > image.env`.
  await writeFile(join(scratch, 'manifests/base/image.env'), 'IMAGE=\n');
  emptyImage = kustomizeError(join(scratch, 'manifests/overlays/openshift'));
  const io0 = memoryIo();
  expect(await runManifests(['--image', IMAGE, '--out', join(scratch, 'manifests/base/image.env')], io0), io0.err()).toBe(0);
  const overlay = join(scratch, 'manifests/overlays/self-signed');
  const io = memoryIo();
  expect(await runCerts(['--out', join(overlay, 'certs')], io), io.err()).toBe(0);
  const io2 = memoryIo();
  const ca = join(overlay, 'certs/ca.crt');
  expect(await runManifests(['--ca', ca, '--overlay', 'self-signed', '--out', join(overlay, 'webhook-ca-bundle.yaml')], io2), io2.err()).toBe(0);
  selfSignedCa = await readFile(ca, 'utf8');
  selfSignedCert = await readFile(join(overlay, 'certs/tls.crt'), 'utf8');

  const copy = join(scratch, 'manifests');
  rendered.set('base', kustomize(join(copy, 'base')));
  rendered.set('crd', kustomize(join(copy, 'crd')));
  rendered.set('openshift', kustomize(join(copy, 'overlays/openshift')));
  rendered.set('cert-manager', kustomize(join(copy, 'overlays/cert-manager')));
  rendered.set('self-signed', kustomize(overlay));
  rendered.set('quickstart/openshift', kustomize(join(copy, 'quickstart/openshift')));
  rendered.set('quickstart/kind', kustomize(join(copy, 'quickstart/kind')));
  // Monitoring elsewhere than OpenShift, as docs/deploy.md says to add it: an overlay of one's own.
  const own = join(scratch, 'cert-manager-with-monitoring');
  await mkdir(own);
  await writeFile(
    join(own, 'kustomization.yaml'),
    'resources: [../manifests/overlays/cert-manager]\ncomponents: [../manifests/components/monitoring]\n',
  );
  rendered.set('cert-manager+monitoring', kustomize(own));
  // Nine renders with kubectl and a certificate set: well over the default hook time on a busy 2-core machine.
}, 180_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/**
 * The environment the first container of Deployment `name` gets: its ConfigMaps' data (`envFrom`, found
 * among `list`), then its own literal `env` values, which win, as the kubelet builds it.
 */
function environmentOf(list: readonly K8sObject[], name: string): Record<string, string> {
  const container = find(list, 'Deployment', name).spec.template.spec.containers[0];
  const environment: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    expect(source.configMapRef, `${name} envFrom reads only ConfigMaps`).toBeDefined();
    Object.assign(environment, find(list, 'ConfigMap', source.configMapRef.name).data);
  }
  for (const e of container.env ?? []) if (typeof e.value === 'string') environment[e.name] = e.value;
  return environment;
}

function objects(name: string): K8sObject[] {
  const found = rendered.get(name);
  if (!found) throw new Error(`${name} was not rendered`);
  return found;
}

describe('YAML files', () => {
  const generated = (path: string) => /self-signed\/(certs\/|webhook-ca-bundle\.yaml)/.test(path);
  const files = yamlFiles(MANIFESTS, generated);

  it('finds the base, the CRD and the three overlays', () => {
    const names = files.map(rel);
    for (const dir of ['manifests/base', 'manifests/crd', ...OVERLAYS.map((o) => `manifests/overlays/${o}`)]) {
      expect(names).toContain(`${dir}/kustomization.yaml`);
    }
  });

  it.each(files.map((f) => [rel(f), f]))('%s parses and every object matches its Kubernetes schema', (_name, file) => {
    const docs = parseYaml(readText(file), file);
    expect(docs.length).toBeGreaterThan(0);
    if (isKustomization(file)) {
      expect(docs).toHaveLength(1);
      expect(docs[0]!.kind).toBe(file.includes('/components/') ? 'Component' : 'Kustomization');
      // Every file it names exists (the self-signed overlay's generated ones are made by the commands).
      const kustomization = docs[0]!;
      const named = [
        ...((kustomization.resources as string[] | undefined) ?? []),
        ...((kustomization.patches as { path?: string }[] | undefined) ?? []).flatMap((p) => (p.path ? [p.path] : [])),
      ];
      for (const entry of named) {
        if (generated(join(dirname(file), entry))) continue;
        expect(existsSync(join(dirname(file), entry)), `${rel(file)} names ${entry}`).toBe(true);
      }
      return;
    }
    for (const object of docs) validateObject(object);
  });
});

describe('kustomize rendering', () => {
  it('kubectl is available (the overlays are rendered with `kubectl kustomize`)', () => {
    expect(kubectl()).toMatch(/kubectl$/);
  });

  it.each(['base', 'crd', ...OVERLAYS])('%s renders to objects that all match their Kubernetes schemas, each once', (name) => {
    const list = objects(name);
    expect(list.length).toBeGreaterThan(0);
    for (const object of list) validateObject(object);
    const keys = list.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(OVERLAYS)(`%s keeps everything of the base and puts namespaced objects in ${NAMESPACE}`, (name) => {
    const kinds = objects(name).map((o) => `${o.kind}/${o.metadata.name}`);
    for (const o of objects('base')) expect(kinds).toContain(`${o.kind}/${o.metadata.name}`);
    for (const o of objects(name)) {
      const clusterScoped = ['Namespace', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind);
      expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(clusterScoped ? undefined : NAMESPACE);
    }
  });
});

describe('the container image', () => {
  it('unset, stops the render with a message naming the file to write, so nothing is applied', () => {
    expect(unsetImage).toMatch(/manifests\/base\/image\.env: no such file or directory/);
  });

  it('empty (IMAGE=), stops the render with a message naming the file and the command, never image ""', () => {
    expect(emptyImage).toContain('IMAGE is empty in manifests/base/image.env: set it with image-admission manifests --image REF');
  });

  it.each(['base', ...OVERLAYS])('%s: every container of every Deployment runs the image set with --image', (name) => {
    const deployments = objects(name).filter((o) => o.kind === 'Deployment');
    expect(deployments.length).toBeGreaterThan(0);
    for (const d of deployments) {
      for (const c of d.spec.template.spec.containers as { name: string; image: string }[]) expect(c.image, `${d.metadata.name}/${c.name}`).toBe(IMAGE);
    }
  });

  it('is read from a file that never reaches the cluster', () => {
    // The ConfigMap is renamed to the image by the last replacement (the empty-IMAGE check).
    const local = (o: K8sObject) => o.kind === 'ConfigMap' && [IMAGE, 'image-admission-image'].includes(o.metadata.name);
    for (const name of ['base', ...OVERLAYS]) expect(objects(name).filter(local)).toEqual([]);
  });
});

describe('quick starts', () => {
  const modeOf = (name: string) =>
    (find(objects(name), 'Deployment', SERVICE).spec.template.spec.containers[0].env as { name: string; value: string }[]).find((e) => e.name === 'MODE')!.value;

  it.each([
    ['quickstart/openshift', 'openshift'],
    ['quickstart/kind', 'self-signed'],
  ])('%s is %s with MODE=warn, and the overlay alone enforces', (quick, overlay) => {
    expect(modeOf(quick)).toBe('warn');
    expect(modeOf(overlay)).toBe('enforce');
    // Apart from MODE, the same objects: applying the overlay afterwards switches to enforce and nothing else.
    const withoutMode = (name: string) =>
      objects(name).map((o) => {
        if (o.kind !== 'Deployment' || o.metadata.name !== SERVICE) return o;
        const copy = structuredClone(o);
        const container = copy.spec.template.spec.containers[0];
        container.env = (container.env as { name: string }[]).filter((e) => e.name !== 'MODE');
        return copy;
      });
    expect(withoutMode(quick)).toEqual(expect.arrayContaining(withoutMode(overlay)));
  });

  it('the kind quick start brings the test CRD for images.image.openshift.io', () => {
    expect(find(objects('quickstart/kind'), 'CustomResourceDefinition').metadata.name).toBe('images.image.openshift.io');
  });
});

describe('monitoring', () => {
  const WITH_MONITORING = ['openshift', 'cert-manager+monitoring'];

  it.each(WITH_MONITORING)('%s: the ServiceMonitor scrapes the webhook Service by a port it has, over verified TLS', (name) => {
    const monitor = find(objects(name), 'ServiceMonitor');
    const service = find(objects(name), 'Service', SERVICE);
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.metadata.namespace).toBe(service.metadata.namespace);
    const [endpoint] = monitor.spec.endpoints;
    expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(endpoint.port);
    expect(endpoint).toMatchObject({ scheme: 'https', path: '/metrics' });
    expect(endpoint.tlsConfig.serverName).toBe(`${SERVICE}.${NAMESPACE}.svc`);
    expect(endpoint.tlsConfig.insecureSkipVerify).toBeUndefined();
  });

  it('trusts the CA that signs the serving certificate: the service CA on OpenShift, the Secret ca.crt elsewhere', () => {
    const ca = (name: string) => find(objects(name), 'ServiceMonitor').spec.endpoints[0].tlsConfig.ca;
    expect(ca('openshift')).toEqual({ configMap: { name: 'openshift-service-ca.crt', key: 'service-ca.crt' } });
    expect(ca('cert-manager+monitoring')).toEqual({ secret: { name: TLS_SECRET, key: 'ca.crt' } });
    // cert-manager writes ca.crt into the Secret itself; the self-signed overlay puts the CA there too.
    expect(Buffer.from(find(objects('self-signed'), 'Secret', TLS_SECRET).data['ca.crt'], 'base64').toString('utf8')).toBe(selfSignedCa);
  });

  it('openshift: the namespace is in user-workload monitoring and the alerts are evaluated there', () => {
    expect(find(objects('openshift'), 'Namespace').metadata.labels?.['openshift.io/user-monitoring']).toBe('true');
    expect(find(objects('openshift'), 'PrometheusRule').metadata.labels?.['openshift.io/prometheus-rule-evaluation-scope']).toBe('leaf-prometheus');
  });

  const alerts = () =>
    (find(objects('openshift'), 'PrometheusRule').spec.groups as { rules: { alert: string; expr: string; labels: { severity: string } }[] }[]).flatMap((g) => g.rules);
  const dashboard = () => JSON.parse(find(objects('openshift'), 'ConfigMap', 'image-admission-webhook-dashboard').data['image-admission-webhook.json']);

  it('the PrometheusRule holds exactly the alerts docs/operations.md describes, each with a severity', () => {
    const documented = [...readText(join(MANIFESTS, '../docs/operations.md')).matchAll(/^\| `(ImageAdmission\w+)` \|/gm)].map((m) => m[1]);
    expect(alerts().map((a) => a.alert).sort()).toEqual([...documented].sort());
    for (const a of alerts()) expect(['warning', 'critical']).toContain(a.labels.severity);
  });

  it("ships docs/controller.md's example alerts as written, one of them firing when no controller is scraped at all", () => {
    const doc = readText(join(MANIFESTS, '../docs/controller.md'));
    const block = /### Example alerts[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    const [example] = parseYaml(block, 'docs/controller.md') as unknown as [{ groups: { rules: { alert: string; expr: string }[] }[] }];
    const documented = example.groups.flatMap((g) => g.rules);
    const shipped = new Map(alerts().map((a) => [a.alert, a.expr.trim()]));
    expect(documented.length).toBeGreaterThan(0);
    for (const a of documented) expect(shipped.get(a.alert), a.alert).toBe(a.expr.trim());
    // max() over an absent series is empty: only absent() fires when no controller pod is scraped.
    expect(documented.some((a) => /^absent\(image_admission_controller_\w+/.test(a.expr))).toBe(true);
  });

  it('ships a Grafana dashboard for the sidecar, every panel with a query', () => {
    const map = find(objects('openshift'), 'ConfigMap', 'image-admission-webhook-dashboard');
    expect(map.metadata.labels?.grafana_dashboard).toBe('1');
    const panels = dashboard().panels as { title: string; targets: { expr: string }[] }[];
    expect(panels.length).toBeGreaterThan(5);
    for (const panel of panels) expect(panel.targets.length, panel.title).toBeGreaterThan(0);
  });

  it('names only metrics the webhook exposes (or Prometheus\' own up)', async () => {
    const app = buildApp({ policy: { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set() } });
    await app.ready();
    await app.inject({ method: 'POST', url: '/validate', payload: admissionReview({ operation: 'CREATE', object: anImage({ dockerImageReference: 'Quay.io/Bad' }) }) });
    const scraped = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    await app.close();
    const exposed = new Set([...scraped.matchAll(/^([a-zA-Z0-9_:]+?)(?:_bucket|_sum|_count)?[{ ]/gm)].map((m) => m[1]));
    // The controller's metrics too (its alerts live in the same PrometheusRule).
    const controller = createControllerMetrics({ defaultMetrics: false });
    for (const m of (await controller.registry.getMetricsAsJSON()) as { name: string }[]) exposed.add(m.name);
    exposed.add('up');
    const queries = [...alerts().map((a) => a.expr), ...(dashboard().panels as { targets: { expr: string }[] }[]).flatMap((p) => p.targets.map((t) => t.expr))];
    const named = new Set(queries.flatMap((q) => [...q.matchAll(/\b(image_admission_\w+|nodejs_\w+|process_\w+|up)\b(?=[{[ )]|$)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''))));
    expect(named.size).toBeGreaterThan(8);
    for (const metric of named) expect(exposed, metric).toContain(metric);
  });
});

describe('webhook configurations', () => {
  const ALL = ['base', ...OVERLAYS];

  function configurations(name: string): { mutating: K8sObject; validating: K8sObject } {
    return {
      mutating: find(objects(name), 'MutatingWebhookConfiguration'),
      validating: find(objects(name), 'ValidatingWebhookConfiguration'),
    };
  }

  it.each(ALL)('%s: each configuration has one webhook with the required settings', (name) => {
    const { mutating, validating } = configurations(name);
    for (const [config, path] of [
      [mutating, '/mutate'],
      [validating, '/validate'],
    ] as const) {
      expect(config.webhooks).toHaveLength(1);
      const webhook = config.webhooks[0];
      expect(webhook.name).toMatch(DNS_SUBDOMAIN);
      expect(webhook.name.split('.').length).toBeGreaterThanOrEqual(3);
      expect(webhook.sideEffects).toBe('None');
      expect(webhook.admissionReviewVersions).toEqual(['v1', 'v1beta1']);
      expect(webhook.matchPolicy).toBe('Equivalent');
      expect(webhook.failurePolicy).toBe('Fail');
      expect(webhook.timeoutSeconds).toBeGreaterThanOrEqual(1);
      expect(webhook.timeoutSeconds).toBeLessThanOrEqual(5);
      expect(webhook.clientConfig.service).toEqual({ namespace: NAMESPACE, name: SERVICE, path, port: 443 });
      expect(webhook.clientConfig.url).toBeUndefined();
      // Nothing a writer could use to opt their own Image out.
      expect(webhook.namespaceSelector).toBeUndefined();
      expect(webhook.objectSelector).toBeUndefined();
      expect(webhook.matchConditions).toBeUndefined();
      expect(webhook.rules).toEqual([
        { apiGroups: ['image.openshift.io'], apiVersions: ['v1'], resources: ['images'], operations: ['CREATE', 'UPDATE'], scope: 'Cluster' },
        { apiGroups: ['image.openshift.io'], apiVersions: ['v1'], resources: ['imagestreammappings'], operations: ['CREATE'], scope: 'Namespaced' },
        { apiGroups: ['image.openshift.io'], apiVersions: ['v1'], resources: ['imagesignatures'], operations: ['CREATE'], scope: 'Cluster' },
      ]);
    }
    expect(mutating.webhooks[0].reinvocationPolicy).toBe('Never');
    expect(validating.webhooks[0].reinvocationPolicy).toBeUndefined();
    expect(mutating.webhooks[0].name).not.toBe(validating.webhooks[0].name);
  });

  it.each(ALL)('%s: the Service the webhooks call exists and forwards 443 to the container port 8443', (name) => {
    const service = find(objects(name), 'Service', SERVICE);
    expect(service.metadata.namespace).toBe(NAMESPACE);
    const port = service.spec.ports.find((p: { port: number }) => p.port === 443);
    const container = find(objects(name), 'Deployment', SERVICE).spec.template.spec.containers[0];
    const target = container.ports.find((p: { name: string; containerPort: number }) => p.name === port.targetPort || p.containerPort === port.targetPort);
    expect(target.containerPort).toBe(8443);
  });

  it('base: no caBundle (an overlay supplies it)', () => {
    const { mutating, validating } = configurations('base');
    expect(mutating.webhooks[0].clientConfig.caBundle).toBeUndefined();
    expect(validating.webhooks[0].clientConfig.caBundle).toBeUndefined();
  });

  it('openshift: the service CA issues the serving Secret and injects its CA into both configurations', () => {
    const service = find(objects('openshift'), 'Service', SERVICE);
    expect(service.metadata.annotations?.['service.beta.openshift.io/serving-cert-secret-name']).toBe(TLS_SECRET);
    const { mutating, validating } = configurations('openshift');
    for (const config of [mutating, validating]) {
      expect(config.metadata.annotations?.['service.beta.openshift.io/inject-cabundle']).toBe('true');
      expect(config.webhooks[0].clientConfig.caBundle).toBeUndefined();
    }
    expect(objects('openshift').some((o) => o.kind === 'Secret')).toBe(false);
  });

  it('cert-manager: self-signed Issuer -> CA Certificate -> CA Issuer -> serving Certificate, injected into both', () => {
    const list = objects('cert-manager');
    const issuers = list.filter((o) => o.kind === 'Issuer');
    const certificates = list.filter((o) => o.kind === 'Certificate');
    const selfSigned = issuers.find((i) => i.spec.selfSigned !== undefined)!;
    const caCert = certificates.find((c) => c.spec.isCA === true)!;
    const caIssuer = issuers.find((i) => i.spec.ca !== undefined)!;
    const serving = certificates.find((c) => c.spec.isCA !== true)!;
    expect([selfSigned, caCert, caIssuer, serving].every(Boolean)).toBe(true);
    expect(caCert.spec.issuerRef).toMatchObject({ kind: 'Issuer', name: selfSigned.metadata.name });
    expect(caIssuer.spec.ca.secretName).toBe(caCert.spec.secretName);
    expect(serving.spec.issuerRef).toMatchObject({ kind: 'Issuer', name: caIssuer.metadata.name });
    expect(serving.spec.secretName).toBe(TLS_SECRET);
    expect(serving.spec.usages).toContain('server auth');
    expect(serving.spec.dnsNames).toEqual([`${SERVICE}.${NAMESPACE}.svc`, `${SERVICE}.${NAMESPACE}.svc.cluster.local`]);
    const { mutating, validating } = configurations('cert-manager');
    for (const config of [mutating, validating]) {
      expect(config.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe(`${serving.metadata.namespace}/${serving.metadata.name}`);
    }
  });

  it('self-signed: the TLS Secret holds the generated pair and caBundle is base64 of the CA that signed it', () => {
    const secret = find(objects('self-signed'), 'Secret', TLS_SECRET);
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(Buffer.from(secret.data['tls.crt'], 'base64').toString('utf8')).toBe(selfSignedCert);
    const expected = Buffer.from(selfSignedCa, 'utf8').toString('base64');
    const { mutating, validating } = configurations('self-signed');
    for (const config of [mutating, validating]) {
      const caBundle: string = config.webhooks[0].clientConfig.caBundle;
      expect(caBundle).toBe(expected);
      // What the API server will do: trust the bundle, verify the serving certificate for the Service name.
      const ca = new X509Certificate(Buffer.from(caBundle, 'base64'));
      const leaf = new X509Certificate(selfSignedCert);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.checkHost(`${SERVICE}.${NAMESPACE}.svc`, { subject: 'never' })).toBe(`${SERVICE}.${NAMESPACE}.svc`);
    }
  });
});

describe('Deployment', () => {
  it.each(['base', ...OVERLAYS])('%s: mounts the TLS Secret the overlay provides', (name) => {
    const pod = find(objects(name), 'Deployment', SERVICE).spec.template.spec;
    const volume = pod.volumes.find((v: { secret?: { secretName: string } }) => v.secret);
    expect(volume.secret.secretName).toBe(TLS_SECRET);
    if (name === 'self-signed') expect(find(objects(name), 'Secret', TLS_SECRET)).toBeDefined();
  });

  const deployment = () => find(objects('base'), 'Deployment', SERVICE);
  const pod = () => deployment().spec.template.spec;
  const container = () => pod().containers[0];
  const env = () => environmentOf(objects('base'), SERVICE);

  it('runs three replicas and never lowers the ready count during a rollout', () => {
    expect(deployment().spec.replicas).toBe(3);
    expect(deployment().spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  });

  it('spreads replicas across nodes', () => {
    const labels = pod().containers && deployment().spec.template.metadata.labels;
    const byHost = pod().topologySpreadConstraints.find((c: { topologyKey: string }) => c.topologyKey === 'kubernetes.io/hostname');
    expect(byHost.maxSkew).toBe(1);
    expect(labels).toMatchObject(byHost.labelSelector.matchLabels);
    const anti = pod().affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
    expect(anti[0].podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(labels).toMatchObject(anti[0].podAffinityTerm.labelSelector.matchLabels);
    expect(deployment().spec.selector.matchLabels).toEqual(byHost.labelSelector.matchLabels);
  });

  it.each(['base', ...OVERLAYS])('%s: probes /readyz and /healthz over plain HTTP on the health port the server binds by default', (name) => {
    const probed = find(objects(name), 'Deployment', SERVICE).spec.template.spec.containers[0];
    const ports = Object.fromEntries(probed.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
    const values = Object.fromEntries(probed.env.filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string; value: string }) => [e.name, e.value]));
    const loaded = loadConfig([], values);
    if (loaded.ok !== true) throw new Error(JSON.stringify(loaded));
    expect(loaded.config.healthProbe).toEqual({ host: '0.0.0.0', port: 8081 });
    for (const [probe, path] of [
      ['readinessProbe', '/readyz'],
      ['livenessProbe', '/healthz'],
    ]) {
      const get = probed[probe!].httpGet;
      expect(get.scheme).toBe('HTTP');
      expect(get.path).toBe(path);
      expect(typeof get.port === 'number' ? get.port : ports[get.port]).toBe(loaded.config.healthProbe!.port);
    }
  });

  it('gives the server its memory limit, in bytes, from the container limit', () => {
    const entry = container().env.find((e: { name: string }) => e.name === 'MEMORY_LIMIT');
    expect(entry.valueFrom.resourceFieldRef).toEqual({ containerName: container().name, resource: 'limits.memory' });
    expect(container().resources.limits.memory).toBeDefined();
  });

  it('has requests and a memory limit that holds several reviews at the body limit', () => {
    const resources = container().resources;
    expect(resources.requests.cpu).toBeDefined();
    expect(resources.requests.memory).toBeDefined();
    const mebibytes = (q: string) => Number(/^(\d+)Mi$/.exec(q)?.[1] ?? NaN);
    expect(mebibytes(resources.limits.memory) * 1024 * 1024).toBeGreaterThanOrEqual(16 * BODY_LIMIT);
    // What the server's memory budget leaves for bodies at this limit, after its reserves.
    expect(bodyBudgetBytes(mebibytes(resources.limits.memory) * 1024 * 1024, BODY_LIMIT)).toBeGreaterThanOrEqual(8 * BODY_LIMIT);
    expect(mebibytes(resources.requests.memory)).toBeLessThanOrEqual(mebibytes(resources.limits.memory));
  });

  it('runs non-root, read-only, without privilege escalation or capabilities, with the runtime seccomp profile', () => {
    expect(pod().securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container().securityContext).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    // OpenShift's restricted-v2 SCC assigns UIDs itself and rejects pods that name their own.
    expect(pod().securityContext.runAsUser).toBeUndefined();
    expect(pod().securityContext.fsGroup).toBeUndefined();
  });

  it('sleeps in preStop and gives the server time to drain after it', () => {
    const preStop = container().lifecycle.preStop;
    expect(preStop.exec.command).toEqual(['sleep', '10']);
    const timeout = Math.max(
      ...[find(objects('base'), 'MutatingWebhookConfiguration'), find(objects('base'), 'ValidatingWebhookConfiguration')].map(
        (c) => c.webhooks[0].timeoutSeconds as number,
      ),
    );
    expect(pod().terminationGracePeriodSeconds).toBeGreaterThan(10 + timeout);
  });

  it('is system-cluster-critical and has no API token', () => {
    expect(pod().priorityClassName).toBe('system-cluster-critical');
    expect(pod().automountServiceAccountToken).toBe(false);
    expect(find(objects('base'), 'ServiceAccount', pod().serviceAccountName).automountServiceAccountToken).toBe(false);
  });

  it('points TLS_CERT_FILE and TLS_KEY_FILE into the Secret mounted at /etc/webhook/certs, without subPath', () => {
    const mount = container().volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/etc/webhook/certs');
    expect(mount.readOnly).toBe(true);
    expect(mount.subPath).toBeUndefined();
    expect(pod().volumes.find((v: { name: string }) => v.name === mount.name).secret.secretName).toBe(TLS_SECRET);
    expect(env().TLS_CERT_FILE).toBe('/etc/webhook/certs/tls.crt');
    expect(env().TLS_KEY_FILE).toBe('/etc/webhook/certs/tls.key');
  });

  it('sets only environment variables the server reads, with valid values', () => {
    const known = new Set(SERVE_OPTIONS.map((o) => o.env));
    for (const name of Object.keys(env())) expect(known, name).toContain(name);
    expect(MODES).toContain(env().MODE);
    expect(env().PORT).toBe('8443');
    expect(env().EXEMPT_GROUPS).toBe('image-admission-break-glass');
    // The server accepts exactly this environment, with no flags, as the container's CMD runs it.
    const loaded = loadConfig([], env());
    expect(loaded).toMatchObject({
      ok: true,
      config: { host: '0.0.0.0', port: 8443, tlsCertFile: '/etc/webhook/certs/tls.crt', tlsKeyFile: '/etc/webhook/certs/tls.key', tlsDefaultPaths: false },
    });
  });
});

describe('availability and network objects', () => {
  const base = () => objects('base');
  const podLabels = () => find(base(), 'Deployment', SERVICE).spec.template.metadata.labels;

  it('the PodDisruptionBudget lets at most one replica go at a time', () => {
    const pdb = find(base(), 'PodDisruptionBudget', SERVICE);
    expect(pdb.spec.maxUnavailable === 1 || pdb.spec.minAvailable === 2).toBe(true);
    expect(podLabels()).toMatchObject(pdb.spec.selector.matchLabels);
  });

  it('the Service selects the pods', () => {
    expect(podLabels()).toMatchObject(find(base(), 'Service', SERVICE).spec.selector);
  });

  it('the NetworkPolicy admits ingress to the pods on 8443 only', () => {
    const policy = find(base(), 'NetworkPolicy', SERVICE);
    expect(podLabels()).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    const ports = policy.spec.ingress.flatMap((rule: { ports: unknown[] }) => rule.ports);
    expect(ports).toEqual([{ protocol: 'TCP', port: 8443 }]);
  });

  it('openshift: the NetworkPolicy admits only the host network (API server, kubelet), openshift-apiserver and the monitoring stack', () => {
    expect(admittedByNamespace(find(objects('openshift'), 'NetworkPolicy', SERVICE))).toEqual([
      '{"policy-group.network.openshift.io/host-network":""} -> 8443,8081',
      '{"kubernetes.io/metadata.name":"openshift-apiserver"} -> 8443',
      '{"kubernetes.io/metadata.name":"openshift-monitoring"} -> 8443',
      '{"kubernetes.io/metadata.name":"openshift-user-workload-monitoring"} -> 8443',
    ]);
  });

  it('the Namespace enforces the restricted pod security profile', () => {
    expect(find(base(), 'Namespace', NAMESPACE).metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });
});

describe('the test CRD images.image.openshift.io', () => {
  const crd = () => find(objects('crd'), 'CustomResourceDefinition');
  const schema = () => crd().spec.versions[0].schema.openAPIV3Schema;

  it('is the cluster-scoped v1 Image of image.openshift.io', () => {
    const spec = crd().spec;
    expect(crd().metadata.name).toBe(`${spec.names.plural}.${spec.group}`);
    expect(spec).toMatchObject({ group: 'image.openshift.io', scope: 'Cluster', names: { kind: 'Image', plural: 'images', singular: 'image' } });
    expect(spec.versions).toHaveLength(1);
    expect(spec.versions[0]).toMatchObject({ name: 'v1', served: true, storage: true });
  });

  it('has a structural schema: every node typed, unless it preserves unknown fields', () => {
    const untyped: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      if (node.type === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) untyped.push(path);
      for (const [key, child] of Object.entries((node.properties as Record<string, Record<string, unknown>>) ?? {})) walk(child, `${path}.${key}`);
      if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`);
      if (typeof node.additionalProperties === 'object') walk(node.additionalProperties as Record<string, unknown>, `${path}{}`);
    };
    walk(schema(), '');
    expect(untyped).toEqual([]);
    expect(schema().properties.dockerImageMetadata).toMatchObject({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    expect(schema().properties.metadata).toEqual({ type: 'object' });
  });

  it('accepts the realistic fixture Images (named as a CRD allows)', () => {
    // The schema minus Kubernetes extensions is plain JSON Schema; nullable becomes a null type.
    const toJsonSchema = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(toJsonSchema);
      if (node === null || typeof node !== 'object') return node;
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(node)) {
        if (key.startsWith('x-kubernetes-') || key === 'nullable' || key === 'format' || key === 'description') continue;
        out[key] = toJsonSchema(value);
      }
      if ((node as { nullable?: boolean }).nullable) out.type = [out.type, 'null'];
      return out;
    };
    const validate = new Ajv({ strict: false, allErrors: true }).compile(toJsonSchema(schema()) as object);
    for (const image of [anImage(), schema2Image(), ociImage(), largeSignedImage(), manifestListImage()]) {
      const stored = { ...image, metadata: { ...image.metadata, name: String(image.metadata?.name).replace(':', '.') } };
      expect(stored.metadata.name).toMatch(DNS_SUBDOMAIN);
      expect(validate(stored), JSON.stringify(validate.errors)).toBe(true);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = () => readText(join(MANIFESTS, '../Dockerfile'));
  const instructions = () =>
    dockerfile()
      .split('\n')
      .filter((line) => /^[A-Z]+\s/.test(line))
      .map((line) => line.trim());

  it('builds in stages and installs only production dependencies into the final one', () => {
    const froms = instructions().filter((i) => i.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile()).toMatch(/RUN npm ci --omit=dev/);
    expect(dockerfile()).toMatch(/RUN npm run build/);
  });

  it('is based on the Node 24 that CI tests, pinned by digest', () => {
    // scripts/ci-node.sh installs the Node that CI runs; the Dockerfile names the version its digest carries.
    const ciNode = /^NODE_VERSION=(\d+\.\d+\.\d+)$/m.exec(readText(join(MANIFESTS, '../scripts/ci-node.sh')))?.[1];
    expect(ciNode).toMatch(/^24\./);
    expect(dockerfile()).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim@sha256:[0-9a-f]{64}$/m);
    expect(dockerfile()).toContain(`(Node ${ciNode})`);
  });

  it('runs node directly as a non-root user, with no HEALTHCHECK', () => {
    const final = instructions().slice(instructions().map((i) => i.startsWith('FROM ')).lastIndexOf(true));
    expect(final).toContain('WORKDIR /app');
    expect(final).toContain('EXPOSE 8443');
    expect(final.find((i) => i.startsWith('USER '))).toMatch(/^USER (65532(:65532)?|node)$/);
    expect(final.at(-1)).toBe('CMD ["node", "dist/cli/main.js", "serve"]');
    expect(instructions().some((i) => i.startsWith('HEALTHCHECK'))).toBe(false);
    expect(readText(join(MANIFESTS, '../.dockerignore'))).toMatch(/^node_modules$/m);
  });
});

describe('the controller (image-admission controller)', () => {
  const ALL = ['base', ...OVERLAYS];
  const CONTROLLER = 'image-admission-controller';

  it.each(ALL)('%s: its own Deployment, leader-elected, with the webhook pods hardening', (name) => {
    const controller = find(objects(name), 'Deployment', CONTROLLER);
    const webhook = find(objects(name), 'Deployment', SERVICE);
    // Never inside the webhook's pods: a scan must not take from admission.
    expect(controller.spec.selector).not.toEqual(webhook.spec.selector);
    expect(webhook.spec.template.spec.containers).toHaveLength(1);
    const pod = controller.spec.template.spec;
    expect(pod.serviceAccountName).toBe(CONTROLLER);
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.securityContext).toEqual(webhook.spec.template.spec.securityContext);
    const [container] = pod.containers;
    expect(container.securityContext).toEqual(webhook.spec.template.spec.containers[0].securityContext);
    expect(container.image).toBe(webhook.spec.template.spec.containers[0].image);
    expect(container.resources.limits.memory).toBeDefined();
    expect(container.resources.limits.cpu).toBeUndefined();
    expect(container.command).toEqual(['node', 'dist/cli/main.js', 'controller']);
    // Every flag it is given is one the command accepts.
    const flags = readControllerFlags(container.args, () => NAMESPACE, environmentOf(objects(name), CONTROLLER));
    expect(flags).not.toHaveProperty('errors');
    expect(flags).toMatchObject({ config: { leaderElection: { namespace: NAMESPACE, name: CONTROLLER } } });
    expect(controller.spec.replicas).toBeGreaterThanOrEqual(2);
    const probePort = container.ports.find((p: { name: string }) => p.name === 'probes').containerPort;
    expect(container.args).toContain(`--health-probe-bind-address=:${probePort}`);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'probes' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'probes' });
  });

  it.each(ALL)('%s: least privilege: read Images, write its two report kinds, its own Lease', (name) => {
    const role = find(objects(name), 'ClusterRole', CONTROLLER);
    expect(role.rules).toEqual([
      { apiGroups: ['image.openshift.io'], resources: ['images'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['openreports.io'], resources: ['clusterreports'], verbs: ['get', 'list', 'create', 'update', 'delete'] },
      { apiGroups: ['wgpolicyk8s.io'], resources: ['clusterpolicyreports'], verbs: ['get', 'list', 'create', 'update', 'delete'] },
    ]);
    const subject = [{ kind: 'ServiceAccount', name: CONTROLLER, namespace: NAMESPACE }];
    expect(find(objects(name), 'ClusterRoleBinding', CONTROLLER)).toMatchObject({ roleRef: { kind: 'ClusterRole', name: CONTROLLER }, subjects: subject });
    const lease = find(objects(name), 'Role', `${CONTROLLER}-leader-election`);
    expect(lease.metadata.namespace).toBe(NAMESPACE);
    for (const rule of lease.rules) {
      expect(rule).toMatchObject({ apiGroups: ['coordination.k8s.io'], resources: ['leases'] });
      // Only create may not name the Lease.
      if (!rule.verbs.every((v: string) => v === 'create')) expect(rule.resourceNames).toEqual([CONTROLLER]);
    }
    expect(find(objects(name), 'RoleBinding', `${CONTROLLER}-leader-election`)).toMatchObject({ roleRef: { kind: 'Role' }, subjects: subject });
    expect(find(objects(name), 'ServiceAccount', CONTROLLER).metadata.namespace).toBe(NAMESPACE);
    // No wildcard anywhere, and the webhook's own account stays without a role.
    for (const r of [...role.rules, ...lease.rules]) expect(JSON.stringify(r)).not.toContain('*');
    const bound = objects(name).filter((o) => o.kind.endsWith('Binding')).flatMap((o) => o.subjects.map((s: { name: string }) => s.name));
    expect(bound).not.toContain(SERVICE);
  });

  it.each(['openshift', 'cert-manager+monitoring'])('%s with monitoring: a PodMonitor scrapes the controller pods on their metrics port', (name) => {
    const monitor = find(objects(name), 'PodMonitor', CONTROLLER);
    const controller = find(objects(name), 'Deployment', CONTROLLER);
    expect(monitor.metadata.namespace).toBe(NAMESPACE);
    expect(controller.spec.template.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    const port = controller.spec.template.spec.containers[0].ports.find((p: { name: string }) => p.name === monitor.spec.podMetricsEndpoints[0].port);
    expect(port.containerPort).toBe(find(objects(name), 'NetworkPolicy', CONTROLLER).spec.ingress[0].ports[0].port);
  });

  it.each(ALL)('%s: a NetworkPolicy admits only the metrics port to the controller pods (and, on openshift, the probes from the host)', (name) => {
    const policy = find(objects(name), 'NetworkPolicy', CONTROLLER);
    expect(policy.spec.podSelector).toEqual(find(objects(name), 'Deployment', CONTROLLER).spec.selector);
    if (name !== 'openshift') expect(policy.spec.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: 8080 }] }]);
  });

  it('openshift: the controller NetworkPolicy admits the metrics port only from the monitoring stack, as the webhook one does', () => {
    expect(admittedByNamespace(find(objects('openshift'), 'NetworkPolicy', CONTROLLER))).toEqual([
      '{"kubernetes.io/metadata.name":"openshift-monitoring"} -> 8080',
      '{"kubernetes.io/metadata.name":"openshift-user-workload-monitoring"} -> 8080',
      '{"policy-group.network.openshift.io/host-network":""} -> 8081',
    ]);
  });
});

describe('one rule configuration and one set of trusted keys for the webhook and the controller', () => {
  const CONTROLLER = 'image-admission-controller';
  const ALL = ['base', ...OVERLAYS, 'quickstart/openshift', 'quickstart/kind', 'cert-manager+monitoring'];
  const sorted = (rules: ReadonlySet<string> | undefined) => [...(rules ?? [])].sort();

  /** What each Deployment judges by, as its command reads its flags and environment. */
  function judging(list: readonly K8sObject[]) {
    const loaded = loadConfig([], environmentOf(list, SERVICE));
    if (loaded.ok !== true) throw new Error(loaded.ok === false ? loaded.errors.join('; ') : 'help');
    const controller = find(list, 'Deployment', CONTROLLER).spec.template.spec.containers[0];
    const flags = readControllerFlags(controller.args, () => NAMESPACE, environmentOf(list, CONTROLLER));
    if (flags === 'help' || 'errors' in flags) throw new Error(JSON.stringify(flags));
    const actions = (map: ReadonlyMap<string, string> | undefined) => [...(map ?? [])].map(([rule, action]) => `${rule}=${action}`).sort();
    return {
      webhook: {
        rules: sorted(loaded.config.policy.disabledRules),
        actions: actions(loaded.config.policy.ruleActions),
        expected: loaded.config.policy.expectTrustedSignature ?? [],
        keys: loaded.config.trustedKeysDir,
      },
      controller: {
        rules: sorted(flags.config.judge.disabledRules),
        actions: actions(flags.config.judge.ruleActions),
        expected: flags.config.judge.expectTrustedSignature ?? [],
        keys: flags.trustedKeysDir,
      },
    };
  }

  it.each(ALL)('%s: both read DISABLE_RULES, RULE_ACTIONS, EXPECT_TRUSTED_SIGNATURE and TRUSTED_KEYS_DIR from the same ConfigMap, and set them nowhere else', (name) => {
    const list = objects(name);
    const sources = [SERVICE, CONTROLLER].map((deployment) => {
      const container = find(list, 'Deployment', deployment).spec.template.spec.containers[0];
      for (const e of container.env ?? []) expect(JUDGING_SETTINGS, `${deployment} env`).not.toContain(e.name);
      for (const arg of [...(container.args ?? []), ...(container.command ?? [])]) expect(arg, deployment).not.toMatch(/^--(disable-rules|rule-actions|expect-trusted-signature|trusted-keys)/);
      return container.envFrom.map((source: { configMapRef: { name: string } }) => source.configMapRef.name);
    });
    expect(sources[0]).toEqual(sources[1]);
    const rules = find(list, 'ConfigMap', sources[0][0]);
    expect(rules.metadata.name).toMatch(/^image-admission-rules-/);
    expect(Object.keys(rules.data).sort()).toEqual([...JUDGING_SETTINGS].sort());
    const got = judging(list);
    expect(got.controller).toEqual(got.webhook);
    expect(got.webhook).toEqual({ rules: [], actions: [], expected: [], keys: '/etc/image-admission/keys' });
  });

  it.each(ALL)('%s: both mount the trusted keys ConfigMap, whole (no subPath, so updates arrive), where TRUSTED_KEYS_DIR points', (name) => {
    const list = objects(name);
    for (const deployment of [SERVICE, CONTROLLER]) {
      const pod = find(list, 'Deployment', deployment).spec.template.spec;
      const volume = pod.volumes.find((v: { configMap?: { name: string } }) => v.configMap?.name === 'image-admission-trusted-keys');
      // Optional: the pods start before an administrator creates it; applying the manifests never overwrites it.
      expect(volume?.configMap, deployment).toEqual({ name: 'image-admission-trusted-keys', optional: true });
      const mount = pod.containers[0].volumeMounts.find((m: { name: string }) => m.name === volume.name);
      expect(mount).toEqual({ name: volume.name, mountPath: environmentOf(list, deployment).TRUSTED_KEYS_DIR, readOnly: true });
    }
    expect(list.filter((o) => o.kind === 'ConfigMap' && o.metadata.name === 'image-admission-trusted-keys')).toEqual([]);
  });

  it('an overlay that changes the rules (as docs/deploy.md shows) changes both, and rolls both', async () => {
    const own = join(scratch, 'stricter');
    await mkdir(own);
    await writeFile(
      join(own, 'kustomization.yaml'),
      [
        'resources: [../manifests/overlays/cert-manager]',
        'configMapGenerator:',
        '  - name: image-admission-rules',
        '    namespace: image-admission',
        '    behavior: merge',
        '    literals:',
        '      - DISABLE_RULES=layer-size,signature-verified',
        '      - RULE_ACTIONS=reference-format=warn,manifest-digest=deny',
        '      - EXPECT_TRUSTED_SIGNATURE=quay.io/example',
        '',
      ].join('\n'),
    );
    const list = kustomize(own);
    const got = judging(list);
    expect(got.webhook).toEqual({
      rules: ['layer-size', 'signature-verified'],
      actions: ['manifest-digest=deny', 'reference-format=warn'],
      expected: ['quay.io/example'],
      keys: '/etc/image-admission/keys',
    });
    expect(got.controller).toEqual(got.webhook);
    // A new ConfigMap name in both pod templates: changing the rules rolls both Deployments.
    const nameIn = (objectsOf: readonly K8sObject[], deployment: string) => find(objectsOf, 'Deployment', deployment).spec.template.spec.containers[0].envFrom[0].configMapRef.name;
    for (const deployment of [SERVICE, CONTROLLER]) expect(nameIn(list, deployment)).not.toBe(nameIn(objects('cert-manager'), deployment));
  });
});
