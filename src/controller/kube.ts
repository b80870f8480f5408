/**
 * A small JSON client for the few API calls the controller makes besides its watch (reports, the
 * Lease, discovery): each answer is a status code and a parsed body, so every caller decides on
 * 404, 409 and 410 itself. Credentials come from the KubeConfig for every call (a projected service
 * account token is re-read as the kubelet rotates it).
 */
import { request, type RequestOptions } from 'node:https';
import { request as plainRequest } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';

/** An API server answer. */
export interface KubeResponse {
  status: number;
  body: unknown;
}

/** Per-call options. */
export interface KubeRequestOptions {
  /** Aborts the call (the socket is destroyed and the promise rejects): a caller's own deadline, shorter than the socket timeout. */
  signal?: AbortSignal;
}

/** The calls the controller makes. */
export interface Kube {
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, options?: KubeRequestOptions): Promise<KubeResponse>;
}

/** Answers bigger than this are refused: a report or Lease is small, a page of reports a few MiB at most. */
const MAX_BODY = 64 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

/** A client for the cluster of `config`'s current context. */
export function kubeClient(config: KubeConfig): Kube {
  return {
    async request(method, path, body, { signal } = {}) {
      signal?.throwIfAborted();
      const cluster = config.getCurrentCluster();
      if (!cluster) throw new Error('the kubeconfig has no current cluster');
      const url = new URL(cluster.server + path);
      const options: RequestOptions = { method, headers: {} };
      await config.applyToHTTPSOptions(options);
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      options.headers = {
        ...(options.headers as Record<string, string>),
        Accept: 'application/json',
        ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
      };
      const send = url.protocol === 'http:' ? plainRequest : request;
      return new Promise<KubeResponse>((resolve, reject) => {
        const req = send(url, { ...options, timeout: TIMEOUT_MS, ...(signal ? { signal } : {}) }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY) req.destroy(new Error(`${method} ${path}: answer larger than ${MAX_BODY} bytes`));
            else chunks.push(chunk);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              // not JSON (a proxy's error page): kept as text for the message
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${TIMEOUT_MS / 1000} s`)));
        req.on('error', reject);
        req.end(payload);
      });
    },
  };
}

/** A short, bounded description of a failed call, for logs and errors. */
export function describeFailure(method: string, path: string, response: KubeResponse): string {
  const message = (response.body as { message?: unknown } | undefined)?.message;
  const text = typeof message === 'string' ? message : typeof response.body === 'string' ? response.body : '';
  return `${method} ${path}: ${response.status}${text ? ` ${text.slice(0, 300)}` : ''}`;
}
