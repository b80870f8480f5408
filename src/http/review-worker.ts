/**
 * The review thread's entry point (see review-thread.ts): answers each body it is sent with the same
 * function the main thread uses inline.
 */
import { Buffer } from 'node:buffer';
import { parentPort, workerData } from 'node:worker_threads';
import { answerBody } from './review-body.js';
import type { ReviewJob, ReviewJobResult, ReviewThreadData } from './review-thread.js';

const { policy } = workerData as ReviewThreadData;

parentPort!.on('message', ({ id, endpoint, body }: ReviewJob) => {
  const result: ReviewJobResult = { id, answer: answerBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength), endpoint, policy) };
  parentPort!.postMessage(result);
});
