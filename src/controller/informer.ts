/**
 * Lists, then watches, the stored Images with @kubernetes/client-node's informer machinery
 * (`ListWatch`, the class behind `makeInformer`), judging each Image as it arrives and keeping only
 * its verdict.
 *
 * What client-node 1.4's ListWatch does, read in its source (dist/cache.js, dist/watch.js), and what
 * this module adds around it:
 *   - It resumes a watch that the server ended from the last resourceVersion it saw, and lists again
 *     when that version is gone (a 410 as the watch's HTTP status, or as an ERROR event): kept.
 *   - It caches every object it sees, whole: here it is handed objects cut down to their name, uid and
 *     resourceVersion (a watch wrapper and the list function judge the full object first), so memory
 *     does not grow with the size of the Images. An Image from the watch that waits for its
 *     signatures to be verified is held whole only while fewer than `maxHeld` are (src/controller/judging.ts);
 *     past that its name is kept and it is read again later.
 *   - Its list function returns one list: ours reads it page by page (limit/continue) and keeps only
 *     the cut-down objects of each page.
 *   - On any other error it reports and stops: here it is started again after a growing, jittered
 *     delay, and resumes from where it was.
 *   - Its watch asks for no timeout and no bookmarks, and a silent connection hangs forever: here the
 *     watch asks for a server-side timeout (5 to 10 minutes, as client-go's reflector does) and
 *     bookmarks, a watch silent for longer than its timeout is cut and started again, and one whose
 *     answer does not begin within 30 s is given up (client-node sets up its own 30 s limit, then
 *     overwrites it before use).
 *   - A watch the server ends at once, without an event, is restarted at once, in a tight loop: here
 *     it is an error, with the delay (client-go's reflector calls it a "very short watch").
 *   - A failure to set up a watch request (say, an exec credential plugin that fails) rejects a
 *     promise nobody awaits, which would end the process: here it is an error, with the delay.
 *   - A rescan counts as a complete scan only while the watch is sound (no error during the rescan,
 *     connected at its end): a rescan judges the versions the informer holds, which are only current
 *     while the watch delivers changes; otherwise the last complete scan time stands still, and the
 *     ImageAdmissionScanStale alert says so.
 */
import type * as K8s from '@kubernetes/client-node';
import { type ExistingVerdict, judgeStoredImage, type StoredImageOptions, waitsForVerification } from '../audit/existing.js';
import { imagePages } from '../audit/scan.js';
import type { SignatureVerifier } from '../signature/index.js';
import { JudgingQueue } from './judging.js';
import { describeFailure, type Kube } from './kube.js';
import { errorText, type Logger } from './log.js';
import type { ControllerMetrics } from './metrics.js';
import { toFinding } from './report.js';
import type { VerdictStore } from './verdicts.js';

type Client = typeof K8s;
type KubeConfig = InstanceType<Client['KubeConfig']>;

const IMAGES_PATH = '/apis/image.openshift.io/v1/images';
/** How long a watch request may wait for the beginning of its answer. */
const WATCH_ANSWER_TIMEOUT_MS = 30_000;
/** A watch that ended sooner than this without an event is an error (as client-go's reflector judges). */
const SHORT_WATCH_MS = 1_000;

/** What the informer keeps of an Image. */
interface Slim {
  apiVersion: string;
  kind: string;
  metadata: { name: string; uid?: string; resourceVersion?: string };
}

export interface InformerOptions {
  k8s: Client;
  config: KubeConfig;
  /** Reads an Image again whose watch event was not held (see `maxHeld`). */
  kube: Kube;
  /** Images per list request. */
  pageSize: number;
  /** The most Images from the watch held whole while their signatures are verified. */
  maxHeld: number;
  judge: StoredImageOptions;
  /** Verifies the Images' signatures under the trusted keys (its cache bounds the work). */
  verifier: SignatureVerifier;
  store: VerdictStore;
  metrics: ControllerMetrics;
  log: Logger;
  /** Called after every complete scan: a list, or a rescan. */
  onScanComplete(): void;
  /** A fixed watch timeout (tests); random from 300 to 600 s otherwise. */
  watchTimeoutSeconds?: number;
  /** The first and the longest delay before starting again after an error. */
  backoff?: { initialMs: number; maxMs: number };
  /** How long a watch request may wait for its answer to begin (tests); 30 s otherwise. */
  watchAnswerTimeoutMs?: number;
}

/** The running informer. */
export interface ImageInformer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Judges every stored Image again (new rules or keys, or the periodic resync) without a new watch. */
  rescan(judge?: StoredImageOptions): Promise<void>;
  /** Whether a first complete list has been judged. */
  readonly synced: boolean;
}

function slim(object: unknown): Slim {
  const metadata = ((object as { metadata?: Record<string, unknown> } | null)?.metadata ?? {}) as Record<string, unknown>;
  const out: Slim = { apiVersion: 'image.openshift.io/v1', kind: 'Image', metadata: { name: String(metadata.name ?? '') } };
  if (typeof metadata.uid === 'string') out.metadata.uid = metadata.uid;
  if (typeof metadata.resourceVersion === 'string') out.metadata.resourceVersion = metadata.resourceVersion;
  return out;
}

/** Creates the informer; `start()` lists and starts watching. */
export function createImageInformer(options: InformerOptions): ImageInformer {
  const { k8s, config, store, metrics, log } = options;
  const api = config.makeApiClient(k8s.CustomObjectsApi);
  const backoff = options.backoff ?? { initialMs: 1_000, maxMs: 60_000 };
  let judge = options.judge;
  let stopped = true;
  let synced = false;
  let delay = backoff.initialMs;
  let retry: NodeJS.Timeout | undefined;
  let listApplied = false;
  let expired = false;
  let watching: { controller: AbortController; since: number; timeoutSeconds: number } | undefined;
  let lastActivity = Date.now();
  let known = 0;
  /** Watch errors so far, and whether a watch is connected now: when a rescan is a complete scan. */
  let watchErrors = 0;
  let connected = false;

  // Judging waits for signature verification: the queue bounds the Images held meanwhile, and lets
  // only an Image's latest judgement record its verdict, none after its deletion.
  const judging = new JudgingQueue<{ uid: string | undefined; verdict: ExistingVerdict }>({
    maxHeld: options.maxHeld,
    waits: (object) => waitsForVerification(object, judge),
    judge: (object) => {
      const uid = slim(object).metadata.uid;
      const verdict = judgeStoredImage(object, judge, options.verifier);
      return verdict instanceof Promise ? verdict.then((v) => ({ uid, verdict: v })) : { uid, verdict };
    },
    record: (name, { uid, verdict }) => {
      metrics.judged();
      store.set(name, uid, toFinding(verdict.violations));
    },
    read: async (name) => {
      const path = `${IMAGES_PATH}/${encodeURIComponent(name)}`;
      const response = await options.kube.request('GET', path);
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw new Error(describeFailure('GET', path, response));
      return response.body;
    },
    // A bug or a failed read, not a verdict: say so; the next event, relist or rescan judges it again.
    failed: (name, error) => log.error('an Image could not be judged', { image: name.slice(0, 253), error: errorText(error) }),
    load: (held, deferred) => metrics.setJudging(held, deferred),
    deferredOne: () => metrics.judgingDeferred(),
  });
  const named = (objects: readonly unknown[]) =>
    objects.flatMap((object) => {
      const name = (object as { metadata?: { name?: unknown } } | null)?.metadata?.name;
      return typeof name === 'string' ? [{ name, object }] : [];
    });

  // The count of Images follows every add and delete, so the clean-Image gauge is current too.
  const countChanged = () => {
    store.total = known;
    metrics.showVerdicts(store);
  };

  const scanComplete = (): void => {
    countChanged();
    metrics.scanCompleted(new Date());
    options.onScanComplete();
  };

  const watchFailed = (error: unknown): void => {
    watchErrors++;
    connected = false;
    metrics.setWatchConnected(false);
    if (stopped) return;
    metrics.watchRestarted('error');
    const wait = Math.round(delay * (0.8 + Math.random() * 0.4));
    log.warn('image list or watch failed: starting again after a delay', { error: errorText(error), retryInMs: wait });
    delay = Math.min(delay * 2, backoff.maxMs);
    clearTimeout(retry);
    retry = setTimeout(() => {
      if (!stopped) informer.start().catch(watchFailed);
    }, wait);
  };

  // The watch's requests with a limit on the wait for their answer to begin (node-fetch's `timeout`
  // covers the connection and the response headers, not the streamed body). Watch reads no more of
  // its KubeConfig than these two.
  const answerTimeout = options.watchAnswerTimeoutMs ?? WATCH_ANSWER_TIMEOUT_MS;
  const watchConfig = {
    getCurrentCluster: () => config.getCurrentCluster(),
    applyToFetchOptions: async (init: Parameters<KubeConfig['applyToFetchOptions']>[0]) => ({ ...(await config.applyToFetchOptions(init)), timeout: answerTimeout }),
  } as unknown as KubeConfig;

  class JudgingWatch extends k8s.Watch {
    override async watch(
      path: string,
      params: Record<string, string | number | boolean | undefined>,
      callback: (phase: string, object: unknown, raw?: unknown) => void,
      done: (error: unknown) => void,
    ): Promise<AbortController> {
      if (stopped) {
        // Stopped while the list ran: no new watch (ListWatch itself does not look).
        const none = new AbortController();
        none.abort();
        return none;
      }
      // ListWatch has applied the list (deletions included) before it starts the next watch.
      if (listApplied) {
        listApplied = false;
        synced = true;
        scanComplete();
      }
      const timeoutSeconds = options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
      expired = false;
      lastActivity = Date.now();
      const startedAt = Date.now();
      let events = 0;
      let ended = false;
      const end = (error: unknown) => {
        ended = true;
        watching = undefined;
        connected = false;
        metrics.setWatchConnected(false);
        done(error);
      };
      let controller: AbortController;
      try {
        controller = await super.watch(path, { ...params, allowWatchBookmarks: true, timeoutSeconds }, (phase, object, raw) => {
          events++;
          lastActivity = Date.now();
          delay = backoff.initialMs;
          if (phase === 'ERROR') {
            if ((object as { code?: unknown } | null)?.code === 410) expired = true;
            callback(phase, object, raw);
            return;
          }
          if (phase === 'ADDED' || phase === 'MODIFIED') {
            const name = (object as { metadata?: { name?: unknown } } | null)?.metadata?.name;
            if (typeof name === 'string') judging.offer(name, object);
          }
          callback(phase, slim(object), raw);
        }, (error: unknown) => {
          const status = (error as { statusCode?: unknown } | null)?.statusCode;
          const cleanEnd = error === null || error === undefined;
          if (cleanEnd && !expired && events === 0 && Date.now() - startedAt < SHORT_WATCH_MS && !stopped) {
            end(new Error(`the image watch ended after ${Date.now() - startedAt} ms without an event`));
            return;
          }
          if (!stopped) {
            if (cleanEnd) metrics.watchRestarted(expired ? 'expired' : 'closed');
            else if (status === 410) metrics.watchRestarted('expired');
            if (expired || status === 410) log.info('image watch expired (410 Gone): listing again');
          }
          end(error);
        });
      } catch (error) {
        // Setting up the request failed (credentials, the kubeconfig): an error like any other.
        end(error);
        const none = new AbortController();
        none.abort();
        return none;
      }
      if (!ended) {
        connected = true;
        metrics.setWatchConnected(true);
        watching = { controller, since: Date.now(), timeoutSeconds };
      }
      return controller;
    }
  }

  const list = async (): Promise<K8s.KubernetesListObject<Slim & K8s.KubernetesObject>> => {
    const items: Slim[] = [];
    let resourceVersion = '';
    for await (const page of imagePages(api, options.pageSize)) {
      if (stopped) throw new Error('stopped');
      // The page is in memory anyway: its Images are judged together, and the next page waits.
      await judging.judgeAll(named(page.items));
      for (const item of page.items) items.push(slim(item));
      resourceVersion = page.resourceVersion;
      lastActivity = Date.now();
    }
    delay = backoff.initialMs;
    listApplied = true;
    log.info('listed the Images', { images: items.length, resourceVersion });
    return { apiVersion: 'image.openshift.io/v1', kind: 'ImageList', metadata: { resourceVersion }, items };
  };

  const informer = new k8s.ListWatch<Slim & K8s.KubernetesObject>(IMAGES_PATH, new JudgingWatch(watchConfig), list, false);
  informer.on('add', () => {
    known++;
    if (synced) countChanged();
  });
  informer.on('delete', (object) => {
    known = Math.max(0, known - 1);
    if (object.metadata?.name) {
      // A judgement still in flight for a deleted Image must not bring its verdict back.
      judging.forget(object.metadata.name);
      store.delete(object.metadata.name);
    }
    countChanged();
  });
  informer.on('error', watchFailed);

  // A watch that has said nothing for longer than its own timeout is a dead connection.
  const watchdog = setInterval(() => {
    const current = watching;
    if (stopped || !current) return;
    if (Date.now() - lastActivity > (current.timeoutSeconds + 30) * 1000) {
      log.warn('image watch silent past its timeout: cutting it');
      current.controller.abort();
    }
  }, 5_000);
  watchdog.unref();

  return {
    async start() {
      stopped = false;
      await informer.start().catch(watchFailed);
    },
    async stop() {
      stopped = true;
      judging.stop();
      clearTimeout(retry);
      clearInterval(watchdog);
      await informer.stop();
    },
    async rescan(next) {
      if (next) judge = next;
      // (New keys need nothing here: the verifier already holds them, and its cache was cleared.)
      const errorsBefore = watchErrors;
      let judged = 0;
      for await (const page of imagePages(api, options.pageSize)) {
        // Only the version the informer holds: a newer one is on its way through the watch (and will
        // be judged there), an older or deleted one must not bring back a verdict.
        const current = page.items.filter((item) => {
          const metadata = slim(item).metadata;
          return informer.get(metadata.name)?.metadata.resourceVersion === metadata.resourceVersion;
        });
        await judging.judgeAll(named(current));
        judged += current.length;
      }
      if (watchErrors === errorsBefore && connected) {
        log.info('judged every Image again', { images: judged });
        scanComplete();
      } else {
        // The versions judged may be stale, and new or deleted Images unseen: not a complete scan.
        log.warn('judged the Images again, but the image watch is failing: not counted as a complete scan', { images: judged });
      }
    },
    get synced() {
      return synced;
    },
  };
}
