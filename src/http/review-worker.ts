/**
 * The review thread's entry point (see review-thread.ts): answers each body it is sent with the same
 * function the main thread uses inline.
 */
import { Buffer } from 'node:buffer';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { answerBody } from './review-body.js';
import type { ReviewJob, ReviewJobResult, ReviewThreadData } from './review-thread.js';

const { policy } = workerData as ReviewThreadData;

/**
 * Yields the CPU to the main thread whenever both want it: the main thread serves every small review,
 * probe and scrape, and on a webhook given one core it would otherwise get only half of it while a
 * huge review is judged. Linux lets a thread have its own nice value, found through its thread id;
 * elsewhere (or if refused) the thread keeps the process's priority.
 */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    // Not Linux, or not permitted: the same priority as the main thread.
  }
}
lowerPriority();

parentPort!.on('message', ({ id, endpoint, body }: ReviewJob) => {
  const result: ReviewJobResult = { id, answer: answerBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength), endpoint, policy) };
  parentPort!.postMessage(result);
});
