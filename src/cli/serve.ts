/** `image-admission serve`: runs the webhook until SIGTERM or SIGINT. */
import { readFileSync } from 'node:fs';
import { loadConfig, serveUsage } from '../config.js';
import { startServer } from '../server.js';
import type { CommandIo } from './io.js';

/** Signals closer together than this are one request to stop (see `stop`). */
const SAME_SIGNAL_MS = 1000;

/** Runs the server; resolves with the exit code once it has shut down. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const loaded = loadConfig(argv, io.env, cgroupMemoryLimit);
  if (loaded.ok === 'help') {
    io.stdout.write(serveUsage());
    return 0;
  }
  if (!loaded.ok) {
    io.stderr.write(`image-admission serve: invalid configuration:\n${loaded.errors.map((e) => `  - ${e}`).join('\n')}\n\n${serveUsage()}`);
    return 2;
  }
  const server = await startServer(loaded.config);
  return new Promise<number>((resolve) => {
    let firstSignalAt: number | undefined;
    // First signal: the graceful sequence (drain, close, bounded wait). Exit 0 when every review
    // finished, 1 when the timeout had to cut connections. A second signal cuts everything now (1).
    const stop = (signal: NodeJS.Signals) => {
      if (firstSignalAt !== undefined) {
        // One Ctrl-C under `npm start` arrives twice: the terminal signals the whole process group and
        // npm forwards what it got to its child. Only a later signal is someone asking again.
        if (performance.now() - firstSignalAt < SAME_SIGNAL_MS) return;
        server.app.log.warn({ signal }, 'second signal: closing every connection now');
        server.forceClose().finally(() => resolve(1));
        return;
      }
      firstSignalAt = performance.now();
      server.app.log.info({ signal }, 'shutting down');
      server.shutdown().then(
        ({ clean }) => {
          server.app.log.info({ clean }, 'stopped');
          resolve(clean ? 0 : 1);
        },
        (error: unknown) => {
          server.app.log.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

/**
 * The memory limit of this process's cgroup, in bytes, or undefined when there is none to read or it
 * is unlimited: cgroup v2's memory.max, else cgroup v1's memory.limit_in_bytes (which says "no
 * limit" with a huge number).
 */
export function cgroupMemoryLimit(): number | undefined {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    const bytes = Number(text);
    return text !== 'max' && Number.isSafeInteger(bytes) && bytes > 0 && bytes < 2 ** 50 ? bytes : undefined;
  }
  return undefined;
}
