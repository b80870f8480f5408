/**
 * A/B of server builds: CPU per review of two or more built webhooks (each a directory holding
 * `dist/`), started side by side on one pinned core and loaded in turn, in many short rounds whose
 * order alternates (ABC, CBA, ...). On a machine shared with other work the absolute figures swing by
 * a factor of two within minutes; the ratio of builds measured in the same round swings far less.
 * `npm run bench` compares the webhook with the floor; this compares the webhook with itself.
 *
 * Every answer must be HTTP 200 (the answers themselves are checked by `npm run bench`, which runs the
 * same bodies). CPU per review is the server's user+system time (all its threads, from
 * /proc/<pid>/stat) over a round ÷ the reviews answered in it; rounds of the first quarter are left out
 * of the medians (JIT warm-up).
 *
 * usage: node --import tsx bench/ab.ts WORKLOAD ROUNDS SECONDS DIR_A DIR_B [DIR_C ...]
 * e.g.:  mkdir /tmp/before && git archive HEAD~3 | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/
 *        (cd /tmp/before && npx tsc -p tsconfig.build.json) && npm run build
 *        node --import tsx bench/ab.ts typical 16 1.5 /tmp/before .
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { Pool } from 'undici';
import { certificatePaths, writeCertificates } from '../src/certs/files.js';
import { generateCertificates } from '../src/certs/generate.js';
import { WORKLOADS, type WorkloadName } from './workloads.js';

const [workloadName = 'typical', roundsArg = '16', secondsArg = '1.5', ...dirArgs] = process.argv.slice(2);
if (!(workloadName in WORKLOADS) || dirArgs.length < 2) {
  process.stderr.write('usage: node --import tsx bench/ab.ts typical|large|huge ROUNDS SECONDS DIR_A DIR_B [DIR ...]\n');
  process.exit(2);
}
const dirs = dirArgs.map((dir) => resolve(dir));
const ROUNDS = Number(roundsArg);
const SECONDS = Number(secondsArg);
const CONNECTIONS = workloadName === 'huge' ? 2 : 8;
const SERVICE_DNS = 'image-admission-webhook.image-admission.svc';
// Servers on core 0, this process on core 1, as `npm run bench` does.
execFileSync('taskset', ['-a', '-pc', '1', String(process.pid)], { stdio: 'ignore' });

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
/** User+system CPU of every thread of `pid`, in microseconds. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

const certDir = mkdtempSync(join(tmpdir(), 'bench-ab-'));
await writeCertificates(certDir, generateCertificates({ service: 'image-admission-webhook', namespace: 'image-admission' }));
const paths = certificatePaths(certDir);
const workload = await WORKLOADS[workloadName as WorkloadName]();

interface Server {
  dir: string;
  pid: number;
  pool: Pool;
  stop(): void;
}

async function start(dir: string): Promise<Server> {
  const port = await freePort();
  const flags = ['serve', '--host', '127.0.0.1', '--port', String(port), '--tls-cert', paths.cert, '--tls-key', paths.key, '--health-probe-bind-address', '127.0.0.1:0', '--log-level', 'warn'];
  // taskset execs node in place: the child's pid is the server's.
  const child = spawn('taskset', ['-c', '0', process.execPath, join(dir, 'dist/cli/main.js'), ...flags], { stdio: 'ignore' });
  const pool = new Pool(`https://127.0.0.1:${port}`, { connections: CONNECTIONS, connect: { ca: readFileSync(paths.caCert, 'utf8'), servername: SERVICE_DNS } });
  for (let tries = 0; ; tries++) {
    try {
      await (await pool.request({ path: '/healthz', method: 'GET' })).body.text();
      break;
    } catch (error) {
      if (tries > 100) throw error;
      await new Promise((wait) => setTimeout(wait, 100));
    }
  }
  return { dir, pid: child.pid!, pool, stop: () => child.kill() };
}

let sent = 0;
/** Sends fresh reviews over every connection for `ms`; the number answered. */
async function load(server: Server, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let answered = 0;
  const connection = async () => {
    while (Date.now() < end) {
      const i = sent++;
      const request = workload.requests[i % workload.requests.length]!;
      const body = request.fresh(`ab-${i}`, Math.floor(i / workload.requests.length));
      const response = await server.pool.request({ path: `${request.path}?timeout=10s`, method: 'POST', body, headers: { 'content-type': 'application/json' } });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`${server.dir}: HTTP ${response.statusCode}`);
      answered++;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, connection));
  return answered;
}

const servers: Server[] = [];
try {
  for (const dir of dirs) servers.push(await start(dir));
  for (const server of servers) await load(server, 4000);
  const perReview = new Map<Server, number[]>(servers.map((s) => [s, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
      const before = cpuMicros(server.pid);
      const answered = await load(server, SECONDS * 1000);
      perReview.get(server)!.push((cpuMicros(server.pid) - before) / answered);
    }
  }
  const skip = Math.floor(ROUNDS / 4);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const base = perReview.get(servers[0]!)!;
  process.stdout.write(`${workloadName}: ${ROUNDS} rounds of ${SECONDS} s per build, first ${skip} left out; µs of server CPU per review\n`);
  for (const server of servers) {
    const mine = perReview.get(server)!;
    const ratios = mine.map((x, i) => x / base[i]!).slice(skip);
    process.stdout.write(
      `${server.dir}: median ${median(mine.slice(skip)).toFixed(0)} µs, median per-round ratio to the first ${median(ratios).toFixed(3)}; rounds ${mine.map((x) => x.toFixed(0)).join(' ')}\n`,
    );
  }
} finally {
  for (const server of servers) {
    await server.pool.close();
    server.stop();
  }
  rmSync(certDir, { recursive: true, force: true });
}
