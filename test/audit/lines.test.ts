/** Line splitting of plain files, gzip and streams: lines longer than any buffer, no final newline. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { forEachLine, progressBar } from '../../src/audit/lines.js';
import { tempDir } from './helpers.js';

// 9 MiB: more than twice the plain-file buffer, and many gunzip chunks.
const LONG = `{"long":"${'x'.repeat(9 * 1024 * 1024)}"}`;
const TEXT = ['{"a":1}', LONG, '', '{"b":2}\r', 'last line without newline'].join('\n');

async function collect(path: string, stdin?: NodeJS.ReadableStream) {
  const lines: { length: number; head: string; no: number }[] = [];
  const read = await forEachLine({ path, ...(stdin ? { stdin } : {}) }, (line, no) => lines.push({ length: line.length, head: line.subarray(0, 8).toString(), no }));
  return { lines, read };
}

const want = [
  { length: 7, head: '{"a":1}', no: 1 },
  { length: LONG.length, head: '{"long":', no: 2 },
  { length: 0, head: '', no: 3 },
  { length: 8, head: '{"b":2}\r', no: 4 },
  { length: 25, head: 'last lin', no: 5 },
];

describe('forEachLine', () => {
  it('splits a plain file, growing past lines longer than its buffer', async () => {
    const path = join(tempDir(), 'plain.log');
    writeFileSync(path, TEXT);
    const { lines, read } = await collect(path);
    expect(lines).toEqual(want);
    expect(read).toEqual({ lines: 5, bytes: Buffer.byteLength(TEXT), gzip: false });
  });

  it('splits gzip the same way', async () => {
    const path = join(tempDir(), 'zipped');
    const zipped = gzipSync(TEXT);
    writeFileSync(path, zipped);
    const { lines, read } = await collect(path);
    expect(lines).toEqual(want);
    expect(read).toEqual({ lines: 5, bytes: zipped.length, gzip: true });
  });

  it('splits standard input delivered in small pieces', async () => {
    const bytes = Buffer.from(TEXT);
    const pieces = Array.from({ length: Math.ceil(bytes.length / 65_537) }, (_, i) => bytes.subarray(i * 65_537, (i + 1) * 65_537));
    const { lines } = await collect('-', Readable.from(pieces));
    expect(lines).toEqual(want);
  });

  it('reads an empty input as no lines', async () => {
    const path = join(tempDir(), 'empty.log');
    writeFileSync(path, '');
    expect((await collect(path)).read.lines).toBe(0);
    expect((await collect('-', Readable.from([]))).read.lines).toBe(0);
  });
});

describe('progressBar', () => {
  it('draws on one line and clears it when done', () => {
    let out = '';
    const bar = progressBar({ write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream, 'reading');
    bar.update(50e6, 100e6);
    expect(out).toContain('\r');
    expect(out).toContain('50%');
    bar.done();
    expect(out.endsWith('\r\u001b[K')).toBe(true);
  });
});
