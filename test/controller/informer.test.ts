/**
 * The informer's failure paths, against a stand-in API server (the real kube-apiserver suite covers
 * list, watch, resume and a real 410): a watch whose answer never begins, a watch ended at once, a
 * credential failure while a watch restarts, a stop during the list, a rescan while the watch fails,
 * and the Image counts between scans. Counts of requests and restarts, never timings, are asserted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { createImageInformer, type ImageInformer } from '../../src/controller/informer.js';
import { kubeClient } from '../../src/controller/kube.js';
import { createLogger } from '../../src/controller/log.js';
import { createControllerMetrics, type ControllerMetrics } from '../../src/controller/metrics.js';
import { VerdictStore } from '../../src/controller/verdicts.js';
import { SignatureVerifier } from '../../src/signature/index.js';
import { type FakeApiServer, startFakeApiServer, storedImage } from './fake-apiserver.js';

const running: { informer: ImageInformer; fake: FakeApiServer }[] = [];

afterEach(async () => {
  for (const { informer, fake } of running.splice(0)) {
    await informer.stop();
    await fake.close();
  }
});

async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never: ${what}`);
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

async function setUp(prepare: (fake: FakeApiServer) => void = () => {}, config?: (base: k8s.KubeConfig) => k8s.KubeConfig) {
  const fake = await startFakeApiServer();
  fake.images.set('a', storedImage('a'));
  prepare(fake);
  const kubeconfig = config ? config(fake.kubeconfig()) : fake.kubeconfig();
  const metrics: ControllerMetrics = createControllerMetrics({ defaultMetrics: false });
  const logged: string[] = [];
  let scans = 0;
  const informer = createImageInformer({
    k8s,
    config: kubeconfig,
    kube: kubeClient(fake.kubeconfig()),
    pageSize: 10,
    maxHeld: 4,
    judge: {},
    verifier: new SignatureVerifier(),
    store: new VerdictStore(),
    metrics,
    log: createLogger(new Writable({ write: (chunk: Buffer, _encoding, done) => (logged.push(String(chunk)), done()) }), 'info'),
    onScanComplete: () => scans++,
    watchTimeoutSeconds: 300,
    backoff: { initialMs: 5, maxMs: 20 },
    watchAnswerTimeoutMs: 200,
  });
  running.push({ informer, fake });
  const metric = async (series: string) => sample(await metrics.registry.metrics(), series);
  const connected = () => eventually('the watch connected', async () => (await metric('image_admission_controller_watch_connected')) === 1);
  return { fake, informer, metric, connected, logged, scans: () => scans };
}

describe('the image informer', () => {
  it('gives up a watch whose answer never begins, and starts it again', async () => {
    const { fake, informer, metric, connected } = await setUp((f) => (f.watchMode = 'hang'));
    void informer.start();
    await eventually('a first watch request', () => fake.watchRequests() >= 1);
    fake.watchMode = 'open';
    await connected();
    expect(fake.watchRequests()).toBeGreaterThanOrEqual(2);
    expect(await metric('image_admission_controller_watch_restarts_total{reason="error"}')).toBeGreaterThanOrEqual(1);
  });

  it('treats a watch ended at once without an event as an error, restarted after the delay, not at once', async () => {
    const { fake, informer, metric, connected } = await setUp((f) => (f.watchMode = 'end'));
    void informer.start();
    await eventually('five watch requests', () => fake.watchRequests() >= 5);
    fake.watchMode = 'open';
    await connected();
    // Every watch ended at once went through the error path (with its delay); none was a plain restart.
    expect(await metric('image_admission_controller_watch_restarts_total{reason="closed"}')).toBe(0);
    expect(await metric('image_admission_controller_watch_restarts_total{reason="error"}')).toBe(fake.watchRequests() - 1);
  });

  it('survives a credential failure while a watch restarts: an error with the delay, not an unhandled rejection', async () => {
    let calls = 0;
    // Each watch ends cleanly after an event, so ListWatch itself starts the next one (not the delay).
    const { fake, informer, connected, logged } = await setUp(
      (f) => (f.watchMode = 'bookmark-then-end'),
      (base) => {
        const original = base.applyToFetchOptions.bind(base);
        // An exec credential plugin that fails on the 2nd and 3rd call (its identity provider is down).
        base.applyToFetchOptions = async (init) => {
          calls++;
          if (calls === 2 || calls === 3) throw new Error('exec plugin: exit status 1');
          return original(init);
        };
        return base;
      },
    );
    void informer.start();
    await eventually('past the failing calls', () => calls >= 4);
    fake.watchMode = 'open';
    await connected();
    expect(logged.join('')).toContain('exec plugin: exit status 1');
  });

  it('starts no watch when stopped while the list runs', async () => {
    const { fake, informer } = await setUp((f) => (f.listDelayMs = 300));
    void informer.start();
    await eventually('the list asked for', () => fake.listRequests() >= 1);
    await informer.stop();
    // The list's answer arrives after the stop; wait for it, then for a watch that must not come.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(fake.watchRequests()).toBe(0);
  });

  it('does not count a rescan as a complete scan while the watch is refused, and does once it is back', async () => {
    const { fake, informer, metric, connected, scans, logged } = await setUp((f) => (f.watchMode = 'forbidden'));
    void informer.start();
    await eventually('the first list judged', () => informer.synced);
    expect(scans()).toBe(1);
    await eventually('a refused watch', async () => (await metric('image_admission_controller_watch_restarts_total{reason="error"}')) >= 1);
    const lastScan = await metric('image_admission_controller_last_complete_scan_timestamp_seconds');
    await informer.rescan();
    expect(scans()).toBe(1);
    expect(await metric('image_admission_controller_last_complete_scan_timestamp_seconds')).toBe(lastScan);
    expect(logged.join('')).toContain('not counted as a complete scan');
    fake.watchMode = 'open';
    await connected();
    await informer.rescan();
    expect(scans()).toBe(2);
  });

  it('counts Images as they are added and deleted, between scans', async () => {
    const { fake, informer, metric, connected } = await setUp();
    void informer.start();
    await connected();
    const total = async () => (await metric('image_admission_controller_images{verdict="violating"}')) + (await metric('image_admission_controller_images{verdict="clean"}'));
    expect(await total()).toBe(1);
    const b = storedImage('b');
    fake.send('ADDED', b);
    await eventually('two Images counted', async () => (await total()) === 2);
    fake.send('DELETED', fake.images.get('a')!);
    await eventually('one Image counted', async () => (await total()) === 1);
  });
});
