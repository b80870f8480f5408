import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeCertificates } from '../../src/certs/files.js';
import { generateCertificateAuthority, issueServingCertificate, type PemKeyPair } from '../../src/certs/generate.js';
import { type KeyPairPem, type KeyPairWatch, validatePair, watchKeyPair } from '../../src/certs/reload.js';

const SVC_HOST = 'image-admission-webhook.image-admission.svc';
const NAMES = { service: 'image-admission-webhook', namespace: 'image-admission' };

let root: string;
let ca: PemKeyPair;
let pairs: PemKeyPair[];
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'certs-reload-'));
  ca = generateCertificateAuthority();
  pairs = [0, 1, 2].map(() => issueServingCertificate(ca, NAMES));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const serialOf = (pair: PemKeyPair): string => new X509Certificate(pair.cert).serialNumber;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Records a watcher's calls and lets a test wait for the next change. */
function recorder() {
  const changes: KeyPairPem[] = [];
  const errors: Error[] = [];
  let waiting: ((pair: KeyPairPem) => void) | undefined;
  return {
    changes,
    errors,
    onChange(pair: KeyPairPem) {
      changes.push(pair);
      waiting?.(pair);
      waiting = undefined;
    },
    onError(error: Error) {
      errors.push(error);
    },
    nextChange(timeoutMs = 5_000): Promise<KeyPairPem> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no change emitted')), timeoutMs);
        waiting = (pair) => {
          clearTimeout(timer);
          resolve(pair);
        };
      });
    },
  };
}

function watch(opts: Parameters<typeof watchKeyPair>[0]): KeyPairWatch {
  const watcher = watchKeyPair(opts);
  cleanups.push(() => watcher.close());
  return watcher;
}

/** An HTTPS server serving `pair`, as the webhook does, with keep-alive on. */
async function startServer(pair: PemKeyPair): Promise<{ server: https.Server; port: number }> {
  const server = https.createServer({ ...pair, minVersion: 'TLSv1.2', keepAliveTimeout: 30_000 }, (_req, res) => {
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { server, port: (server.address() as AddressInfo).port };
}

// Verification stays on: the CA is the trust root, and the name must be in a SAN, as Go requires.
function checkServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
  return new X509Certificate(cert.raw).checkHost(host, { subject: 'never' })
    ? undefined
    : new Error(`certificate is not valid for ${host}`);
}

/** Makes a verified request; resolves to the serial the server presented and whether the socket was reused. */
function request(port: number, agent: https.Agent | false): Promise<{ serial: string; reused: boolean; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      // A pooled connection is verified by its agent: from Node 24 on, a per-request check gets a pool
      // of its own, so the kept-alive connection would never be reused.
      { host: '127.0.0.1', port, path: '/', servername: SVC_HOST, ca: ca.cert, agent, ...(agent ? {} : { checkServerIdentity }) },
      (res) => {
        // Read now: a kept-alive socket goes back to the agent, and off the response, at 'end'.
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ serial, reused: req.reusedSocket, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function reloadOnChange(server: https.Server, rec: ReturnType<typeof recorder>) {
  return {
    onChange(pair: KeyPairPem) {
      server.setSecureContext({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' });
      rec.onChange(pair);
    },
    onError: rec.onError,
  };
}

describe('watchKeyPair with an HTTPS server', () => {
  it('serves a pair replaced by rename to new connections, while a kept-alive connection goes on', async () => {
    const [first, next] = pairs as [PemKeyPair, PemKeyPair];
    const dir = join(root, 'plain');
    await writeCertificates(dir, first);
    const { server, port } = await startServer(first);
    const rec = recorder();
    watch({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), initial: first, ...reloadOnChange(server, rec) });

    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, checkServerIdentity });
    cleanups.push(() => agent.destroy());
    expect(await request(port, agent)).toMatchObject({ serial: serialOf(first), reused: false, body: 'ok' });

    const changed = rec.nextChange();
    await writeCertificates(dir, next);
    expect(await changed).toEqual(next);

    expect(await request(port, false)).toMatchObject({ serial: serialOf(next), body: 'ok' });
    // The connection opened before the swap keeps its session and still answers.
    expect(await request(port, agent)).toEqual({ serial: serialOf(first), reused: true, body: 'ok' });
    expect(rec.changes).toHaveLength(1);
    expect(rec.errors).toEqual([]);
  });

  it('follows a Kubernetes Secret update: a ..data symlink swapped to a new folder', async () => {
    const [first, next] = pairs as [PemKeyPair, PemKeyPair];
    const dir = join(root, 'secret');
    // The kubelet's AtomicWriter layout: timestamped folder, ..data -> it, tls.crt -> ..data/tls.crt.
    await writeCertificates(join(dir, '..2025_01_01_00_00_00.1'), first);
    await symlink('..2025_01_01_00_00_00.1', join(dir, '..data'));
    await symlink('..data/tls.crt', join(dir, 'tls.crt'));
    await symlink('..data/tls.key', join(dir, 'tls.key'));
    const { server, port } = await startServer(first);
    const rec = recorder();
    watch({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), initial: first, ...reloadOnChange(server, rec) });
    expect((await request(port, false)).serial).toBe(serialOf(first));

    const changed = rec.nextChange();
    await writeCertificates(join(dir, '..2025_01_02_00_00_00.2'), next);
    await symlink('..2025_01_02_00_00_00.2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await rm(join(dir, '..2025_01_01_00_00_00.1'), { recursive: true });
    expect(await changed).toEqual(next);

    expect(await request(port, false)).toMatchObject({ serial: serialOf(next), body: 'ok' });
    expect(rec.changes).toHaveLength(1);
  });

  it('does not emit a half-written pair (new certificate, old key), and emits once the key follows', async () => {
    const [first, next] = pairs as [PemKeyPair, PemKeyPair];
    const dir = join(root, 'half');
    await writeCertificates(dir, first);
    const { server, port } = await startServer(first);
    const rec = recorder();
    watch({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), initial: first, ...reloadOnChange(server, rec) });

    await writeCertificates(dir, { cert: next.cert });
    await sleep(600);
    expect(rec.changes).toEqual([]);
    expect(rec.errors.map((e) => e.message)).toEqual(['private key does not match the certificate (update in progress?)']);
    expect((await request(port, false)).serial).toBe(serialOf(first));

    const changed = rec.nextChange();
    await writeCertificates(dir, { key: next.key });
    expect(await changed).toEqual(next);
    expect((await request(port, false)).serial).toBe(serialOf(next));
    expect(rec.changes).toHaveLength(1);
  });
});

describe('watchKeyPair on its own', () => {
  it('skips a truncated key and reports it without its content', async () => {
    const [first, next] = pairs as [PemKeyPair, PemKeyPair];
    const dir = join(root, 'truncated');
    await writeCertificates(dir, first);
    const rec = recorder();
    watch({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), initial: first, ...rec });

    // A non-atomic writer caught half way: the key file holds only its first half.
    await writeFile(join(dir, 'tls.key'), next.key.slice(0, next.key.length / 2));
    await writeFile(join(dir, 'tls.crt'), next.cert);
    await sleep(600);
    expect(rec.changes).toEqual([]);
    expect(rec.errors.length).toBeGreaterThan(0);
    const keyLines = next.key.split('\n').filter((line) => line.length > 20);
    for (const error of rec.errors) {
      expect(error.message).not.toContain('PRIVATE KEY');
      for (const line of keyLines) expect(error.message).not.toContain(line);
    }

    const changed = rec.nextChange();
    await writeFile(join(dir, 'tls.key'), next.key);
    expect(await changed).toEqual(next);
  });

  it('takes the pair on disk at start as current and does not announce it', async () => {
    const [first] = pairs as [PemKeyPair];
    const dir = join(root, 'baseline');
    await writeCertificates(dir, first);
    const rec = recorder();
    watch({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), pollIntervalMs: 50, ...rec });
    await sleep(300);
    // Rewriting the same content is not a change.
    await writeCertificates(dir, first);
    await sleep(400);
    expect(rec.changes).toEqual([]);
    expect(rec.errors).toEqual([]);
  });

  it('notices a change by polling when file events are off', async () => {
    const [first, , third] = pairs as [PemKeyPair, PemKeyPair, PemKeyPair];
    const dir = join(root, 'poll');
    await writeCertificates(dir, first);
    const rec = recorder();
    watch({
      certFile: join(dir, 'tls.crt'),
      keyFile: join(dir, 'tls.key'),
      initial: first,
      fsWatch: false,
      pollIntervalMs: 100,
      ...rec,
    });
    const changed = rec.nextChange();
    await writeCertificates(dir, third);
    expect(await changed).toEqual(third);
  });

  it('watches the key in another folder than the certificate', async () => {
    const [first, next] = pairs as [PemKeyPair, PemKeyPair];
    const certDir = join(root, 'split', 'cert');
    const keyDir = join(root, 'split', 'key');
    await mkdir(certDir, { recursive: true });
    await writeCertificates(certDir, { cert: first.cert });
    await writeCertificates(keyDir, { key: first.key });
    const rec = recorder();
    watch({ certFile: join(certDir, 'tls.crt'), keyFile: join(keyDir, 'tls.key'), initial: first, ...rec });
    const changed = rec.nextChange();
    await writeCertificates(keyDir, { key: next.key });
    await writeCertificates(certDir, { cert: next.cert });
    expect(await changed).toEqual(next);
  });

  it('emits nothing after close', async () => {
    const [first, next] = pairs as [PemKeyPair, PemKeyPair];
    const dir = join(root, 'closed');
    await writeCertificates(dir, first);
    const rec = recorder();
    const watcher = watch({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), initial: first, pollIntervalMs: 50, ...rec });
    watcher.close();
    await writeCertificates(dir, next);
    await sleep(400);
    expect(rec.changes).toEqual([]);
  });
});

describe('validatePair', () => {
  it('accepts a matching pair and explains a mismatched one', () => {
    const [first, next] = pairs as [PemKeyPair, PemKeyPair];
    expect(validatePair(first)).toBeUndefined();
    expect(validatePair({ cert: first.cert, key: next.key })?.message).toMatch(/does not match/);
    expect(validatePair({ cert: 'garbage', key: first.key })?.message).toMatch(/certificate/);
  });
});
