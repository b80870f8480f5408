/**
 * Graceful shutdown of the real command in a child process, over verified TLS. Clients route to the
 * server while /readyz says ready and keep going a little longer (as endpoint removal lags in a
 * cluster); no call may fail or get a 503, and the process exits 0.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificatePaths, writeCertificates } from '../../src/certs/files.js';
import { type CertificatePems, generateCertificates } from '../../src/certs/generate.js';
import { SERVICE_NAME, SERVICE_NAMESPACE } from '../../src/server.js';
import { admissionReview, anImage, hugeAdmissionReview } from '../fixtures/index.js';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import { checkServerIdentity, keepAliveAgent, send, SERVICE_DNS } from '../support/tls.js';

let dir: string;
let pems: CertificatePems;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iaw-shutdown-'));
  pems = generateCertificates({ service: SERVICE_NAME, namespace: SERVICE_NAMESPACE });
  await writeCertificates(dir, pems);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts `image-admission serve` from source (tsx) with fresh certificates and `flags`. */
function serve(flags: string[]): Promise<ChildServer> {
  const paths = certificatePaths(dir);
  return startChildServer(['--import', 'tsx', 'src/cli/main.ts'], ['--tls-cert', paths.cert, '--tls-key', paths.key, ...flags]);
}

const call = (port: number, path: string, body: string | undefined, agent: Agent | false) =>
  send(port, pems.caCert, path, body, body === undefined ? { method: 'GET', agent } : { agent });

describe('on SIGTERM', () => {
  it('stays not-ready but serving through the drain, finishes in-flight reviews and exits 0', async () => {
    const child = await serve(['--shutdown-drain-seconds', '2', '--shutdown-timeout-seconds', '10']);
    const agent = keepAliveAgent(4);
    const small = JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage() }));
    const huge = JSON.stringify(hugeAdmissionReview());
    let routed = true;
    let signalled = false;
    let afterSignal = 0;
    let newConnectionsAfterSignal = 0;
    const failures: string[] = [];
    const statuses = new Map<number, number>();

    // The "endpoints controller": polls readiness; clients keep routing 500 ms after it flips.
    const poller = (async () => {
      while (routed) {
        const ready = await call(child.port, '/readyz', undefined, false);
        if (ready.status !== 200) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          routed = false;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const client = async (n: number) => {
      for (let i = 0; routed; i++) {
        const fresh = signalled && i % 5 === 0;
        const body = n === 0 && i % 10 === 0 ? huge : small;
        try {
          const answer = await call(child.port, '/validate', body, fresh ? false : agent);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          if (answer.status !== 200 || (answer.json as { response: { allowed: boolean } }).response.allowed !== true) failures.push(`${answer.status} ${answer.text.slice(0, 100)}`);
          if (signalled) {
            afterSignal++;
            if (fresh) newConnectionsAfterSignal++;
          }
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const clients = Promise.all([0, 1, 2, 3].map(client));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    child.process.kill('SIGTERM');
    signalled = true;
    await Promise.all([clients, poller]);
    agent.destroy();

    expect(await child.exited).toBe(0);
    expect(failures).toEqual([]);
    expect([...statuses.keys()]).toEqual([200]);
    expect(afterSignal).toBeGreaterThan(0);
    expect(newConnectionsAfterSignal).toBeGreaterThan(0);
  });

  it('exits 1 when an in-flight request outlasts the shutdown timeout, cutting its connection', async () => {
    const child = await serve(['--shutdown-drain-seconds', '0.2', '--shutdown-timeout-seconds', '1', '--request-timeout-seconds', '60']);
    // A request whose body never finishes: in flight until the timeout cuts it.
    const socket = tlsConnect({ host: '127.0.0.1', port: child.port, ca: pems.caCert, servername: SERVICE_DNS, checkServerIdentity });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.on('secureConnect', () => resolve()));
    socket.write(`POST /validate HTTP/1.1\r\nHost: ${SERVICE_DNS}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"kind":`);
    const cut = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(1);
    await cut;
  });

  it('exits at once on a second signal, during the drain', async () => {
    const child = await serve(['--shutdown-drain-seconds', '60']);
    child.process.kill('SIGTERM');
    for (let i = 0; i < 100 && (await call(child.port, '/readyz', undefined, false)).status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Signals within a second are one (a Ctrl-C under npm arrives twice; test/e2e/npm-start.test.ts).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    child.process.kill('SIGINT');
    expect(await child.exited).toBe(1);
  });
});
