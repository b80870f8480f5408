/**
 * `npm run bench`: the webhook (built dist/, over TLS, as a child process) against a floor (a bare
 * node:https server, bench/floor.mjs) under the same load, in the same run, in alternating rounds.
 * The servers run on one core, this load generator on the other. Every answer is checked, and every
 * budget line is printed PASS/FAIL (bench/budgets.ts). Exit code: 0 when every answer was right and
 * every budget met; 1 on any wrong answer, or on a missed budget unless `--report`; 2 when the bench
 * could not run (a server did not start, a bad setting).
 *
 * Command line: `npm run bench -- --report`: budgets are printed, not enforced (wrong answers still fail).
 *
 * Environment (all optional):
 *   BENCH_REPORT_ONLY=1                  the same as --report
 *   BENCH_WORKLOADS=typical,large,huge   which workloads, in order
 *   BENCH_ROUNDS=3                       saturation rounds per server and workload
 *   BENCH_MODERATE_ROUNDS=2              fixed-rate rounds per server and workload
 *   BENCH_SECONDS=4                      length of one round
 *   BENCH_WARMUP_SECONDS=3               unrecorded saturation before the rounds
 *   BENCH_LOG_LEVEL=warn                 the webhook's --log-level (its output is discarded)
 *   BENCH_CPU_PROF=1                     also write V8 CPU profiles of both servers per workload
 *   BENCH_FLOOR=fastify                  the floor on fastify (bench/floor-fastify.mjs) instead of node:https
 *   BENCH_SUBJECT=floor-fastify          the fastify floor in the webhook's place: what the framework alone costs
 *   BENCH_CONTENT=fresh                  fresh: every write's content is new (one /mutate, one /validate), as
 *                                        from an API server; replay: the same bodies round-robin (flatters caches)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { certificatePaths, writeCertificates } from '../src/certs/files.js';
import { generateCertificates } from '../src/certs/generate.js';
import { type Budget, benchMode, benchVerdict, budgetsFor } from './budgets.js';
import { type BenchRequest, checkAnswer, checkFloorAnswer, WORKLOADS, type Workload, type WorkloadName } from './workloads.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SERVICE_DNS = 'image-admission-webhook.image-admission.svc';

const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const MODERATE_ROUNDS = Number(env.BENCH_MODERATE_ROUNDS ?? 2);
const SECONDS = Number(env.BENCH_SECONDS ?? 4);
const WARMUP_SECONDS = Number(env.BENCH_WARMUP_SECONDS ?? 3);
const LOG_LEVEL = env.BENCH_LOG_LEVEL ?? 'warn';
const CPU_PROF = env.BENCH_CPU_PROF === '1';
const FLOOR = env.BENCH_FLOOR === 'fastify' ? 'fastify' : 'node:https';
const FLOOR_SCRIPT = FLOOR === 'fastify' ? 'bench/floor-fastify.mjs' : 'bench/floor.mjs';
// The server measured against the floor: the webhook, or (to price fastify alone) the fastify floor.
const SUBJECT = env.BENCH_SUBJECT === 'floor-fastify' ? 'floor-fastify' : 'webhook';
const CONTENT = env.BENCH_CONTENT === 'replay' ? 'replay' : 'fresh';
const SELECTED = (env.BENCH_WORKLOADS ?? 'typical,large,huge').split(',').map((s) => s.trim()) as WorkloadName[];

type ServerName = 'webhook' | 'floor';

interface Stats {
  cpuUserUs: number;
  cpuSystemUs: number;
  loopMaxMs: number;
  loopP99Ms: number;
  rssBytes: number;
}

interface Server {
  name: ServerName;
  child: ChildProcess;
  pid: number;
  pool: Pool;
  stats(reset: boolean): Promise<Stats>;
  vmHwmBytes(): number;
  output(): string;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Pinning: servers on one core, the load generator (this process, every thread) on the other.

const CORES = cpus().length;
const PINNED = CORES >= 2 && hasTaskset();
const SERVER_CORE = '0';
const CLIENT_CORE = '1';

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function affinityOf(pid: number): string {
  try {
    return execFileSync('taskset', ['-pc', String(pid)], { encoding: 'utf8' }).trim().split(': ').pop() ?? '?';
  } catch {
    return '?';
  }
}

// ---------------------------------------------------------------------------------------------
// Servers

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

async function startServer(name: ServerName, tls: { cert: string; key: string; ca: string }, workload: string, profDir: string | undefined): Promise<Server> {
  const port = await freePort();
  const subjectIsWebhook = name === 'webhook' && SUBJECT === 'webhook';
  const script = subjectIsWebhook ? join(ROOT, 'dist/cli/main.js') : join(ROOT, name === 'webhook' ? 'bench/floor-fastify.mjs' : FLOOR_SCRIPT);
  const common = ['--host', '127.0.0.1', '--port', String(port), '--tls-cert', tls.cert, '--tls-key', tls.key];
  const flags = subjectIsWebhook ? ['serve', ...common, '--health-probe-bind-address', '127.0.0.1:0', '--log-level', LOG_LEVEL] : common;
  const profile = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', `${name}-${workload}.cpuprofile`] : [];
  const node = [process.execPath, '--import', join(ROOT, 'bench/preload.mjs'), ...profile, script, ...flags];
  const [command, ...args] = PINNED ? ['taskset', '-c', SERVER_CORE, ...node] : node;
  const child = spawn(command!, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  let next = 0;
  const waiting = new Map<number, (stats: Stats) => void>();
  child.on('message', (message: Stats & { bench?: string; id?: number }) => {
    if (message.bench === 'stats' && message.id !== undefined) waiting.get(message.id)?.(message);
  });
  const pool = new Pool(`https://127.0.0.1:${port}`, {
    connections: 32,
    pipelining: 1,
    keepAliveTimeout: 120_000,
    bodyTimeout: 60_000,
    headersTimeout: 60_000,
    connect: { ca: readFileSync(tls.ca, 'utf8'), servername: SERVICE_DNS, rejectUnauthorized: true },
  });
  const server: Server = {
    name,
    child,
    pid: child.pid!,
    pool,
    stats: (reset) =>
      new Promise((done, reject) => {
        const id = next++;
        const timer = setTimeout(() => reject(new Error(`${name} did not answer a stats request`)), 10_000);
        waiting.set(id, (stats) => {
          clearTimeout(timer);
          waiting.delete(id);
          done(stats);
        });
        child.send({ bench: 'stats', id, reset });
      }),
    vmHwmBytes: () => {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return match ? Number(match[1]) * 1024 : NaN;
    },
    output: () => output,
    stop: async () => {
      await pool.close().catch(() => undefined);
      if (child.connected) child.disconnect();
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await pool.request({ path: '/healthz', method: 'GET' });
      await res.body.text();
      if (res.statusCode === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not become healthy:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return server;
}

// ---------------------------------------------------------------------------------------------
// Load

interface Outcome {
  latencies: number[];
  reviews: number;
  wrong: number;
  failures: string[];
}

// How often each request was sent: its n-th sending carries the write's n-th fresh content.
const passes = new Map<BenchRequest, number>();

function bodyOf(request: BenchRequest, uid: string): Buffer {
  if (CONTENT === 'replay') return Buffer.concat([request.prefix, Buffer.from(uid, 'latin1'), request.suffix]);
  const pass = passes.get(request) ?? 0;
  passes.set(request, pass + 1);
  return request.fresh(uid, pass);
}

async function send(server: Server, request: BenchRequest, outcome: Outcome, since: number): Promise<void> {
  const uid = randomUUID();
  const body = bodyOf(request, uid);
  let problem: string | undefined;
  try {
    const res = await server.pool.request({
      path: `${request.path}?timeout=10s`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const text = await res.body.text();
    outcome.latencies.push(performance.now() - since);
    if (res.statusCode !== 200) problem = `HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
    else {
      const json: unknown = JSON.parse(text);
      problem = server.name === 'floor' || SUBJECT !== 'webhook' ? checkFloorAnswer(json, uid) : checkAnswer(json, uid, request.apiVersion, request.expect);
    }
  } catch (error) {
    problem = `request failed: ${(error as Error).message}`;
  }
  outcome.reviews++;
  if (problem !== undefined) {
    outcome.wrong++;
    if (outcome.failures.length < 5) outcome.failures.push(`${server.name} ${request.path} ${request.label}: ${problem}`);
  }
}

/** Closed loop: `connections` callers, each sending its next review as soon as the last is answered. */
async function saturate(server: Server, workload: Workload, seconds: number, cursor: { next: number }, minReviews = 0): Promise<Outcome> {
  const outcome: Outcome = { latencies: [], reviews: 0, wrong: 0, failures: [] };
  const end = performance.now() + seconds * 1000;
  const cap = end + 10 * seconds * 1000;
  const caller = async () => {
    while (performance.now() < end || (outcome.reviews < minReviews && performance.now() < cap)) {
      const request = workload.requests[cursor.next++ % workload.requests.length]!;
      await send(server, request, outcome, performance.now());
    }
  };
  await Promise.all(Array.from({ length: workload.saturationConnections }, caller));
  return outcome;
}

/**
 * Open loop at a fixed rate: review k is due at start + k/rate whatever happened before, at most
 * `limit` in flight. Latency counts from when the review was due, so a stall is not hidden by
 * the reviews it delayed (no coordinated omission).
 */
function paced(server: Server, workload: Workload, seconds: number, cursor: { next: number }): Promise<Outcome> {
  const outcome: Outcome = { latencies: [], reviews: 0, wrong: 0, failures: [] };
  const rate = workload.moderateRate;
  const limit = workload.moderateConnections;
  const total = Math.max(1, Math.round(seconds * rate));
  const start = performance.now();
  let sent = 0;
  let inflight = 0;
  let timer: NodeJS.Timeout | undefined;
  return new Promise((done) => {
    const pump = () => {
      timer = undefined;
      const now = performance.now();
      while (sent < total && inflight < limit && start + (sent * 1000) / rate <= now) {
        const due = start + (sent * 1000) / rate;
        sent++;
        inflight++;
        const request = workload.requests[cursor.next++ % workload.requests.length]!;
        void send(server, request, outcome, due).then(() => {
          inflight--;
          if (sent === total && inflight === 0) done(outcome);
          else pump();
        });
      }
      if (sent < total && inflight < limit && timer === undefined) {
        timer = setTimeout(pump, Math.max(0, start + (sent * 1000) / rate - performance.now()));
      }
    };
    pump();
  });
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface Round {
  server: ServerName;
  phase: 'saturation' | 'moderate';
  round: number;
  seconds: number;
  reviews: number;
  wrong: number;
  reviewsPerSecond: number;
  cpuMs: number;
  cpuPerReviewUs: number;
  serverUtilization: number;
  clientUtilization: number;
  loopMaxMs: number;
  latency: Latency;
}

interface Latency {
  p50: number;
  p99: number;
  max: number;
}

function latencyOf(values: number[]): Latency {
  if (values.length === 0) return { p50: NaN, p99: NaN, max: NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

async function measure(
  server: Server,
  phase: Round['phase'],
  round: number,
  run: () => Promise<Outcome>,
  all: Map<string, number[]>,
  failures: string[],
): Promise<Round> {
  const before = await server.stats(true);
  const client = process.cpuUsage();
  const t0 = performance.now();
  const outcome = await run();
  const wall = (performance.now() - t0) / 1000;
  const clientCpu = process.cpuUsage(client);
  const after = await server.stats(false);
  const cpuMs = (after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs) / 1000;
  const key = `${server.name}/${phase}`;
  all.set(key, [...(all.get(key) ?? []), ...outcome.latencies]);
  failures.push(...outcome.failures);
  return {
    server: server.name,
    phase,
    round,
    seconds: wall,
    reviews: outcome.reviews,
    wrong: outcome.wrong,
    reviewsPerSecond: outcome.reviews / wall,
    cpuMs,
    cpuPerReviewUs: (cpuMs * 1000) / Math.max(1, outcome.reviews),
    serverUtilization: cpuMs / 1000 / wall,
    clientUtilization: (clientCpu.user + clientCpu.system) / 1e6 / wall,
    loopMaxMs: after.loopMaxMs,
    latency: latencyOf(outcome.latencies),
  };
}

interface Summary {
  reviews: number;
  wrong: number;
  reviewsPerSecond: number;
  cpuPerReviewUs: number;
  serverUtilization: number;
  clientUtilization: number;
  loopMaxMs: number;
  latency: Latency;
}

function summarize(rounds: Round[], latencies: number[]): Summary {
  const seconds = rounds.reduce((a, r) => a + r.seconds, 0);
  const reviews = rounds.reduce((a, r) => a + r.reviews, 0);
  const cpuMs = rounds.reduce((a, r) => a + r.cpuMs, 0);
  return {
    reviews,
    wrong: rounds.reduce((a, r) => a + r.wrong, 0),
    reviewsPerSecond: reviews / seconds,
    cpuPerReviewUs: (cpuMs * 1000) / Math.max(1, reviews),
    serverUtilization: cpuMs / 1000 / seconds,
    clientUtilization: rounds.reduce((a, r) => a + r.clientUtilization * r.seconds, 0) / seconds,
    loopMaxMs: Math.max(...rounds.map((r) => r.loopMaxMs)),
    latency: latencyOf(latencies),
  };
}

interface WorkloadResult {
  name: WorkloadName;
  description: string;
  requests: number;
  bodyBytes: Workload['bodyBytes'];
  saturationConnections: number;
  moderateRate: number;
  moderateConnections: number;
  rounds: Round[];
  summary: Record<ServerName, { saturation: Summary; moderate: Summary; vmHwmBytes: number }>;
  ratios: { cpuPerReview: number; capacity: number; p99Saturation: number; p99Moderate: number; vmHwm: number };
  budgets: Budget[];
  failures: string[];
}

async function runWorkload(workload: Workload, tls: { cert: string; key: string; ca: string }, profDir: string | undefined): Promise<WorkloadResult> {
  const webhook = await startServer('webhook', tls, workload.name, profDir);
  const floor = await startServer('floor', tls, workload.name, profDir);
  const servers = [webhook, floor];
  const all = new Map<string, number[]>();
  const failures: string[] = [];
  const rounds: Round[] = [];
  const cursor = { next: 0 };
  let warmupWrong = 0;
  try {
    // Until the JIT has settled: at least this many reviews, however slow a shared machine is today.
    log(`  warm-up ${WARMUP_SECONDS}s and at least ${workload.warmupReviews} reviews each`);
    for (const server of servers) {
      const warm = await saturate(server, workload, WARMUP_SECONDS, cursor, workload.warmupReviews);
      warmupWrong += warm.wrong;
      if (warm.wrong > 0) failures.push(...warm.failures);
      if (warm.wrong > 0) log(`  ${server.name}: ${warm.wrong} wrong answers during warm-up`);
    }
    // ABBA order, so that drift of a shared machine falls on both servers alike.
    const order = (round: number) => (round % 2 === 0 ? [webhook, floor] : [floor, webhook]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const server of order(round)) {
        const r = await measure(server, 'saturation', round, () => saturate(server, workload, SECONDS, cursor), all, failures);
        rounds.push(r);
        log(`  saturation ${round + 1}/${ROUNDS} ${server.name.padEnd(7)} ${fmt(r.reviewsPerSecond, 0).padStart(6)} rev/s  cpu ${fmt(r.cpuPerReviewUs, 0)} µs/rev  p99 ${fmt(r.latency.p99, 2)} ms  srv ${pct(r.serverUtilization)} cli ${pct(r.clientUtilization)}${r.wrong ? `  WRONG ${r.wrong}` : ''}`);
      }
    }
    for (let round = 0; round < MODERATE_ROUNDS; round++) {
      for (const server of order(round)) {
        const r = await measure(server, 'moderate', round, () => paced(server, workload, SECONDS, cursor), all, failures);
        rounds.push(r);
        log(`  moderate   ${round + 1}/${MODERATE_ROUNDS} ${server.name.padEnd(7)} ${fmt(r.reviewsPerSecond, 0).padStart(6)} rev/s  cpu ${fmt(r.cpuPerReviewUs, 0)} µs/rev  p99 ${fmt(r.latency.p99, 2)} ms  loop max ${fmt(r.loopMaxMs, 1)} ms${r.wrong ? `  WRONG ${r.wrong}` : ''}`);
      }
    }
  } finally {
    for (const server of servers) {
      if (server.child.exitCode !== null) failures.push(`${server.name} exited early (${server.child.exitCode}): ${server.output()}`);
    }
  }
  const hwm = { webhook: webhook.vmHwmBytes(), floor: floor.vmHwmBytes() };
  await Promise.all(servers.map((s) => s.stop()));

  const pick = (server: ServerName, phase: Round['phase']) =>
    summarize(
      rounds.filter((r) => r.server === server && r.phase === phase),
      all.get(`${server}/${phase}`) ?? [],
    );
  const summary = {
    webhook: { saturation: pick('webhook', 'saturation'), moderate: pick('webhook', 'moderate'), vmHwmBytes: hwm.webhook },
    floor: { saturation: pick('floor', 'saturation'), moderate: pick('floor', 'moderate'), vmHwmBytes: hwm.floor },
  };
  const w = summary.webhook;
  const f = summary.floor;
  const ratios = {
    cpuPerReview: w.saturation.cpuPerReviewUs / f.saturation.cpuPerReviewUs,
    capacity: w.saturation.reviewsPerSecond / f.saturation.reviewsPerSecond,
    p99Saturation: w.saturation.latency.p99 / f.saturation.latency.p99,
    p99Moderate: w.moderate.latency.p99 / f.moderate.latency.p99,
    vmHwm: w.vmHwmBytes / f.vmHwmBytes,
  };
  // A wrong answer during warm-up is as wrong as any other: it counts.
  const wrong = warmupWrong + w.saturation.wrong + w.moderate.wrong + f.saturation.wrong + f.moderate.wrong;
  const budgets = budgetsFor(workload.name, {
    wrong,
    cpuPerReview: ratios.cpuPerReview,
    capacity: ratios.capacity,
    moderateP99Ms: w.moderate.latency.p99,
    loopMaxMs: Math.max(w.saturation.loopMaxMs, w.moderate.loopMaxMs),
    vmHwmMiB: w.vmHwmBytes / 2 ** 20,
    moderateRate: workload.moderateRate,
  });
  return {
    name: workload.name,
    description: workload.description,
    requests: workload.requests.length,
    bodyBytes: workload.bodyBytes,
    saturationConnections: workload.saturationConnections,
    moderateRate: workload.moderateRate,
    moderateConnections: workload.moderateConnections,
    rounds,
    summary,
    ratios,
    budgets,
    failures,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function fmt(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function pct(value: number): string {
  return `${Math.round(value * 100)}%`;
}

function table(results: WorkloadResult[]): string {
  const head = ['workload', 'phase', 'server', 'reviews/s', 'p50 ms', 'p99 ms', 'max ms', 'CPU µs/review', 'srv CPU', 'loop max ms', 'VmHWM MiB'];
  const rows: string[][] = [];
  for (const r of results) {
    for (const phase of ['saturation', 'moderate'] as const) {
      const label = phase === 'saturation' ? `saturation (${r.saturationConnections} conn)` : `${r.moderateRate}/s (≤${r.moderateConnections} in flight)`;
      for (const server of ['webhook', 'floor'] as const) {
        const s = r.summary[server][phase];
        rows.push([r.name, label, server, fmt(s.reviewsPerSecond, 0), fmt(s.latency.p50, 2), fmt(s.latency.p99, 2), fmt(s.latency.max, 2), fmt(s.cpuPerReviewUs, 0), pct(s.serverUtilization), fmt(s.loopMaxMs, 1), fmt(r.summary[server].vmHwmBytes / 2 ** 20, 0)]);
      }
      const w = r.summary.webhook[phase];
      const f = r.summary.floor[phase];
      rows.push([r.name, label, 'ratio', fmt(w.reviewsPerSecond / f.reviewsPerSecond, 2), fmt(w.latency.p50 / f.latency.p50, 2), fmt(w.latency.p99 / f.latency.p99, 2), fmt(w.latency.max / f.latency.max, 2), fmt(w.cpuPerReviewUs / f.cpuPerReviewUs, 2), '', '', phase === 'saturation' ? fmt(r.ratios.vmHwm, 2) : '']);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i < 3 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const chosen = benchMode(process.argv.slice(2), env);
  if ('error' in chosen) {
    log(`bench: ${chosen.error}`);
    return 2;
  }
  const { mode } = chosen;
  if (PINNED) execFileSync('taskset', ['-a', '-pc', CLIENT_CORE, String(process.pid)], { stdio: 'ignore' });
  else log('warning: fewer than 2 cores or no taskset: servers and load generator are not pinned');
  const started = new Date();
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const profDir = CPU_PROF ? join(resultsDir, `cpu-prof-${stamp}`) : undefined;

  const certDir = mkdtempSync(join(tmpdir(), 'image-admission-bench-'));
  try {
    await writeCertificates(certDir, generateCertificates({ service: 'image-admission-webhook', namespace: 'image-admission' }));
    const paths = certificatePaths(certDir);
    const tls = { cert: paths.cert, key: paths.key, ca: paths.caCert };

    const machine = {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cores: CORES,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      kernel: release(),
      loadAverageAtStart: loadavg(),
      pinning: PINNED ? { servers: `core ${SERVER_CORE}`, loadGenerator: `core ${CLIENT_CORE}` } : 'none',
      loadGeneratorAffinity: PINNED ? affinityOf(process.pid) : 'any',
    };
    const commit = gitDescribe();
    log(`image-admission-webhook bench: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, commit ${commit}`);
    log(`mode: ${mode === 'gate' ? 'gate (a missed budget or a wrong answer fails the run)' : 'report (--report: budgets printed, not enforced; a wrong answer still fails the run)'}`);
    log(`rounds: ${ROUNDS} saturation + ${MODERATE_ROUNDS} fixed-rate per server, ${SECONDS}s each, warm-up ${WARMUP_SECONDS}s; webhook --log-level ${LOG_LEVEL}; floor on ${FLOOR}${SUBJECT === 'webhook' ? '' : '; in the webhook slot: the fastify floor'}`);

    const results: WorkloadResult[] = [];
    for (const name of SELECTED) {
      const build = WORKLOADS[name];
      if (!build) throw new Error(`unknown workload ${name}; known: ${Object.keys(WORKLOADS).join(', ')}`);
      const workload = await build();
      log(`\n${name}: ${workload.description}; ${workload.requests.length} distinct requests, bodies ${kib(workload.bodyBytes.min)}-${kib(workload.bodyBytes.max)} KiB`);
      results.push(await runWorkload(workload, tls, profDir));
    }

    const file = join(resultsDir, `${stamp}.json`);
    const verdict = benchVerdict(results, mode);
    const config = { mode, rounds: ROUNDS, moderateRounds: MODERATE_ROUNDS, secondsPerRound: SECONDS, warmupSeconds: WARMUP_SECONDS, logLevel: LOG_LEVEL, floor: FLOOR, subject: SUBJECT, cpuProfile: profDir ?? null };
    writeFileSync(file, `${JSON.stringify({ startedAt: started.toISOString(), commit, machine, config, workloads: results, verdict }, null, 2)}\n`);

    const out: string[] = ['', `machine: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, Linux ${machine.kernel}; content ${CONTENT}; servers pinned to ${PINNED ? `core ${SERVER_CORE}, load generator to core ${CLIENT_CORE}` : 'nothing'}`, ''];
    out.push(table(results), '');
    for (const r of results) {
      for (const b of r.budgets) out.push(`${b.pass ? 'PASS' : 'FAIL'}  ${r.name.padEnd(8)} ${b.what}: ${fmt(b.value, Number.isInteger(b.value) || b.value >= 100 ? 0 : 2)} (${b.limit})`);
      for (const failure of r.failures) out.push(`      ${failure}`);
    }
    out.push('', `results: ${file}`);
    if (profDir) out.push(`CPU profiles: ${profDir} (summarize with: node bench/prof-top.mjs ${profDir}/webhook-typical.cpuprofile)`);
    out.push('', verdict.summary);
    process.stdout.write(`${out.join('\n')}\n`);
    return verdict.code;
  } finally {
    rmSync(certDir, { recursive: true, force: true });
  }
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

function gitDescribe(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
