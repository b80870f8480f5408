/** `image-admission serve`: runs the webhook until SIGTERM or SIGINT. */
import { readFileSync } from 'node:fs';
import { loadConfig, SERVE_OPTIONS } from '../config.js';
import { startServer } from '../server.js';
import { type CommandSpec, helpText, usageError } from './args.js';
import type { CommandIo } from './io.js';

/** serve's flags are read by loadConfig (flags and environment together); this is their help. */
const SPEC: CommandSpec = {
  name: 'serve',
  synopsis: '[flags]',
  description: 'Runs the webhook HTTPS server until SIGTERM or SIGINT. Every flag can also be set by the\nenvironment variable named beside it; a flag wins over its variable.',
  flags: Object.fromEntries(
    SERVE_OPTIONS.map((o) => [o.flag, { type: 'string', value: placeholder(o.flag), help: `${o.help}\n(env ${o.env}, default ${JSON.stringify(o.fallback)})` }]),
  ),
  footer: `Exit status: 0 after a clean shutdown (every review in flight answered); 1 when the shutdown had to
cut connections, or the server could not start (a port in use, a certificate, key or --trusted-keys
directory that cannot be read); 2 usage errors (every bad flag or variable is listed).`,
};

/** The placeholder of a flag's value in the help. */
function placeholder(flag: string): string {
  if (flag.endsWith('-seconds')) return 'SECONDS';
  if (flag.startsWith('exempt-')) return 'NAMES';
  if (flag.startsWith('max-connections')) return 'N';
  const named: Record<string, string> = {
    host: 'ADDRESS',
    port: 'PORT',
    'tls-cert': 'FILE',
    'tls-key': 'FILE',
    'client-ca': 'FILE',
    mode: 'MODE',
    'disable-rules': 'IDS',
    'rule-actions': 'RULE=ACTION,...',
    'log-level': 'LEVEL',
    'log-format': 'FORMAT',
    'memory-limit': 'BYTES',
    'health-probe-bind-address': 'ADDRESS',
    'tls-min-version': 'VERSION',
    'tls-cipher-suites': 'SUITES',
    'trusted-keys': 'DIR',
    'expect-trusted-signature': 'SCOPES',
  };
  return named[flag] ?? 'VALUE';
}

/** Signals closer together than this are one request to stop (see `stop`). */
const SAME_SIGNAL_MS = 1000;

/** Runs the server; resolves with the exit code once it has shut down. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const loaded = loadConfig(argv, io.env, cgroupMemoryLimit);
  if (loaded.ok === 'help') {
    io.stdout.write(helpText(SPEC));
    return 0;
  }
  if (!loaded.ok) return usageError(io, SPEC.name, ...loaded.errors);
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
