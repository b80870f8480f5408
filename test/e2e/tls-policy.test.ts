/**
 * What TLS the server accepts, tried with a real TLS client that offers exactly one suite or version:
 * TLS 1.2 only with forward-secret AEAD suites (Mozilla "intermediate", as Go's defaults), TLS 1.3,
 * and the same after the serving certificate is reloaded. Every accepted handshake is verified
 * against the CA and the Service DNS name, as the API server verifies it.
 */
import { X509Certificate } from 'node:crypto';
import { connect, type SecureVersion } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeCertificates } from '../../src/certs/files.js';
import { issueServingCertificate } from '../../src/certs/generate.js';
import { SERVICE_NAME, SERVICE_NAMESPACE } from '../../src/server.js';
import { checkServerIdentity, SERVICE_DNS, startTestServer, type TestServer } from '../support/tls.js';

let server: TestServer;
let tls13Only: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  tls13Only = await startTestServer({ tls: { minVersion: 'VersionTLS13', cipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'] } });
});

afterAll(async () => {
  await server?.stop();
  await tls13Only?.stop();
});

interface Offer {
  ciphers?: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
}

/** Handshakes offering only `offer`; resolves to the negotiated suite and the served serial number, or the error. */
function handshake(target: TestServer, offer: Offer): Promise<{ ok: true; cipher: string; version: string; serial: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: target.port, ca: target.pems.caCert, servername: SERVICE_DNS, checkServerIdentity, ...offer }, () => {
      resolve({
        ok: true,
        cipher: socket.getCipher().standardName,
        version: socket.getProtocol() ?? '',
        serial: new X509Certificate(socket.getPeerCertificate().raw).serialNumber,
      });
      socket.end();
    });
    socket.on('error', (error) => resolve({ ok: false, error: error.message }));
  });
}

const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;

const REFUSED: [string, string][] = [
  ['RSA key exchange, AES-GCM (no forward secrecy)', 'AES128-GCM-SHA256'],
  ['RSA key exchange, AES-CBC-SHA1', 'AES128-SHA'],
  ['ECDHE, AES-CBC-SHA1 (not AEAD)', 'ECDHE-RSA-AES128-SHA'],
  ['ECDHE, AES-CBC-SHA256 (not AEAD)', 'ECDHE-RSA-AES128-SHA256'],
  ['DHE, AES-GCM (finite-field DH, not in Go’s defaults)', 'DHE-RSA-AES128-GCM-SHA256'],
];

const ACCEPTED: [string, string][] = [
  ['ECDHE-RSA-AES128-GCM-SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
  ['ECDHE-RSA-AES256-GCM-SHA384', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
  ['ECDHE-RSA-CHACHA20-POLY1305', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
];

describe('TLS 1.2', () => {
  it.each(REFUSED)('refuses a client offering only %s', async (_name, suite) => {
    expect(await handshake(server, { ...TLS12, ciphers: suite })).toMatchObject({ ok: false });
  });

  it.each(ACCEPTED)('accepts a client offering only %s', async (suite, iana) => {
    expect(await handshake(server, { ...TLS12, ciphers: suite })).toMatchObject({ ok: true, cipher: iana, version: 'TLSv1.2' });
  });

  it('refuses TLS 1.1', async () => {
    expect(await handshake(server, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' })).toMatchObject({ ok: false });
  });
});

describe('TLS 1.3', () => {
  it('accepts it', async () => {
    expect(await handshake(server, { minVersion: 'TLSv1.3' })).toMatchObject({ ok: true, version: 'TLSv1.3' });
  });

  it('with --tls-min-version VersionTLS13, refuses even the best TLS 1.2 suite', async () => {
    expect(await handshake(tls13Only, { ...TLS12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toMatchObject({ ok: false });
    expect(await handshake(tls13Only, {})).toMatchObject({ ok: true, version: 'TLSv1.3' });
  });
});

describe('after the serving certificate is reloaded', () => {
  it('serves the new certificate with the same versions and suites', async () => {
    const before = await handshake(server, {});
    const next = issueServingCertificate({ cert: server.pems.caCert, key: server.pems.caKey }, { service: SERVICE_NAME, namespace: SERVICE_NAMESPACE });
    const nextSerial = new X509Certificate(next.cert).serialNumber;
    expect(before).toMatchObject({ ok: true });
    expect(nextSerial).not.toBe((before as { serial: string }).serial);
    await writeCertificates(server.dir, next);
    await vi.waitFor(async () => expect(await handshake(server, {})).toMatchObject({ ok: true, serial: nextSerial }), { timeout: 15_000, interval: 100 });
    for (const [, suite] of REFUSED) expect(await handshake(server, { ...TLS12, ciphers: suite })).toMatchObject({ ok: false });
    expect(await handshake(server, { ...TLS12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toMatchObject({ ok: true, serial: nextSerial });
  });
});
