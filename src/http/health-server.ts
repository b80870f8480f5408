/**
 * /healthz and /readyz on their own plain-HTTP listener (controller-runtime's
 * `--health-probe-bind-address`, default :8081). The kubelet's probes then never compete with review
 * traffic for connection slots, TLS handshakes or the webhook port's memory budget: a flood on 8443
 * cannot make the kubelet restart a pod that is answering reviews. The listener runs on its own thread
 * (health-thread.ts), so a busy main thread cannot delay the answers either; it still reports a main
 * thread that has stopped turning (`alive`), which is what a liveness probe is for.
 */
import { createServer, type Server } from 'node:http';
import type { Readiness } from './app.js';
import { limitConnectionsPerSource } from './connection-limit.js';

/** Answers only GET /healthz and GET /readyz, with the same JSON bodies as the webhook port. */
export function createHealthServer(readiness: Readiness, alive: () => boolean = () => true): Server {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0]!.replace(/\/+$/, '');
    const answer = (status: number, body: object) => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return answer(405, { code: 405, reason: 'only GET' });
    if (path !== '/healthz' && path !== '/readyz') return answer(404, { code: 404, reason: 'only /healthz and /readyz are served here' });
    if (!alive()) return answer(503, { status: 'stalled', reason: 'the main thread has not run for several seconds' });
    if (path === '/healthz') return answer(200, { status: 'ok' });
    return readiness.ready ? answer(200, { status: 'ready' }) : answer(503, { status: 'shutting down' });
  });
  // A probe sends a few hundred bytes: nobody needs long to send them, nor many connections.
  server.headersTimeout = 5_000;
  server.requestTimeout = 5_000;
  // The kubelet opens a fresh connection per probe; one address holding more than a few is not it.
  server.maxConnections = 64;
  limitConnectionsPerSource(server, 8);
  server.keepAliveTimeout = 5_000;
  return server;
}
