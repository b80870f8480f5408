/**
 * A port already taken is reported with the setting to change, as a bad value is: the operator reads
 * `--host/--port (HOST/PORT): listen EADDRINUSE ...`, not Node's message alone.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../support/tls.js';

let taken: Server;
let port: number;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  port = (taken.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
});

describe('serve on a port already in use', () => {
  it('names --host/--port for the HTTPS port', async () => {
    await expect(startTestServer({ port, healthProbe: null })).rejects.toThrow(/^--host\/--port \(HOST\/PORT\): listen EADDRINUSE/);
  });

  it('names --health-probe-bind-address for the probe port, and the HTTPS port stays free', async () => {
    await expect(startTestServer({ healthProbe: { host: '127.0.0.1', port } })).rejects.toThrow(/^--health-probe-bind-address \(HEALTH_PROBE_BIND_ADDRESS\): /);
    // Nothing was left listening by the failed start: a server starts normally afterwards.
    const server = await startTestServer({ healthProbe: null });
    await server.stop();
  });
});
