/**
 * `npm start`, as the README tells a newcomer to run it, stops on SIGTERM and on Ctrl-C and leaves no
 * server behind. npm runs the script through `sh -c`; without `exec` the shell stays between npm and
 * node, npm's forwarded signal stops the shell, and node keeps running, holding the port.
 * Runs the built server (`npm run test:e2e` builds first); `--ignore-scripts` skips the prestart build.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { certificatePaths, writeCertificates } from '../../src/certs/files.js';
import { generateCertificates } from '../../src/certs/generate.js';
import { SERVICE_NAME, SERVICE_NAMESPACE } from '../../src/server.js';
import { type ChildServer, startServingCommand } from '../support/child-server.js';

let dir: string;
/** Servers started here, killed after each test should one outlive a failing assertion. */
const started: number[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iaw-npm-start-'));
  await writeCertificates(dir, generateCertificates({ service: SERVICE_NAME, namespace: SERVICE_NAMESPACE }));
});

afterEach(() => {
  for (const pid of started.splice(0)) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function npmStart(options: { detached?: boolean } = {}): Promise<ChildServer> {
  const paths = certificatePaths(dir);
  const flags = [
    ...['--host', '127.0.0.1', '--port', '0', '--health-probe-bind-address', '127.0.0.1:0'],
    ...['--tls-cert', paths.cert, '--tls-key', paths.key, '--shutdown-drain-seconds', '0.2'],
  ];
  return startServingCommand('npm', ['start', '--ignore-scripts', '--silent', '--', ...flags], options);
}

/** The pid of the node process that logged "serving" (pino writes the pid on every line). */
function serverPid(child: ChildServer): number {
  const line = child.log.find((l) => l.includes('"msg":"image-admission-webhook serving"'))!;
  const { pid, version } = JSON.parse(line) as { pid: number; version: string };
  // The start-up line says what runs (package.json's version), as image_admission_build_info does.
  expect(version).toBe((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
  started.push(pid);
  return pid;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe('npm start', () => {
  it('stops the server when npm gets SIGTERM, freeing the port', async () => {
    const child = await npmStart();
    const pid = serverPid(child);
    expect(pid).not.toBe(child.process.pid);
    expect(await portAnswers(child.port)).toBe(true);

    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(isRunning(pid)).toBe(false);
    expect(await portAnswers(child.port)).toBe(false);
  });

  it('shuts down gracefully on Ctrl-C, which signals npm and node alike', async () => {
    const child = await npmStart({ detached: true });
    const pid = serverPid(child);

    // A terminal's Ctrl-C: SIGINT to the whole foreground process group.
    process.kill(-child.process.pid!, 'SIGINT');
    expect(await child.exited).toBe(0);
    expect(isRunning(pid)).toBe(false);
    expect(child.log.join('\n')).toContain('"clean":true');
    expect(child.log.join('\n')).not.toContain('second signal');
  });
});
