/**
 * The controller put together: endpoints, leader election, then (while leading) the informer that
 * judges every stored Image, the verdict store, the reporter, and the periodic rescan.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type * as K8s from '@kubernetes/client-node';
import type { StoredImageOptions } from '../audit/existing.js';
import { type TrustedKeys, watchTrustedKeys } from '../keys/trusted-keys.js';
import { SignatureVerifier } from '../signature/index.js';
import { type BindAddress, type Endpoints, serveEndpoints } from './endpoints.js';
import { createImageInformer, type ImageInformer } from './informer.js';
import { kubeClient } from './kube.js';
import { LeaderElection } from './leader.js';
import { errorText, type Logger } from './log.js';
import { createControllerMetrics, type ControllerMetrics } from './metrics.js';
import { Reporter } from './reporter.js';
import { retryLoop } from './retry.js';
import type { ReportApi } from './report.js';
import { VerdictStore } from './verdicts.js';

type KubeConfig = InstanceType<(typeof K8s)['KubeConfig']>;

/** The controller's validated settings. */
export interface ControllerConfig {
  /** The rules, per-rule actions and `--expect-trusted-signature` scopes, as the webhook reads them. */
  judge: StoredImageOptions;
  /**
   * The trusted signing keys, read from `dir` (the CLI reads them first: an unreadable directory is a
   * usage error) and followed there: when they change, every Image is judged again. Without them no
   * signature is trusted, as on the webhook.
   */
  trustedKeys?: { dir: string; initial: TrustedKeys };
  pageSize: number;
  /** The most Images from the watch held whole while their signatures are verified (src/controller/judging.ts). */
  maxHeldImages: number;
  resyncPeriodMs: number;
  writesPerSecond: number;
  metricsAddress: BindAddress;
  probeAddress: BindAddress;
  leaderElection?: { namespace: string; name: string; leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** Tests: narrow the report APIs looked for, fix the watch timeout. */
  reportApis?: readonly ReportApi[];
  watchTimeoutSeconds?: number;
}

/** A running controller. */
export interface Controller {
  readonly metrics: ControllerMetrics;
  readonly endpoints: Endpoints;
  /** Resolves 'lost' when leadership was lost (the process should exit and be restarted), 'stopped' after stop(). */
  readonly done: Promise<'lost' | 'stopped'>;
  /** Judges every Image again now (SIGHUP), or once the first list is judged if it is not yet. */
  rescan(judge?: StoredImageOptions): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the controller against the cluster of `kubeconfig`. */
export async function startController(config: ControllerConfig, kubeconfig: KubeConfig, log: Logger): Promise<Controller> {
  const k8s = await import('@kubernetes/client-node');
  const kube = kubeClient(kubeconfig);
  const metrics = createControllerMetrics();
  metrics.setLeader(false);
  let informer: ImageInformer | undefined;
  let reporter: Reporter | undefined;
  let leading = false;
  const abort = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  /** Set when everything must be judged again while the first list is still being judged. */
  let rescanWhenSynced = false;

  // Signatures are verified under the trusted keys, with the verifier's bounded cache of verdicts.
  const verifier = new SignatureVerifier(config.trustedKeys?.initial.keySet, Date.now, (outcome) => metrics.signatureVerified(outcome));
  const reportKeys = (keys: TrustedKeys, what: string): void => {
    metrics.setTrustedKeys(keys.keySet.keys.length, keys.problems.length);
    log.info(what, { dir: config.trustedKeys?.dir, keys: keys.keySet.fingerprints });
    // Names and reasons only: never a key file's content.
    for (const { name, problem } of keys.problems) log.warn('trusted key file skipped', { dir: config.trustedKeys?.dir, file: name, problem });
  };
  let keysWatch: { close(): void } | undefined;
  if (config.trustedKeys) {
    reportKeys(config.trustedKeys.initial, 'trusted signing keys loaded');
    keysWatch = watchTrustedKeys({
      dir: config.trustedKeys.dir,
      initial: config.trustedKeys.initial,
      onChange: (next) => {
        // Verdicts under the old keys are dropped with the cache; every stored Image is judged again.
        verifier.setKeys(next.keySet);
        reportKeys(next, 'trusted signing keys reloaded: judging every Image again');
        void rejudgeAll();
      },
      onError: (error) => log.warn('trusted signing keys not reloaded', { error: errorText(error) }),
    });
  } else {
    metrics.setTrustedKeys(0, 0);
    log.info('no --trusted-keys: no image signature is trusted, so stored Trusted=True conditions are reported');
  }

  /** Judges every Image again: now, or after the first list if it is still running (it began with older keys or rules). */
  const rejudgeAll = async (judge?: StoredImageOptions): Promise<void> => {
    if (!informer) return;
    if (!informer.synced) {
      rescanWhenSynced = true;
      return;
    }
    await informer.rescan(judge).catch((error: unknown) => log.warn('rescan failed', { error: errorText(error) }));
  };

  const store = new VerdictStore((name) => {
    metrics.showVerdicts(store);
    reporter?.enqueue(name);
  });

  let endpoints: Endpoints;
  try {
    endpoints = await serveEndpoints({
      metrics: config.metricsAddress,
      probes: config.probeAddress,
      registry: metrics.registry,
      // A standby replica is ready (to take over); a leader once its first list is judged.
      ready: () => !leading || informer?.synced === true,
    });
  } catch (error) {
    // Nothing may be left running (it would keep the process alive): the key directory's watch.
    keysWatch?.close();
    throw error;
  }

  const lead = () => {
    leading = true;
    metrics.setLeader(true);
    const activeReporter = new Reporter({ kube, store, metrics, log, writesPerSecond: config.writesPerSecond, synced: () => informer?.synced === true, ...(config.reportApis ? { apis: config.reportApis } : {}) });
    reporter = activeReporter;
    void activeReporter.run();
    informer = createImageInformer({
      k8s,
      config: kubeconfig,
      kube,
      pageSize: config.pageSize,
      maxHeld: config.maxHeldImages,
      judge: config.judge,
      verifier,
      store,
      metrics,
      log,
      ...(config.watchTimeoutSeconds ? { watchTimeoutSeconds: config.watchTimeoutSeconds } : {}),
      // (The informer has shown the store's counts already.)
      onScanComplete: () => {
        log.info('scan complete', { images: store.total, inViolation: store.size, byRule: Object.fromEntries(store.counts()) });
        activeReporter.reconcileAll();
        if (rescanWhenSynced) {
          rescanWhenSynced = false;
          void rejudgeAll();
        }
      },
    });
    // Which report kind the cluster serves (and cleanup of a kind left behind): now, retried until it
    // succeeds, then at each resync. One loop at most: a tick during an outage joins the loop running.
    const discover = retryLoop(() => activeReporter.detect(), {
      signal: abort.signal,
      onError: (error, retryInMs) => log.warn('report CRD discovery failed: trying again', { error: errorText(error), retryInMs }),
    });
    discover();
    void informer.start();
    const resync = setInterval(() => {
      // The rescan does not wait for discovery: verdicts and the gauge stay current during an outage of
      // discovery, and the reporter writes to whichever kind is in use.
      discover();
      void informer?.rescan().catch((error: unknown) => log.warn('rescan failed', { error: errorText(error) }));
    }, config.resyncPeriodMs);
    resync.unref();
    timers.push(resync);
  };

  let done: Promise<'lost' | 'stopped'>;
  if (config.leaderElection) {
    const election = new LeaderElection({ kube, log, identity: `${hostname()}_${randomUUID()}`, ...config.leaderElection });
    done = election.run(abort.signal, lead);
  } else {
    lead();
    done = new Promise((resolve) => abort.signal.addEventListener('abort', () => resolve('stopped')));
  }

  return {
    metrics,
    endpoints,
    done,
    rescan: rejudgeAll,
    async stop() {
      keysWatch?.close();
      for (const timer of timers) clearInterval(timer);
      reporter?.stop();
      await informer?.stop();
      abort.abort();
      await done;
      await endpoints.close();
    },
  };
}
