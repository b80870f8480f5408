/**
 * Leader election against an in-memory Lease, on fake timers and a fake monotonic clock: a leader
 * whose API server stops answering gives up by the renew deadline, with no call left open (so it
 * cannot write after another replica took the Lease), and lease expiry is judged on the monotonic
 * clock, never the wall clock. The real API server suite covers two replicas end to end.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Kube, KubeResponse } from '../../src/controller/kube.js';
import { LeaderElection } from '../../src/controller/leader.js';
import { createLogger } from '../../src/controller/log.js';

const silent = createLogger(new Writable({ write: (_c, _e, cb) => cb() }), 'silent');
const TIMES = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** One Lease in memory. In `hang` mode every call waits until its signal aborts, as a stuck API server. */
function fakeLeaseServer() {
  let lease: Record<string, unknown> | undefined;
  let version = 1;
  const state = { hang: false, calls: 0, open: 0, aborted: 0 };
  const kube: Kube = {
    request(method, _path, body, options): Promise<KubeResponse> {
      state.calls++;
      if (state.hang) {
        state.open++;
        return new Promise((_resolve, reject) => {
          const signal = options?.signal;
          signal?.addEventListener('abort', () => {
            state.open--;
            state.aborted++;
            reject(signal.reason as Error);
          });
        });
      }
      if (method === 'GET') return Promise.resolve(lease ? { status: 200, body: structuredClone(lease) } : { status: 404, body: {} });
      const next = structuredClone(body) as { metadata: Record<string, unknown> };
      next.metadata.resourceVersion = String(version++);
      lease = next;
      return Promise.resolve({ status: method === 'POST' ? 201 : 200, body: structuredClone(next) });
    },
  };
  return { kube, state, lease: () => lease as { spec: { holderIdentity?: string } } | undefined, put: (l: Record<string, unknown>) => (lease = l) };
}

describe('LeaderElection', () => {
  let monotonic = 0;
  /** Moves both clocks on, in steps of 100 ms so that every timer fires at its time. */
  const tick = async (ms: number) => {
    let left = ms;
    do {
      const step = Math.min(100, left);
      monotonic += step;
      left -= step;
      await vi.advanceTimersByTimeAsync(step);
    } while (left > 0);
  };
  beforeEach(() => {
    vi.useFakeTimers();
    monotonic = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const elect = (kube: Kube, identity: string) => new LeaderElection({ kube, namespace: 'ns', name: 'lease', identity, log: silent, now: () => monotonic, ...TIMES });

  it('a leader whose API server hangs gives leadership up by the renew deadline, its pending call aborted', async () => {
    const server = fakeLeaseServer();
    const stop = new AbortController();
    let leading = 0;
    let outcome: string | undefined;
    void elect(server.kube, 'a')
      .run(stop.signal, () => leading++)
      .then((o) => (outcome = o));
    await tick(0);
    expect(leading).toBe(1);
    expect(server.lease()?.spec.holderIdentity).toBe('a');

    server.state.hang = true;
    const callsBefore = server.state.calls;
    // The last renewal began at 0; the deadline is 10 s after it, whatever the socket timeout.
    await tick(TIMES.renewDeadlineMs);
    expect(outcome).toBe('lost');
    expect(server.state.open).toBe(0);
    // One renewal started (a GET) and was cut at the deadline; nothing more was sent.
    expect(server.state.calls - callsBefore).toBe(1);
    expect(server.state.aborted).toBe(1);
    stop.abort();
  });

  it('a leader whose renewals fail keeps leading until the renew deadline, then gives up', async () => {
    const server = fakeLeaseServer();
    const stop = new AbortController();
    let outcome: string | undefined;
    void elect(server.kube, 'a')
      .run(stop.signal, () => {})
      .then((o) => (outcome = o));
    await tick(0);
    // Another replica took the Lease (say, this one's writes were lost): each renewal now sees a
    // current holder that is not this replica and fails at once.
    server.put({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lease', namespace: 'ns' }, spec: { holderIdentity: 'b', leaseDurationSeconds: 15 } });
    await tick(TIMES.renewDeadlineMs - TIMES.retryPeriodMs);
    expect(outcome).toBeUndefined();
    await tick(TIMES.retryPeriodMs);
    expect(outcome).toBe('lost');
    stop.abort();
  });

  it('judges a Lease expired on the monotonic clock: a wall clock stepped forward takes nothing', async () => {
    const server = fakeLeaseServer();
    server.put({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lease', namespace: 'ns' }, spec: { holderIdentity: 'b', leaseDurationSeconds: 15 } });
    const stop = new AbortController();
    let leading = 0;
    void elect(server.kube, 'a').run(stop.signal, () => leading++);
    await tick(0);
    // NTP steps the wall clock an hour ahead: the Lease was still observed unchanged for only 0 s.
    vi.setSystemTime(Date.now() + 3_600_000);
    await tick(TIMES.leaseDurationMs - TIMES.retryPeriodMs * 1.2 - 100);
    expect(leading).toBe(0);
    expect(server.lease()?.spec.holderIdentity).toBe('b');
    // A lease duration later on the monotonic clock, unrenewed, it is taken.
    await tick(TIMES.retryPeriodMs * 2.5);
    expect(leading).toBe(1);
    expect(server.lease()?.spec.holderIdentity).toBe('a');
    stop.abort();
    await tick(0);
  });
});
