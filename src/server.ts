/**
 * The only file that listens: loads the serving certificate (generating development certificates
 * when the default paths are empty), starts HTTPS, reloads the certificate when its files change,
 * and shuts down gracefully.
 */
import { readFile } from 'node:fs/promises';
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { ensureDevelopmentCertificates } from './certs/files.js';
import { watchKeyPair, type KeyPairWatch } from './certs/reload.js';
import { type Config, DEFAULT_CERT_DIR } from './config.js';
import { buildApp, type Readiness } from './http/app.js';

/** The Service the manifests deploy; development certificates are issued for it (and localhost). */
export const SERVICE_NAME = 'image-admission-webhook';
export const SERVICE_NAMESPACE = 'image-admission';

const TLS_MIN_VERSION = 'TLSv1.2' as const;

/** A listening webhook server. */
export interface RunningServer {
  app: FastifyInstance;
  /** The port actually bound (useful with port 0). */
  port: number;
  readiness: Readiness;
  /** Stops taking new connections, finishes in-flight reviews and closes idle connections. */
  close(): Promise<void>;
}

/** Starts the webhook as configured. */
export async function startServer(config: Config): Promise<RunningServer> {
  const readiness: Readiness = { ready: false };
  const logger = { level: config.logLevel };
  const generated = config.tlsDefaultPaths
    ? await ensureDevelopmentCertificates(DEFAULT_CERT_DIR, { service: SERVICE_NAME, namespace: SERVICE_NAMESPACE })
    : undefined;
  const pair = await readKeyPair(config.tlsCertFile, config.tlsKeyFile);

  const app = buildApp({ policy: config.policy, logger, readiness, https: { ...pair, minVersion: TLS_MIN_VERSION } });
  if (generated?.generated) {
    app.log.info({ files: generated.written }, `generated development certificates in ${DEFAULT_CERT_DIR}/ (CA: ${generated.paths.caCert})`);
  }

  const watch: KeyPairWatch = watchKeyPair({
    certFile: config.tlsCertFile,
    keyFile: config.tlsKeyFile,
    initial: pair,
    onChange: (next) => {
      // New handshakes get the new certificate; open connections keep theirs.
      (app.server as HttpsServer).setSecureContext({ ...next, minVersion: TLS_MIN_VERSION });
      app.log.info({ certFile: config.tlsCertFile }, 'serving certificate reloaded');
    },
    onError: (error) => app.log.warn({ err: { message: error.message } }, 'serving certificate not reloaded'),
  });

  await app.listen({ host: config.host, port: config.port });
  readiness.ready = true;
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  app.log.info({ host: config.host, port, mode: config.policy.mode }, 'image-admission-webhook serving');

  return {
    app,
    port,
    readiness,
    close: async () => {
      readiness.ready = false;
      watch.close();
      await app.close();
    },
  };
}

async function readKeyPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string }> {
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  };
  return { cert: await read(certFile, 'serving certificate'), key: await read(keyFile, 'private key') };
}
