/**
 * The trusted signing keys on disk: a directory of armored or binary OpenPGP public keys, typically a
 * mounted ConfigMap, read at start and followed while the server runs.
 *
 * Kubernetes updates a mounted ConfigMap by writing a new timestamped folder and swapping the `..data`
 * symlink onto it; each key file is a symlink into `..data`. Names starting with `.` (those folders and
 * the symlink) are not key files. The directory is followed as the serving certificate is
 * (src/mounted-folders.ts: watched, and polled in case events are lost). A file that does not hold a
 * public key is reported and skipped: the other keys keep working.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { followMountedFolders } from '../mounted-folders.js';
import { type KeySet, type KeySource, MAX_KEY_FILE_BYTES, readKeySet } from '../signature/index.js';

/** A key directory, read: the key set, its files' bytes (for the review thread) and the files skipped. */
export interface TrustedKeys {
  keySet: KeySet;
  sources: KeySource[];
  problems: { name: string; problem: string }[];
}

/** Files beyond this many are not read: a key directory holds a handful. */
const MAX_FILES = 256;

/** Reads every key file of `dir`. Throws only when the directory itself cannot be read. */
export async function loadTrustedKeys(dir: string): Promise<TrustedKeys> {
  const names = (await readdir(dir)).filter((name) => !name.startsWith('.')).sort();
  const sources: KeySource[] = [];
  const problems: { name: string; problem: string }[] = [];
  for (const name of names.slice(0, MAX_FILES)) {
    const path = join(dir, name);
    try {
      const info = await stat(path);
      if (!info.isFile()) continue;
      if (info.size > MAX_KEY_FILE_BYTES) {
        problems.push({ name, problem: `larger than ${MAX_KEY_FILE_BYTES} bytes` });
        continue;
      }
      sources.push({ name, bytes: await readFile(path) });
    } catch (error) {
      problems.push({ name, problem: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` });
    }
  }
  if (names.length > MAX_FILES) problems.push({ name: dir, problem: `more than ${MAX_FILES} files: the rest were not read` });
  const read = await readKeySet(sources);
  const accepted = new Set(sources.map((s) => s.name));
  for (const { name } of read.problems) accepted.delete(name);
  return { keySet: read.keySet, sources: sources.filter((s) => accepted.has(s.name)), problems: [...problems, ...read.problems] };
}

/** Options of `watchTrustedKeys`. */
export interface WatchTrustedKeysOptions {
  dir: string;
  /** The keys the server started with (their files' hash decides what counts as a change). */
  initial: TrustedKeys;
  /** Called with each new set of keys (never with the one in use). */
  onChange(keys: TrustedKeys): void;
  /** Called when the directory cannot be read or a watcher fails. */
  onError(error: Error): void;
  debounceMs?: number;
  pollIntervalMs?: number;
}

/** Follows `dir`; `close()` stops it. */
export function watchTrustedKeys(opts: WatchTrustedKeysOptions): { close(): void } {
  const debounceMs = opts.debounceMs ?? 150;
  const pollIntervalMs = opts.pollIntervalMs ?? 10_000;
  let current = fingerprintOf(opts.initial.sources, opts.initial.problems);
  let closed = false;
  let lastError: string | undefined;

  const check = async (): Promise<void> => {
    let keys: TrustedKeys;
    try {
      keys = await loadTrustedKeys(opts.dir);
    } catch (error) {
      const text = (error as NodeJS.ErrnoException).code ?? String(error);
      // Once per distinct error, not on every poll while it lasts.
      if (text !== lastError && !closed) opts.onError(new Error(`cannot read the trusted keys directory ${opts.dir}: ${text}`));
      lastError = text;
      return;
    }
    lastError = undefined;
    const next = fingerprintOf(keys.sources, keys.problems);
    if (next === current || closed) return;
    current = next;
    opts.onChange(keys);
  };
  // A watcher that cannot be set up is left to polling, without a word: the next poll tries again.
  const follow = followMountedFolders({
    folders: [opts.dir],
    check: () => check().catch((error: unknown) => opts.onError(error instanceof Error ? error : new Error(String(error)))),
    onWatchError: (error) => opts.onError(error as Error),
    checkAtStart: false,
    debounceMs,
    pollIntervalMs,
  });
  return {
    close(): void {
      closed = true;
      follow.close();
    },
  };
}

/** What changes when any key file's content, or the set of files skipped, changes. */
function fingerprintOf(sources: readonly KeySource[], problems: readonly { name: string; problem: string }[]): string {
  const hash = createHash('sha256');
  for (const { name, bytes } of sources) hash.update(`${name}\0${bytes.length}\0`).update(bytes);
  for (const { name, problem } of problems) hash.update(`!${name}\0${problem}\0`);
  return hash.digest('hex');
}
