/**
 * Reads a request body into one Buffer, refusing more than the limit.
 *
 * When the client declares the length (the API server always does), the body is allocated once and
 * each chunk is copied in as it arrives. Collecting chunks and joining them at the end (fastify's way)
 * costs the same in total but all at once: for a large review the join blocked the event loop for
 * milliseconds, mostly page faults on the fresh buffer, and reviews ending together added up. Spread
 * over the chunks it costs nothing noticeable (figures: docs/performance.md, "Figures the code relies on").
 */
import type { Readable } from 'node:stream';
import { SMALL_BODY_BYTES } from './memory-budget.js';

/**
 * A body that could not be read whole: 413 when over the limit, 400 when it contradicts its length,
 * 429 when the memory budget has no room for it now.
 */
export class BodyReadError extends Error {
  constructor(
    message: string,
    readonly statusCode: 400 | 413 | 429,
    readonly reasonClass: 'too-large' | 'overloaded' | 'other',
  ) {
    super(message);
    this.name = 'BodyReadError';
  }
}

const tooLarge = () => new BodyReadError('Request body is too large', 413, 'too-large');
const overloaded = () =>
  new BodyReadError('the webhook holds as many review bytes as its memory budget allows; retry shortly', 429, 'overloaded');

/**
 * The whole body of `stream`, whose Content-Length header is `contentLength` (if any). Every byte is
 * first taken from the memory budget through `take` (all of a declared length before the first byte
 * is read, else chunk by chunk); when it refuses, so does the read (429), with nothing allocated.
 */
export function readBody(
  stream: Readable,
  contentLength: string | undefined,
  limit: number,
  take: (bytes: number, large: boolean) => boolean = () => true,
): Promise<Buffer> {
  const declared = contentLength === undefined ? undefined : Number(contentLength);
  if (declared !== undefined && !(Number.isSafeInteger(declared) && declared >= 0)) {
    return Promise.reject(new BodyReadError(`Content-Length ${JSON.stringify(contentLength)} is not a byte count`, 400, 'other'));
  }
  // Refused before a byte is read: nothing is allocated for a body that cannot be accepted.
  if (declared !== undefined && declared > limit) return Promise.reject(tooLarge());
  if (declared !== undefined && !take(declared, declared > SMALL_BODY_BYTES)) return Promise.reject(overloaded());

  return new Promise((resolve, reject) => {
    const whole = declared === undefined ? undefined : Buffer.allocUnsafe(declared);
    const chunks: Buffer[] = [];
    let received = 0;

    const stop = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    function onData(chunk: Buffer): void {
      if (received + chunk.length > (whole?.length ?? limit)) {
        stop();
        reject(whole ? new BodyReadError('body is longer than its Content-Length', 400, 'other') : tooLarge());
        return;
      }
      if (whole) chunk.copy(whole, received);
      else if (take(chunk.length, true)) chunks.push(chunk);
      else {
        stop();
        reject(overloaded());
        return;
      }
      received += chunk.length;
    }
    function onEnd(): void {
      stop();
      if (whole && received !== whole.length) reject(new BodyReadError('body is shorter than its Content-Length', 400, 'other'));
      else resolve(whole ?? Buffer.concat(chunks, received));
    }
    // The client went away or ran out of time mid-body: its fault, not a bug (a 400, never a 500).
    function onError(error: Error): void {
      stop();
      reject(new BodyReadError(`request body not received whole: ${error.message}`, 400, 'other'));
    }
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}
