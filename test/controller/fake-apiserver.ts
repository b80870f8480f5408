/**
 * A small stand-in for the API server's Image endpoints, for the informer's failure paths that a real
 * kube-apiserver will not produce on demand: a watch whose answer never begins, a watch ended at once,
 * a watch refused, a slow list. Plain HTTP on 127.0.0.1; every request is logged.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';

const IMAGES = '/apis/image.openshift.io/v1/images';

/** What the next watch requests get. */
export type WatchMode = 'open' | 'hang' | 'end' | 'bookmark-then-end' | 'forbidden';

export interface FakeApiServer {
  readonly port: number;
  readonly images: Map<string, object>;
  readonly requests: string[];
  watchMode: WatchMode;
  listDelayMs: number;
  /** Sends a watch event to every open watch. */
  send(type: 'ADDED' | 'MODIFIED' | 'DELETED', image: object): void;
  watchRequests(): number;
  listRequests(): number;
  kubeconfig(): k8s.KubeConfig;
  close(): Promise<void>;
}

let resourceVersion = 100;

/** A minimal stored Image (it breaks rules: enough for the informer, which judges whatever it gets). */
export function storedImage(name: string): object {
  return { apiVersion: 'image.openshift.io/v1', kind: 'Image', metadata: { name, uid: `uid-${name}`, resourceVersion: String(++resourceVersion) } };
}

export async function startFakeApiServer(): Promise<FakeApiServer> {
  const watchers = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    fake.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === IMAGES && url.searchParams.get('watch') === 'true') {
      if (fake.watchMode === 'hang') return;
      if (fake.watchMode === 'forbidden') return json(403, { kind: 'Status', code: 403, message: 'images is forbidden' });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (fake.watchMode === 'end') return res.end();
      if (fake.watchMode === 'bookmark-then-end') {
        const bookmark = { apiVersion: 'image.openshift.io/v1', kind: 'Image', metadata: { resourceVersion: String(resourceVersion) } };
        return res.end(`${JSON.stringify({ type: 'BOOKMARK', object: bookmark })}\n`);
      }
      res.flushHeaders();
      watchers.add(res);
      res.on('close', () => watchers.delete(res));
      return;
    }
    if (url.pathname === IMAGES) {
      setTimeout(() => json(200, { apiVersion: 'image.openshift.io/v1', kind: 'ImageList', metadata: { resourceVersion: String(resourceVersion) }, items: [...fake.images.values()] }), fake.listDelayMs);
      return;
    }
    const one = url.pathname.startsWith(`${IMAGES}/`) ? fake.images.get(decodeURIComponent(url.pathname.slice(IMAGES.length + 1))) : undefined;
    return one ? json(200, one) : json(404, { kind: 'Status', code: 404 });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fake: FakeApiServer = {
    port: (server.address() as AddressInfo).port,
    images: new Map(),
    requests: [],
    watchMode: 'open',
    listDelayMs: 0,
    send(type, image) {
      for (const res of watchers) res.write(`${JSON.stringify({ type, object: image })}\n`);
    },
    watchRequests: () => fake.requests.filter((r) => r.includes('watch=true')).length,
    listRequests: () => fake.requests.filter((r) => r.startsWith(`GET ${IMAGES}?`) && !r.includes('watch=true')).length,
    kubeconfig() {
      const config = new k8s.KubeConfig();
      config.loadFromOptions({
        clusters: [{ name: 'fake', server: `http://127.0.0.1:${fake.port}`, skipTLSVerify: true }],
        users: [{ name: 'fake', token: 'fake' }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
        currentContext: 'fake',
      });
      return config;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return fake;
}
