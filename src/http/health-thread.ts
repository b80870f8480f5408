/**
 * The health listener on a thread of its own. On the main thread, probes waited behind whatever the
 * loop was doing: under `npm run stress` (2,000 TLS connections from one address, or 48 uploads of
 * 6 MiB) the main loop was late by 1.4-1.5 s and probes took up to 2 s, past the manifests' readiness
 * timeout (2 s, twice in a row takes the pod out of the Service). Here they are answered whatever the
 * main thread is doing, and still report it: the main thread beats every BEAT_MS into shared memory,
 * and when no beat has come for STALL_MS both probes answer 503, so a main thread that is stuck (not
 * merely busy) still gets the pod restarted and taken out of the Service.
 *
 * Readiness lives in the same shared memory (see sharedReadiness), so a change is seen at once.
 */
import { Worker } from 'node:worker_threads';
import type { Readiness } from './app.js';

/** How often the main thread beats. */
const BEAT_MS = 250;
/**
 * How long without a beat counts as stalled. Far above any delay a review or an attack caused in
 * `npm run stress` (1.5 s under a load average of 7 on 2 cores), far below the kubelet's patience
 * (liveness: 3 failures 10 s apart).
 */
export const STALL_MS = 10_000;

/** Slots of the shared state. */
const READY = 0;
const BEAT = 1;

/** What the worker receives. */
export interface HealthThreadData {
  host: string;
  port: number;
  state: SharedArrayBuffer;
  stallMs: number;
}

/** The shared state's readiness flag, read by the health thread. */
export function sharedReadiness(state: SharedArrayBuffer): Readiness {
  const slots = new Int32Array(state);
  return {
    get ready() {
      return Atomics.load(slots, READY) === 1;
    },
    set ready(value: boolean) {
      Atomics.store(slots, READY, value ? 1 : 0);
    },
  };
}

/** A fresh shared state: not ready, no beat yet. */
export function healthState(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

/**
 * Whether the main thread has beaten within `stallMs`, judged by the health thread: it notes when it
 * last saw the counter change, counting from its own start.
 */
export function stallWatch(state: SharedArrayBuffer, stallMs: number, now: () => number = () => performance.now()): () => boolean {
  const slots = new Int32Array(state);
  let seen = Atomics.load(slots, BEAT);
  let seenAt = now();
  return () => {
    const beat = Atomics.load(slots, BEAT);
    if (beat !== seen) {
      seen = beat;
      seenAt = now();
    }
    return now() - seenAt < stallMs;
  };
}

/** The running health listener. */
export interface HealthThread {
  readonly port: number;
  /** Stops the listener and its thread (open probe connections are cut: a closing server needs no probes). */
  close(): Promise<void>;
}

/** Starts the health listener's thread on `host:port` (0: any free port); rejects if it cannot listen. */
export async function startHealthThread(host: string, port: number, state: SharedArrayBuffer): Promise<HealthThread> {
  const slots = new Int32Array(state);
  const beat = setInterval(() => Atomics.add(slots, BEAT, 1), BEAT_MS);
  beat.unref();
  const worker = startWorker({ host, port, state, stallMs: STALL_MS });
  // The thread must not keep a process alive that is otherwise done.
  worker.unref();
  try {
    const bound = await new Promise<number>((resolve, reject) => {
      worker.once('message', (message: { listening?: number; error?: string }) =>
        message.listening !== undefined ? resolve(message.listening) : reject(new Error(message.error ?? 'the health listener did not start')),
      );
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the health thread exited (${code}) before listening`)));
    });
    return {
      port: bound,
      async close() {
        clearInterval(beat);
        await worker.terminate();
      },
    };
  } catch (error) {
    clearInterval(beat);
    await worker.terminate();
    throw error;
  }
}

/** The worker script next to this module: compiled JavaScript, or the TypeScript source through tsx (tests). */
function startWorker(workerData: HealthThreadData): Worker {
  // A listener and two routes: a small heap is plenty, and bounds what the thread can ever hold.
  const resourceLimits = { maxOldGenerationSizeMb: 16 };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./health-worker.js', import.meta.url), { workerData, resourceLimits });
  const script = JSON.stringify(new URL('./health-worker.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${script}); });`, { eval: true, workerData, resourceLimits });
}
