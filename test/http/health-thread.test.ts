import { request } from 'node:http';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { healthState, sharedReadiness, stallWatch, startHealthThread, STALL_MS, type HealthThread } from '../../src/http/health-thread.js';

let running: HealthThread | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** GET `path` on the health port, as the kubelet probes it: the status code. */
function probe(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Probes `path` from another thread while this one never returns to its event loop: it waits on shared
 * memory for the probe's status. A listener on this thread could not answer, and the wait would end
 * only at its limit with no status (0).
 */
function probeWhileBlocked(port: number, path: string): number {
  const result = new Int32Array(new SharedArrayBuffer(4));
  const prober = new Worker(
    `const { workerData: { port, path, result } } = require('node:worker_threads');
     const slots = new Int32Array(result);
     const done = (status) => { Atomics.store(slots, 0, status); Atomics.notify(slots, 0); };
     const req = require('node:http').request({ host: '127.0.0.1', port, path, agent: false }, (res) => { res.resume(); done(res.statusCode); });
     req.on('error', () => done(-1));
     req.end();`,
    { eval: true, workerData: { port, path, result: result.buffer } },
  );
  // Blocks this thread until the status arrives (or 30 s, a limit on waiting, not a measured time).
  Atomics.wait(result, 0, 0, 30_000);
  void prober.terminate();
  return Atomics.load(result, 0);
}

describe('the health thread', () => {
  it('answers /healthz and /readyz while the main thread is blocked', async () => {
    const state = healthState();
    const readiness = sharedReadiness(state);
    running = await startHealthThread('127.0.0.1', 0, state);
    expect(await probe(running.port, '/readyz')).toBe(503);
    readiness.ready = true;
    expect(probeWhileBlocked(running.port, '/healthz')).toBe(200);
    expect(probeWhileBlocked(running.port, '/readyz')).toBe(200);
    // A readiness change is seen at once: it lives in the shared memory.
    readiness.ready = false;
    expect(await probe(running.port, '/readyz')).toBe(503);
    expect(await probe(running.port, '/healthz')).toBe(200);
    expect(await probe(running.port, '/other')).toBe(404);
  });

  it('refuses to start on a port that is taken, and the error says so', async () => {
    running = await startHealthThread('127.0.0.1', 0, healthState());
    await expect(startHealthThread('127.0.0.1', running.port, healthState())).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('stallWatch', () => {
  it('reports the main thread stalled once no beat has come for STALL_MS, and alive again at the next beat', () => {
    const state = healthState();
    let now = 0;
    const alive = stallWatch(state, STALL_MS, () => now);
    now = STALL_MS - 1;
    expect(alive()).toBe(true);
    now = STALL_MS;
    expect(alive()).toBe(false);
    Atomics.add(new Int32Array(state), 1, 1);
    expect(alive()).toBe(true);
    now += STALL_MS - 1;
    expect(alive()).toBe(true);
    now += 1;
    expect(alive()).toBe(false);
  });
});
