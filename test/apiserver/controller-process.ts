/**
 * What the controller suite needs around the cluster of run.sh: the controller as a child process
 * (`node dist/cli/main.js controller`) with its metrics and log, a second kube-apiserver on the same
 * etcd without a watch cache (so that a watch resumed from a compacted revision gets a real 410 from
 * etcd), and etcd's compaction through its JSON gateway.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { freePort, ROOT, type SuiteEnvironment } from './harness.js';
import { spawnTracked, stopTracked } from './tracked-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value (not undefined/false) or `ms` pass; fails with `what`. */
export async function eventually<T>(what: string, ms: number, check: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(200);
  }
}

/** GET http://127.0.0.1:port/path: the status and body, or status 0 when nothing answers. */
function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 3_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The samples of a Prometheus text exposition: `name{labels}` -> value. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** One `image-admission controller` process. */
export class ControllerProcess {
  private child: ChildProcess | undefined;
  readonly logFile: string;
  metricsPort = 0;
  probePort = 0;
  private logStart = 0;

  constructor(
    private readonly env: SuiteEnvironment,
    readonly id: string,
    private readonly args: string[],
  ) {
    this.logFile = join(env.work, `controller-${id}.log`);
  }

  private get pidFile(): string {
    return join(this.env.pids, `controller-${this.id}.pid`);
  }

  /** Starts it and waits until its probes answer. */
  async start(): Promise<void> {
    if (this.child) throw new Error(`controller ${this.id} already running`);
    this.metricsPort = await freePort();
    // Each pick is released before the next: the kernel may hand the same port out twice, and the
    // controller then exits 1 on EADDRINUSE for its second server.
    do this.probePort = await freePort();
    while (this.probePort === this.metricsPort);
    this.logStart = existsSync(this.logFile) ? readFileSync(this.logFile).length : 0;
    const child = spawnTracked(
      process.execPath,
      [
        'dist/cli/main.js',
        'controller',
        '--metrics-bind-address',
        `127.0.0.1:${this.metricsPort}`,
        '--health-probe-bind-address',
        `127.0.0.1:${this.probePort}`,
        ...this.args,
      ],
      { logFile: this.logFile, pidFile: this.pidFile },
      { cwd: ROOT, env: { ...process.env, KUBECONFIG: this.env.kubeconfig } },
    );
    this.child = child;
    await eventually(`controller ${this.id} answering /healthz (see ${this.logFile})`, 20_000, async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${this.log().slice(-2000)}`);
      return (await httpGet(this.probePort, '/healthz')).status === 200;
    });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  /** Stops it with `signal` and waits for its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    this.child = undefined;
    return stopTracked(child, this.pidFile, 15_000, signal);
  }

  /** Its log since the last start. */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile).subarray(this.logStart).toString() : '';
  }

  /** Its current metrics. */
  async metrics(): Promise<Map<string, number>> {
    const response = await httpGet(this.metricsPort, '/metrics');
    if (response.status !== 200) throw new Error(`controller ${this.id} /metrics answered ${response.status}`);
    return parseMetrics(response.body);
  }

  async ready(): Promise<boolean> {
    return (await httpGet(this.probePort, '/readyz')).status === 200;
  }
}

/** Sums the samples of `name` whose labels include `labels` (`rule="x"`). */
export function sample(metrics: Map<string, number>, name: string, labels = ''): number {
  let total = 0;
  for (const [key, value] of metrics) {
    const [metric, rest = ''] = key.split('{');
    if (metric === name && rest.includes(labels)) total += value;
  }
  return total;
}

/**
 * A second kube-apiserver on run.sh's etcd with the same certificates and users, but with
 * `--watch-cache=false`: its watches read etcd directly, so a watch from a compacted revision fails
 * with etcd's ErrCompacted, which the API server turns into 410 Expired. Started and stopped by the
 * suite (an API server restart, as in an upgrade).
 */
export class DirectApiServer {
  private child: ChildProcess | undefined;
  port = 0;
  readonly kubeconfig: string;

  constructor(private readonly env: SuiteEnvironment) {
    this.kubeconfig = join(env.work, 'kubeconfig-direct');
  }

  private get pidFile(): string {
    return join(this.env.pids, 'apiserver-direct.pid');
  }

  async start(): Promise<void> {
    const binary = process.env.APISERVER_SUITE_KUBE_APISERVER;
    const etcd = process.env.APISERVER_SUITE_ETCD;
    if (!binary || !etcd) throw new Error('run.sh did not export APISERVER_SUITE_KUBE_APISERVER and APISERVER_SUITE_ETCD');
    if (this.port === 0) this.port = await freePort();
    const pki = join(this.env.work, 'pki');
    const child = spawnTracked(
      binary,
      [
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${this.port}`,
        '--insecure-port=0',
        `--etcd-servers=${etcd}`,
        `--tls-cert-file=${pki}/apiserver.crt`,
        `--tls-private-key-file=${pki}/apiserver.key`,
        `--client-ca-file=${pki}/ca.crt`,
        `--cert-dir=${join(this.env.work, 'apiserver-direct-certs')}`,
        '--authorization-mode=RBAC',
        `--token-auth-file=${pki}/tokens.csv`,
        '--anonymous-auth=false',
        '--service-account-issuer=https://kubernetes.default.svc',
        `--service-account-key-file=${pki}/sa.pub`,
        `--service-account-signing-key-file=${pki}/sa.key`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--endpoint-reconciler-type=none',
        '--enable-admission-plugins=NamespaceLifecycle,ServiceAccount',
        '--watch-cache=false',
        '--profiling=false',
        '--logtostderr=true',
        '--v=1',
      ],
      { logFile: join(this.env.work, 'apiserver-direct.log'), pidFile: this.pidFile },
    );
    this.child = child;
    // The same kubeconfig, pointed at this server.
    const config = readFileSync(this.env.kubeconfig, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/g, `server: https://127.0.0.1:${this.port}`);
    writeFileSync(this.kubeconfig, config, { mode: 0o600 });
    await eventually('the direct API server ready', 90_000, () => {
      if (child.exitCode !== null) throw new Error(`kube-apiserver exited with ${child.exitCode}`);
      return this.images();
    });
  }

  /** Whether it serves Images yet, to the controller's account too (CRD discovery and RBAC lag its start). */
  private images(): boolean {
    return ['admin', 'controller'].every((context) => spawnKubectl(this.env, this.kubeconfig, context, ['get', 'images.image.openshift.io', '-o', 'name']) === 0);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    await stopTracked(child, this.pidFile, 15_000);
  }
}


function spawnKubectl(env: SuiteEnvironment, kubeconfig: string, context: string, args: string[]): number {
  const result = spawnSync(env.kubectl, ['--context', context, ...args], { env: { ...process.env, HOME: env.work, KUBECONFIG: kubeconfig }, encoding: 'utf8', timeout: 20_000 });
  return result.status ?? -1;
}

/** etcd's current revision and a compaction up to it, through etcd's v3 JSON gateway. */
export async function compactEtcd(): Promise<number> {
  const etcd = process.env.APISERVER_SUITE_ETCD;
  if (!etcd) throw new Error('run.sh did not export APISERVER_SUITE_ETCD');
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${etcd}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`etcd ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as { header?: { revision?: string } };
  };
  // A range read of any key answers with the store's current revision in its header.
  const status = await post('/v3/kv/range', { key: Buffer.from('compact-probe').toString('base64') });
  const revision = Number(status.header?.revision);
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}
