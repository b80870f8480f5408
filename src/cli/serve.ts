/** `image-admission serve`: runs the webhook until SIGTERM or SIGINT. */
import { loadConfig, serveUsage } from '../config.js';
import { startServer } from '../server.js';
import type { CommandIo } from './io.js';

/** Runs the server; resolves with the exit code once it has shut down. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const loaded = loadConfig(argv, io.env);
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
    const stop = (signal: NodeJS.Signals) => {
      server.app.log.info({ signal }, 'shutting down');
      server.close().then(
        () => resolve(0),
        (error: unknown) => {
          server.app.log.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
