/**
 * The only file that listens: loads the serving certificate (generating development certificates
 * when the default paths are empty), starts HTTPS, reloads the certificate when its files change,
 * and shuts down gracefully.
 */
import { readFile } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { ensureDevelopmentCertificates } from './certs/files.js';
import { watchKeyPair, type KeyPairWatch } from './certs/reload.js';
import { type Config, DEFAULT_CERT_DIR, DEFAULT_SHUTDOWN, type ShutdownTimes } from './config.js';
import { DEFAULT_LIMITS } from './http/limits.js';
import { buildApp, type Readiness } from './http/app.js';
import { healthState, sharedReadiness, startHealthThread, type HealthThread } from './http/health-thread.js';
import { createMetrics } from './http/metrics.js';
import { logStream } from './log-format.js';
import { loadTrustedKeys, type TrustedKeys, watchTrustedKeys } from './keys/trusted-keys.js';
import { SignatureVerifier } from './signature/index.js';
import { DEFAULT_TLS_POLICY, secureContextOptions } from './http/tls-policy.js';
import { VERSION } from './version.js';

/** The Service the manifests deploy; development certificates are issued for it (and localhost). */
export const SERVICE_NAME = 'image-admission-webhook';
export const SERVICE_NAMESPACE = 'image-admission';

/** A listening webhook server. */
export interface RunningServer {
  app: FastifyInstance;
  /** The port actually bound (useful with port 0). */
  port: number;
  /** The port of the plain-HTTP health listener, when there is one. */
  healthPort?: number;
  readiness: Readiness;
  /** Stops taking new connections, finishes in-flight reviews and closes idle connections. */
  close(): Promise<void>;
  /**
   * The SIGTERM sequence: not ready at once, still serving for `drainMs` while the endpoints are
   * removed, then `close()`; connections still open `timeoutMs` later are cut. Resolves to whether
   * everything finished in time.
   */
  shutdown(times?: ShutdownTimes): Promise<{ clean: boolean }>;
  /** Cuts every connection now and stops (a second signal). */
  forceClose(): Promise<void>;
}

/** Starts the webhook as configured. */
export async function startServer(config: Config): Promise<RunningServer> {
  // In memory shared with the health thread, which answers /readyz from it.
  const state = healthState();
  const readiness: Readiness = sharedReadiness(state);
  // pino writes JSON lines to stdout; text is made from each line (log-format.ts).
  const logger = { level: config.logLevel, ...(config.logFormat === 'text' ? { stream: logStream(process.stdout, 'text') } : {}) };
  const generated = config.tlsDefaultPaths
    ? await ensureDevelopmentCertificates(DEFAULT_CERT_DIR, { service: SERVICE_NAME, namespace: SERVICE_NAMESPACE })
    : undefined;
  const pair = await readKeyPair(config.tlsCertFile, config.tlsKeyFile);
  // mTLS: ask every client for a certificate and verify it against the client CA, but let the
  // handshake succeed without one (rejectUnauthorized false): the app refuses reviews from an
  // unverified client, while kubelet probes, which never present a certificate, still reach /healthz.
  const clientCa = config.clientCaFile === undefined ? undefined : await readPem(config.clientCaFile, 'client CA bundle');
  const mtls = clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: false };

  const metrics = createMetrics();
  metrics.setServingCertificate(pair.cert);
  // Trusted signing keys: a directory that cannot be read at start stops the server (a typo must not
  // silently trust nothing); a key file that cannot be used is reported and skipped.
  const keys: TrustedKeys | undefined = config.trustedKeysDir === undefined ? undefined : await readKeysDir(config.trustedKeysDir);
  const verifier = new SignatureVerifier(keys?.keySet, Date.now, (outcome) => metrics.signatureVerified(outcome));
  metrics.setTrustedKeys(keys?.keySet.keys.length ?? 0, keys?.problems.length ?? 0);
  const tls = secureContextOptions(config.tls ?? DEFAULT_TLS_POLICY);
  const app = buildApp({
    policy: config.policy,
    logger,
    readiness,
    metrics,
    limits: { ...DEFAULT_LIMITS, ...config.limits },
    requireClientCertificate: clientCa !== undefined,
    verifier,
    https: { ...pair, ...mtls, ...tls },
  });
  if (generated?.generated) {
    app.log.info({ files: generated.written }, `generated development certificates in ${DEFAULT_CERT_DIR}/ (CA: ${generated.paths.caCert})`);
  }

  const watch: KeyPairWatch = watchKeyPair({
    certFile: config.tlsCertFile,
    keyFile: config.tlsKeyFile,
    initial: pair,
    onChange: (next) => {
      // New handshakes get the new certificate; open connections keep theirs.
      // The same versions and suites as at start: a reload must never widen what is accepted.
      (app.server as HttpsServer).setSecureContext({ ...next, ...(clientCa === undefined ? {} : { ca: clientCa }), ...tls });
      metrics.setServingCertificate(next.cert);
      app.log.info({ certFile: config.tlsCertFile }, 'serving certificate reloaded');
    },
    onError: (error) => app.log.warn({ err: { message: error.message } }, 'serving certificate not reloaded'),
  });

  const reportKeys = (loaded: TrustedKeys, what: string): void => {
    app.log.info({ dir: config.trustedKeysDir, keys: loaded.keySet.fingerprints }, what);
    // Names and reasons only: never a key file's content.
    for (const { name, problem } of loaded.problems) app.log.warn({ dir: config.trustedKeysDir, file: name, problem }, 'trusted key file skipped');
  };
  let keysWatch: { close(): void } | undefined;
  if (keys !== undefined && config.trustedKeysDir !== undefined) {
    app.reviewThread.setKeys(keys.sources);
    reportKeys(keys, 'trusted signing keys loaded');
    keysWatch = watchTrustedKeys({
      dir: config.trustedKeysDir,
      initial: keys,
      onChange: (next) => {
        verifier.setKeys(next.keySet);
        app.reviewThread.setKeys(next.sources);
        metrics.setTrustedKeys(next.keySet.keys.length, next.problems.length);
        reportKeys(next, 'trusted signing keys reloaded');
      },
      onError: (error) => app.log.warn({ err: { message: error.message } }, 'trusted signing keys not reloaded'),
    });
  } else {
    app.log.info('no --trusted-keys: no image signature is trusted');
  }

  // Loaded before the first large review arrives rather than while it waits.
  app.reviewThread.warm();
  // A failure to listen names the setting to change, as a bad value does (the address is in Node's message).
  const health: HealthThread | undefined = config.healthProbe
    ? await startHealthThread(config.healthProbe.host, config.healthProbe.port, state).catch((error: unknown) => {
        throw new Error(`--health-probe-bind-address (HEALTH_PROBE_BIND_ADDRESS): ${(error as Error).message}`, { cause: error });
      })
    : undefined;
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await health?.close();
    throw new Error(`--host/--port (HOST/PORT): ${(error as Error).message}`, { cause: error });
  }
  readiness.ready = true;
  const port = boundPort(app.server, config.port);
  const healthPort = health?.port;
  app.log.info({ version: VERSION, node: process.version, host: config.host, port, healthPort, mode: config.policy.mode }, 'image-admission-webhook serving');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    readiness.ready = false;
    watch.close();
    keysWatch?.close();
    // fastify answers requests that arrive while closing (return503OnClosing is off) with
    // `Connection: close`, and closes idle keep-alive connections at once.
    closing ??= Promise.all([app.close(), health?.close()]).then(() => undefined);
    return closing;
  };
  let drain: { timer: NodeJS.Timeout; done: () => void } | undefined;

  return {
    app,
    port,
    ...(healthPort === undefined ? {} : { healthPort }),
    readiness,
    close,
    async shutdown(times = config.shutdown ?? DEFAULT_SHUTDOWN) {
      readiness.ready = false;
      app.log.info({ drainMs: times.drainMs }, 'not ready; serving while endpoints are removed');
      await new Promise<void>((resolve) => {
        drain = { timer: setTimeout(resolve, times.drainMs), done: resolve };
      });
      drain = undefined;
      app.log.info({ timeoutMs: times.timeoutMs }, 'closing: no new connections, finishing in-flight reviews');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), times.timeoutMs);
      });
      const outcome = await Promise.race([close().then(() => 'closed' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'closed') return { clean: true };
      app.log.warn('shutdown timeout: cutting the connections still open');
      app.server.closeAllConnections();
      await close();
      return { clean: false };
    },
    async forceClose() {
      readiness.ready = false;
      if (drain) {
        clearTimeout(drain.timer);
        drain.done();
      }
      const closed = close();
      app.server.closeAllConnections();
      await closed;
    },
  };
}

function boundPort(server: { address(): ReturnType<HttpServer['address']> }, fallback: number): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : fallback;
}

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? ' (image-admission certs --out DIR makes a development pair)' : '';
    throw new Error(`cannot read the ${what} ${file}: ${code ?? String(error)}${hint}`);
  }
}

async function readKeysDir(dir: string): Promise<TrustedKeys> {
  try {
    return await loadTrustedKeys(dir);
  } catch (error) {
    throw new Error(`cannot read the trusted keys directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

async function readKeyPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string }> {
  return { cert: await readPem(certFile, 'serving certificate'), key: await readPem(keyFile, 'private key') };
}
