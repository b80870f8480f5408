/**
 * The fastify application: routes and the HTTP edge. It never listens (server.ts does), so tests
 * drive it through `inject`. Handlers are thin: parse → handle → reply.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { SecureContextOptions } from 'node:tls';
import { type Decision, type Endpoint, handleReview } from '../admission/handle.js';
import { parseReview } from '../admission/parse-review.js';
import type { Policy } from '../admission/policy.js';
import type { AdmissionRequest } from '../admission/types.js';
import { formatPath } from '../image/index.js';

/**
 * The API server caps each object at 3 MiB and a review can carry two (object and oldObject);
 * 7 MiB leaves room for the envelope, as controller-runtime does. fastify's 1 MiB default would
 * answer large reviews with 413, which the API server counts as a failed call.
 */
export const BODY_LIMIT = 7 * 1024 * 1024;

/**
 * The API server's HTTP client keeps idle connections for 90 s. If the server closed them sooner, the
 * client could write a review onto a connection being closed and fail the call without retrying.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 120_000;

/** Whether the server should receive new work: flips to false when shutdown starts. */
export interface Readiness {
  ready: boolean;
}

export interface AppOptions {
  policy: Policy;
  logger?: FastifyServerOptions['logger'];
  https?: SecureContextOptions & { minVersion: 'TLSv1.2' | 'TLSv1.3' };
  readiness?: Readiness;
}

/** Builds the webhook's fastify application with its routes. */
export function buildApp(options: AppOptions): FastifyInstance {
  const readiness = options.readiness ?? { ready: true };
  const app = Fastify({
    logger: options.logger ?? false,
    https: options.https ?? null,
    bodyLimit: BODY_LIMIT,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // A slow client may not hold a request open longer than the API server would wait anyway.
    requestTimeout: 30_000,
    // During shutdown keep answering: a 503 is a failed webhook call for the API server.
    return503OnClosing: false,
    // Each review is logged once, as a decision; per-request access logs would double the volume.
    logController: new LogController({ disableRequestLogging: true }),
    // The API server appends ?timeout=10s; routes match on the path alone.
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;

  // Only JSON is an AdmissionReview; anything else gets 415 rather than a confusing parse.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      request.log.error({ err: error }, 'unexpected error');
      return reply.code(500).send({ code: 500, reason: 'internal error' });
    }
    return reply.code(status).send({ code: status, reason: error.message });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ code: 404, reason: `no route for ${request.method} ${request.url.split('?')[0]}` }));

  for (const endpoint of ['mutate', 'validate'] as const) {
    app.post(`/${endpoint}`, (request, reply) => review(endpoint, options.policy, request, reply));
  }
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) =>
    readiness.ready ? { status: 'ready' } : reply.code(503).send({ status: 'shutting down' }),
  );
  return app;
}

async function review(endpoint: Endpoint, policy: Policy, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const started = process.hrtime.bigint();
  const parsed = parseReview(request.body);
  if (!parsed.ok) {
    request.log.warn({ uid: parsed.uid, endpoint, problem: parsed.problem }, 'malformed admission review');
    return reply.code(400).send({ code: 400, reason: parsed.problem });
  }
  try {
    const { reply: answer, decision } = handleReview(parsed.apiVersion, parsed.request, endpoint, policy);
    logDecision(request, endpoint, policy, parsed.request, decision, started);
    return answer;
  } catch (error) {
    // A bug, not an outcome: answer 500 so that the webhook's failurePolicy decides (Fail by default).
    request.log.error({ err: error, uid: parsed.request.uid, endpoint }, 'review failed');
    return reply.code(500).send({ code: 500, reason: 'internal error while reviewing; see the webhook log' });
  }
}

/** One line per review: what was decided, for whom, and why. Never the object's contents. */
function logDecision(
  request: FastifyRequest,
  endpoint: Endpoint,
  policy: Policy,
  admission: AdmissionRequest,
  decision: Decision,
  started: bigint,
): void {
  const { group, resource } = admission.resource;
  const summarize = (errors: Decision['violations']) => errors.map((e) => ({ rule: e.rule, path: formatPath(e.path), type: e.type, detail: e.detail }));
  request.log.info(
    {
      decisionId: admission.uid,
      endpoint,
      operation: admission.operation,
      resource: group ? `${resource}.${group}` : resource,
      name: admission.name ?? (admission.object as { metadata?: { name?: string } } | undefined)?.metadata?.name,
      imageName: imageName(admission),
      namespace: admission.namespace,
      user: admission.userInfo.username,
      groups: admission.userInfo.groups,
      dryRun: admission.dryRun,
      decision: decision.decision,
      mode: policy.mode,
      violations: summarize(decision.violations),
      preExisting: summarize(decision.inherited),
      advisories: summarize(decision.advisories),
      patched: decision.patched,
      latencyMs: Number(process.hrtime.bigint() - started) / 1e6,
    },
    'decision',
  );
}

/** The Image's name: the object's for images, the embedded `image`'s for imagestreammappings. */
function imageName(admission: AdmissionRequest): string | undefined {
  const object = admission.object as { metadata?: { name?: unknown }; image?: { metadata?: { name?: unknown } } } | null;
  const name = admission.resource.resource === 'imagestreammappings' ? object?.image?.metadata?.name : object?.metadata?.name;
  return typeof name === 'string' ? name : undefined;
}
