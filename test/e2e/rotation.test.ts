/**
 * Live rotation of the serving certificate, as OpenShift's service CA or cert-manager do it: new
 * files under load, no failed review, and new handshakes present the new certificate without a restart.
 */
import { X509Certificate } from 'node:crypto';
import type { Agent } from 'node:https';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCertificates } from '../../src/certs/files.js';
import { issueServingCertificate } from '../../src/certs/generate.js';
import { SERVICE_NAME, SERVICE_NAMESPACE } from '../../src/server.js';
import { admissionReview, anImage } from '../fixtures/index.js';
import { checkServerIdentity, keepAliveAgent, send, SERVICE_DNS, startTestServer, type TestServer } from '../support/tls.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.stop();
});

/** The serial number of the certificate a fresh handshake presents, verified as the API server would. */
function servedSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: server.port, ca: server.pems.caCert, servername: SERVICE_DNS, checkServerIdentity }, () => {
      resolve(new X509Certificate(socket.getPeerCertificate().raw).serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('rotating the serving certificate under load', () => {
  it('answers every review while new handshakes move to the new certificate', async () => {
    const before = await servedSerial();
    const next = issueServingCertificate({ cert: server.pems.caCert, key: server.pems.caKey }, { service: SERVICE_NAME, namespace: SERVICE_NAMESPACE });
    const nextSerial = new X509Certificate(next.cert).serialNumber;
    expect(nextSerial).not.toBe(before);

    const keepAlive = keepAliveAgent(4);
    const body = JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage() }));
    const failures: string[] = [];
    let answered = 0;
    let stop = false;
    // Two kinds of client: kept-alive connections (made before the swap, as the API server's pool) and
    // a new connection per review (each one a handshake).
    const client = async (agent: Agent | false) => {
      while (!stop) {
        try {
          const answer = await send(server.port, server.pems.caCert, '/validate?timeout=10s', body, { agent });
          if (answer.status !== 200 || (answer.json as { response?: { allowed?: boolean } }).response?.allowed !== true) failures.push(`HTTP ${answer.status}`);
          else answered++;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    const clients = [client(keepAlive), client(keepAlive), client(false), client(false)];

    await new Promise((resolve) => setTimeout(resolve, 300));
    await writeCertificates(server.dir, next);
    let served = before;
    const deadline = Date.now() + 15_000;
    while (served !== nextSerial && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      served = await servedSerial();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop = true;
    await Promise.all(clients);
    keepAlive.destroy();

    expect(served).toBe(nextSerial);
    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(20);
  });
});
