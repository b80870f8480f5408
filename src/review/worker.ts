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
import { type KeySource, readKeySet, SignatureVerifier } from '../signature/index.js';
import { answerBody } from './answer.js';
import type { ReviewJob, ReviewJobResult, ReviewThreadData, ReviewThreadKeys } from './thread.js';

const { policy, keys } = workerData as ReviewThreadData;

/**
 * The verifications this thread performed and has not reported yet, by outcome: they go back with the
 * next answer, so the main thread's metric counts them too (reviews overlap, so a count goes with
 * whichever answer is sent next, but every verification is counted once).
 */
const unreported = new Map<string, number>();

/** This thread's own verifier (openpgp keys cannot cross threads): loaded from the same key files. */
const verifier = new SignatureVerifier(undefined, Date.now, (outcome) => unreported.set(outcome, (unreported.get(outcome) ?? 0) + 1));
/** Key loads in order, so that a review never sees an older set after a newer one. */
let keysLoaded: Promise<void> = trust(keys);

async function trust(sources: readonly KeySource[]): Promise<void> {
  // The main thread already reported the files' problems; the same files give the same problems here.
  verifier.setKeys((await readKeySet(sources)).keySet);
}

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
 * decides to, it made each next review allocate fresh pages instead of reusing freed ones. With it,
 * large reviews one at a time take half the page faults and less CPU than without, no more than
 * answering inline, the collection included: this thread's live heap is small between reviews
 * (figures: docs/performance.md, "Figures the code relies on").
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

parentPort!.on('message', (message: ReviewJob | ReviewThreadKeys) => {
  if (!('id' in message)) {
    keysLoaded = keysLoaded.then(() => trust(message.keys));
    return;
  }
  const { id, endpoint, body } = message;
  void keysLoaded
    .then(() => answerBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength), endpoint, policy, verifier))
    .then((answer) => {
      const result: ReviewJobResult = { id, answer, ...(unreported.size === 0 ? {} : { verifications: Object.fromEntries(unreported) }) };
      unreported.clear();
      parentPort!.postMessage(result);
      collect?.();
    });
});
