/**
 * A worker thread that answers large review bodies, so that the event loop that serves every other
 * review, the probes and the metrics is never held by one of them. Parsing and judging a review of
 * several MiB is tens of milliseconds of synchronous work (docs/performance.md, "Figures the code
 * relies on"); on the main thread that stalls every review queued behind it. Here the main thread only
 * hands the body over (the bytes are transferred, not copied) and sends back the answer the thread
 * serialized.
 *
 * Small bodies stay inline: a round trip to the thread costs more than judging them.
 */
import type { AdmissionPhase } from '../image/index.js';
import { Worker } from 'node:worker_threads';

import type { Policy } from '../admission/policy.js';
import type { KeySource } from '../signature/index.js';
import type { BodyResult } from './answer.js';

/**
 * Bodies from this size up are answered on the review thread. A review this size takes a few
 * milliseconds inline; one at the body limit ten times more, far too long to hold the event loop
 * (docs/performance.md, "Figures the code relies on").
 */
export const OFFLOAD_BYTES = 1024 * 1024;

/** What the main thread sends the worker. */
export interface ReviewJob {
  id: number;
  endpoint: AdmissionPhase;
  body: Uint8Array;
}

/** What the worker sends back. */
export interface ReviewJobResult {
  id: number;
  answer: BodyResult;
  /** Signature verifications the thread performed since its last answer, by outcome. */
  verifications?: Record<string, number>;
}

/** The worker's startup data. */
export interface ReviewThreadData {
  policy: Policy;
  /** The trusted key files: the worker verifies signatures with its own verifier and cache. */
  keys: readonly KeySource[];
}

/** Sent to the worker when the trusted keys change. */
export interface ReviewThreadKeys {
  keys: readonly KeySource[];
}

/**
 * The review thread's V8 old-generation cap, in MB. A review that needs more (a hostile shape the rules
 * expand far beyond its bytes) ends the thread with ERR_WORKER_OUT_OF_MEMORY: its reviews are answered
 * 500 and a fresh thread takes the next, while the process, every other review and the probes carry
 * on. Without a cap such a review grew the whole process until V8 or the kernel killed it. A real
 * review at the body limit needs well under half of it (docs/performance.md, "Figures the code relies
 * on"); the memory budget reserves this much for the thread (docs/operations.md).
 */
const REVIEW_THREAD_HEAP_MB = 96;

/**
 * Starts the worker script next to this module: the compiled JavaScript, or, when this module runs from
 * TypeScript source (the tests), the TypeScript file through tsx's loader, registered inside the worker.
 */
function startWorker(workerData: ReviewThreadData): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: REVIEW_THREAD_HEAP_MB };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData, resourceLimits });
  const script = JSON.stringify(new URL('./worker.ts', import.meta.url).href);
  // Resolved here, not in the worker, so that it does not depend on the directory tests run from.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${script}); });`, { eval: true, workerData, resourceLimits });
}

/** A review waiting for the worker that holds it. */
interface Pending {
  worker: Worker;
  resolve: (answer: BodyResult) => void;
}

/** A lazily started worker thread with its queue of reviews; replaced if it dies. */
export class ReviewThread {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private keys: readonly KeySource[] = [];
  private handed = 0;

  /** How many reviews were handed to the thread so far (what routing decided, for tests and metrics). */
  get reviewsHanded(): number {
    return this.handed;
  }

  /**
   * `onLost` hears why a worker died (for the log); its reviews are answered `failed` regardless.
   * `onVerified` hears the signature verifications the thread performed (for the metric), by outcome.
   */
  constructor(
    private readonly policy: Policy,
    private readonly onLost: (why: string) => void = () => {},
    private readonly onVerified: (outcome: string, count: number) => void = () => {},
  ) {}

  /** Trusts `keys` from now on, in the running worker and in any started later. */
  setKeys(keys: readonly KeySource[]): void {
    this.keys = keys;
    const message: ReviewThreadKeys = { keys };
    this.worker?.postMessage(message);
  }

  /** Starts the worker now, so the first large review does not wait for it to load the rules. */
  warm(): void {
    this.ensureWorker();
  }

  /** Answers `body` on the worker thread. Never rejects: a dead worker is a `failed` answer. */
  answer(body: Buffer, endpoint: AdmissionPhase): Promise<BodyResult> {
    if (this.closed) return Promise.resolve(failed('the review thread is closed'));
    const id = this.nextId++;
    this.handed++;
    return new Promise((resolve) => {
      try {
        const worker = this.ensureWorker();
        // Transfer the bytes when the body owns its whole ArrayBuffer (a large body always does); a
        // view into a shared pool slab is copied instead, since transferring would take the slab.
        const owns = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
        const bytes = owns ? new Uint8Array(body.buffer, 0, body.byteLength) : new Uint8Array(body);
        this.pending.set(id, { worker, resolve });
        // Held reviews keep the process alive; an idle worker does not.
        worker.ref();
        const job: ReviewJob = { id, endpoint, body: bytes };
        worker.postMessage(job, [bytes.buffer as ArrayBuffer]);
      } catch (error) {
        const answer = failed(`the review could not be handed to the review thread: ${(error as Error).message}`);
        if (this.pending.has(id)) this.settle(id, answer);
        else resolve(answer);
      }
    });
  }

  /** Stops the worker; reviews still queued get a `failed` answer. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    for (const id of [...this.pending.keys()]) this.settle(id, failed('the review thread was stopped'));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker({ policy: this.policy, keys: this.keys });
    worker.on('message', ({ id, answer, verifications }: ReviewJobResult) => {
      for (const [outcome, count] of Object.entries(verifications ?? {})) this.onVerified(outcome, count);
      this.settle(id, answer);
    });
    // A crash (out of memory, a bug at load) fails the reviews this worker held, and only those: Node
    // reports 'error' and then, later, 'exit', and a replacement may hold new reviews by then. The next
    // large review starts a fresh worker.
    let lost = false;
    const lose = (why: string) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, entry] of [...this.pending]) if (entry.worker === worker) this.settle(id, failed(why));
      if (!lost && !this.closed) this.onLost(why);
      lost = true;
    };
    worker.on('error', (error) => lose(`the review thread failed: ${error.message}`));
    worker.on('exit', (code) => lose(`the review thread exited with code ${code}`));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(id: number, answer: BodyResult): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    this.pending.delete(id);
    if (![...this.pending.values()].some((other) => other.worker === entry.worker)) entry.worker.unref();
    entry.resolve(answer);
  }
}

function failed(message: string): BodyResult {
  return { kind: 'failed', error: { type: 'ReviewThreadError', message } };
}
