/**
 * The fastify application: routes and the HTTP edge. It never listens (server.ts does), so tests
 * drive it through `inject`. Handlers are thin: parse → handle → reply.
 */
import type { AdmissionPhase } from '../image/index.js';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { SecureContextOptions, TLSSocket } from 'node:tls';

import type { Policy } from '../admission/policy.js';
import { BodyReadError, readBody } from './body-reader.js';
import { type ConnectionCounts, limitConnectionsPerSource } from './connection-limit.js';
import { DEFAULT_LIMITS, type ServerLimits } from './limits.js';
import { bodyBudgetBytes, MemoryBudget } from './memory-budget.js';
import { type BadRequestReason, createMetrics, type Metrics } from './metrics.js';
import { SignatureVerifier } from '../signature/index.js';
import { answerBody } from '../review/answer.js';
import { BODY_LIMIT } from '../review/json-body.js';
import { DECISION_MESSAGE, type ReviewRecord, toDecisionLine } from '../review/record.js';
import { answersOnThread } from '../review/route.js';
import { ReviewThread } from '../review/thread.js';

/**
 * The API server's HTTP client keeps idle connections for 90 s. If the server closed them sooner, the
 * client could write a review onto a connection being closed and fail the call without retrying.
 */
const KEEP_ALIVE_TIMEOUT_MS = 120_000;

/**
 * How often Node looks for requests past their timeouts. Node ends a request only at the first sweep
 * after its timeout, so the timeouts given to Node are the configured ones minus this: a stalled body
 * is then ended within the configured time (30 s, the API server's longest timeoutSeconds), not up to
 * a sweep later.
 */
const TIMEOUT_SWEEP_MS = 500;

/** The timeouts to give Node so that its sweep ends a request by the configured times. */
export function nodeTimeouts(limits: Pick<ServerLimits, 'requestTimeoutMs' | 'headersTimeoutMs'>): { requestTimeout: number; headersTimeout: number; sweep: number } {
  // A sweep at most a quarter of the shortest timeout keeps very short (test) timeouts meaningful.
  const sweep = Math.max(10, Math.min(TIMEOUT_SWEEP_MS, Math.floor(limits.headersTimeoutMs / 4)));
  return { requestTimeout: Math.max(1, limits.requestTimeoutMs - sweep), headersTimeout: Math.max(1, limits.headersTimeoutMs - sweep), sweep };
}

/** Seconds a refused (429) review is told to wait: the API server retries after it, within its timeoutSeconds. */
const RETRY_AFTER_SECONDS = 1;
/** Whether the server should receive new work: flips to false when shutdown starts. */
export interface Readiness {
  ready: boolean;
}

export interface AppOptions {
  policy: Policy;
  logger?: FastifyServerOptions['logger'];
  https?: SecureContextOptions & { minVersion: 'TLSv1.2' | 'TLSv1.3' };
  readiness?: Readiness;
  /** Where the app reports; a fresh registry when omitted. */
  metrics?: Metrics;
  /** Timeouts, connection caps and the memory limit; DEFAULT_LIMITS when omitted. */
  limits?: ServerLimits;
  /**
   * Reviews need a client certificate that the TLS layer verified against `https.ca` (mTLS).
   * Checked per request rather than at the handshake so that kubelet probes, which present no
   * certificate, still reach /healthz and /readyz.
   */
  requireClientCertificate?: boolean;
  /** Verifies image signatures (its keys are replaced on reload); one that trusts no key when omitted. */
  verifier?: SignatureVerifier;
}

/** The metrics of an app built by buildApp, and the thread that answers its large reviews. */
declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
    reviewThread: ReviewThread;
    verifier: SignatureVerifier;
    /** The budget every request body is taken from. */
    memoryBudget: MemoryBudget;
    /** Open connections per source address. */
    connections: ConnectionCounts;
  }
}

/** Builds the webhook's fastify application with its routes. */
export function buildApp(options: AppOptions): FastifyInstance {
  const readiness = options.readiness ?? { ready: true };
  const metrics = options.metrics ?? createMetrics();
  const limits = options.limits ?? DEFAULT_LIMITS;
  const timeouts = nodeTimeouts(limits);
  const app = Fastify({
    logger: options.logger ?? false,
    // https.createServer also takes http.Server's options: headersTimeout ends a client that sends its
    // headers slowly (slowloris), handshakeTimeout one that stalls the TLS handshake (a timer of its
    // own, exact), and expired requests are looked for every TIMEOUT_SWEEP_MS rather than Node's 30 s.
    https: options.https
      ? { ...options.https, headersTimeout: timeouts.headersTimeout, handshakeTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: timeouts.sweep }
      : null,
    bodyLimit: BODY_LIMIT,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // A slow client may not hold a request open longer than the API server would wait anyway.
    requestTimeout: timeouts.requestTimeout,
    // During shutdown keep answering: a 503 is a failed webhook call for the API server.
    return503OnClosing: false,
    // Each review is logged once, as a decision; per-request access logs would double the volume.
    logController: new LogController({ disableRequestLogging: true }),
    // `/validate/` reaches the same route as `/validate` (the query string, such as the API server's
    // ?timeout=10s, never takes part in routing).
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;

  app.server.maxConnections = limits.maxConnections;
  app.decorate('connections', limitConnectionsPerSource(app.server, limits.maxConnectionsPerSource, () => metrics.connectionRefused()));
  app.decorate('metrics', metrics);
  const verifier = options.verifier ?? new SignatureVerifier();
  app.decorate('verifier', verifier);
  const budget = new MemoryBudget(bodyBudgetBytes(limits.memoryLimitBytes, BODY_LIMIT));
  app.decorate('memoryBudget', budget);
  metrics.setBodyBytes(0, budget.capacityBytes);
  // Each request's bytes go back to the budget when its response is done or its connection is gone
  // (ServerResponse 'close' covers both, including Node's own 408 on a timeout).
  const holds = new WeakMap<IncomingMessage, { bytes: number; closed: boolean }>();
  app.addHook('onRequest', (request, reply, done) => {
    const hold = { bytes: 0, closed: false };
    holds.set(request.raw, hold);
    reply.raw.once('close', () => {
      hold.closed = true;
      budget.give(hold.bytes);
      hold.bytes = 0;
      metrics.setBodyBytes(budget.held, budget.capacityBytes);
    });
    done();
  });
  const take = (raw: IncomingMessage) => (bytes: number, large: boolean): boolean => {
    const hold = holds.get(raw);
    if (hold === undefined || hold.closed || !budget.take(bytes, large)) return false;
    hold.bytes += bytes;
    metrics.setBodyBytes(budget.held, budget.capacityBytes);
    return true;
  };
  const thread = new ReviewThread(
    options.policy,
    (why) => app.log.error({ problem: why }, 'review thread lost: the large reviews it held were answered 500'),
    (outcome, count) => metrics.signatureVerified(outcome, count),
  );
  app.decorate('reviewThread', thread);
  // After the server has closed, so every review in flight has been answered.
  app.addHook('onClose', () => thread.close());

  // Only JSON is an AdmissionReview; anything else gets 415 rather than a confusing parse.
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  // The bytes are kept as they are: the review handler parses them, inline or on the review thread.
  app.addContentTypeParser('application/json', (request: FastifyRequest, payload: IncomingMessage) =>
    readBody(payload, request.headers['content-length'], BODY_LIMIT, take(request.raw)),
  );
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      metrics.internalError(endpointOf(request));
      request.log.error({ err: error }, 'unexpected error');
      return reply.code(500).send({ code: 500, reason: 'internal error' });
    }
    metrics.badRequest(badRequestReason(error));
    request.log.warn({ endpoint: endpointOf(request), problem: error.message }, status === 429 ? 'review refused: memory budget full' : 'bad request');
    // The API server's client retries a 429 that carries Retry-After, within the webhook's timeoutSeconds
    // (client-go rest/with_retry.go). The connection stays open (fastify closes it after any parser
    // error): Node then reads and discards the rest of the unread body, holding none of it. Closing at
    // once made the kernel reset connections that still had body bytes arriving, and under load the
    // clients lost the 429 with the reset.
    if (status === 429) void reply.header('retry-after', String(RETRY_AFTER_SECONDS)).removeHeader('connection');
    return reply.code(status).send({ code: status, reason: error.message });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    // A known path asked with the wrong method is a 405 naming the right one (RFC 9110 §15.5.6), not a
    // 404 that suggests the path is wrong: `curl https://…/validate` is the usual first try.
    const allow = ALLOWED_METHODS[path.length > 1 ? path.replace(/\/$/, '') : path];
    if (allow !== undefined) {
      return reply.code(405).header('allow', allow).send({ code: 405, reason: `${request.method} is not allowed on ${path}: use ${allow}${allow === 'POST' ? ' with an AdmissionReview body, as the API server does' : ''}` });
    }
    return reply.code(404).send({ code: 404, reason: `no route for ${request.method} ${path}` });
  });

  // Before the body is read: an unauthenticated client costs no parsing.
  const onRequest = options.requireClientCertificate
    ? async (request: FastifyRequest, reply: FastifyReply) => {
        if ((request.raw.socket as Partial<TLSSocket>).authorized === true) return;
        metrics.badRequest('client-certificate');
        request.log.warn({ endpoint: endpointOf(request) }, 'review without a verified client certificate');
        return reply.code(401).send({ code: 401, reason: 'a client certificate signed by the configured client CA is required' });
      }
    : undefined;
  for (const endpoint of ['mutate', 'validate'] as const) {
    app.post(`/${endpoint}`, onRequest ? { onRequest } : {}, (request, reply) => review(endpoint, options.policy, thread, verifier, metrics, request, reply));
  }
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) =>
    readiness.ready ? { status: 'ready' } : reply.code(503).send({ status: 'shutting down' }),
  );
  return app;
}

/** The methods of each route, for the 405's Allow header (fastify adds HEAD beside every GET). */
const ALLOWED_METHODS: Record<string, string> = {
  '/mutate': 'POST',
  '/validate': 'POST',
  '/metrics': 'GET, HEAD',
  '/healthz': 'GET, HEAD',
  '/readyz': 'GET, HEAD',
};

async function review(endpoint: AdmissionPhase, policy: Policy, thread: ReviewThread, verifier: SignatureVerifier, metrics: Metrics, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const started = process.hrtime.bigint();
  const finished = metrics.startReview();
  try {
    const body = request.body as Buffer | undefined;
    // No content type and no body reaches the handler without going through the parser.
    if (body === undefined) {
      metrics.badRequest('empty-body');
      return await reply.code(400).send({ code: 400, reason: 'body is empty: expected an AdmissionReview as JSON' });
    }
    const answer = answersOnThread(body) ? await thread.answer(body, endpoint) : await answerBody(body, endpoint, policy, verifier);
    switch (answer.kind) {
      case 'answered':
        metrics.observeReview(answer.record);
        logDecision(request, answer.record, started);
        return await reply.type('application/json; charset=utf-8').send(answer.reply);
      case 'refused':
        metrics.badRequest(answer.reason);
        request.log.warn({ uid: answer.uid, endpoint, problem: answer.message }, answer.reason === 'not-a-review' ? 'malformed admission review' : 'bad request');
        return await reply.code(400).send({ code: 400, reason: answer.message });
      case 'failed':
        // A bug, not an outcome: answer 500 so that the webhook's failurePolicy decides (Fail by default).
        metrics.internalError(endpoint);
        request.log.error({ err: answer.error, uid: answer.uid, endpoint }, 'review failed');
        return await reply.code(500).send({ code: 500, reason: 'internal error while reviewing; see the webhook log' });
    }
  } finally {
    finished();
  }
}

function endpointOf(request: FastifyRequest): AdmissionPhase | 'other' {
  const path = request.url.split('?')[0]?.replace(/\/+$/, '');
  return path === '/mutate' || path === '/validate' ? path.slice(1) as AdmissionPhase : 'other';
}

/** The reason class of a 4xx error raised before the review handler, for metrics (fastify's codes and the body reader's). */
function badRequestReason(error: Error & { code?: string }): BadRequestReason {
  if (error instanceof BodyReadError) return error.reasonClass;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'too-large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported-media-type';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'empty-body';
    default:
      return 'other';
  }
}

/** One line per review: what was decided, for whom, and why. Never the object's contents. */
function logDecision(request: FastifyRequest, record: ReviewRecord, started: bigint): void {
  request.log.info(toDecisionLine(record, Number(process.hrtime.bigint() - started) / 1e6), DECISION_MESSAGE);
}
