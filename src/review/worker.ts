/**
 * The review thread's entry point (see thread.ts): answers each body it is sent with the same
 * function the main thread uses inline.
 */
import { Buffer } from 'node:buffer';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { answerBody } from './answer.js';
import type { ReviewJob, ReviewJobResult, ReviewThreadData } from './thread.js';

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

/**
 * A full collection, when V8 lets this thread have one. Every review here leaves megabytes of garbage
 * (the decoded body, two copies of each large config, the parsed config); collected only when V8
 * decides to, it made each next review allocate fresh pages instead of reusing freed ones. Measured
 * on 6 MiB reviews one at a time: 3,600 page faults and 79 ms of CPU per review without it, 1,800 and
 * 59-63 ms with it (answering inline on the main thread: 2,000 and 61 ms). The collection itself is
 * in those figures: this thread's live heap is small between reviews.
 */
const collect = exposeGc();

function exposeGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

parentPort!.on('message', ({ id, endpoint, body }: ReviewJob) => {
  const result: ReviewJobResult = { id, answer: answerBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength), endpoint, policy) };
  parentPort!.postMessage(result);
  collect?.();
});
