/**
 * Follows a certificate/key pair on disk so the server can swap its TLS context without restarting.
 *
 * Kubernetes updates a mounted Secret by writing a new timestamped folder and renaming a `..data`
 * symlink onto it; `tls.crt` is a symlink to `..data/tls.crt`. The file we were told to watch never
 * changes, its folder does: so the folders are followed (src/mounted-folders.ts: watched, and polled
 * slowly in case events are lost).
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { followMountedFolders } from '../mounted-folders.js';

/** A PEM certificate (chain) and the PEM private key that goes with it. */
export interface KeyPairPem {
  cert: string;
  key: string;
}

/** Options of `watchKeyPair`. */
export interface WatchKeyPairOptions {
  certFile: string;
  keyFile: string;
  /** Called with each new, valid, matching pair; never with the pair already in use. */
  onChange(pair: KeyPairPem): void;
  /** Called when a pair on disk cannot be used (once per distinct content) or a watcher fails. */
  onError(error: Error): void;
  /** The pair the server started with; when omitted, the pair on disk at start is taken as current. */
  initial?: KeyPairPem;
  /** How long to wait for a burst of events to settle; default 150 ms. */
  debounceMs?: number;
  /** How often to re-read the files whatever the events; default 10 s. */
  pollIntervalMs?: number;
  /** Use fs.watch events (default true); false leaves only polling, for filesystems without inotify. */
  fsWatch?: boolean;
}

/** A running watch; `close()` stops it, after which nothing is emitted. */
export interface KeyPairWatch {
  close(): void;
}

/**
 * Watches `certFile` and `keyFile` and calls `onChange` when they hold a new pair whose key matches the
 * certificate. A half-updated or mismatched pair is skipped and looked at again on the next event or poll.
 */
export function watchKeyPair(opts: WatchKeyPairOptions): KeyPairWatch {
  const debounceMs = opts.debounceMs ?? 150;
  const pollIntervalMs = opts.pollIntervalMs ?? 10_000;
  const folders = [...new Set([dirname(opts.certFile), dirname(opts.keyFile)])];

  let closed = false;
  // Hashes, not PEMs: compare contents without keeping a second copy of the key around.
  let currentHash = opts.initial ? hashPair(opts.initial) : undefined;
  // Without `initial`, the first readable pair is the one the server loaded: remember it, do not announce it.
  let takeBaseline = opts.initial === undefined;
  let lastReported: string | undefined;

  const report = (error: unknown): void => {
    if (closed) return;
    try {
      opts.onError(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // A failing error handler must not stop the watch.
    }
  };

  const check = async (): Promise<void> => {
    let pair: KeyPairPem;
    try {
      const [cert, key] = await Promise.all([readFile(opts.certFile, 'utf8'), readFile(opts.keyFile, 'utf8')]);
      pair = { cert, key };
    } catch (error) {
      takeBaseline = false;
      reportOnce(`read:${(error as NodeJS.ErrnoException).code ?? ''}`, error);
      return;
    }
    const hash = hashPair(pair);
    const baseline = takeBaseline;
    takeBaseline = false;
    if (hash === currentHash) return;
    const problem = validatePair(pair);
    if (problem) {
      reportOnce(hash, problem);
      return;
    }
    currentHash = hash;
    lastReported = undefined;
    if (baseline) return;
    if (closed) return;
    try {
      opts.onChange(pair);
    } catch (error) {
      report(error);
    }
  };

  // Report a broken pair once, not on every poll while it stays broken.
  const reportOnce = (key: string, error: unknown): void => {
    if (key === lastReported) return;
    lastReported = key;
    report(error);
  };

  const follow = followMountedFolders({
    folders,
    check,
    onWatchError: report,
    onWatchUnavailable: (folder, error) => reportOnce(`watch:${folder}:${(error as NodeJS.ErrnoException).code ?? ''}`, error),
    checkAtStart: true,
    debounceMs,
    pollIntervalMs,
    ...(opts.fsWatch === undefined ? {} : { fsWatch: opts.fsWatch }),
  });

  return {
    close(): void {
      closed = true;
      follow.close();
    },
  };
}

/**
 * Why a pair cannot be served, or undefined when it can. Messages name the file, never its content:
 * these errors end up in logs.
 */
export function validatePair(pair: KeyPairPem): Error | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pair.cert);
  } catch {
    return new Error('certificate file does not hold a PEM certificate (incomplete or corrupt)');
  }
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(pair.key));
  } catch {
    return new Error('key file does not hold a PEM private key (incomplete or corrupt)');
  }
  if (!matches) return new Error('private key does not match the certificate (update in progress?)');
  return undefined;
}

function hashPair(pair: KeyPairPem): string {
  return createHash('sha256').update(pair.cert).update('\0').update(pair.key).digest('hex');
}
