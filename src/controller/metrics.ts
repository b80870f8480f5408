/**
 * The controller's metrics, in their own registry. Label values come from closed sets (rule
 * identifiers of the catalogue, fixed reasons and operations), never from Image content.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { RULES } from '../image/index.js';
import { type TrustMetrics, trustMetrics } from '../signature/metrics.js';

/** Why a watch was started again. */
export type RestartReason = 'closed' | 'expired' | 'error';
/** A write to a report. */
export type WriteOperation = 'create' | 'update' | 'delete';

/** The controller's metrics and the registry that exposes them, with the webhook's trust metrics (names and help shared) beside the controller's own. */
export interface ControllerMetrics extends TrustMetrics {
  readonly registry: Registry;
  /**
   * Shows what the verdict store holds: Images in violation of each rule (rules absent from its counts
   * read 0), and Images violating and clean (its total is never taken below those in violation).
   */
  showVerdicts(store: { counts(): ReadonlyMap<string, number>; readonly size: number; readonly total: number }): void;
  judged(): void;
  scanCompleted(at: Date): void;
  watchRestarted(reason: RestartReason): void;
  reportWrite(operation: WriteOperation, outcome: 'ok' | 'error'): void;
  setReportKind(kind: string): void;
  setLeader(leader: boolean): void;
  setQueued(size: number): void;
  /** Images from the watch held whole while their signatures are verified, and names kept to read again. */
  setJudging(held: number, deferred: number): void;
  /** One more Image from the watch kept by name only (all places taken). */
  judgingDeferred(): void;
  /** Whether the Image watch is connected now. */
  setWatchConnected(connected: boolean): void;
}

/** Creates the metrics in a fresh registry. */
export function createControllerMetrics(options: { defaultMetrics?: boolean } = {}): ControllerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const inViolation = new Gauge({
    name: 'image_admission_images_in_violation',
    help: 'Images now stored that break a rule, by rule (an Image breaking two rules counts under each).',
    labelNames: ['rule'] as const,
    registers: [registry],
  });
  // Every rule of the catalogue reads 0 from the start: "no violation" is a value, not a missing series.
  for (const rule of RULES) inViolation.set({ rule: rule.id }, 0);
  const images = new Gauge({
    name: 'image_admission_controller_images',
    help: 'Images the controller knows of, by verdict (violating: at least one failing or warning rule).',
    labelNames: ['verdict'] as const,
    registers: [registry],
  });
  const judged = new Counter({ name: 'image_admission_controller_images_judged_total', help: 'Images judged (listed, changed, or re-judged).', registers: [registry] });
  const lastScan = new Gauge({
    name: 'image_admission_controller_last_complete_scan_timestamp_seconds',
    help: 'When the controller last finished judging every stored Image (a list or a periodic rescan), in Unix seconds.',
    registers: [registry],
  });
  const restarts = new Counter({
    name: 'image_admission_controller_watch_restarts_total',
    help: 'Image watches started again: closed (the server ended it; resumed), expired (410 Gone; listed again), error (backed off, then resumed).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of ['closed', 'expired', 'error'] as const) restarts.inc({ reason }, 0);
  const connected = new Gauge({
    name: 'image_admission_controller_watch_connected',
    help: '1 while the Image watch is connected (changes arrive as they happen); 0 while it is being started again or failing.',
    registers: [registry],
  });
  const writes = new Counter({
    name: 'image_admission_controller_report_writes_total',
    help: 'Writes to reports, by operation and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    registers: [registry],
  });
  const reportKind = new Gauge({
    name: 'image_admission_controller_report_kind',
    help: 'The report kind being written (1), from the report CRDs the cluster serves; kind "none" when it serves neither.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const leader = new Gauge({ name: 'image_admission_controller_leader', help: '1 while this replica holds the leader Lease (or runs without leader election).', registers: [registry] });
  const queued = new Gauge({ name: 'image_admission_controller_report_queue', help: 'Reports waiting to be written.', registers: [registry] });
  const waiting = new Gauge({
    name: 'image_admission_controller_images_waiting',
    help: 'Images from the watch waiting for their verdict: held (whole, while signatures are verified; at most --max-held-images) or deferred (only the name, to be read again).',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  for (const state of ['held', 'deferred'] as const) waiting.set({ state }, 0);
  const deferred = new Counter({
    name: 'image_admission_controller_images_deferred_total',
    help: 'Images from the watch kept by name only, because --max-held-images were already held; each is read again from the API server.',
    registers: [registry],
  });
  return {
    ...trustMetrics(registry),
    registry,
    showVerdicts(store) {
      const counts = store.counts();
      for (const rule of RULES) inViolation.set({ rule: rule.id }, counts.get(rule.id) ?? 0);
      for (const [rule, count] of counts) if (!RULES.some((r) => r.id === rule)) inViolation.set({ rule }, count);
      images.set({ verdict: 'violating' }, store.size);
      images.set({ verdict: 'clean' }, Math.max(store.total, store.size) - store.size);
    },
    judged: () => judged.inc(),
    scanCompleted: (at) => lastScan.set(at.getTime() / 1000),
    watchRestarted: (reason) => restarts.inc({ reason }),
    reportWrite: (operation, outcome) => writes.inc({ operation, outcome }),
    setReportKind(kind) {
      reportKind.reset();
      reportKind.set({ kind }, 1);
    },
    setLeader: (value) => leader.set(value ? 1 : 0),
    setQueued: (size) => queued.set(size),
    setJudging(held, kept) {
      waiting.set({ state: 'held' }, held);
      waiting.set({ state: 'deferred' }, kept);
    },
    judgingDeferred: () => deferred.inc(),
    setWatchConnected: (value) => connected.set(value ? 1 : 0),
  };
}
