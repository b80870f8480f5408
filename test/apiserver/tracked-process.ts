/**
 * The suite's own child processes (webhooks, controllers, the second API server): their output is
 * appended to a log file and their pid written to run.sh's pid folder, so that run.sh's trap stops them
 * even when vitest dies; a stop waits for the exit and escalates to SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';

/** Spawns `command` with stdout and stderr appended to `logFile` and its pid written to `pidFile`. */
export function spawnTracked(
  command: string,
  args: string[],
  files: { logFile: string; pidFile: string },
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  const log = openSync(files.logFile, 'a');
  const child = spawn(command, args, { ...options, stdio: ['ignore', log, log] });
  closeSync(log);
  writeFileSync(files.pidFile, String(child.pid));
  return child;
}

/** Stops `child` with `signal` (SIGKILL after `graceMs`), waits for its exit code and removes `pidFile`. */
export async function stopTracked(child: ChildProcess, pidFile: string, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  let code = child.exitCode;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    code = await exited;
    clearTimeout(killer);
  }
  rmSync(pidFile, { force: true });
  return code;
}
