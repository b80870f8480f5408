/** Captured command I/O for CLI tests, and temporary folders. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach } from 'vitest';
import type { CommandIo } from '../../src/cli/io.js';

/** A CommandIo whose output is kept in strings; `stdin` is the given text. */
export function captureIo(stdin?: string | Buffer): { io: CommandIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const writer = (append: (s: string) => void) => ({ write: (chunk: string | Uint8Array) => (append(String(chunk)), true) }) as unknown as NodeJS.WritableStream;
  const io: CommandIo = {
    stdout: writer((s) => (out += s)),
    stderr: writer((s) => (err += s)),
    env: {},
    ...(stdin === undefined ? {} : { stdin: Readable.from([typeof stdin === 'string' ? Buffer.from(stdin) : stdin]) }),
  };
  return { io, out: () => out, err: () => err };
}

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'image-admission-audit-'));
  made.push(dir);
  return dir;
}
