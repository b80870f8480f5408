/**
 * The controller's two small HTTP servers, named and addressed as controller-runtime's are: metrics
 * (`/metrics`) on --metrics-bind-address, probes (`/healthz`, `/readyz`) on
 * --health-probe-bind-address. Plain HTTP: they carry no secrets, and NetworkPolicy keeps them in.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A bind address: `host:port`, `:port` (every interface), or `0` (off, as in controller-runtime). */
export type BindAddress = { host?: string; port: number } | 'off';

/** Parses a bind address, or says what is wrong with it. */
export function parseBindAddress(text: string): BindAddress | { problem: string } {
  if (text === '0') return 'off';
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) return { problem: `must be HOST:PORT, :PORT or 0, got ${JSON.stringify(text)}` };
  const host = match[1] ?? match[2];
  return host ? { host, port } : { port };
}

async function listen(address: BindAddress, flag: string, handler: Parameters<typeof createServer>[1]): Promise<Server | undefined> {
  if (address === 'off') return undefined;
  const server = createServer(handler);
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    // Node's message names the address ("listen EADDRINUSE: address already in use :::8081").
    const failed = (error: Error) => reject(new Error(`${flag}: ${error.message}`));
    server.once('error', failed);
    server.listen(address.port, address.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  return server;
}

/** The running endpoints. */
export interface Endpoints {
  /** The ports actually bound (port 0 picks one). */
  metricsPort?: number;
  probePort?: number;
  close(): Promise<void>;
}

const closeServer = (server: Server | undefined) => (server ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined);

/**
 * Serves metrics and probes; `ready()` decides /readyz. When one cannot listen (an address in use),
 * the other is closed before the error is thrown: a server left listening would keep the process
 * alive with nothing else to do.
 */
export async function serveEndpoints(options: { metrics: BindAddress; probes: BindAddress; registry: Registry; ready: () => boolean }): Promise<Endpoints> {
  const metrics = await listen(options.metrics, '--metrics-bind-address', (req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      options.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': options.registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500).end();
        },
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  });
  const probes = await listen(options.probes, '--health-probe-bind-address', (req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      return;
    }
    if (req.method === 'GET' && path === '/readyz') {
      const ready = options.ready();
      res.writeHead(ready ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ready ? 'ok\n' : 'not ready: the first list of Images is not judged yet\n');
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  }).catch(async (error: unknown) => {
    await closeServer(metrics);
    throw error;
  });
  const port = (server: Server | undefined) => (server ? (server.address() as AddressInfo).port : undefined);
  const metricsPort = port(metrics);
  const probePort = port(probes);
  return {
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    ...(probePort !== undefined ? { probePort } : {}),
    async close() {
      await Promise.all([metrics, probes].map(closeServer));
    },
  };
}
