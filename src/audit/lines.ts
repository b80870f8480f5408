/**
 * Reads newline-delimited logs of any size in constant memory: a file, a gzip file (recognised by its
 * magic bytes, not its name) or standard input, split into lines here rather than by readline so
 * that a line can be rejected as bytes before it is ever decoded.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Where lines come from: a path, or `-` for standard input. */
export interface LineInput {
  path: string;
  stdin?: NodeJS.ReadableStream;
}

/** Called with the compressed (on-disk) bytes read so far and the total when it is known. */
export type ProgressListener = (read: number, total: number | undefined) => void;

/**
 * Called between reads: a promise pauses the reading until it settles. The review's output can
 * be a pipe (NDJSON to jq): without a pause, a synchronous read loop would never let the pipe
 * drain, and the output would pile up in memory.
 */
export type Pause = () => Promise<void> | undefined;

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
export async function forEachLine(input: LineInput, onLine: (line: Buffer, lineNo: number) => void, onProgress?: ProgressListener, pause?: Pause): Promise<LinesRead> {
  if (input.path === '-') return forEachStreamLine(input.stdin ?? process.stdin, undefined, onLine, onProgress, pause);
  // Open first: a missing file throws here, before a stream exists to emit an unhandled error.
  const fd = openSync(input.path, 'r');
  let plain = false;
  try {
    const total = fstatSync(fd).size;
    const magic = Buffer.alloc(2);
    plain = readSync(fd, magic, 0, 2, 0) < 2 || magic[0] !== 0x1f || magic[1] !== 0x8b;
    if (plain) return await forEachFileLine(fd, total, onLine, onProgress, pause);
    return await forEachStreamLine(createReadStream('', { fd, autoClose: false, highWaterMark: 256 << 10 }), total, onLine, onProgress, pause);
  } finally {
    closeSync(fd);
  }
}

/**
 * Plain files: synchronous reads into one reused buffer. No chunk is allocated per read and no read
 * waits on the thread pool, which is most of the cost of splitting lines at hundreds of MB/s.
 */
async function forEachFileLine(fd: number, total: number, onLine: (line: Buffer, lineNo: number) => void, onProgress?: ProgressListener, pause?: Pause): Promise<LinesRead> {
  let buffer = Buffer.allocUnsafe(4 << 20);
  let filled = 0;
  let bytes = 0;
  let lineNo = 0;
  for (;;) {
    if (filled === buffer.length) {
      // A line longer than the buffer: grow it (bounded by the longest line, not by the file).
      const larger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(larger, 0, 0, filled);
      buffer = larger;
    }
    const waiting = pause?.();
    if (waiting) await waiting;
    const n = readSync(fd, buffer, filled, buffer.length - filled, null);
    if (n === 0) break;
    bytes += n;
    onProgress?.(bytes, total);
    const view = buffer.subarray(0, filled + n);
    let start = 0;
    let newline = view.indexOf(NEWLINE, filled);
    while (newline !== -1) {
      onLine(view.subarray(start, newline), ++lineNo);
      start = newline + 1;
      newline = view.indexOf(NEWLINE, start);
    }
    filled = view.length - start;
    if (start > 0 && filled > 0) buffer.copy(buffer, 0, start, view.length);
  }
  if (filled > 0) onLine(buffer.subarray(0, filled), ++lineNo);
  return { lines: lineNo, bytes, gzip: false };
}

/** Streams (stdin, gzip files): chunks as they come, lines split across chunks joined. */
async function forEachStreamLine(
  raw: NodeJS.ReadableStream,
  total: number | undefined,
  onLine: (line: Buffer, lineNo: number) => void,
  onProgress?: ProgressListener,
  pause?: Pause,
): Promise<LinesRead> {
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
    // Small chunks and one buffered chunk per stage: memory stays flat however large the file, at
    // the cost of more, smaller reads (`npm run bench:audit`; docs/performance.md).
    const gunzip = createGunzip({ chunkSize: 256 << 10 });
    // .pipe does not forward a read error: pass it on so that the loop below sees it.
    chunks = Readable.from(replay(), { highWaterMark: 1 })
      .on('error', (error) => gunzip.destroy(error))
      .pipe(gunzip);
  }

  let lineNo = 0;
  let carry: Buffer | undefined;
  for await (const chunk of chunks) {
    const waiting = pause?.();
    if (waiting) await waiting;
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
