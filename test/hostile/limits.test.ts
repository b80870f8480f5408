/**
 * The server's own limits under the attacks of issue 14, each built in its worst-case shape and
 * scaled down to what a test can open: one address holding idle TLS connections, stalled bodies one
 * byte short of the body limit, a burst of reviews near the limit. The bounds asserted are on work
 * (connections per source, bytes held, status codes) and on everyone else still being served: reviews
 * from another address and the kubelet's probes on their own port. Timings are in `npm run stress`.
 */
import { request as httpRequest } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nodeTimeouts } from '../../src/http/app.js';
import { BODY_LIMIT } from '../../src/review/json-body.js';
import { RESERVED_BYTES, SMALL_RESERVE_BYTES } from '../../src/http/memory-budget.js';
import { DEFAULT_LIMITS } from '../../src/http/limits.js';
import { admissionReview, hugeAdmissionReview } from '../fixtures/index.js';
import { checkServerIdentity, send, SERVICE_DNS, startTestServer, type TestServer } from '../support/tls.js';
import { validCreate } from './corpus.js';

const ATTACKER = '127.0.0.1';
const OTHER = '127.0.0.2';
const PER_SOURCE = 6;
const RESERVED = Object.values(RESERVED_BYTES).reduce((a, b) => a + b, 0);
/** Room for three bodies at the limit, plus the reserve kept for small ones. */
const LARGE_BODIES = 3;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    limits: { maxConnections: 24, maxConnectionsPerSource: PER_SOURCE, memoryLimitBytes: RESERVED + LARGE_BODIES * BODY_LIMIT + SMALL_RESERVE_BYTES },
    healthProbe: { host: '127.0.0.1', port: 0 },
  });
});

afterAll(async () => {
  await server?.stop();
});

const budget = () => server.server.app.memoryBudget;

/** Waits until the server has seen every connection of the previous test close. */
async function settled(): Promise<void> {
  await vi.waitFor(() => expect(server.server.app.connections.sources).toBe(0), { timeout: 5_000, interval: 20 });
}

function openTls(localAddress = ATTACKER): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // A TCP socket from `localAddress` (tls.connect's types do not list that option), then TLS over it.
    const tcp = tcpConnect({ host: '127.0.0.1', port: server.port, localAddress });
    tcp.on('error', reject);
    const socket = tlsConnect({ socket: tcp, ca: server.pems.caCert, servername: SERVICE_DNS, checkServerIdentity }, () => resolve(socket));
    socket.on('error', reject);
  });
}

/** GET `path` on the plain-HTTP health port, as the kubelet probes it. */
function probe(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.server.healthPort, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function othersAreServed(): Promise<void> {
  const review = validCreate();
  const answer = await send(server.port, server.pems.caCert, '/validate', JSON.stringify(review), { localAddress: OTHER });
  expect(answer.status).toBe(200);
  expect(answer.json).toMatchObject({ response: { uid: review.request.uid, allowed: true } });
  expect(await probe('/healthz')).toBe(200);
  expect(await probe('/readyz')).toBe(200);
}

describe('connections', () => {
  it('lets one address hold at most --max-connections-per-source idle TLS connections, while others are served', async () => {
    await settled();
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => openTls()));
    const held = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      expect(held).toHaveLength(PER_SOURCE);
      expect(server.server.app.connections.from(ATTACKER)).toBe(PER_SOURCE);
      await othersAreServed();
      const metrics = await send(server.port, server.pems.caCert, '/metrics', undefined, { method: 'GET', localAddress: OTHER });
      expect(metrics.text).toMatch(/^image_admission_connections_refused_total (\d+)$/m);
      expect(Number(/^image_admission_connections_refused_total (\d+)$/m.exec(metrics.text)![1])).toBeGreaterThanOrEqual(40 - PER_SOURCE);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });

  it('serves /healthz and /readyz on the health port even when the webhook port is at its global cap', async () => {
    await settled();
    const sources = ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
    const held = (await Promise.allSettled(sources.flatMap((source) => Array.from({ length: PER_SOURCE }, () => openTls(source))))).flatMap((r) =>
      r.status === 'fulfilled' ? [r.value] : [],
    );
    try {
      expect(held).toHaveLength(24);
      await expect(openTls(OTHER)).rejects.toThrow();
      expect(await probe('/healthz')).toBe(200);
      expect(await probe('/readyz')).toBe(200);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});

/**
 * Sends headers declaring a body at the limit and then one byte less than that: the body never
 * completes. `answer` resolves with the first whole answer the server sends, if it sends one.
 */
function stalledBody(): Promise<{ socket: TLSSocket; answer: () => string | undefined }> {
  return openTls().then((socket) => {
    socket.on('error', () => {});
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    const answer = () => {
      const head = text.indexOf('\r\n\r\n');
      const length = Number(/\r\ncontent-length: (\d+)\r\n/i.exec(text)?.[1]);
      return head !== -1 && text.length >= head + 4 + length ? text : undefined;
    };
    socket.write(`POST /validate HTTP/1.1\r\nHost: ${SERVICE_DNS}\r\nContent-Type: application/json\r\nContent-Length: ${BODY_LIMIT}\r\n\r\n`);
    socket.write(Buffer.alloc(BODY_LIMIT - 1, 0x20));
    return { socket, answer };
  });
}

describe('memory budget', () => {
  it('holds no more than its budget of stalled bodies one byte short of the limit; the rest get 429 at once', async () => {
    await settled();
    const attempts = await Promise.all(Array.from({ length: PER_SOURCE }, () => stalledBody()));
    const answered = () => attempts.flatMap(({ answer }) => answer() ?? []);
    try {
      // The refused are answered without their bodies being held; the others stay held, unanswered.
      await vi.waitFor(() => expect(answered()).toHaveLength(PER_SOURCE - LARGE_BODIES), { timeout: 20_000, interval: 50 });
      await vi.waitFor(() => expect(budget().held).toBe(LARGE_BODIES * BODY_LIMIT), { timeout: 20_000, interval: 50 });
      for (const text of answered()) {
        expect(text).toMatch(/^HTTP\/1\.1 429 /);
        expect(text).toMatch(/\r\nretry-after: 1\r\n/i);
        expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({ code: 429, reason: expect.stringContaining('memory budget') });
      }
      expect(budget().peak).toBeLessThanOrEqual(budget().capacityBytes);
      // Typical reviews still fit, in the reserve that large bodies may not use.
      await othersAreServed();
    } finally {
      for (const { socket } of attempts) socket.destroy();
    }
    await vi.waitFor(() => expect(budget().held).toBe(0), { timeout: 5_000, interval: 20 });
  });

  it('answers a burst of reviews near the body limit with 200 or a fast 429, never holding more than its budget', async () => {
    const body = JSON.stringify(hugeAdmissionReview({ uid: 'burst' }));
    expect(body.length).toBeGreaterThan(5 * 1024 * 1024);
    await settled();
    const sources = ['127.0.0.7', '127.0.0.8'];
    const answers = await Promise.all(
      Array.from({ length: 2 * PER_SOURCE }, (_, i) => send(server.port, server.pems.caCert, '/validate', body, { localAddress: sources[i % 2]! })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(LARGE_BODIES);
    for (const answer of answers.filter((a) => a.status === 429)) {
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.json).toMatchObject({ code: 429 });
    }
    expect(budget().peak).toBeLessThanOrEqual(budget().capacityBytes);
    await vi.waitFor(() => expect(budget().held).toBe(0), { timeout: 5_000, interval: 20 });
  });
});

describe('the event loop', () => {
  it('judges a body under 1 MiB holding 340,000 values on the review thread, and serves others meanwhile', async () => {
    await settled();
    const image = validCreate().request.object as Record<string, unknown>;
    const hostile = admissionReview({ operation: 'CREATE', object: { ...image, dockerImageLayers: Array.from({ length: 340_000 }, () => ({})) } });
    const thread = server.server.app.reviewThread;
    const handed = thread.reviewsHanded;
    const judged = send(server.port, server.pems.caCert, '/validate', JSON.stringify(hostile), { localAddress: ATTACKER });
    await vi.waitFor(() => expect(thread.reviewsHanded).toBe(handed + 1), { timeout: 20_000, interval: 5 });
    await othersAreServed();
    // Denied, or 500 if the thread ran out of its capped heap: either way the process carries on.
    expect([200, 500]).toContain((await judged).status);
    await othersAreServed();
    // A typical review stays inline.
    expect(thread.reviewsHanded).toBe(handed + 1);
  });
});

describe('time', () => {
  it('gives Node timeouts that its sweep still ends by the configured ones (30 s: the API server waits no longer)', () => {
    const { requestTimeout, headersTimeout, sweep } = nodeTimeouts(DEFAULT_LIMITS);
    expect(requestTimeout + sweep).toBeLessThanOrEqual(30_000);
    expect(headersTimeout + sweep).toBeLessThanOrEqual(DEFAULT_LIMITS.headersTimeoutMs);
    expect(server.server.app.server.requestTimeout + sweep).toBeLessThanOrEqual(DEFAULT_LIMITS.requestTimeoutMs);
  });
});
