/**
 * The in-cluster audit (`image-admission controller`) behind a real kube-apiserver (v1.20.2): Images
 * from the Image CRD, reports into CRDs written from the published report APIs (test/crds/), the
 * controller running as its service account with the RBAC of manifests/base.
 *
 * Needs the cluster of scripts/apiserver/run.sh: `npm run test:apiserver`. The blocks run in order
 * and build on each other (the Images of one block are the next block's stored state).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fastJsonPatch from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Policy } from '../../src/admission/policy.js';
import type { AdmissionResponse } from '../../src/admission/types.js';
import { judgeExisting } from '../../src/audit/existing.js';
import { loadKubeConfig } from '../../src/audit/kubeconfig.js';
import { createImageInformer } from '../../src/controller/informer.js';
import { kubeClient } from '../../src/controller/kube.js';
import { createLogger } from '../../src/controller/log.js';
import { createControllerMetrics } from '../../src/controller/metrics.js';
import { VerdictStore } from '../../src/controller/verdicts.js';
import { MANAGED_BY, MANAGED_BY_LABEL, OPEN_REPORTS, POLICY_REPORTS, reportName, type ReportApi } from '../../src/controller/report.js';
import type { ScanReport } from '../../src/audit/scan.js';
import type { Image } from '../../src/image/types.js';
import { RULES, type RuleId } from '../../src/image/index.js';
import { answerBody } from '../../src/review/answer.js';
import { readKeySet, SIGNATURE_RULE, SignatureVerifier } from '../../src/signature/index.js';
import { admissionReview, anImage, untrustedRealSignature } from '../fixtures/index.js';
import { fixtures } from '../signature/helpers.js';
import { publishGeneration } from '../support/configmap-volume.js';
import { brokenImage, BROKEN_PATHS, BROKEN_RULES, goodImage } from '../audit/audit-log.js';
import { compactEtcd, ControllerProcess, DirectApiServer, eventually, sample } from './controller-process.js';
import { CONTROLLER_SUITE_PREFIX, forCrd, kubectl, kubectlJson, NAME_DIGEST_RULES, nameOf, ROOT, suiteEnvironment } from './harness.js';

const env = suiteEnvironment();
const NAMESPACE = 'image-admission';
const LEASE = 'image-admission-controller';
const SUITE_LABEL = 'image-admission.io/suite=controller';
const CRD_FILES: Record<string, string> = {
  [OPEN_REPORTS.kind]: join(ROOT, 'test/crds/openreports.io_clusterreports.yaml'),
  [POLICY_REPORTS.kind]: join(ROOT, 'test/crds/wgpolicyk8s.io_clusterpolicyreports.yaml'),
};
/**
 * As the controller's service account (run.sh's `controller` context), judging as the suite's webhook
 * does. The blocks about reporting leave signatures out (their fixtures' signatures are random bytes
 * claimed Trusted=True): the last block judges signatures, with and without trusted keys.
 */
const REPORTING_RULES: RuleId[] = [...NAME_DIGEST_RULES, SIGNATURE_RULE];
const CONNECTION = ['--context', 'controller', '--page-size', '2', '--report-writes-per-second', '50', '--log-level', 'info'];
const COMMON = [...CONNECTION, '--disable-rules', REPORTING_RULES.join(',')];
const JUDGE = { disabledRules: new Set<RuleId>(REPORTING_RULES) };

/**
 * A fixture Image under a name of this suite (`controller-suite-…`, signatures following): the
 * webhook suite leaves these writes out when it matches the audit log against its own writes.
 */
function forSuite(image: Image): Image {
  const copy = forCrd(image);
  const old = String(copy.metadata?.name);
  const name = `${CONTROLLER_SUITE_PREFIX}${old.slice(-12)}`;
  copy.metadata = { ...copy.metadata, name };
  for (const signature of copy.signatures ?? []) {
    const metadata = signature.metadata as { name?: string } | undefined;
    if (metadata?.name?.startsWith(`${old}@`)) metadata.name = `${name}@${metadata.name.slice(old.length + 1)}`;
  }
  return copy;
}

const started: ControllerProcess[] = [];
let direct: DirectApiServer | undefined;

function controller(id: string, extra: string[] = [], common = COMMON): ControllerProcess {
  const process = new ControllerProcess(env, id, [...common, ...extra]);
  started.push(process);
  return process;
}

function ok(args: string[], input?: string): string {
  const run = kubectl(env, args, input === undefined ? {} : { input });
  if (run.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

/** Creates `image` (renamed for the CRD, labelled as this suite's) and returns it as stored. */
function createImage(image: Image): Image {
  const crd = forSuite(image);
  crd.metadata = { ...crd.metadata, labels: { 'image-admission.io/suite': 'controller' } };
  ok(['create', '-f', '-'], JSON.stringify(crd));
  return kubectlJson<Image>(env, ['get', 'images.image.openshift.io', nameOf(crd)]);
}

function installCrd(api: ReportApi): void {
  ok(['apply', '-f', CRD_FILES[api.kind]!]);
  ok(['wait', '--for=condition=Established', '--timeout=60s', `crd/${api.plural}.${api.group}`]);
  // Discovery lags the Established condition.
  for (let i = 0; i < 60 && kubectl(env, ['get', `${api.plural}.${api.group}`]).code !== 0; i++) spawnSync('sleep', ['0.5']);
}

function removeCrd(api: ReportApi): void {
  ok(['delete', '--ignore-not-found', '--wait=true', `crd/${api.plural}.${api.group}`]);
}

interface StoredReport {
  metadata: { name: string; uid: string; resourceVersion: string; labels?: Record<string, string> };
  scope: { name: string; kind: string; uid?: string };
  summary: Record<string, number>;
  results: { rule: string; result: string; message: string; source: string; policy: string; properties: Record<string, string> }[];
}

function reports(api: ReportApi): StoredReport[] {
  return kubectlJson<{ items: StoredReport[] }>(env, ['get', `${api.plural}.${api.group}`]).items;
}

function reportOf(api: ReportApi, image: Image): StoredReport | undefined {
  return reports(api).find((r) => r.metadata.name === reportName(nameOf(image)));
}

/** What `image-admission audit scan` finds in the cluster: the verdicts the gauge must agree with. */
function auditScan(rules: readonly string[] = REPORTING_RULES, extra: string[] = []): ScanReport {
  const run = spawnSync(process.execPath, ['dist/cli/main.js', 'audit', 'scan', '--kubeconfig', env.kubeconfig, '--context', 'admin', '--json', '--disable-rules', rules.join(','), ...extra], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (run.status !== 0 && run.status !== 1) throw new Error(`audit scan exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as ScanReport;
}

/** Rule -> Images in violation, as the controller's gauge says (every rule of the catalogue). */
async function gauge(process: ControllerProcess): Promise<Record<string, number>> {
  const metrics = await process.metrics();
  return Object.fromEntries(RULES.map((rule) => [rule.id, sample(metrics, 'image_admission_images_in_violation', `rule="${rule.id}"`)]));
}

async function untilReady(process: ControllerProcess): Promise<void> {
  await eventually(`controller ${process.id} ready (first list judged)`, 30_000, () => process.ready());
}

const broken = { a: brokenImage('controller/a'), b: brokenImage('controller/b'), d: brokenImage('controller/d'), e: brokenImage('controller/e') };
const clean = goodImage('controller/c');

beforeAll(() => {
  // Images written while the webhook is not registered: nothing judges them on the way in.
  ok(['delete', '--ignore-not-found', 'mutatingwebhookconfiguration/image-admission-webhook', 'validatingwebhookconfiguration/image-admission-webhook']);
  ok(['delete', 'images.image.openshift.io', '-l', SUITE_LABEL, '--ignore-not-found']);
  for (const api of [OPEN_REPORTS, POLICY_REPORTS]) removeCrd(api);
  // The controller's account and least-privilege RBAC, exactly as manifests/base ships them.
  ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: controllerAccess() }));
  ok(['delete', 'lease', '-n', NAMESPACE, LEASE, '--ignore-not-found']);
});

/** The Namespace, ServiceAccount and RBAC objects of the controller, as manifests/base ships them. */
function controllerAccess(): unknown[] {
  return ['namespace.yaml', 'controller-serviceaccount.yaml', 'controller-rbac.yaml'].flatMap((file) =>
    parseAllDocuments(readFileSync(join(ROOT, 'manifests/base', file), 'utf8')).map((doc) => doc.toJS() as unknown),
  );
}

afterAll(async () => {
  for (const process of started) await process.stop('SIGKILL');
  await direct?.stop();
  kubectl(env, ['delete', 'images.image.openshift.io', '-l', SUITE_LABEL, '--ignore-not-found']);
  for (const api of [OPEN_REPORTS, POLICY_REPORTS]) kubectl(env, ['delete', '--ignore-not-found', `crd/${api.plural}.${api.group}`]);
  kubectl(env, ['delete', 'lease', '-n', NAMESPACE, LEASE, '--ignore-not-found']);
});

describe('with neither report CRD installed', () => {
  it('the gauge counts, rule by rule, the Images audit scan finds in violation, and follows a new one', async () => {
    createImage(broken.a);
    createImage(broken.b);
    createImage(clean);
    const c = controller('no-crd');
    await c.start();
    await untilReady(c);
    const scan = auditScan();
    const want = Object.fromEntries(RULES.map((rule) => [rule.id, scan.byRule[rule.id] ?? 0]));
    expect(await gauge(c)).toEqual(want);
    for (const rule of BROKEN_RULES) expect(want[rule]).toBeGreaterThanOrEqual(2);
    const metrics = await c.metrics();
    expect(sample(metrics, 'image_admission_controller_report_kind', 'kind="none"')).toBe(1);
    expect(sample(metrics, 'image_admission_controller_report_writes_total')).toBe(0);
    expect(sample(metrics, 'image_admission_controller_last_complete_scan_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);

    // A new Image in violation arrives through the watch.
    createImage(broken.d);
    const after = Object.fromEntries(Object.entries(want).map(([rule, n]) => [rule, BROKEN_RULES.includes(rule) ? n + 1 : n]));
    await eventually('the gauge to count the new Image', 10_000, async () => JSON.stringify(await gauge(c)) === JSON.stringify(after));
    expect(c.log()).toContain('"report kind"');
    expect(await c.stop()).toBe(0);
  });
});

describe('openreports.io ClusterReport', () => {
  let c: ControllerProcess;

  beforeAll(() => installCrd(OPEN_REPORTS));
  afterAll(async () => {
    await c?.stop();
  });

  it('reports the Images written while the webhook was not registered within seconds of starting', async () => {
    c = controller('openreports');
    const start = Date.now();
    await c.start();
    const found = await eventually('a report for each Image in violation', 15_000, () => {
      const list = [broken.a, broken.b, broken.d].map((image) => reportOf(OPEN_REPORTS, forSuite(image)));
      return list.every((r) => r !== undefined) ? (list as StoredReport[]) : undefined;
    });
    const seconds = (Date.now() - start) / 1000;
    expect(seconds).toBeLessThan(15);
    // From the controller's own log: its start to its last report written (without process start-up
    // and kubectl polling on a shared machine).
    const times = c.log().split('\n').flatMap((line) => {
      const entry = line.startsWith('{') ? (JSON.parse(line) as { msg: string; time: string }) : undefined;
      return entry && ['controller started', 'report written'].includes(entry.msg) ? [Date.parse(entry.time)] : [];
    });
    console.log(`controller start to three reports: ${seconds.toFixed(1)} s as the test saw it, ${((times.at(-1)! - times[0]!) / 1000).toFixed(2)} s in the controller's log`);
    for (const [i, image] of [broken.a, broken.b, broken.d].entries()) {
      const stored = kubectlJson<Image>(env, ['get', 'images.image.openshift.io', nameOf(forSuite(image))]);
      const report = found[i]!;
      expect(report.metadata.labels).toMatchObject({ [MANAGED_BY_LABEL]: MANAGED_BY });
      expect(report.scope).toEqual({ apiVersion: 'image.openshift.io/v1', kind: 'Image', name: nameOf(stored), uid: stored.metadata!.uid });
      expect(report.results.map((r) => [r.rule, r.properties.field, r.result, r.source])).toEqual(BROKEN_RULES.map((rule, j) => [rule, BROKEN_PATHS[j], 'fail', 'image-admission-webhook']));
      // The verdict the webhook's rules give the stored object, message for message.
      expect(report.results.map((r) => r.message)).toEqual(judgeExisting(stored, JUDGE).violations.map((v) => v.message));
      expect(report.summary).toEqual({ pass: 0, fail: 2, warn: 0, error: 0, skip: 0 });
    }
    expect(reportOf(OPEN_REPORTS, forSuite(clean))).toBeUndefined();
    const metrics = await c.metrics();
    expect(sample(metrics, 'image_admission_controller_report_kind', 'kind="ClusterReport"')).toBe(1);
  });

  it('fixing an Image removes its report', async () => {
    const fixed = forSuite(goodImage('controller/a'));
    fixed.metadata = { ...fixed.metadata, labels: { 'image-admission.io/suite': 'controller' } };
    ok(['replace', '-f', '-'], JSON.stringify(fixed));
    await eventually('the report of the fixed Image to go', 10_000, () => reportOf(OPEN_REPORTS, fixed) === undefined);
    expect(reportOf(OPEN_REPORTS, forSuite(broken.b))).toBeDefined();
  });

  it('deleting an Image removes its report', async () => {
    ok(['delete', 'images.image.openshift.io', nameOf(forSuite(broken.b))]);
    await eventually('the report of the deleted Image to go', 10_000, () => reportOf(OPEN_REPORTS, forSuite(broken.b)) === undefined);
    expect(reportOf(OPEN_REPORTS, forSuite(broken.d))).toBeDefined();
  });

  it('a restart writes nothing: the same reports, the same versions, no duplicate', async () => {
    const before = reports(OPEN_REPORTS).map((r) => `${r.metadata.name} ${r.metadata.uid} ${r.metadata.resourceVersion}`).sort();
    expect(await c.stop()).toBe(0);
    c = controller('openreports-restarted');
    const restarted = Date.now() / 1000;
    await c.start();
    await untilReady(c);
    await eventually('a complete scan after the restart', 10_000, async () => sample(await c.metrics(), 'image_admission_controller_last_complete_scan_timestamp_seconds') >= Math.floor(restarted));
    await eventually('the report queue to drain', 10_000, async () => sample(await c.metrics(), 'image_admission_controller_report_queue') === 0);
    const after = reports(OPEN_REPORTS).map((r) => `${r.metadata.name} ${r.metadata.uid} ${r.metadata.resourceVersion}`).sort();
    expect(after).toEqual(before);
    expect(sample(await c.metrics(), 'image_admission_controller_report_writes_total')).toBe(0);
    const scopes = reports(OPEN_REPORTS).map((r) => r.scope.name);
    expect(new Set(scopes).size).toBe(scopes.length);
  });
});

describe('a forced watch expiry (410 Gone from a compacted etcd)', () => {
  it('is survived: the controller lists again and the reports catch up', async () => {
    direct = new DirectApiServer(env);
    await direct.start();
    const c = controller('expiry', ['--kubeconfig', direct.kubeconfig]);
    await c.start();
    await untilReady(c);
    expect(sample(await c.metrics(), 'image_admission_controller_watch_restarts_total', 'reason="expired"')).toBe(0);
    // The controller's API server goes away (an upgrade); meanwhile Images change and etcd is compacted
    // past the revision its watch will resume from.
    await direct.stop();
    createImage(broken.e);
    ok(['delete', 'images.image.openshift.io', nameOf(forSuite(broken.d))]);
    const revision = await compactEtcd();
    expect(revision).toBeGreaterThan(0);
    await direct.start();
    await eventually('the watch to expire and the list to run again', 90_000, async () => sample(await c.metrics(), 'image_admission_controller_watch_restarts_total', 'reason="expired"') >= 1);
    await eventually('the new Image reported and the deleted one not', 20_000, () => reportOf(OPEN_REPORTS, forSuite(broken.e)) !== undefined && reportOf(OPEN_REPORTS, forSuite(broken.d)) === undefined);
    expect(sample(await c.metrics(), 'image_admission_controller_watch_restarts_total', 'reason="error"')).toBeGreaterThanOrEqual(1);
    expect(c.log()).toContain('410 Gone');
    expect(await c.stop()).toBe(0);
    await direct.stop();
  }, 240_000);
});

describe('two replicas', () => {
  it('elect one writer through the Lease; the other takes over when it stops, and writes nothing current', async () => {
    const election = ['--leader-elect', '--leader-elect-resource-namespace', NAMESPACE, '--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '500ms'];
    const one = controller('replica-1', election);
    const two = controller('replica-2', election);
    await Promise.all([one.start(), two.start()]);
    const leaders = async () => {
      const values = await Promise.all([one, two].map(async (p) => (p.running ? sample(await p.metrics(), 'image_admission_controller_leader') : 0)));
      return values;
    };
    const [first] = await eventually('exactly one leader', 20_000, async () => {
      const values = await leaders();
      return values.filter((v) => v === 1).length === 1 ? [values[0] === 1 ? one : two] : undefined;
    });
    const standby = first === one ? two : one;
    const lease = kubectlJson<{ spec: { holderIdentity: string } }>(env, ['get', 'lease', '-n', NAMESPACE, LEASE]);
    expect(first!.log()).toContain(`"became leader","identity":"${lease.spec.holderIdentity}"`);
    expect(standby.log()).not.toContain('became leader');
    await untilReady(first!);

    const f = brokenImage('controller/f');
    createImage(f);
    await eventually('the leader to report a new Image', 10_000, () => reportOf(OPEN_REPORTS, forSuite(f)) !== undefined);
    expect(sample(await standby.metrics(), 'image_admission_controller_report_writes_total')).toBe(0);
    expect(sample(await first!.metrics(), 'image_admission_controller_report_writes_total', 'operation="create"')).toBeGreaterThanOrEqual(1);

    const versions = () => reports(OPEN_REPORTS).map((r) => `${r.metadata.name} ${r.metadata.resourceVersion}`).sort();
    const before = versions();
    expect(await first!.stop()).toBe(0);
    await eventually('the standby to take over', 15_000, async () => sample(await standby.metrics(), 'image_admission_controller_leader') === 1);
    await untilReady(standby);
    await eventually('its report queue to drain', 10_000, async () => sample(await standby.metrics(), 'image_admission_controller_report_queue') === 0);
    expect(versions()).toEqual(before);
    expect(sample(await standby.metrics(), 'image_admission_controller_report_writes_total')).toBe(0);

    const g = brokenImage('controller/g');
    createImage(g);
    await eventually('the new leader to report a new Image', 10_000, () => reportOf(OPEN_REPORTS, forSuite(g)) !== undefined);
    const scopes = reports(OPEN_REPORTS).map((r) => r.scope.name);
    expect(new Set(scopes).size).toBe(scopes.length);
    expect(await standby.stop()).toBe(0);
  }, 120_000);
});

describe('wgpolicyk8s.io ClusterPolicyReport, when openreports.io is not served', () => {
  it('reports there instead, in that format', async () => {
    removeCrd(OPEN_REPORTS);
    installCrd(POLICY_REPORTS);
    const c = controller('policyreports');
    await c.start();
    const report = await eventually('a ClusterPolicyReport for an Image in violation', 15_000, () => reportOf(POLICY_REPORTS, forSuite(broken.e)));
    expect(report.results.map((r) => r.rule)).toEqual(BROKEN_RULES);
    expect(report.results.every((r) => r.source === 'image-admission-webhook')).toBe(true);
    expect(report).not.toHaveProperty('source');
    expect(sample(await c.metrics(), 'image_admission_controller_report_kind', 'kind="ClusterPolicyReport"')).toBe(1);
    expect(await c.stop()).toBe(0);
  });
});

describe('signatures, judged as the webhook /validate judges them', () => {
  /** Where the controller's --trusted-keys point: laid out as the kubelet mounts a ConfigMap. */
  let keysDir: string;
  const policy: Policy = { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set(), disabledRules: new Set(NAME_DIGEST_RULES) };
  const rsaKey = () => readFileSync(join(fixtures.dir, 'rsa.asc'));

  /** The webhook's answer at `endpoint` for creating `image`, trusting `keys`. */
  async function webhook(endpoint: 'mutate' | 'validate', image: Image, keys: Buffer[]): Promise<AdmissionResponse> {
    const verifier = new SignatureVerifier((await readKeySet(keys.map((bytes, i) => ({ name: `${i}.asc`, bytes })))).keySet);
    const answer = await answerBody(Buffer.from(JSON.stringify(admissionReview({ operation: 'CREATE', object: image }))), endpoint, policy, verifier);
    if (answer.kind !== 'answered') throw new Error(`the webhook did not answer: ${JSON.stringify(answer)}`);
    return (JSON.parse(answer.reply) as { response: AdmissionResponse }).response;
  }

  /** The lines of a /validate denial, as a report's results carry them. */
  const denialLines = (response: AdmissionResponse) => (response.status?.details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);

  /** The known-good Image under a name of this suite, with one real signature made by `fixture`'s key. */
  function signedImage(fixture: string, seed: string): Image {
    const image = anImage();
    image.signatures = [untrustedRealSignature(image.metadata!.name!, { fixture })];
    const crd = forSuite(image);
    const name = `${CONTROLLER_SUITE_PREFIX}sig-${seed}`;
    for (const signature of crd.signatures ?? []) (signature.metadata as { name: string }).name = `${name}@${(signature.metadata as { name: string }).name.split('@')[1]}`;
    crd.metadata = { name, labels: { 'image-admission.io/suite': 'controller' } };
    return crd;
  }

  beforeAll(async () => {
    keysDir = await mkdtemp(join(env.work, 'trusted-keys-'));
    // The keys ConfigMap exists but trusts nothing yet.
    await publishGeneration(keysDir, {}, '2026_01_01_empty');
  });

  it('reports a claimed Trusted=True by an untrusted key, and re-judges every Image when the trusted keys change', async () => {
    // Stored while the webhook is not registered: the writer claims its signature is trusted.
    const claimed = signedImage('untrusted-key', 'claimed');
    claimed.signatures![0]!.conditions![0] = { ...claimed.signatures![0]!.conditions![0]!, status: 'True', reason: 'Verified', message: 'trust me' };
    ok(['create', '-f', '-'], JSON.stringify(claimed));
    // A real signature by the RSA test key, stored exactly as the webhook's /mutate derives it when that
    // key is trusted. (Through a CRD the Image cannot be named by its digest, so verification says
    // NotForImage rather than Verified: the derived fields and conditions are what counts here.)
    const written = signedImage('rsa-valid', 'derived');
    const { patch } = await webhook('mutate', written, [rsaKey()]);
    const derived = fastJsonPatch.applyPatch(structuredClone(written), JSON.parse(Buffer.from(patch!, 'base64').toString('utf8'))).newDocument;
    expect(derived.signatures![0]!.issuedTo?.publicKeyID).toMatch(/^[0-9A-F]{40}$/);
    expect((await webhook('validate', derived, [rsaKey()])).allowed).toBe(true);
    ok(['create', '-f', '-'], JSON.stringify(derived));

    const rules = NAME_DIGEST_RULES.join(',');
    const c = controller('signatures', ['--disable-rules', rules, '--trusted-keys', keysDir], CONNECTION);
    await c.start();
    await untilReady(c);
    expect(sample(await c.metrics(), 'image_admission_trusted_keys')).toBe(0);

    // No key trusted: the claim is reported with the webhook's own denial, line for line; so is the
    // derived signature, whose signer's fields no trusted key vouches for.
    const claimedReport = await eventually('a report of the claimed Trusted=True', 30_000, () => reportOf(POLICY_REPORTS, claimed));
    const untrustedDenial = denialLines(await webhook('validate', claimed, []));
    expect(untrustedDenial[0]).toContain('signatures[0].conditions: Invalid value: must be what verification derives: Trusted=False (UntrustedKey)');
    expect(claimedReport.results.map((r) => [r.rule, r.message])).toEqual(untrustedDenial.map((line) => [SIGNATURE_RULE, line]));
    const derivedReport = await eventually('a report of the signature no trusted key vouches for', 30_000, () => reportOf(POLICY_REPORTS, derived));
    expect(derivedReport.results.map((r) => [r.rule, r.message])).toEqual(denialLines(await webhook('validate', derived, [])).map((line) => [SIGNATURE_RULE, line]));
    // audit scan with the same keys finds the same.
    const scanned = auditScan(NAME_DIGEST_RULES, ['--trusted-keys', keysDir]).findings.map((f) => f.name);
    expect(scanned).toEqual(expect.arrayContaining([nameOf(claimed), nameOf(derived)]));

    // The signing key arrives as a ConfigMap update does (the `..data` swap): no restart, no SIGHUP.
    await publishGeneration(keysDir, { 'rsa.asc': rsaKey() }, '2026_01_02_rsa');
    // (Generous: the rescan lists every stored Image of every suite, two a page, on a shared machine.)
    await eventually('the derived signature no longer reported', 60_000, () => reportOf(POLICY_REPORTS, derived) === undefined);
    expect(c.log()).toContain('trusted signing keys reloaded: judging every Image again');
    expect(sample(await c.metrics(), 'image_admission_trusted_keys')).toBe(1);
    // The claim by a key that is still not trusted stays reported, as /validate still denies it.
    const still = reportOf(POLICY_REPORTS, claimed);
    expect(still?.results.map((r) => r.message)).toEqual(denialLines(await webhook('validate', claimed, [rsaKey()])));
    const rescanned = auditScan(NAME_DIGEST_RULES, ['--trusted-keys', keysDir]).findings.map((f) => f.name);
    expect(rescanned).toContain(nameOf(claimed));
    expect(rescanned).not.toContain(nameOf(derived));
    expect(await c.stop()).toBe(0);
  }, 180_000);

  it('holds one watched Image whole while a burst waits for verification, reads the rest again as the controller account, and honours a deletion', async () => {
    // The informer in process, with the controller's own account (manifests/base RBAC) and a verifier
    // that, once the first list is judged, holds every verification until the test opens it.
    const k8s = await import('@kubernetes/client-node');
    const config = loadKubeConfig(k8s, { kubeconfig: env.kubeconfig, context: 'controller' });
    let gate: Promise<void> = Promise.resolve();
    let open = () => {};
    class GatedVerifier extends SignatureVerifier {
      override async verifyAll(contents: readonly string[]) {
        await gate;
        return super.verifyAll(contents);
      }
    }
    const store = new VerdictStore();
    const metrics = createControllerMetrics({ defaultMetrics: false });
    const logged: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logged.push(String(chunk)), done()) });
    const informer = createImageInformer({
      k8s,
      config,
      kube: kubeClient(config),
      pageSize: 50,
      maxHeld: 1,
      // (Through a CRD the names are no digests: those rules are left out, as in the test above.)
      judge: { disabledRules: new Set<RuleId>(NAME_DIGEST_RULES) },
      verifier: new GatedVerifier(),
      store,
      metrics,
      log: createLogger(sink, 'info'),
      onScanComplete: () => {},
    });
    const waiting = async () => {
      const text = await metrics.registry.metrics();
      const value = (state: string) => Number(new RegExp(`^image_admission_controller_images_waiting\\{state="${state}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
      const deferredTotal = Number(/^image_admission_controller_images_deferred_total (\d+)$/m.exec(text)?.[1]);
      return { held: value('held'), deferred: value('deferred'), deferredTotal };
    };
    const burst = ['b1', 'b2', 'b3', 'b4', 'b5'].map((seed) => {
      const image = signedImage('untrusted-key', `burst-${seed}`);
      image.signatures![0]!.conditions![0] = { ...image.signatures![0]!.conditions![0]!, status: 'True', reason: 'Verified', message: 'trust me' };
      return image;
    });
    try {
      void informer.start();
      await eventually('the first list judged', 30_000, () => informer.synced);
      gate = new Promise((resolve) => (open = resolve));

      // Five Images, each claiming Trusted=True for a signature by an untrusted key, in one write burst.
      ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: burst }));
      expect(await eventually('one Image held, four kept by name', 30_000, async () => {
        const now = await waiting();
        return now.held === 1 && now.deferred === 4 && now;
      })).toEqual({ held: 1, deferred: 4, deferredTotal: 4 });

      // Deleted while only its name waits: it is never read, and never reported.
      const deleted = burst[4]!;
      ok(['delete', 'images.image.openshift.io', nameOf(deleted)]);
      await eventually('the deleted Image no longer waiting', 30_000, async () => (await waiting()).deferred === 3);

      open();
      await eventually('every Image judged', 30_000, async () => {
        const now = await waiting();
        return now.held === 0 && now.deferred === 0 && burst.slice(0, 4).every((image) => store.get(nameOf(image)) !== undefined);
      });
      for (const image of burst.slice(0, 4)) expect(store.get(nameOf(image))?.finding.rules).toEqual([SIGNATURE_RULE]);
      expect(store.get(nameOf(deleted))).toBeUndefined();
      // The reads went through: no 403 (the role grants get), no other failure.
      expect(logged.join('')).not.toContain('could not be judged');
    } finally {
      open();
      await informer.stop();
      kubectl(env, ['delete', 'images.image.openshift.io', ...burst.map(nameOf), '--ignore-not-found']);
    }
  }, 120_000);
});
