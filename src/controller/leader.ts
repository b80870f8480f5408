/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules
 * (k8s.io/client-go/tools/leaderelection): a replica takes the Lease when it is free, expired, or
 * its own; it renews it every retry period; a Lease counts as expired when its record has not changed
 * for a lease duration *as observed on this replica's monotonic clock* (never by comparing clocks); a
 * leader that cannot renew within the renew deadline stops leading, and no API call of an attempt
 * outlives that deadline. On a clean stop the Lease is released
 * (holder emptied) so that another replica takes over at once.
 */
import { describeFailure, type Kube } from './kube.js';
import { errorText, type Logger } from './log.js';
import { wait } from './retry.js';

export interface LeaderElectionOptions {
  kube: Kube;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  /** A monotonic clock in ms (tests fake it): a wall clock stepped by NTP must not stretch or shrink a lease. */
  now?: () => number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits (the API server parses no other). */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}


/** A leader election; `run` resolves when leadership is lost or the signal aborts. */
export class LeaderElection {
  private observed: { record: string; at: number } | undefined;
  private held: Lease | undefined;
  /** When the last attempt that acquired or renewed the Lease began, on `now`'s clock. */
  private lastRenew = 0;
  private readonly now: () => number;

  constructor(private readonly options: LeaderElectionOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  private get path(): string {
    const { namespace, name } = this.options;
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases/${encodeURIComponent(name)}`;
  }

  /**
   * Waits for leadership, calls `lead` once it is held, and keeps renewing. Resolves with 'lost' when
   * a renewal failed past the renew deadline, 'stopped' when `signal` aborted (the Lease released).
   */
  async run(signal: AbortSignal, lead: () => void): Promise<'lost' | 'stopped'> {
    const { retryPeriodMs, renewDeadlineMs, log, identity } = this.options;
    log.info('waiting for leadership', { lease: `${this.options.namespace}/${this.options.name}`, identity });
    for (;;) {
      if (signal.aborted) return 'stopped';
      // Acquiring is bounded too: the renewal clock starts when the winning attempt began.
      const started = this.now();
      if (await this.attempt(signal, renewDeadlineMs)) {
        this.lastRenew = started;
        break;
      }
      await wait(retryPeriodMs * (1 + Math.random() * 0.2), signal);
    }
    if (signal.aborted) {
      await this.release();
      return 'stopped';
    }
    log.info('became leader', { identity });
    lead();
    while (!signal.aborted) {
      await wait(retryPeriodMs, signal);
      if (signal.aborted) break;
      // Each attempt may only use what is left of the renew deadline, counted from the start of the
      // last attempt that renewed (before the server stored it, so never later than other replicas
      // start their lease-duration count): a hanging API server cannot keep this replica leading
      // past the deadline while another takes the Lease (client-go passes a context with the same
      // timeout to tryAcquireOrRenew).
      const started = this.now();
      const left = this.lastRenew + renewDeadlineMs - started;
      if (left > 0 && (await this.attempt(signal, left))) this.lastRenew = started;
      else if (this.now() - this.lastRenew >= renewDeadlineMs) {
        log.error('leadership lost: the Lease could not be renewed within the renew deadline', { identity });
        return 'lost';
      }
    }
    await this.release();
    return 'stopped';
  }

  /** One try to acquire or renew, its API calls aborted after `timeoutMs` or when `stop` aborts. */
  private async attempt(stop: AbortSignal, timeoutMs: number): Promise<boolean> {
    const deadline = new AbortController();
    const abort = () => deadline.abort(new Error(`no answer within the ${Math.round(timeoutMs)} ms left of the renew deadline`));
    const timer = setTimeout(abort, timeoutMs);
    stop.addEventListener('abort', abort, { once: true });
    try {
      return await this.tryAcquireOrRenew(deadline.signal);
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', abort);
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { kube, namespace, name, identity, leaseDurationMs, log } = this.options;
    const now = new Date();
    const spec = (previous?: LeaseSpec): LeaseSpec => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: previous?.holderIdentity === identity && previous.acquireTime ? previous.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (previous && previous.holderIdentity !== identity ? 1 : 0),
    });
    try {
      const got = await kube.request('GET', this.path, undefined, { signal });
      if (got.status === 404) {
        const lease: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: spec() };
        const created = await kube.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`, lease, { signal });
        if (created.status !== 201) {
          if (created.status !== 409) log.warn('could not create the Lease', { error: describeFailure('POST', this.path, created) });
          return false;
        }
        this.held = created.body as Lease;
        this.observed = { record: JSON.stringify(this.held.spec), at: this.now() };
        return true;
      }
      if (got.status !== 200) {
        log.warn('could not read the Lease', { error: describeFailure('GET', this.path, got) });
        return false;
      }
      const lease = got.body as Lease;
      const record = JSON.stringify(lease.spec ?? {});
      if (this.observed?.record !== record) this.observed = { record, at: this.now() };
      const holder = lease.spec?.holderIdentity ?? '';
      const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
      if (holder !== '' && holder !== identity && this.observed.at + duration > this.now()) return false;
      const updated = await kube.request('PUT', this.path, { ...lease, spec: spec(lease.spec) }, { signal });
      if (updated.status !== 200) {
        if (updated.status !== 409) log.warn('could not update the Lease', { error: describeFailure('PUT', this.path, updated) });
        return false;
      }
      this.held = updated.body as Lease;
      this.observed = { record: JSON.stringify(this.held.spec), at: this.now() };
      return true;
    } catch (error) {
      log.warn('Lease request failed', { error: errorText(error) });
      return false;
    }
  }

  /** Empties the holder so that another replica need not wait for the Lease to expire. */
  private async release(): Promise<void> {
    const lease = this.held;
    if (!lease || lease.spec.holderIdentity !== this.options.identity) return;
    try {
      const released = { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) } };
      const response = await this.options.kube.request('PUT', this.path, released);
      if (response.status === 200) this.options.log.info('released the Lease');
    } catch (error) {
      this.options.log.warn('could not release the Lease', { error: errorText(error) });
    }
  }
}
