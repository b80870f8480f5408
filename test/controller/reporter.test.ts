/**
 * The reporter against an in-memory API server: which writes it makes for which verdicts. The real
 * API server suite (test/apiserver/controller.test.ts) covers the same paths end to end.
 */
import { describe, expect, it, vi } from 'vitest';
import { judgeExisting } from '../../src/audit/existing.js';
import type { Kube, KubeResponse } from '../../src/controller/kube.js';
import { createLogger } from '../../src/controller/log.js';
import { createControllerMetrics } from '../../src/controller/metrics.js';
import { buildReport, OPEN_REPORTS, POLICY_REPORTS, reportName, toFinding, type ReportApi } from '../../src/controller/report.js';
import { Reporter } from '../../src/controller/reporter.js';
import { VerdictStore } from '../../src/controller/verdicts.js';
import { brokenImage, goodImage } from '../audit/audit-log.js';
import { Writable } from 'node:stream';

/** Serves discovery for `served` and stores reports in memory; records every write. */
function fakeCluster(served: ReportApi[]) {
  const objects = new Map<string, Record<string, unknown>>();
  const writes: string[] = [];
  let version = 1;
  const kube: Kube = {
    async request(method, path, body): Promise<KubeResponse> {
      const discovery = served.find((api) => path === `/apis/${api.group}/${api.version}`);
      if (method === 'GET' && discovery) return { status: 200, body: { resources: [{ name: discovery.plural, kind: discovery.kind }] } };
      const api = served.find((a) => path.startsWith(`/apis/${a.group}/${a.version}/${a.plural}`));
      if (!api) return { status: 404, body: { message: 'not found' } };
      const [base, query = ''] = path.split('?');
      const name = decodeURIComponent(base!.split('/')[5] ?? '');
      const key = `${api.kind}/${name}`;
      if (method === 'GET' && name === '') {
        expect(query).toContain('labelSelector=');
        return { status: 200, body: { items: [...objects.entries()].filter(([k]) => k.startsWith(`${api.kind}/`)).map(([, v]) => v), metadata: {} } };
      }
      if (method === 'GET') return objects.has(key) ? { status: 200, body: objects.get(key) } : { status: 404, body: {} };
      writes.push(`${method} ${method === 'POST' ? `${api.kind}/${(body as { metadata: { name: string } }).metadata.name}` : key}`);
      if (method === 'DELETE') return objects.delete(key) ? { status: 200, body: {} } : { status: 404, body: {} };
      const object = structuredClone(body) as Record<string, unknown> & { metadata: { name: string; resourceVersion?: string } };
      const stored = `${api.kind}/${object.metadata.name}`;
      if (method === 'POST' && objects.has(stored)) return { status: 409, body: {} };
      object.metadata.resourceVersion = String(version++);
      objects.set(stored, object);
      return { status: method === 'POST' ? 201 : 200, body: object };
    },
  };
  return { kube, objects, writes };
}

const silent = createLogger(new Writable({ write: (_c, _e, cb) => cb() }), 'silent');

function setup(served: ReportApi[], synced = true) {
  const cluster = fakeCluster(served);
  const late: { reporter?: Reporter } = {};
  const store = new VerdictStore((name) => late.reporter?.enqueue(name));
  const reporter = new Reporter({ kube: cluster.kube, store, metrics: createControllerMetrics({ defaultMetrics: false }), log: silent, writesPerSecond: 1000, synced: () => synced });
  late.reporter = reporter;
  void reporter.run();
  const judge = (image: ReturnType<typeof goodImage>) => store.set(image.metadata!.name!, 'uid', toFinding(judgeExisting(image).violations));
  const settle = async () => {
    for (let i = 0; i < 100 && !reporter.idle; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
  };
  return { ...cluster, store, reporter, judge, settle };
}

describe('Reporter', () => {
  it('writes one report per Image in violation, none for a clean one, and removes it when fixed', async () => {
    const { reporter, judge, settle, writes, objects } = setup([OPEN_REPORTS]);
    await reporter.detect();
    judge(brokenImage('r/1'));
    judge(goodImage('r/2'));
    await settle();
    expect(writes).toEqual([`POST ClusterReport/${reportName(brokenImage('r/1').metadata!.name!)}`]);
    judge(goodImage('r/1'));
    await settle();
    expect(writes.at(-1)).toBe(`DELETE ClusterReport/${reportName(brokenImage('r/1').metadata!.name!)}`);
    expect(objects.size).toBe(0);
    reporter.stop();
  });

  it('a new reporter over the same reports writes nothing when the verdicts are the same', async () => {
    const first = setup([OPEN_REPORTS]);
    await first.reporter.detect();
    first.judge(brokenImage('r/3'));
    first.judge(brokenImage('r/4'));
    await first.settle();
    first.reporter.stop();
    expect(first.writes).toHaveLength(2);

    // The same cluster, a fresh process: it reads the reports first, then judges everything again.
    const store = new VerdictStore();
    const writesBefore = first.writes.length;
    const again = new Reporter({ kube: first.kube, store, metrics: createControllerMetrics({ defaultMetrics: false }), log: silent, writesPerSecond: 1000, synced: () => true });
    void again.run();
    for (const seed of ['r/3', 'r/4']) store.set(brokenImage(seed).metadata!.name!, 'uid', toFinding(judgeExisting(brokenImage(seed)).violations), new Date(Date.now() + 60_000));
    await again.detect();
    for (let i = 0; i < 50 && !again.idle; i++) await new Promise((r) => setTimeout(r, 5));
    expect(first.writes.length).toBe(writesBefore);
    again.stop();
  });

  it('removes a report whose Image is gone only after the first complete list', async () => {
    const cluster = fakeCluster([OPEN_REPORTS]);
    const image = brokenImage('r/5');
    const stale = buildReport(OPEN_REPORTS, { name: image.metadata!.name! }, toFinding(judgeExisting(image).violations)!, new Date());
    await cluster.kube.request('POST', `/apis/openreports.io/v1alpha1/clusterreports`, stale);
    cluster.writes.length = 0;
    let synced = false;
    const reporter = new Reporter({ kube: cluster.kube, store: new VerdictStore(), metrics: createControllerMetrics({ defaultMetrics: false }), log: silent, writesPerSecond: 1000, synced: () => synced });
    void reporter.run();
    await reporter.detect();
    reporter.reconcileAll();
    await new Promise((r) => setTimeout(r, 30));
    expect(cluster.writes).toEqual([]);
    synced = true;
    reporter.reconcileAll();
    for (let i = 0; i < 50 && cluster.writes.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(cluster.writes).toEqual([`DELETE ClusterReport/${reportName(image.metadata!.name!)}`]);
    reporter.stop();
  });

  it('prefers openreports.io, falls back to wgpolicyk8s.io, and writes nothing when neither is served', async () => {
    for (const [served, want] of [
      [[OPEN_REPORTS, POLICY_REPORTS], 'ClusterReport'],
      [[POLICY_REPORTS], 'ClusterPolicyReport'],
      [[], undefined],
    ] as const) {
      const { reporter, judge, settle, writes } = setup([...served]);
      await reporter.detect();
      expect(reporter.kind?.kind).toBe(want);
      judge(brokenImage('r/6'));
      await settle();
      expect(writes.map((w) => w.split(' ')[1]!.split('/')[0])).toEqual(want ? [want] : []);
      reporter.stop();
    }
  });
});

describe('Reporter moving to another report kind', () => {
  it('keeps deleting our reports of the kind left behind until every one is gone, whatever failed before', async () => {
    vi.useFakeTimers();
    try {
      const served: ReportApi[] = [POLICY_REPORTS];
      const cluster = fakeCluster(served);
      // The first list of the old kind fails, then one DELETE throws, then one answers 500.
      const faults = ['list', 'throw', '500'];
      const kube: Kube = {
        async request(method, path, body, options) {
          const old = path.startsWith('/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports');
          if (old && served.includes(OPEN_REPORTS)) {
            if (method === 'GET' && faults[0] === 'list') return faults.shift(), { status: 500, body: { message: 'etcd timeout' } };
            if (method === 'DELETE' && faults[0] === 'throw') throw (faults.shift(), new Error('socket hang up'));
            if (method === 'DELETE' && faults[0] === '500') return faults.shift(), { status: 500, body: { message: 'try later' } };
          }
          return cluster.kube.request(method, path, body, options);
        },
      };
      const store = new VerdictStore((name) => reporter.enqueue(name));
      const reporter = new Reporter({ kube, store, metrics: createControllerMetrics({ defaultMetrics: false }), log: silent, writesPerSecond: 1000, synced: () => true });
      void reporter.run();
      await reporter.detect();
      for (const seed of ['m/1', 'm/2']) store.set(brokenImage(seed).metadata!.name!, 'uid', toFinding(judgeExisting(brokenImage(seed)).violations));
      await vi.advanceTimersByTimeAsync(10);
      const old = () => [...cluster.objects.keys()].filter((k) => k.startsWith('ClusterPolicyReport/'));
      expect(old()).toHaveLength(2);

      // openreports.io is now served: the reporter moves there (after its second look, 5 s later).
      served.unshift(OPEN_REPORTS);
      const attempts: (string | undefined)[] = [];
      const detect = async () => {
        const done = reporter.detect().then(
          () => undefined,
          (error: Error) => error.message,
        );
        await vi.advanceTimersByTimeAsync(6_000);
        attempts.push(await done);
      };
      await detect();
      expect(reporter.kind).toBe(OPEN_REPORTS);
      while (old().length > 0 && attempts.length < 5) await detect();
      expect(old()).toEqual([]);
      // Each failed pass was reported, none swallowed (the list; then both deletes of one pass), and
      // the retry that followed deleted the rest.
      expect(attempts.map((a) => a?.replace(/:.*/s, ''))).toEqual([expect.stringContaining('GET /apis/wgpolicyk8s.io'), expect.stringMatching(/^2 ClusterPolicyReport report/), undefined]);
      expect(faults).toEqual([]);
      expect([...cluster.objects.keys()].filter((k) => k.startsWith('ClusterReport/'))).toHaveLength(2);
      reporter.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('Reporter write rate', () => {
  it('below one write a second still writes: 0.5 is one write each 2 s', async () => {
    vi.useFakeTimers();
    try {
      const cluster = fakeCluster([OPEN_REPORTS]);
      const store = new VerdictStore((name) => reporter.enqueue(name));
      const reporter = new Reporter({ kube: cluster.kube, store, metrics: createControllerMetrics({ defaultMetrics: false }), log: silent, writesPerSecond: 0.5, synced: () => true });
      void reporter.run();
      await reporter.detect();
      for (const seed of ['w/1', 'w/2', 'w/3', 'w/4']) store.set(brokenImage(seed).metadata!.name!, 'uid', toFinding(judgeExisting(brokenImage(seed)).violations));
      await vi.advanceTimersByTimeAsync(0);
      expect(cluster.writes).toHaveLength(1);
      // 4.5 s later: two more tokens, so two more writes, and not the fourth.
      await vi.advanceTimersByTimeAsync(4_500);
      expect(cluster.writes).toHaveLength(3);
      await vi.advanceTimersByTimeAsync(2_000);
      expect(cluster.writes).toHaveLength(4);
      reporter.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('Reporter.stop', () => {
  it('aborts the write in flight: a replica that lost its Lease leaves no write pending', async () => {
    const cluster = fakeCluster([OPEN_REPORTS]);
    let open = 0;
    let aborted = 0;
    const kube: Kube = {
      request(method, path, body, options) {
        if (method !== 'POST') return cluster.kube.request(method, path, body);
        // The API server never answers the write.
        open++;
        return new Promise((_resolve, reject) =>
          options?.signal?.addEventListener('abort', () => {
            open--;
            aborted++;
            reject(options.signal!.reason as Error);
          }),
        );
      },
    };
    const store = new VerdictStore((name) => reporter.enqueue(name));
    const reporter = new Reporter({ kube, store, metrics: createControllerMetrics({ defaultMetrics: false }), log: silent, writesPerSecond: 1000, synced: () => true });
    void reporter.run();
    await reporter.detect();
    store.set('sha256:a', 'uid', toFinding(judgeExisting(brokenImage('s/1')).violations));
    for (let i = 0; i < 100 && open === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(open).toBe(1);
    reporter.stop();
    expect(open).toBe(0);
    expect(aborted).toBe(1);
  });
});

describe('VerdictStore', () => {
  it('counts Images by rule, and tells only of changes', () => {
    const changed: string[] = [];
    const store = new VerdictStore((name) => changed.push(name));
    const finding = toFinding(judgeExisting(brokenImage('v/1')).violations);
    store.set('a', 'u', finding);
    store.set('b', 'u', finding);
    store.set('a', 'u', finding);
    expect(changed).toEqual(['a', 'b']);
    expect(Object.fromEntries(store.counts())).toEqual({ 'signature-type': 2, 'signature-condition-status': 2 });
    store.set('a', 'u', undefined);
    store.delete('b');
    store.delete('never');
    expect(changed).toEqual(['a', 'b', 'a', 'b']);
    expect(store.counts().size).toBe(0);
    expect(store.size).toBe(0);
  });
});
