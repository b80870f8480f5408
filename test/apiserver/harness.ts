/**
 * What the real-API-server suite needs around kubectl: the cluster that scripts/apiserver/run.sh
 * started (read from its environment), a kubectl runner per user, the webhook as a child process
 * that can be stopped and restarted in another mode, its webhook configurations, and a ledger of
 * every Image write so that the audit log can be checked write by write.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Image } from '../../src/image/types.js';
import { anImage } from '../fixtures/index.js';
import { spawnTracked, stopTracked } from './tracked-process.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The webhook names: the API server records audit annotations as `<webhook name>/<key>`. */
export const MUTATING_WEBHOOK = 'mutate.images.image-admission.io';
export const VALIDATING_WEBHOOK = 'validate.images.image-admission.io';
/** The users of run.sh's token file: a cluster admin, an exempted migration account, a developer. */
export type User = 'admin' | 'image-migrator' | 'jane';
export const EXEMPT_USER: User = 'image-migrator';
/**
 * The rules that compare metadata.name with a digest: a custom resource cannot be named
 * `sha256:<hex>` (names must be DNS subdomains), so under the CRD every Image would break them.
 * The webhook runs with them disabled here; the unit tests cover them.
 */
export const NAME_DIGEST_RULES = ['manifest-digest', 'reference-digest'] as const;

export interface SuiteEnvironment {
  work: string;
  pids: string;
  auditLog: string;
  kubectl: string;
  kubeconfig: string;
}

/** The cluster run.sh started; the suite cannot run without it (and says how to get it). */
export function suiteEnvironment(): SuiteEnvironment {
  const { APISERVER_SUITE_WORK: work, APISERVER_SUITE_PIDS: pids, APISERVER_SUITE_AUDIT_LOG: auditLog, APISERVER_SUITE_KUBECTL: kubectl, KUBECONFIG: kubeconfig } =
    process.env;
  if (!work || !pids || !auditLog || !kubectl || !kubeconfig) {
    throw new Error('test/apiserver needs the cluster that scripts/apiserver/run.sh starts: run `npm run test:apiserver`');
  }
  return { work, pids, auditLog, kubectl, kubeconfig };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl as `user` (its kubeconfig context), with `input` on standard input. */
export function kubectl(env: SuiteEnvironment, args: string[], options: { as?: User; input?: string } = {}): Run {
  const result = spawnSync(env.kubectl, ['--context', options.as ?? 'admin', ...args], {
    input: options.input ?? '',
    encoding: 'utf8',
    // Discovery cache and kubectl's own state stay in the run's folder.
    env: { ...process.env, HOME: env.work, KUBECONFIG: env.kubeconfig },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** The JSON of a successful kubectl run; fails with kubectl's error otherwise. */
export function kubectlJson<T = Record<string, unknown>>(env: SuiteEnvironment, args: string[], options: { as?: User; input?: string } = {}): T {
  const run = kubectl(env, [...args, '-o', 'json'], options);
  if (run.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/**
 * A fixture Image renamed for a CustomResourceDefinition: `sha256:<hex>` becomes `sha256.<hex>` (a
 * DNS subdomain), signatures follow (`<imageName>@<name>`), and the server-owned metadata goes.
 */
export function forCrd(image: Image): Image {
  const copy = structuredClone(image);
  const oldName = String(copy.metadata?.name ?? '');
  const name = oldName.replace(':', '.');
  copy.metadata = { name };
  for (const signature of copy.signatures ?? []) {
    const metadata = signature.metadata as { name?: string } | undefined;
    if (metadata?.name?.startsWith(`${oldName}@`)) metadata.name = `${name}@${metadata.name.slice(oldName.length + 1)}`;
  }
  return copy;
}

/** The name prefix of the Images test/apiserver/controller.test.ts writes (not the webhook suite's writes). */
export const CONTROLLER_SUITE_PREFIX = 'controller-suite-';

/** The name prefix of the Images test/apiserver/signatures.test.ts writes. */
export const SIGNATURES_SUITE_PREFIX = 'signatures-suite-';

/** The name prefix of the Images test/apiserver/audit-review.test.ts writes. */
export const AUDIT_REVIEW_SUITE_PREFIX = 'audit-review-';

/** The name of an Image. */
export function nameOf(image: Image): string {
  return String(image.metadata?.name);
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** GET https://127.0.0.1:port/path trusting `ca`; resolves with the status code, or 0 when unreachable. */
function httpsStatus(port: number, path: string, ca: string): Promise<number> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', ca, timeout: 2_000 }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', () => done(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Mode = 'enforce' | 'warn' | 'dry-run';

/**
 * The webhook (`node dist/cli/main.js serve`) on one loopback port, started and stopped by the suite.
 * Its pid is recorded where run.sh's trap finds it, so it is stopped even if this process dies.
 */
export class Webhook {
  private child: ChildProcess | undefined;
  readonly certDir: string;
  readonly logFile: string;

  constructor(
    private readonly env: SuiteEnvironment,
    readonly port: number,
    /** `serve` flags every start adds (e.g. `--trusted-keys DIR`), so that a restart keeps them. */
    private readonly extraArgs: readonly string[] = [],
  ) {
    this.certDir = join(env.work, 'webhook-certs');
    this.logFile = join(env.work, `webhook-${port}.log`);
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get caFile(): string {
    return join(this.certDir, 'ca.crt');
  }

  private get pidFile(): string {
    return join(this.env.pids, `webhook-${this.port}.pid`);
  }

  /** Generates the CA and serving certificate (SANs include IP 127.0.0.1) with the project's own command. */
  generateCertificates(): void {
    mkdirSync(this.certDir, { recursive: true });
    const result = spawnSync(
      process.execPath,
      ['dist/cli/main.js', 'certs', '--out', this.certDir, '--service', 'image-admission-webhook', '--namespace', 'image-admission'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`image-admission certs failed: ${result.stderr}`);
  }

  /** Starts the webhook in `mode`, exempting {@link EXEMPT_USER}, and waits until it answers. */
  async start(mode: Mode): Promise<void> {
    if (this.child) throw new Error('webhook already running');
    const child = spawnTracked(
      process.execPath,
      [
        'dist/cli/main.js',
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(this.port),
        // Several runs share this machine: never the default :8081.
        '--health-probe-bind-address',
        '127.0.0.1:0',
        '--tls-cert',
        join(this.certDir, 'tls.crt'),
        '--tls-key',
        join(this.certDir, 'tls.key'),
        '--mode',
        mode,
        '--exempt-users',
        EXEMPT_USER,
        '--disable-rules',
        NAME_DIGEST_RULES.join(','),
        '--log-level',
        'info',
        ...this.extraArgs,
      ],
      { logFile: this.logFile, pidFile: this.pidFile },
      { cwd: ROOT },
    );
    this.child = child;
    const ca = readFileSync(this.caFile, 'utf8');
    const deadline = Date.now() + 20_000;
    while ((await httpsStatus(this.port, '/readyz', ca)) !== 200) {
      if (child.exitCode !== null) throw new Error(`webhook exited with ${child.exitCode}; see ${this.logFile}`);
      if (Date.now() > deadline) throw new Error(`webhook not ready on ${this.url}; see ${this.logFile}`);
      await sleep(100);
    }
  }

  /** Stops the webhook (SIGTERM, then SIGKILL after 10 s) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    await stopTracked(child, this.pidFile, 10_000);
  }

  /** Stops the webhook and starts it again in `mode` (with the same extra flags). */
  async restart(mode: Mode): Promise<void> {
    await this.stop();
    await this.start(mode);
  }

  /** The webhook's decision log (one JSON object a line) over every start on this port. */
  decisions(): Record<string, unknown>[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8')
      .split('\n')
      .flatMap((line) => {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          return typeof entry.decisionId === 'string' ? [entry] : [];
        } catch {
          return [];
        }
      });
  }
}

/** A webhook on a free port with a fresh CA and serving certificate, started in enforce mode. */
export async function startWebhook(env: SuiteEnvironment, extraArgs: readonly string[] = []): Promise<Webhook> {
  const webhook = new Webhook(env, await freePort(), extraArgs);
  webhook.generateCertificates();
  await webhook.start('enforce');
  return webhook;
}

/**
 * The Mutating- and ValidatingWebhookConfiguration calling the webhook at `url` (URL mode), trusting
 * `caFile`, rendered by the project's own `image-admission manifests --url --ca` from
 * manifests/base/webhooks.yaml: what is tested is what is deployed (failurePolicy Fail, timeouts,
 * rules), only the client configuration differs.
 */
export function webhookConfigurations(url: string, caFile: string): string {
  const result = spawnSync(process.execPath, ['dist/cli/main.js', 'manifests', '--url', url, '--ca', caFile], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`image-admission manifests failed: ${result.stderr}`);
  for (const name of [MUTATING_WEBHOOK, VALIDATING_WEBHOOK]) {
    if (!result.stdout.includes(`name: ${name}`)) throw new Error(`image-admission manifests rendered no webhook named ${name}`);
  }
  return result.stdout;
}

/**
 * Registers `target` (both webhook configurations, as deployed) and waits until both are in force: a
 * server-side dry run of a probe Image (named `probe-N`) is defaulted by /mutate and reviewed by /validate.
 */
export async function registerWebhook(env: SuiteEnvironment, target: Webhook): Promise<void> {
  const applied = kubectl(env, ['apply', '-f', '-'], { input: webhookConfigurations(target.url, target.caFile) });
  if (applied.code !== 0 || applied.stderr !== '') throw new Error(`kubectl apply of the webhook configurations failed (${applied.code}): ${applied.stderr}`);
  const deadline = Date.now() + 60_000;
  for (let attempt = 0; ; attempt++) {
    const probe = forCrd(anImage());
    probe.metadata = { name: `${PROBE_PREFIX}${attempt}` };
    delete probe.dockerImageMetadataVersion;
    const run = kubectl(env, ['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(probe) });
    const defaulted = run.code === 0 && (JSON.parse(run.stdout) as Image).dockerImageMetadataVersion === '1.0';
    const validated = target.decisions().some((d) => d.endpoint === 'validate' && d.name === probe.metadata?.name);
    if (defaulted && validated) return;
    if (Date.now() > deadline) throw new Error(`webhook configurations not in force after 60 s: ${run.stderr}`);
    await sleep(500);
  }
}

/** The kinds of the webhook configurations registerWebhook applies (both named image-admission-webhook). */
export type WebhookConfigurationKind = 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';

/**
 * Deletes the webhook configurations of `kinds` (by default both): a file that stops its webhook leaves
 * nothing that calls it under Fail, and the suite's other files register their own.
 */
export function unregisterWebhook(env: SuiteEnvironment, kinds: readonly WebhookConfigurationKind[] = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']): void {
  for (const kind of kinds) {
    const run = kubectl(env, ['delete', kind.toLowerCase(), 'image-admission-webhook', '--ignore-not-found']);
    if (run.code !== 0) throw new Error(`kubectl delete ${kind} failed (${run.code}): ${run.stderr}`);
  }
}

/** The name prefix of registerWebhook's dry-run probes (never stored, but audited). */
export const PROBE_PREFIX = 'probe-';

/** What the suite expects the audit log to say about one Image write. */
export interface ExpectedWrite {
  name: string;
  /** The audit verb: create (kubectl create), update (kubectl replace), patch (kubectl label). */
  verb: 'create' | 'update' | 'patch';
  /** The response code the API server gave. */
  code: number;
  /** The decision annotated by each webhook; undefined when that webhook was not called or not reached. */
  mutate?: string;
  validate?: string;
}

/** One audit event of the API server's JSON audit log (the fields the suite reads). */
export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string };
  objectRef?: { resource?: string; apiGroup?: string; name?: string };
  responseStatus?: { code?: number };
  annotations?: Record<string, string>;
}

/** The Image write events of the audit log, in order. */
export function imageWriteEvents(auditLog: string): AuditEvent[] {
  return readFileSync(auditLog, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditEvent)
    .filter(
      (event) =>
        event.stage === 'ResponseComplete' &&
        event.objectRef?.apiGroup === 'image.openshift.io' &&
        event.objectRef.resource === 'images' &&
        ['create', 'update', 'patch'].includes(event.verb),
    );
}
