/**
 * `npm run stress`: the attacks of issue 14 against the built server (a child process, over verified
 * TLS, its V8 heap capped at 256 MB as the manifests' 384Mi limit implies), one fresh server per
 * attack, reporting what each cost: peak resident memory, the answers' status codes and times, how
 * long connections were held, and how late the health probe answered throughout. The tests in
 * test/hostile/ assert the bounds on work; this script measures the times, which tests never do.
 *
 * Environment (all optional):
 *   STRESS_ATTACKS=a,b     which attacks (default: all; names below)
 *   STRESS_ENTRY=path      the server's entry (default dist/cli/main.js): point it at another build
 *                          to measure before and after in the same way
 *   STRESS_HEAP_MB=256     the server's --max-old-space-size
 *
 * Prints one JSON line per attack and exits 0; a server that dies is reported, not hidden.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { certificatePaths, writeCertificates } from '../src/certs/files.js';
import { generateCertificates } from '../src/certs/generate.js';
import { ANNOTATION_LAYERS_ORDER } from '../src/image/types.js';
import { admissionReview, anImage, hugeAdmissionReview } from '../test/fixtures/index.js';
import { checkServerIdentity, SERVICE_DNS } from '../test/support/tls.js';

const ENTRY = resolve(process.env.STRESS_ENTRY ?? 'dist/cli/main.js');
const PRELOAD = resolve('bench/preload.mjs');
const HEAP_MB = Number(process.env.STRESS_HEAP_MB ?? 256);
const MiB = 1024 * 1024;
const BODY_LIMIT = 7 * MiB;

interface Server {
  child: ChildProcess;
  port: number;
  healthPort?: number;
  ca: string;
  lines: string[];
  exited: () => number | null | undefined;
  /** The longest the server's main event loop was late since the last reset, in ms (undefined if it died); `reset` starts anew. */
  loopMaxMs(reset?: boolean): Promise<number | undefined>;
  stop(): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'iaw-stress-'));
const pems = generateCertificates({ service: 'image-admission-webhook', namespace: 'image-admission' });
await writeCertificates(dir, pems);
const paths = certificatePaths(dir);
const hasHealthFlag = execFileSync(process.execPath, [ENTRY, 'serve', '--help'], { encoding: 'utf8' }).includes('health-probe-bind-address');

async function startServer(): Promise<Server> {
  const health = hasHealthFlag ? ['--health-probe-bind-address', '127.0.0.1:0'] : [];
  const child = spawn(
    process.execPath,
    // bench/preload.mjs reports the main thread's event-loop delay over the IPC channel: it tells a
    // probe slowed by the server's own loop from one slowed by the machine.
    [`--max-old-space-size=${HEAP_MB}`, '--import', PRELOAD, ENTRY, 'serve', '--host', '127.0.0.1', '--port', '0', '--tls-cert', paths.cert, '--tls-key', paths.key, '--log-level', 'info', ...health],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { PATH: process.env.PATH ?? '' } },
  );
  const lines: string[] = [];
  let exitCode: number | null | undefined;
  child.on('exit', (code, signal) => (exitCode = code ?? (signal ? -1 : null)));
  let buffered = '';
  const started = new Promise<{ port: number; healthPort?: number }>((resolveStart, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line.includes('"msg":"image-admission-webhook serving"')) resolveStart(JSON.parse(line) as { port: number; healthPort?: number });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    child.on('exit', () => reject(new Error(`server exited: ${lines.slice(-5).join('\n')}`)));
  });
  const { port, healthPort } = await started;
  return {
    child,
    port,
    ...(healthPort === undefined ? {} : { healthPort }),
    ca: pems.caCert,
    lines,
    exited: () => exitCode,
    loopMaxMs(reset = false) {
      if (exitCode !== undefined || !child.connected) return Promise.resolve(undefined);
      return new Promise((done) => {
        const answered = (message: { bench?: string; loopMaxMs?: number }) => {
          if (message.bench !== 'stats') return;
          finish(Math.round(message.loopMaxMs ?? 0));
        };
        const finish = (ms: number | undefined) => {
          clearTimeout(timer);
          child.off('message', answered);
          done(ms);
        };
        const timer = setTimeout(() => finish(undefined), 5_000);
        child.on('message', answered);
        child.send({ bench: 'stats', id: 0, reset });
      });
    },
    async stop() {
      if (exitCode !== undefined) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
  };
}

/** Resident memory of the server now, and its peak since it started (VmHWM), in MiB. */
function memory(server: Server): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 1024;
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/**
 * A separate process that probes /healthz every 100 ms (the health port when there is one, else the
 * webhook port over TLS) until told to stop: probing from this process would add this process's own
 * event-loop delays (it encrypts the attack's uploads) to the server's.
 */
const PROBER = `
const http = require('node:http'), https = require('node:https');
const [port, healthPort, ca, servername] = JSON.parse(process.argv[1]);
let probes = 0, failed = 0, slowest = 0, running = true;
process.on('message', () => { running = false; });
const one = () => new Promise((done) => {
  const options = { host: '127.0.0.1', path: '/healthz', agent: false, timeout: 10000 };
  const onResponse = (res) => { res.resume(); res.on('end', () => done(res.statusCode === 200)); };
  const req = healthPort ? http.request({ ...options, port: healthPort }, onResponse) : https.request({ ...options, port, ca, servername }, onResponse);
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => done(false));
  req.end();
});
(async () => {
  while (running) {
    const started = performance.now();
    const ok = await one();
    probes++; if (!ok) failed++;
    slowest = Math.max(slowest, performance.now() - started);
    await new Promise((r) => setTimeout(r, 100));
  }
  process.send({ probes, failed, slowestMs: Math.round(slowest) }, () => process.exit(0));
})();
`;

function watchHealth(server: Server): { stop(): Promise<{ probes: number; failed: number; slowestMs: number; peakRssMiB: number }> } {
  let peakRssMiB = 0;
  const sampler = setInterval(() => (peakRssMiB = Math.max(peakRssMiB, memory(server).rss)), 50);
  const prober = spawn(process.execPath, ['-e', PROBER, JSON.stringify([server.port, server.healthPort ?? 0, server.ca, SERVICE_DNS])], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const report = new Promise<{ probes: number; failed: number; slowestMs: number }>((done) => prober.once('message', (m) => done(m as never)));
  return {
    async stop() {
      clearInterval(sampler);
      prober.send('stop');
      return { ...(await report), peakRssMiB: Math.round(peakRssMiB) };
    },
  };
}

/** POSTs `body` over verified TLS; resolves to the status (0 for a connection error), time and answer size. */
function post(server: Server, path: string, body: Buffer, localAddress?: string): Promise<{ status: number; ms: number; headersMs: number; bytes: number; error?: string }> {
  const started = performance.now();
  let headersMs = 0;
  return new Promise((done) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: 'POST',
        agent: false,
        ca: server.ca,
        servername: SERVICE_DNS,
        checkServerIdentity,
        ...(localAddress === undefined ? {} : { localAddress }),
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        let bytes = 0;
        headersMs = Math.round(performance.now() - started);
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => done({ status: res.statusCode ?? 0, ms: Math.round(performance.now() - started), headersMs, bytes }));
        res.on('error', (e) => done({ status: res.statusCode ?? 0, ms: Math.round(performance.now() - started), headersMs, bytes, error: e.message }));
      },
    );
    req.on('error', (e) => done({ status: 0, ms: Math.round(performance.now() - started), headersMs, bytes: 0, error: e.message }));
    req.end(body);
  });
}

function openTls(server: Server, localAddress = '127.0.0.1'): Promise<TLSSocket> {
  return new Promise((done, reject) => {
    const tcp = tcpConnect({ host: '127.0.0.1', port: server.port, localAddress });
    tcp.on('error', reject);
    const socket = tlsConnect({ socket: tcp, ca: server.ca, servername: SERVICE_DNS, checkServerIdentity }, () => done(socket));
    socket.on('error', reject);
  });
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const tally = (statuses: number[]) => Object.fromEntries([...new Set(statuses)].sort().map((s) => [s, statuses.filter((x) => x === s).length]));

type Attack = (server: Server) => Promise<Record<string, unknown>>;

const ATTACKS: Record<string, Attack> = {
  /** One CREATE whose dockerImageLayers is 340,000 `{}` (under 1 MiB). */
  async 'empty-layers'(server) {
    const image = anImage();
    const body = json(admissionReview({ operation: 'CREATE', object: { ...image, dockerImageLayers: Array.from({ length: 340_000 }, () => ({})) } }));
    const answer = await post(server, '/validate', body);
    return { bodyMiB: +(body.length / MiB).toFixed(2), ...answer };
  },

  /** One UPDATE at /validate whose 12,300 layers are reversed under dockerLayersOrder: ascending. */
  async 'reversed-layers'(server) {
    const base = anImage();
    const layers = Array.from({ length: 12_300 }, (_, i) => ({
      name: `sha256:${i.toString(16).padStart(64, '0')}`,
      size: i + 1,
      mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
    }));
    const annotate = (ls: typeof layers) => ({ ...base, metadata: { ...base.metadata, annotations: { [ANNOTATION_LAYERS_ORDER]: 'ascending' } }, dockerImageLayers: ls });
    const body = json(admissionReview({ operation: 'UPDATE', object: annotate([...layers].reverse()), oldObject: annotate(layers) }));
    const answer = await post(server, '/validate', body);
    return { bodyMiB: +(body.length / MiB).toFixed(2), ...answer };
  },

  /** 48 concurrent valid reviews of about 5.5 MiB. */
  async burst(server) {
    const body = json(hugeAdmissionReview({ uid: 'burst' }));
    const answers = await Promise.all(Array.from({ length: 48 }, () => post(server, '/validate', body)));
    const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
    return {
      bodyMiB: +(body.length / MiB).toFixed(2),
      statuses: tally(answers.map((a) => a.status)),
      over5s: answers.filter((a) => a.ms > 5000).length,
      p50Ms: ms[24],
      maxMs: ms.at(-1),
      slowest429HeadersMs: Math.max(0, ...answers.filter((a) => a.status === 429).map((a) => a.headersMs)),
      errors: [...new Set(answers.flatMap((a) => (a.error ? [a.error] : [])))],
    };
  },

  /** 60 connections, each sending a body declared at the limit and stopping 1 byte short of it. */
  async 'stalled-bodies'(server) {
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        openTls(server, `127.0.0.${10 + (i % 20)}`).then(
          (socket) =>
            new Promise<{ status: string; heldMs: number }>((done) => {
              socket.on('error', () => {});
              let text = '';
              const finish = () => done({ status: text.slice(9, 12) || 'closed', heldMs: Math.round(performance.now() - started) });
              socket.on('data', (c: Buffer) => {
                text += c.toString('latin1');
                // A 429 leaves the connection open (the server discards the rest): the answer is what counts.
                if (text.startsWith('HTTP/1.1 429') && text.includes('}')) {
                  finish();
                  socket.destroy();
                }
              });
              socket.on('close', finish);
              socket.write(`POST /validate HTTP/1.1\r\nHost: ${SERVICE_DNS}\r\nContent-Type: application/json\r\nContent-Length: ${BODY_LIMIT}\r\n\r\n`);
              socket.write(Buffer.alloc(BODY_LIMIT - 1, 0x20));
            }),
          (error: Error) => Promise.resolve({ status: `refused: ${error.message}`, heldMs: 0 }),
        ),
      ),
    );
    const held = results.filter((r) => r.status !== '429').map((r) => r.heldMs);
    return {
      statuses: tally(results.map((r) => r.status) as unknown as number[]),
      slowest429Ms: Math.max(0, ...results.filter((r) => r.status === '429').map((r) => r.heldMs)),
      longestHeldMs: Math.max(0, ...held),
      shortestHeldMs: held.length ? Math.min(...held) : 0,
    };
  },

  /** 2,000 idle TLS connections from one address; then a review from another address. */
  async 'idle-connections'(server) {
    const settled = await Promise.allSettled(Array.from({ length: 2000 }, () => openTls(server)));
    const held = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const review = await post(server, '/validate', json(admissionReview({ operation: 'CREATE', object: anImage() })), '127.0.0.2');
    const rss = memory(server).rss;
    for (const socket of held) socket.destroy();
    return { accepted: held.length, refused: settled.length - held.length, otherAddressReview: review.status || review.error, rssWhileHeldMiB: Math.round(rss) };
  },

  /** One request whose body stops halfway: when does the server end it? */
  async 'stalled-body'(server) {
    const socket = await openTls(server);
    socket.on('error', () => {});
    const started = performance.now();
    const ended = new Promise<number>((done) => socket.on('close', () => done(Math.round(performance.now() - started))));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.write(`POST /validate HTTP/1.1\r\nHost: ${SERVICE_DNS}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`);
    const endedMs = await ended;
    return { endedAfterMs: endedMs, answer: text.slice(0, 12) };
  },

  /** TLS 1.2 handshakes offering only one suite each. */
  async tls(server) {
    const offer = (ciphers: string) =>
      new Promise<string>((done) => {
        const socket = tlsConnect(
          { host: '127.0.0.1', port: server.port, ca: server.ca, servername: SERVICE_DNS, checkServerIdentity, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers },
          () => {
            done(`accepted ${socket.getCipher().standardName}`);
            socket.end();
          },
        );
        socket.on('error', () => done('refused'));
      });
    const result: Record<string, string> = {};
    for (const suite of ['AES128-GCM-SHA256', 'AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-CHACHA20-POLY1305']) result[suite] = await offer(suite);
    return result;
  },

  /** A 1 MB uid, then a 1 MB metadata.name: answer sizes and the longest log line. */
  async echo(server) {
    const huge = 'x'.repeat(MiB);
    const uid = await post(server, '/validate', json(admissionReview({ operation: 'CREATE', object: anImage(), uid: huge })));
    const name = await post(server, '/validate', json(admissionReview({ operation: 'CREATE', object: anImage({ metadata: { name: huge } }) })));
    await new Promise((r) => setTimeout(r, 200));
    return { uid: { status: uid.status, answerBytes: uid.bytes }, name: { status: name.status, answerBytes: name.bytes }, longestLogLineBytes: Math.max(...server.lines.map((l) => l.length)) };
  },
};

const selected = (process.env.STRESS_ATTACKS ?? Object.keys(ATTACKS).join(',')).split(',').map((s) => s.trim());
console.log(JSON.stringify({ entry: ENTRY, heapMb: HEAP_MB, healthPort: hasHealthFlag, node: process.version }));
for (const name of selected) {
  const attack = ATTACKS[name];
  if (!attack) throw new Error(`no attack ${name}; known: ${Object.keys(ATTACKS).join(', ')}`);
  const server = await startServer();
  const idle = memory(server).rss;
  // Starting (loading modules) blocks the loop too: only the attack's delays count.
  await server.loopMaxMs(true);
  const health = watchHealth(server);
  const started = performance.now();
  let result: Record<string, unknown>;
  try {
    result = await attack(server);
  } catch (error) {
    result = { error: (error as Error).message };
  }
  const seconds = +((performance.now() - started) / 1000).toFixed(1);
  const probes = await health.stop();
  const { hwm } = memory(server);
  const loopMaxMs = await server.loopMaxMs();
  const exited = server.exited();
  console.log(
    JSON.stringify({ attack: name, seconds, idleRssMiB: Math.round(idle), peakRssMiB: Math.round(Math.max(hwm, probes.peakRssMiB)), health: { ...probes, serverLoopMaxMs: loopMaxMs }, serverDied: exited !== undefined ? exited : false, ...result }),
  );
  await server.stop();
}
rmSync(dir, { recursive: true, force: true });
