/**
 * `image-admission serve` as a child process on a free loopback port, for the tests and the soak that
 * need a real process (signals, exit codes): starts it and waits for its "serving" log line.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** A running child server. */
export interface ChildServer {
  process: ChildProcess;
  port: number;
  exited: Promise<number | null>;
  /** Its latest output lines (JSON log lines and anything on stderr), for error messages. */
  log: string[];
}

/**
 * Runs `node <entry> serve --host 127.0.0.1 --port 0 --health-probe-bind-address 127.0.0.1:0 ...flags`
 * (two children at once must not both want the default :8081): `entry` is `dist/cli/main.js` (built)
 * or `--import tsx src/cli/main.ts` style arguments (from source).
 */
export function startChildServer(entry: readonly string[], flags: readonly string[]): Promise<ChildServer> {
  return startServingCommand(process.execPath, [...entry, 'serve', '--host', '127.0.0.1', '--port', '0', '--health-probe-bind-address', '127.0.0.1:0', ...flags]);
}

/**
 * Runs any command that ends in `image-admission serve` (e.g. `npm start`) and waits for its "serving"
 * line. `detached` puts it in a process group of its own, which a terminal's Ctrl-C signals as a whole.
 */
export async function startServingCommand(command: string, args: readonly string[], options: { detached?: boolean } = {}): Promise<ChildServer> {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Only what the command needs: the parent's own variables (MODE=test, ...) would be read as settings.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    detached: options.detached ?? false,
  });
  const log: string[] = [];
  // A long soak logs a decision per review: keep only the tail.
  const remember = (line: string) => {
    log.push(line);
    if (log.length > 200) log.shift();
  };
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        remember(line);
        if (!line.includes('"msg":"image-admission-webhook serving"')) continue;
        const entry = JSON.parse(line) as { port?: number };
        if (entry.port !== undefined) resolve(entry.port);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => remember(chunk.toString('utf8')));
    void exited.then((code) => reject(new Error(`server exited with ${code}: ${log.join('\n')}`)));
  });
  return { process: child, port, exited, log };
}
