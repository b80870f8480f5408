/**
 * Keeps the cluster's reports equal to the verdicts: one report per Image in violation, none for the
 * others, in the report API the cluster serves (openreports.io, else wgpolicyk8s.io, else none: then
 * only metrics and logs). It never installs a CRD.
 *
 * Writes go through one queue keyed by report name, drained by one worker at a bounded rate, and only
 * when a report's content changes: a rescan that finds what the reports already say writes nothing,
 * and neither does a restart (the existing reports are read first; names are derived from the Image).
 */
import { describeFailure, type Kube, type KubeResponse } from './kube.js';
import { errorText, type Logger } from './log.js';
import type { ControllerMetrics, WriteOperation } from './metrics.js';
import { buildReport, contentKey, MANAGED_BY, MANAGED_BY_LABEL, REPORT_APIS, reportName, type ReportApi } from './report.js';
import type { VerdictStore } from './verdicts.js';

/** A report that exists, as far as the controller knows. */
interface Existing {
  image: string;
  key: string;
  resourceVersion: string;
}

export interface ReporterOptions {
  kube: Kube;
  store: VerdictStore;
  metrics: ControllerMetrics;
  log: Logger;
  /** Report writes per second (a token bucket with as many tokens, at least one): 0.5 is one write each 2 s. */
  writesPerSecond: number;
  /** Whether a first complete list has been judged: only then may a report without a verdict go. */
  synced: () => boolean;
  /** The report APIs to look for, in order of preference (tests narrow it). */
  apis?: readonly ReportApi[];
  now?: () => Date;
}

const LIST_PAGE = 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function apiPath(api: ReportApi, name?: string): string {
  return `/apis/${api.group}/${api.version}/${api.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/** A list answered 404: the API server does not serve that report kind (any more). */
class NotServed extends Error {}

/** Writes the reports. */
export class Reporter {
  private sink: ReportApi | undefined;
  /** Report kinds we wrote before and must delete our reports of (normally none, or one). */
  private readonly leftBehind = new Set<ReportApi>();
  private existing = new Map<string, Existing>();
  /** Report name -> Image name, in the order the changes came. */
  private readonly queue = new Map<string, string>();
  private running = false;
  private wake: (() => void) | undefined;
  private tokens: number;
  private lastRefill = Date.now();
  private readonly now: () => Date;
  /** Aborted by stop(): a replica that lost its Lease must not finish a write another may be making. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: ReporterOptions) {
    this.tokens = Reporter.capacity(options.writesPerSecond);
    this.now = options.now ?? (() => new Date());
  }

  /** The report API in use, if any. */
  get kind(): ReportApi | undefined {
    return this.sink;
  }

  private detecting: Promise<void> | undefined;
  private detected = false;

  /** Asks discovery which report API the cluster serves; on a change, moves to it (see switchTo). */
  detect(): Promise<void> {
    // One discovery at a time: the start-up one and a resync's must not switch twice.
    this.detecting ??= this.discover().finally(() => (this.detecting = undefined));
    return this.detecting;
  }

  private async discover(): Promise<void> {
    const found = await this.find();
    if (this.detected && found !== this.sink && this.sink) {
      // Moving away from a kind in use (its CRD deleted, or openreports.io newly served) only when a
      // second look agrees: a freshly started API server serves CRD groups only after a moment.
      await sleep(5_000);
      if ((await this.find()) !== found) return;
    }
    if (!this.detected || found !== this.sink) await this.switchTo(found);
    this.detected = true;
    // Reports of a kind left behind: deleted now, or (rejecting) at the next detect().
    await this.cleanUp();
  }

  /** The first report API of the list that discovery says the cluster serves. */
  private async find(): Promise<ReportApi | undefined> {
    for (const api of this.options.apis ?? REPORT_APIS) {
      const response = await this.options.kube.request('GET', `/apis/${api.group}/${api.version}`, undefined, this.abortable);
      if (response.status === 404) continue;
      if (response.status !== 200) throw new Error(describeFailure('GET', `/apis/${api.group}/${api.version}`, response));
      const resources = (response.body as { resources?: { name?: string; kind?: string }[] } | undefined)?.resources ?? [];
      if (resources.some((r) => r.name === api.plural && r.kind === api.kind)) {
        return api;
      }
    }
    return undefined;
  }

  /**
   * Starts writing `next` (or nothing): reads the reports of ours it already holds and queues every
   * Image in violation. Our reports of the kind left behind are to be deleted (as Kubewarden's audit
   * scanner does when it moves from wgpolicyk8s.io to openreports.io), so that no stale copy stays:
   * the kind stays pending until every one of them is gone (see cleanUp).
   */
  private async switchTo(next: ReportApi | undefined): Promise<void> {
    const previous = this.sink;
    this.options.log.info('report kind', { kind: next ? `${next.kind}.${next.group}/${next.version}` : 'none (metrics and logs only)' });
    this.sink = undefined;
    this.existing = new Map();
    this.queue.clear();
    this.options.metrics.setReportKind(next ? next.kind : 'none');
    if (previous) this.leftBehind.add(previous);
    // Back to a kind whose cleanup had not finished: its reports are current again, not stale.
    if (next) this.leftBehind.delete(next);
    if (!next) return;
    // What exists first, then writes: a restart finds its reports and writes none that are current.
    this.existing = await this.listOurs(next);
    this.sink = next;
    this.reconcileAll();
  }

  /**
   * Deletes our reports of every kind left behind. A kind is forgotten only once a list found none
   * left (or its CRD is gone: a 404 for the list); a failed list or delete throws, and the next
   * detect() (start-up retries, each resync) tries again.
   */
  private async cleanUp(): Promise<void> {
    for (const api of [...this.leftBehind]) {
      let ours: Map<string, Existing>;
      try {
        ours = await this.listOurs(api);
      } catch (error) {
        if (error instanceof NotServed) {
          this.leftBehind.delete(api);
          continue;
        }
        throw error;
      }
      const failed: string[] = [];
      for (const name of ours.keys()) {
        try {
          const response = await this.write('delete', 'DELETE', apiPath(api, name));
          if (response.status >= 300 && response.status !== 404) failed.push(describeFailure('DELETE', apiPath(api, name), response));
        } catch (error) {
          failed.push(errorText(error));
        }
      }
      if (failed.length > 0) throw new Error(`${failed.length} ${api.kind} report(s) of the kind left behind not deleted, first: ${failed[0]}`);
      this.leftBehind.delete(api);
      if (ours.size > 0) this.options.log.info('reports of the kind left behind deleted', { kind: api.kind, deleted: ours.size });
    }
  }

  /** Our reports of `api`, by name, read page by page. */
  private async listOurs(api: ReportApi): Promise<Map<string, Existing>> {
    const found = new Map<string, Existing>();
    let token = '';
    do {
      const query = `?labelSelector=${encodeURIComponent(`${MANAGED_BY_LABEL}=${MANAGED_BY}`)}&limit=${LIST_PAGE}${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
      const response = await this.options.kube.request('GET', apiPath(api) + query, undefined, this.abortable);
      if (response.status === 404) throw new NotServed(describeFailure('GET', apiPath(api), response));
      if (response.status !== 200) throw new Error(describeFailure('GET', apiPath(api), response));
      const body = response.body as { items?: Record<string, unknown>[]; metadata?: { continue?: string } };
      for (const item of body.items ?? []) {
        const metadata = item.metadata as { name: string; resourceVersion?: string };
        const scope = item.scope as { name?: unknown } | undefined;
        found.set(metadata.name, { image: typeof scope?.name === 'string' ? scope.name : '', key: contentKey(item), resourceVersion: metadata.resourceVersion ?? '' });
      }
      token = body.metadata?.continue ?? '';
    } while (token);
    return found;
  }

  /** Queues the report of the Image `name` for a check (called when its verdict changes). */
  enqueue(name: string): void {
    if (!this.sink) return;
    this.queue.set(reportName(name), name);
    this.options.metrics.setQueued(this.queue.size);
    this.wake?.();
  }

  /**
   * Queues every Image in violation and every report of ours whose Image is not (fixed or deleted
   * while no controller ran). Called after each complete scan; unchanged reports cost no write.
   */
  reconcileAll(): void {
    // Before the first complete list an Image not yet seen looks clean: its report must not go.
    if (!this.sink || !this.options.synced()) return;
    for (const name of this.options.store.names()) this.queue.set(reportName(name), name);
    for (const [report, existing] of this.existing) {
      if (!this.queue.has(report) && !this.options.store.get(existing.image)) this.queue.set(report, existing.image);
    }
    this.options.metrics.setQueued(this.queue.size);
    this.wake?.();
  }

  /** Runs the worker until `stop()`. */
  async run(): Promise<void> {
    this.running = true;
    while (this.running) {
      const next = this.queue.entries().next();
      if (next.done) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const [report, image] = next.value;
      this.queue.delete(report);
      this.options.metrics.setQueued(this.queue.size);
      try {
        await this.sync(report, image);
      } catch (error) {
        this.options.log.warn('report write failed: trying again later', { report, error: errorText(error) });
        const retryIn = 1_000 + Math.random() * 4_000;
        setTimeout(() => {
          if (this.running && !this.queue.has(report)) {
            this.queue.set(report, image);
            this.wake?.();
          }
        }, retryIn).unref();
      }
    }
  }

  /** Stops the worker and aborts the API calls in flight. */
  stop(): void {
    this.running = false;
    this.stopping.abort(new Error('the reporter stopped'));
    this.wake?.();
  }

  private get abortable(): { signal: AbortSignal } {
    return { signal: this.stopping.signal };
  }

  /** Whether every queued write is done. */
  get idle(): boolean {
    return this.queue.size === 0;
  }

  /** Makes the report `name` match the verdict on `image`. */
  private async sync(name: string, image: string): Promise<void> {
    const api = this.sink;
    if (!api) return;
    const violating = this.options.store.get(image);
    const current = this.existing.get(name);
    if (!violating) {
      if (!current) return;
      const response = await this.write('delete', 'DELETE', apiPath(api, name));
      if (response.status < 300 || response.status === 404) {
        this.existing.delete(name);
        if (response.status < 300) this.options.log.info('report removed', { report: name, image });
        return;
      }
      throw new Error(describeFailure('DELETE', apiPath(api, name), response));
    }
    const desired = buildReport(api, { name: image, ...(violating.uid ? { uid: violating.uid } : {}) }, violating.finding, violating.since);
    const key = contentKey(desired);
    if (current?.key === key) return;
    const response = current
      ? await this.write('update', 'PUT', apiPath(api, name), { ...desired, metadata: { ...desired.metadata, resourceVersion: current.resourceVersion } })
      : await this.write('create', 'POST', apiPath(api), desired);
    if (response.status === 200 || response.status === 201) {
      const stored = response.body as Record<string, unknown> & { metadata?: { resourceVersion?: string } };
      this.existing.set(name, { image, key: contentKey(stored), resourceVersion: stored.metadata?.resourceVersion ?? '' });
      this.options.log.info(current ? 'report updated' : 'report written', { report: name, image, fail: violating.finding.fail, warn: violating.finding.warn });
      return;
    }
    if (response.status === 409 || (current && response.status === 404)) {
      // Someone else wrote it (or deleted it) since we looked: read it, then decide again.
      await this.refresh(api, name, image);
      throw new Error(describeFailure(current ? 'PUT' : 'POST', apiPath(api, name), response));
    }
    if (response.status === 404) {
      // The report CRD went away, or the API server does not serve it yet: look again, retry later.
      void this.detect().catch(() => {});
    }
    throw new Error(describeFailure(current ? 'PUT' : 'POST', apiPath(api, name), response));
  }

  private async refresh(api: ReportApi, name: string, image: string): Promise<void> {
    const response = await this.options.kube.request('GET', apiPath(api, name), undefined, this.abortable);
    if (response.status === 404) this.existing.delete(name);
    else if (response.status === 200) {
      const stored = response.body as Record<string, unknown> & { metadata?: { resourceVersion?: string } };
      this.existing.set(name, { image, key: contentKey(stored), resourceVersion: stored.metadata?.resourceVersion ?? '' });
    }
  }

  private async write(operation: WriteOperation, method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<KubeResponse> {
    await this.take();
    try {
      const response = await this.options.kube.request(method, path, body, this.abortable);
      this.options.metrics.reportWrite(operation, response.status < 300 ? 'ok' : 'error');
      return response;
    } catch (error) {
      this.options.metrics.reportWrite(operation, 'error');
      throw error;
    }
  }

  /**
   * A bucket holds at least one token: with fewer than one write a second allowed (0.5: one each 2 s)
   * a bucket of `rate` tokens would never reach a whole one, and nothing would ever be written.
   */
  private static capacity(rate: number): number {
    return Math.max(1, rate);
  }

  /** Waits for a write token: at most `writesPerSecond` writes a second, in bursts of as many (at least one). */
  private async take(): Promise<void> {
    const rate = this.options.writesPerSecond;
    const capacity = Reporter.capacity(rate);
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(capacity, this.tokens + ((now - this.lastRefill) / 1000) * rate);
      this.lastRefill = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.tokens) / rate) * 1000));
    }
  }
}
