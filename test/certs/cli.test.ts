import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCertificates, writeCertificates } from '../../src/certs/files.js';
import { generateCertificates } from '../../src/certs/generate.js';
import { run } from '../../src/cli/certs.js';
import type { CommandIo } from '../../src/cli/io.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'certs-cli-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      stream.text += chunk.toString();
      callback();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

async function certs(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io: CommandIo = { stdout: sink(), stderr: sink(), env: {} };
  const code = await run(argv, io);
  return { code, stdout: (io.stdout as Writable & { text: string }).text, stderr: (io.stderr as Writable & { text: string }).text };
}

describe('image-admission certs', () => {
  it('generates all four files and prints their paths, never their content', async () => {
    const out = join(root, 'fresh');
    const result = await certs('--out', out);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n').sort()).toEqual(
      ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'].map((f) => `wrote ${join(out, f)}`),
    );
    expect(result.stdout + result.stderr).not.toContain('PRIVATE KEY');
    expect((await stat(join(out, 'tls.key'))).mode & 0o777).toBe(0o600);
    const leaf = new X509Certificate((await readCertificates(out)).cert);
    expect(leaf.checkHost('image-admission-webhook.image-admission.svc', { subject: 'never' })).toBeTruthy();
  });

  it('leaves valid certificates alone', async () => {
    const out = join(root, 'fresh');
    const before = await readCertificates(out);
    const result = await certs('--out', out);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/tls\.crt is valid until .*; nothing to do/);
    expect(await readCertificates(out)).toEqual(before);
  });

  it('renews the serving certificate within --renew-within-days, keeping the CA', async () => {
    const out = join(root, 'renew');
    await writeCertificates(out, generateCertificates({ service: 'svc', namespace: 'ns', validityDays: 5 }));
    const before = await readCertificates(out);
    const result = await certs('--out', out, '--service', 'svc', '--namespace', 'ns', '--renew-within-days', '7', '--days', '90');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`wrote ${join(out, 'tls.key')}\nwrote ${join(out, 'tls.crt')}\n`);
    const after = await readCertificates(out);
    expect(after.caCert).toBe(before.caCert);
    expect(after.cert).not.toBe(before.cert);
  });

  it('regenerates everything with --force, for the given Service', async () => {
    const out = join(root, 'fresh');
    const before = await readCertificates(out);
    const result = await certs('--out', out, '--force', '--service', 'hook', '--namespace', 'tools');
    expect(result.code).toBe(0);
    const after = await readCertificates(out);
    expect(after.caCert).not.toBe(before.caCert);
    expect(new X509Certificate(after.cert).checkHost('hook.tools.svc', { subject: 'never' })).toBe('hook.tools.svc');
  });

  it('re-issues the serving certificate for a new namespace and Service, keeping the CA (no --force)', async () => {
    const out = join(root, 'moved');
    expect((await certs('--out', out)).code).toBe(0);
    const before = await readCertificates(out);
    const result = await certs('--out', out, '--service', 'hook', '--namespace', 'platform');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('re-issued');
    expect(result.stdout).toContain('hook.platform.svc');
    const after = await readCertificates(out);
    // The CA (and so every caBundle) is the same; the leaf is new, for the new names, signed by that CA.
    expect(after.caCert).toBe(before.caCert);
    expect(after.caKey).toBe(before.caKey);
    const leaf = new X509Certificate(after.cert);
    expect(leaf.checkHost('hook.platform.svc', { subject: 'never' })).toBe('hook.platform.svc');
    expect(leaf.checkHost('image-admission-webhook.image-admission.svc', { subject: 'never' })).toBeUndefined();
    expect(leaf.verify(new X509Certificate(after.caCert).publicKey)).toBe(true);
    expect((await stat(join(out, 'tls.key'))).mode & 0o777).toBe(0o600);
    // Run again with the same names: nothing to do.
    const again = await certs('--out', out, '--service', 'hook', '--namespace', 'platform');
    expect(again.stdout).toMatch(/nothing to do/);
    expect(await readCertificates(out)).toEqual(after);
  });

  it.each([
    { name: 'a non-numeric --days', argv: ['--days', 'ten'], want: /--days must be/ },
    { name: 'zero --days', argv: ['--days', '0'], want: /--days must be/ },
    { name: 'an unknown flag', argv: ['--colour'], want: /Unknown option/ },
    { name: 'a stray argument', argv: ['now'], want: /Unexpected argument/ },
  ])('rejects $name with exit code 2', async ({ argv, want }) => {
    const result = await certs('--out', join(root, 'never'), ...argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(want);
    await expect(stat(join(root, 'never'))).rejects.toThrow();
  });

  it('prints help', async () => {
    const result = await certs('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--renew-within-days N');
  });
});
