/** Optional mutual TLS: with --client-ca, reviews need a client certificate that CA signed. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificateAuthority, issueClientCertificate, type PemKeyPair } from '../../src/certs/generate.js';
import { anImage, admissionReview } from '../fixtures/index.js';
import { send, startTestServer, type TestServer } from '../support/tls.js';

let server: TestServer;
let apiServer: PemKeyPair;
let stranger: PemKeyPair;
let caDir: string;

beforeAll(async () => {
  const clientCa = generateCertificateAuthority({ commonName: 'test client CA' });
  apiServer = issueClientCertificate(clientCa, { commonName: 'kube-apiserver' });
  stranger = issueClientCertificate(generateCertificateAuthority({ commonName: 'another CA' }), { commonName: 'kube-apiserver' });
  caDir = await mkdtemp(join(tmpdir(), 'iaw-client-ca-'));
  const caFile = join(caDir, 'client-ca.crt');
  await writeFile(caFile, clientCa.cert);
  server = await startTestServer({ clientCaFile: caFile });
});

afterAll(async () => {
  await server?.stop();
  await rm(caDir, { recursive: true, force: true });
});

const review = () => JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage() }));

describe('with --client-ca', () => {
  it('answers a review from a client whose certificate the client CA signed', async () => {
    const answer = await send(server.port, server.pems.caCert, '/validate', review(), { cert: apiServer.cert, key: apiServer.key });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ response: { allowed: true } });
  });

  it.each([
    ['no client certificate', {}],
    ['a certificate from another CA', () => ({ cert: stranger.cert, key: stranger.key })],
    ['the serving certificate (serverAuth only, not clientAuth)', () => ({ cert: server.pems.cert, key: server.pems.key })],
  ] as const)('refuses a review with %s', async (_name, credentials) => {
    const options = typeof credentials === 'function' ? credentials() : credentials;
    const answer = await send(server.port, server.pems.caCert, '/mutate', review(), options);
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ reason: 'a client certificate signed by the configured client CA is required' });
  });

  it('still answers probes without a client certificate (kubelet presents none)', async () => {
    expect((await send(server.port, server.pems.caCert, '/healthz', undefined, { method: 'GET' })).status).toBe(200);
    expect((await send(server.port, server.pems.caCert, '/readyz', undefined, { method: 'GET' })).status).toBe(200);
  });
});
