/**
 * Prometheus metrics of one app instance, in their own registry (never prom-client's global one), so
 * that several apps in one process (tests) do not share or clash. Label values come from closed sets
 * (endpoints, operations, decisions, rule identifiers, reason classes), never from the request, so a
 * hostile client cannot grow the series count.
 */
import type { AdmissionPhase } from '../image/index.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VERSION } from '../version.js';

import { REVIEWED_RESOURCES } from '../admission/targets.js';
import { certificateExpiry } from '../certs/files.js';
import type { ReviewRecord } from '../review/record.js';
import { type TrustMetrics, trustMetrics } from '../signature/metrics.js';

/** Why a request got a 4xx instead of a review: a small closed set, for the `reason` label. */
export const BAD_REQUEST_REASONS = [
  'not-json',
  'invalid-utf8',
  'too-deep',
  'empty-body',
  'too-large',
  'overloaded',
  'unsupported-media-type',
  'not-a-review',
  'client-certificate',
  'other',
] as const;
export type BadRequestReason = (typeof BAD_REQUEST_REASONS)[number];

/**
 * Latency buckets from 100 µs: a typical review takes well under a millisecond (docs/performance.md),
 * so the default buckets (5 ms and up) would put nearly every review in the first one. Up to 10 s,
 * the API server's default webhook timeout, so slow reviews are seen before they become timeouts.
 */
const REVIEW_DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The resources this webhook reviews; anything else (a misrouted request) is counted as `other`. */
const KNOWN_RESOURCES: ReadonlySet<string> = new Set(REVIEWED_RESOURCES);

/** The webhook's metrics and the registry that exposes them. */
export interface Metrics extends TrustMetrics {
  readonly registry: Registry;
  /** Counts a review as in flight; call the returned function once it is answered. */
  startReview(): () => void;
  observeReview(record: ReviewRecord): void;
  badRequest(reason: BadRequestReason): void;
  internalError(endpoint: AdmissionPhase | 'other'): void;
  /** Records the serving certificate's notAfter; call at start and on every reload. */
  setServingCertificate(pem: string): void;
  /** Counts a connection closed at accept because its source address held too many. */
  connectionRefused(): void;
  /** Reports how many body bytes the memory budget holds now, and its capacity. */
  setBodyBytes(held: number, capacity: number): void;
}

/** Options of `createMetrics`. */
export interface MetricsOptions {
  /** Process, heap, GC and event-loop lag metrics (default true). */
  defaultMetrics?: boolean;
}

/** Creates the metrics in a fresh registry. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) {
    // 10 ms sampling keeps the event-loop lag histogram meaningful at low cost.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  }
  const reviews = new Counter({
    name: 'image_admission_reviews_total',
    help: 'Admission reviews answered, by webhook (mutate or validate), operation, resource and decision.',
    labelNames: ['webhook', 'operation', 'resource', 'decision'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'image_admission_review_duration_seconds',
    help: 'Time from a parsed body to a built answer, by webhook.',
    labelNames: ['webhook'] as const,
    buckets: REVIEW_DURATION_BUCKETS,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'image_admission_reviews_in_flight',
    help: 'Reviews being answered now.',
    registers: [registry],
  });
  const violations = new Counter({
    name: 'image_admission_violations_total',
    help: 'Rule violations found, by webhook, rule and kind (violation, pre-existing or advisory).',
    labelNames: ['webhook', 'rule', 'kind'] as const,
    registers: [registry],
  });
  const badRequests = new Counter({
    name: 'image_admission_bad_requests_total',
    help: 'Requests answered with a 4xx instead of a review (each is a failed webhook call), by reason class.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const internalErrors = new Counter({
    name: 'image_admission_internal_errors_total',
    help: 'Requests answered with HTTP 500 because of a bug, by webhook.',
    labelNames: ['webhook'] as const,
    registers: [registry],
  });
  const expiry = new Gauge({
    name: 'image_admission_tls_certificate_expiry_timestamp_seconds',
    help: 'notAfter of the serving certificate in use, as a Unix time in seconds.',
    registers: [registry],
  });
  const refusedConnections = new Counter({
    name: 'image_admission_connections_refused_total',
    help: 'Connections closed at accept because their source address already held --max-connections-per-source.',
    registers: [registry],
  });
  const bodyBytes = new Gauge({
    name: 'image_admission_body_bytes',
    help: 'Request body bytes held now (state="held") and the memory budget for them (state="budget").',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  // The Prometheus convention for what is running: a constant 1 whose labels carry the versions, so a
  // dashboard or alert can tell a rollout's old pods from its new ones.
  new Gauge({
    name: 'image_admission_build_info',
    help: 'Always 1; the labels say which version of the webhook runs, on which Node.js.',
    labelNames: ['version', 'node_version'] as const,
    registers: [registry],
  }).set({ version: VERSION, node_version: process.version }, 1);
  // Series that exist from the start read 0 rather than absent, so rate() and ratios work at once.
  for (const reason of BAD_REQUEST_REASONS) badRequests.inc({ reason }, 0);
  for (const webhook of ['mutate', 'validate'] as const) internalErrors.inc({ webhook }, 0);

  return {
    ...trustMetrics(registry),
    registry,
    startReview() {
      inFlight.inc();
      let done = false;
      return () => {
        if (done) return;
        done = true;
        inFlight.dec();
      };
    },
    observeReview(record) {
      const webhook = record.endpoint;
      const resource = KNOWN_RESOURCES.has(record.resource) ? record.resource : 'other';
      reviews.inc({ webhook, operation: record.operation, resource, decision: record.decision });
      duration.observe({ webhook }, record.seconds);
      // Counted per rule where the review was judged: 100,000 violations of one rule are one increment.
      for (const { rule, kind, count } of record.counts) violations.inc({ webhook, rule, kind }, count);
    },
    badRequest(reason) {
      badRequests.inc({ reason });
    },
    internalError(endpoint) {
      internalErrors.inc({ webhook: endpoint });
    },
    setServingCertificate(pem) {
      expiry.set(certificateExpiry(pem).getTime() / 1000);
    },
    connectionRefused() {
      refusedConnections.inc();
    },
    setBodyBytes(held, capacity) {
      bodyBytes.set({ state: 'held' }, held);
      bodyBytes.set({ state: 'budget' }, capacity);
    },
  };
}
