/**
 * Reads newline-delimited logs of any size in constant memory: a file, a gzip file (recognised by its
 * magic bytes, not its name) or standard input, split into lines here rather than by readline so
 * that a line can be rejected as bytes before it is ever decoded.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Where lines come from: a path, or `-` for standard input. */
export interface LineInput {
  path: string;
  stdin?: NodeJS.ReadableStream;
}

/** Called with the compressed (on-disk) bytes read so far and the total when it is known. */
export type ProgressListener = (read: number, total: number | undefined) => void;

/** Byte counts of one input once it has been read. */
export interface LinesRead {
  lines: number;
  /** Bytes as stored (compressed for gzip). */
  bytes: number;
  gzip: boolean;
}

const NEWLINE = 0x0a;

/**
 * Calls `onLine` with each line (without its newline; a trailing `\r` is kept) and its 1-based number.
 * The buffer handed over is only valid during the call.
 */
export async function forEachLine(input: LineInput, onLine: (line: Buffer, lineNo: number) => void, onProgress?: ProgressListener): Promise<LinesRead> {
  // stat first: a missing file rejects here, before a stream exists to emit an unhandled error.
  const total = input.path === '-' ? undefined : (await stat(input.path)).size;
  const raw = input.path === '-' ? (input.stdin ?? process.stdin) : createReadStream(input.path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  const counted = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of raw as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buffer.length;
      onProgress?.(bytes, total);
      yield buffer;
    }
  };

  const source = counted();
  // Peek until two bytes are known: gzip's magic number is 1f 8b.
  const head: Buffer[] = [];
  let headLength = 0;
  while (headLength < 2) {
    const next = await source.next();
    if (next.done) break;
    head.push(next.value);
    headLength += next.value.length;
  }
  const first = Buffer.concat(head);
  const gzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  const replay = async function* (): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    yield* source;
  };
  // Node's gunzip reads concatenated members too (rotated logs joined with cat).
  let chunks: AsyncIterable<Buffer> = replay();
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    // .pipe does not forward a read error: pass it on so that the loop below sees it.
    chunks = Readable.from(replay()).on('error', (error) => gunzip.destroy(error)).pipe(gunzip);
  }

  let lineNo = 0;
  let carry: Buffer | undefined;
  for await (const chunk of chunks) {
    let start = 0;
    let newline = chunk.indexOf(NEWLINE);
    if (carry !== undefined) {
      if (newline === -1) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      onLine(Buffer.concat([carry, chunk.subarray(0, newline)]), ++lineNo);
      carry = undefined;
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    while (newline !== -1) {
      onLine(chunk.subarray(start, newline), ++lineNo);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    // Copy the tail: the stream may reuse the chunk's memory.
    if (start < chunk.length) carry = Buffer.from(chunk.subarray(start));
  }
  if (carry !== undefined && carry.length > 0) onLine(carry, ++lineNo);
  return { lines: lineNo, bytes, gzip };
}

/** Whether `line` is blank (only spaces, tabs and a carriage return). */
export function isBlank(line: Buffer): boolean {
  for (const byte of line) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  return true;
}

/** A progress bar for stderr, drawn at most five times a second; `done()` clears it. */
export function progressBar(stream: NodeJS.WritableStream & { columns?: number }, label: string): { update: ProgressListener; done(): void } {
  let last = 0;
  let drawn = false;
  return {
    update(read, total) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const mb = (read / 1e6).toFixed(0);
      let text: string;
      if (total !== undefined && total > 0) {
        const width = 30;
        const ratio = Math.min(1, read / total);
        const filled = Math.round(ratio * width);
        text = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0)}% ${mb}/${(total / 1e6).toFixed(0)} MB`;
      } else text = `${label} ${mb} MB`;
      stream.write(`\r${text}\u001b[K`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}
