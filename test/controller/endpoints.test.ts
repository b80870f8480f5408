/**
 * The controller's metrics and probe servers when an address is taken: the one already listening is
 * closed and the command exits 1 with a message naming the flag, instead of a process that keeps
 * running with no controller in it. A server left listening would hold its port: each test binds the
 * port again afterwards. No timings.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/controller.js';
import { serveEndpoints } from '../../src/controller/endpoints.js';
import { captureIo } from '../audit/helpers.js';

async function listenOn(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}
const closeIt = (server: Server) => new Promise((resolve) => server.close(resolve));

/** A port free now (the kernel's pick); the test then binds it by number. */
async function freePort(): Promise<number> {
  const server = await listenOn(0);
  const { port } = server.address() as AddressInfo;
  await closeIt(server);
  return port;
}

/** Fails when something still listens on `port`. */
async function expectFree(port: number): Promise<void> {
  await closeIt(await listenOn(port));
}

describe('controller endpoints when an address is in use', () => {
  let taken: Server;
  let takenPort: number;
  let metricsPort: number;
  beforeEach(async () => {
    taken = await listenOn(0);
    takenPort = (taken.address() as AddressInfo).port;
    metricsPort = await freePort();
  });
  afterEach(async () => {
    await closeIt(taken);
  });

  it('serveEndpoints closes the metrics server it started when the probe address is taken', async () => {
    await expect(
      serveEndpoints({ metrics: { host: '127.0.0.1', port: metricsPort }, probes: { host: '127.0.0.1', port: takenPort }, registry: new Registry(), ready: () => true }),
    ).rejects.toThrow(/^--health-probe-bind-address: listen EADDRINUSE/);
    await expectFree(metricsPort);
  });

  it('serveEndpoints names the metrics flag when the metrics address is taken, and starts no probe server', async () => {
    const probePort = await freePort();
    await expect(
      serveEndpoints({ metrics: { host: '127.0.0.1', port: takenPort }, probes: { host: '127.0.0.1', port: probePort }, registry: new Registry(), ready: () => true }),
    ).rejects.toThrow(/^--metrics-bind-address: listen EADDRINUSE/);
    await expectFree(probePort);
  });

  it('image-admission controller exits 1 with the reason, leaving nothing listening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'controller-endpoints-'));
    try {
      // A cluster nobody answers at: the controller must fail before it calls it.
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
      );
      const { io, err } = captureIo();
      const code = await run(['--kubeconfig', kubeconfig, '--log-level', 'silent', '--metrics-bind-address', `127.0.0.1:${metricsPort}`, '--health-probe-bind-address', `127.0.0.1:${takenPort}`], io);
      expect(code).toBe(1);
      expect(err()).toMatch(/^image-admission controller: could not start: --health-probe-bind-address: listen EADDRINUSE/);
      await expectFree(metricsPort);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
