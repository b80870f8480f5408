/**
 * Follows folders that Kubernetes updates in place: a mounted Secret or ConfigMap gets a new timestamped
 * folder and a `..data` symlink renamed onto it, so the file names never change, their folder does. The
 * folders are watched, and polled slowly in case events are lost (inotify does not cross some volume
 * types, and a watched folder can be replaced). A burst of events is debounced into one check, and only
 * one check runs at a time: events during a check cause exactly one more. The serving certificate
 * (certs/reload.ts) and the trusted keys (keys/trusted-keys.ts) are followed this way.
 */
import { type FSWatcher, watch } from 'node:fs';

/** Options of `followMountedFolders`. */
export interface FollowOptions {
  folders: readonly string[];
  /** Looks at what is on disk now and reports what it finds; it must not reject. */
  check(): Promise<void>;
  /** A watcher failed; it is dropped and set up again on the next poll. */
  onWatchError(error: unknown): void;
  /** A watcher could not be set up on `folder`; polling covers it and the next poll tries again. */
  onWatchUnavailable?(folder: string, error: unknown): void;
  /** Check at once, not only on the first event or poll. */
  checkAtStart: boolean;
  debounceMs: number;
  pollIntervalMs: number;
  /** Use fs.watch events (default true); false leaves only polling, for filesystems without inotify. */
  fsWatch?: boolean;
}

/** Starts following `folders`; `close()` stops the watchers, the poll and any pending check. */
export function followMountedFolders(opts: FollowOptions): { close(): void } {
  let closed = false;
  let debounce: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;
  let checkAgain = false;
  const watchers = new Map<string, FSWatcher>();

  // One check at a time; events during a check cause exactly one more.
  const runCheck = (): void => {
    if (closed) return;
    if (checking) {
      checkAgain = true;
      return;
    }
    checking = opts.check().finally(() => {
      checking = undefined;
      if (checkAgain) {
        checkAgain = false;
        runCheck();
      }
    });
  };

  const schedule = (): void => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(runCheck, opts.debounceMs);
    debounce.unref();
  };

  const watchFolders = (): void => {
    if (opts.fsWatch === false || closed) return;
    for (const folder of opts.folders) {
      if (watchers.has(folder)) continue;
      try {
        const watcher = watch(folder, { persistent: false }, schedule);
        watcher.on('error', (error) => {
          // Dropped here, set up again on the next poll; polling covers the gap.
          watcher.close();
          watchers.delete(folder);
          opts.onWatchError(error);
        });
        watchers.set(folder, watcher);
      } catch (error) {
        opts.onWatchUnavailable?.(folder, error);
      }
    }
  };

  const poll = setInterval(() => {
    watchFolders();
    runCheck();
  }, opts.pollIntervalMs);
  poll.unref();

  watchFolders();
  if (opts.checkAtStart) runCheck();

  return {
    close(): void {
      closed = true;
      clearInterval(poll);
      clearTimeout(debounce);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
