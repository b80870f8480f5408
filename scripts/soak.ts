/**
 * Soak test of the built server (dist/): two instances over verified TLS, a steady request rate,
 * every answer checked against the expected decision. Along the way the serving certificate is
 * rotated on disk and the second instance gets SIGTERM while clients move to the first.
 * Reports requests, wrong answers, failed calls, p99 latency and resident memory at start and end.
 *
 *   npm run soak -- [--duration 180] [--rate 100] [--drain 3]
 */
import type { ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Agent } from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { parseArgs } from 'node:util';
import { certificateExpiry, certificatePaths, writeCertificates } from '../src/certs/files.js';
import { generateCertificates, issueServingCertificate } from '../src/certs/generate.js';
import { SERVICE_NAME, SERVICE_NAMESPACE } from '../src/server.js';
import { admissionReview, anImage } from '../test/fixtures/index.js';
import { startChildServer } from '../test/support/child-server.js';
import { checkServerIdentity, keepAliveAgent, send, SERVICE_DNS } from '../test/support/tls.js';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '180' }, rate: { type: 'string', default: '100' }, drain: { type: 'string', default: '3' } },
});
const durationMs = Number(values.duration) * 1000;
const rate = Number(values.rate);
if (!(durationMs > 0) || !(rate > 0)) throw new Error('--duration and --rate must be positive numbers');

/** A request and the answer it must get. */
interface Case {
  name: string;
  path: string;
  body: () => string;
  check(status: number, json: unknown): boolean;
}
type Reply = { response?: { allowed?: boolean; patch?: string; status?: { code?: number } } };
const allowed = (patched: boolean) => (status: number, json: unknown) =>
  status === 200 && (json as Reply).response?.allowed === true && ((json as Reply).response?.patch !== undefined) === patched;
const deniedWith = (code: number) => (status: number, json: unknown) => status === 200 && (json as Reply).response?.allowed === false && (json as Reply).response?.status?.code === code;
const labelled = () => {
  const image = anImage();
  image.metadata = { ...image.metadata, labels: { team: 'soak' } };
  return image;
};

const CASES: Case[] = [
  { name: 'create allowed', path: '/validate', body: () => JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage() })), check: allowed(false) },
  { name: 'create defaulted', path: '/mutate', body: () => JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage({ dockerImageMetadataVersion: undefined }) })), check: allowed(true) },
  { name: 'create denied', path: '/validate', body: () => JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage({ dockerImageReference: 'Quay.io/Bad' }) })), check: deniedWith(422) },
  { name: 'update label', path: '/validate', body: () => JSON.stringify(admissionReview({ operation: 'UPDATE', object: labelled(), oldObject: anImage() })), check: allowed(false) },
  { name: 'update frozen', path: '/mutate', body: () => JSON.stringify(admissionReview({ operation: 'UPDATE', object: anImage({ dockerImageLayers: [] }), oldObject: anImage() })), check: deniedWith(422) },
  { name: 'delete', path: '/validate', body: () => JSON.stringify(admissionReview({ operation: 'DELETE', oldObject: anImage() })), check: allowed(false) },
  { name: 'malformed', path: '/validate', body: () => '{"kind":"AdmissionReview"', check: (status) => status === 400 },
];

interface Instance {
  name: string;
  child: ChildProcess;
  port: number;
  agent: Agent;
  routed: boolean;
  exited: Promise<number | null>;
}

const dir = await mkdtemp(join(tmpdir(), 'iaw-soak-'));
const pems = generateCertificates({ service: SERVICE_NAME, namespace: SERVICE_NAMESPACE });
await writeCertificates(dir, pems);
const paths = certificatePaths(dir);
const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`);
let started = Date.now();

async function launch(name: string): Promise<Instance> {
  const flags = ['--tls-cert', paths.cert, '--tls-key', paths.key, '--shutdown-drain-seconds', String(values.drain)];
  const server = await startChildServer(['dist/cli/main.js'], flags).catch((error: Error) => {
    throw new Error(`${name}: ${error.message}`);
  });
  return { name, child: server.process, port: server.port, agent: keepAliveAgent(8), routed: true, exited: server.exited };
}

const metricValue = async (instance: Instance, series: string): Promise<number> => {
  const answer = await send(instance.port, pems.caCert, '/metrics', undefined, { method: 'GET', agent: false });
  const line = answer.text.split('\n').find((l) => l.startsWith(`${series} `));
  return Number(line?.split(' ')[1]);
};

/** A quantile of the server's own review latency, from its histogram (both webhooks), as a bucket bound. */
async function serverQuantile(instance: Instance, q: number): Promise<string> {
  const answer = await send(instance.port, pems.caCert, '/metrics', undefined, { method: 'GET', agent: false });
  const buckets = new Map<string, number>();
  for (const line of answer.text.split('\n')) {
    const match = /^image_admission_review_duration_seconds_bucket\{le="([^"]+)",webhook="[^"]+"\} (\d+)/.exec(line);
    if (match) buckets.set(match[1]!, (buckets.get(match[1]!) ?? 0) + Number(match[2]));
  }
  const total = buckets.get('+Inf') ?? 0;
  for (const [le, count] of buckets) if (count >= q * total) return `≤ ${Number(le) * 1000} ms`;
  return '?';
}

/** The serial of the certificate a fresh connection is served. */
const servedSerial = (instance: Instance) =>
  new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: instance.port, ca: pems.caCert, servername: SERVICE_DNS, checkServerIdentity }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });

const a = await launch('A');
const b = await launch('B');
const instances = [a, b];
started = Date.now();
log(`A on :${a.port}, B on :${b.port}; ${rate} req/s for ${durationMs / 1000} s`);

// The endpoints controller: an instance that is not ready is removed from routing after a lag.
let running = true;
const poller = (async () => {
  while (running) {
    for (const instance of instances) {
      if (!instance.routed) continue;
      const ready = await send(instance.port, pems.caCert, '/readyz', undefined, { method: 'GET', agent: false }).then((r) => r.status === 200, () => false);
      if (!ready) {
        log(`${instance.name} not ready: removing it from routing in 500 ms`);
        setTimeout(() => (instance.routed = false), 500);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
})();

const latencies: number[] = [];
/** Latencies after warm-up only: the first seconds measure JIT compilation, not the server. */
const steady: number[] = [];
const wrong: string[] = [];
const failed: string[] = [];
let sent = 0;
let next = 0;
const inflight = new Set<Promise<void>>();

function fire(): void {
  const targets = instances.filter((i) => i.routed);
  const instance = targets[sent % targets.length]!;
  const c = CASES[sent % CASES.length]!;
  sent++;
  const t0 = performance.now();
  const p = send(instance.port, pems.caCert, c.path, c.body(), { agent: instance.agent }).then(
    (answer) => {
      const ms = performance.now() - t0;
      latencies.push(ms);
      if (warmedUp) steady.push(ms);
      if (!c.check(answer.status, answer.json)) wrong.push(`${instance.name} ${c.name}: ${answer.status} ${answer.text.slice(0, 120)}`);
    },
    (error: unknown) => {
      failed.push(`${instance.name} ${c.name}: ${String(error)}`);
    },
  );
  inflight.add(p);
  void p.finally(() => inflight.delete(p));
}

// Open loop: requests go out on schedule whatever the answers' latency.
const interval = 1000 / rate;
// V8 sizes its heap over the first ~40 s at 100 req/s (measured: resident memory climbs from about 86 to
// 110 MiB, then stays flat); memory is compared from there on.
const warmupMs = Math.min(Math.max(45_000, durationMs * 0.25), durationMs * 0.5);
let rssStart = NaN;
let warmedUp = false;
const rssSamples: number[] = [];
const events = [
  {
    at: durationMs / 3,
    run: async () => {
      const before = await servedSerial(a);
      const leaf = issueServingCertificate({ cert: pems.caCert, key: pems.caKey }, { service: SERVICE_NAME, namespace: SERVICE_NAMESPACE, validityDays: 90 });
      await writeCertificates(dir, leaf);
      log('rotated the serving certificate on disk');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const after = await servedSerial(a);
      const expiry = await metricValue(a, 'image_admission_tls_certificate_expiry_timestamp_seconds');
      const expected = certificateExpiry(leaf.cert).getTime() / 1000;
      const serial = new X509Certificate(leaf.cert).serialNumber;
      if (after === before || after.toUpperCase() !== serial.toUpperCase() || expiry !== expected) {
        wrong.push(`certificate not reloaded: served ${after} (was ${before}, want ${serial}), expiry metric ${expiry} (want ${expected})`);
      } else log(`A serves the new certificate (serial ${after.slice(0, 8)}…), expiry metric updated`);
    },
  },
  {
    at: durationMs / 2,
    run: async () => {
      log('SIGTERM to B');
      b.child.kill('SIGTERM');
      const code = await b.exited;
      log(`B exited with ${code}`);
      if (code !== 0) wrong.push(`B exited with ${code}`);
    },
  },
];
const pendingEvents: Promise<void>[] = [];

await new Promise<void>((resolve) => {
  const tick = setInterval(() => {
    const elapsed = Date.now() - started;
    while (next * interval <= elapsed && elapsed < durationMs) {
      fire();
      next++;
    }
    for (const event of events) {
      if (elapsed >= event.at) {
        events.splice(events.indexOf(event), 1);
        pendingEvents.push(event.run());
      }
    }
    if (!warmedUp && elapsed >= warmupMs) {
      warmedUp = true;
      void metricValue(a, 'process_resident_memory_bytes').then((v) => {
        rssStart = v;
        log(`warm-up over: A resident memory ${(v / 2 ** 20).toFixed(1)} MiB`);
      });
    }
    if (elapsed >= durationMs) {
      clearInterval(tick);
      resolve();
    }
  }, 5);
  const sampler = setInterval(() => {
    void metricValue(a, 'process_resident_memory_bytes').then((v) => rssSamples.push(v));
    if (Date.now() - started >= durationMs) clearInterval(sampler);
  }, 10_000);
});
await Promise.all(inflight);
await Promise.all(pendingEvents);
const rssEnd = await metricValue(a, 'process_resident_memory_bytes');
const serverP99 = await serverQuantile(a, 0.99);
running = false;
await poller;
a.child.kill('SIGTERM');
const aCode = await a.exited;
for (const instance of instances) instance.agent.destroy();
await rm(dir, { recursive: true, force: true });

latencies.sort((x, y) => x - y);
steady.sort((x, y) => x - y);
const quantile = (q: number, list = latencies) => list[Math.min(list.length - 1, Math.floor(q * list.length))] ?? NaN;
const change = (rssEnd - rssStart) / rssStart;
const mib = (v: number) => `${(v / 2 ** 20).toFixed(1)} MiB`;
console.log(`
requests        ${sent} (${(sent / (durationMs / 1000)).toFixed(1)}/s)
wrong answers   ${wrong.length}
failed calls    ${failed.length}
latency (all)   p50 ${quantile(0.5).toFixed(2)} ms, p99 ${quantile(0.99).toFixed(2)} ms, max ${latencies.at(-1)?.toFixed(2)} ms
latency in A (server histogram, whole run) p99 ${serverP99}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs
latency (after warm-up) p50 ${quantile(0.5, steady).toFixed(2)} ms, p99 ${quantile(0.99, steady).toFixed(2)} ms, max ${steady.at(-1)?.toFixed(2)} ms
resident memory A: ${mib(rssStart)} after warm-up, ${mib(rssEnd)} at the end (${(change * 100).toFixed(1)}%); samples ${rssSamples.map(mib).join(', ')}
exit codes      B ${await b.exited}, A ${aCode}`);
for (const line of [...wrong, ...failed].slice(0, 20)) console.log(`  ${line}`);
const ok = wrong.length === 0 && failed.length === 0 && Math.abs(change) <= 0.1 && aCode === 0;
console.log(ok ? 'PASS' : 'FAIL: budget is zero wrong answers, zero failed calls, memory within 10% after warm-up');
process.exitCode = ok ? 0 : 1;
