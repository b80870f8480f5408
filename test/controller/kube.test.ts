/** The controller's small API client: a caller's AbortSignal ends a call the server never answers. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubeClient } from '../../src/controller/kube.js';

describe('kubeClient', () => {
  it('aborts a call when its signal aborts, closing the connection of a server that never answers', async () => {
    let received = 0;
    let closed = 0;
    const server = createServer((req) => {
      received++;
      req.socket.on('close', () => closed++);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const config = new KubeConfig();
      const port = (server.address() as AddressInfo).port;
      config.loadFromOptions({
        // Plain HTTP needs skipTLSVerify in client-node; nothing here is secret.
        clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
        users: [{ name: 'u' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      const kube = kubeClient(config);
      const abort = new AbortController();
      const call = kube.request('GET', '/apis/coordination.k8s.io/v1/namespaces/ns/leases/x', undefined, { signal: abort.signal });
      while (received === 0) await new Promise((resolve) => setImmediate(resolve));
      abort.abort(new Error('renew deadline'));
      await expect(call).rejects.toThrow();
      while (closed === 0) await new Promise((resolve) => setImmediate(resolve));
      expect(closed).toBe(1);
      // An aborted signal sends nothing at all.
      await expect(kube.request('GET', '/x', undefined, { signal: abort.signal })).rejects.toThrow('renew deadline');
      expect(received).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
