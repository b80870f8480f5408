/**
 * A webhook server on a random port with fresh certificates, and a client that calls it as the API
 * server does: the certificate verified against the CA and the Service DNS name, SANs only.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { certificatePaths, writeCertificates } from '../../src/certs/files.js';
import { type CertificatePems, generateCertificates } from '../../src/certs/generate.js';
import type { Config } from '../../src/config.js';
import { startServer, type RunningServer, SERVICE_NAME, SERVICE_NAMESPACE } from '../../src/server.js';

export const SERVICE_DNS = `${SERVICE_NAME}.${SERVICE_NAMESPACE}.svc`;

/** Verifies the server's name as Go does: SAN DNS names only, never the subject CN. */
export function checkServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
  const x509 = new X509Certificate(cert.raw);
  return x509.checkHost(host, { subject: 'never' }) === undefined ? new Error(`certificate is not valid for ${host}`) : undefined;
}

/**
 * A keep-alive agent that verifies as Go does. The check is the agent's, not each request's: from
 * Node 24 on, a request that brings its own checkServerIdentity gets a pool of its own (the callback
 * is part of the connection's key), so its connection would never be reused.
 */
export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, checkServerIdentity });
}

/** A running test server and what a client needs to reach it. */
export interface TestServer {
  server: RunningServer;
  port: number;
  pems: CertificatePems;
  dir: string;
  stop(): Promise<void>;
}

/** Fresh certificates in a temporary folder and a server on 127.0.0.1:0, silent, enforcing. */
export async function startTestServer(overrides: Partial<Config> = {}, pems?: CertificatePems): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'iaw-test-'));
  const certs = pems ?? generateCertificates({ service: SERVICE_NAME, namespace: SERVICE_NAMESPACE });
  await writeCertificates(dir, certs);
  const paths = certificatePaths(dir);
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    tlsCertFile: paths.cert,
    tlsKeyFile: paths.key,
    tlsDefaultPaths: false,
    policy: { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set() },
    logLevel: 'silent',
    ...overrides,
  });
  return {
    server,
    port: server.port,
    pems: certs,
    dir,
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An HTTP answer as text, with its JSON when it is JSON. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** Options of `send`. */
export interface SendOptions {
  method?: string;
  headers?: Record<string, string | number>;
  agent?: Agent | false;
  /** A client certificate and key (mTLS). */
  cert?: string;
  key?: string;
  /** The source address to connect from (any of 127.0.0.0/8 on loopback). */
  localAddress?: string;
}

/**
 * Sends `body` (bytes as given) to `path` over verified TLS and reads the whole answer. A server that
 * answers before reading the whole body (413) may reset the connection while the body is still being
 * written; the answer already received is what counts.
 */
export function send(port: number, ca: string, path: string, body: string | Buffer | undefined, options: SendOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'POST',
        agent: options.agent ?? false,
        ca,
        servername: SERVICE_DNS,
        // A pooled connection was verified by its agent (keepAliveAgent); see there.
        ...(options.agent ? {} : { checkServerIdentity }),
        ...(options.cert === undefined ? {} : { cert: options.cert, key: options.key }),
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          ...options.headers,
        },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.end(body);
  });
}
