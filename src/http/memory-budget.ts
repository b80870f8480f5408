/**
 * The memory budget of request bodies: the bytes of every review being received, queued or judged
 * are taken from one budget before they are allocated, and a review that does not fit is refused at
 * once (HTTP 429) instead of growing the process past its container limit, where the kernel would
 * kill it and fail every Image write in the cluster at the same time.
 *
 * What is budgeted, and what is reserved apart (the arithmetic is in docs/operations.md):
 * - a body costs its own length while it is received and until it is answered (Content-Length is
 *   taken before the first byte is read; a body without one is taken chunk by chunk);
 * - parsing and judging expand a body several times over, but one review at a time per thread: the
 *   main thread judges small reviews synchronously, and the review thread one large review at a time
 *   with its heap capped (review-thread.ts). Those peaks are a fixed reserve, not a per-review charge;
 * - the idle process (code, rules, the review thread), the main thread's caches and open connections
 *   are the rest.
 */
import { CONTENT_CACHE_BYTES } from '../image/content-cache.js';
import { VERDICT_CACHE_BYTES } from '../signature/index.js';

/**
 * Bodies up to this size are "small": every typical review (a few KiB to tens of KiB). Large bodies
 * may not use the last SMALL_RESERVE_BYTES of the budget, so clients that hold large bodies (stalled
 * on purpose, or a burst of large reviews) can never refuse the small reviews that are nearly all of
 * a cluster's Image writes.
 */
export const SMALL_BODY_BYTES = 64 * 1024;
export const SMALL_RESERVE_BYTES = 8 * 1024 * 1024;

/** A byte budget shared by every request. */
export class MemoryBudget {
  private heldBytes = 0;
  private peakBytes = 0;

  constructor(readonly capacityBytes: number) {}

  /**
   * Takes `bytes` for a body that is `large` (over SMALL_BODY_BYTES, or of unknown length) or not, if
   * they fit in what is left to it; false (and nothing taken) if not.
   */
  take(bytes: number, large: boolean): boolean {
    const room = large ? this.capacityBytes - Math.min(SMALL_RESERVE_BYTES, this.capacityBytes / 2) : this.capacityBytes;
    if (this.heldBytes + bytes > room) return false;
    this.heldBytes += bytes;
    this.peakBytes = Math.max(this.peakBytes, this.heldBytes);
    return true;
  }

  /** Gives back bytes taken earlier. */
  give(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes);
  }

  /** Bytes taken now. */
  get held(): number {
    return this.heldBytes;
  }

  /** The most bytes ever taken at once. */
  get peak(): number {
    return this.peakBytes;
  }
}

const MiB = 1024 * 1024;

/**
 * What the process needs besides the bodies it holds (the arithmetic and the measurements are in
 * docs/operations.md, "Memory budget"):
 * - idle: the process at rest with its review thread and health thread loaded; `serve` measured
 *   117-122 MiB resident on Node 20 (openpgp.js, loaded on both threads since signatures are
 *   verified, and the health thread took it up from 74-79 MiB);
 * - reviewThread: the review thread judging one review (its old generation is capped at
 *   REVIEW_THREAD_HEAP_MB in review/thread.ts; its own caches live inside that cap);
 * - mainThreadSlack: the main thread's garbage between collections;
 * - the main thread's caches at their bounds: content facts (CONTENT_CACHE_BYTES, an estimate that
 *   over-counts: the heap it really held measured 0.53-0.72 of it) and signature verdicts
 *   (VERDICT_CACHE_BYTES);
 * - connections: 600 idle TLS connections from one address added 64 MiB, about 100 KiB each, so the
 *   default --max-connections of 1,000 needs about 96 MiB.
 */
export const RESERVED_BYTES = {
  idle: 128 * MiB,
  reviewThread: 96 * MiB,
  mainThreadSlack: 32 * MiB,
  contentCache: CONTENT_CACHE_BYTES,
  verdictCache: VERDICT_CACHE_BYTES,
  connections: 96 * MiB,
} as const;

/**
 * The budget of held bodies for a container limited to `memoryLimitBytes`: what the reserves leave,
 * but never less than one body at the limit (a smaller budget would refuse the largest valid review
 * forever; such a container is too small, and docs/operations.md says what fits).
 */
export function bodyBudgetBytes(memoryLimitBytes: number, bodyLimit: number): number {
  return Math.max(bodyLimit, memoryLimitBytes - reservedTotal());
}

function reservedTotal(): number {
  return Object.values(RESERVED_BYTES).reduce((sum, bytes) => sum + bytes, 0);
}
