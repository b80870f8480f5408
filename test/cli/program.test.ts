/** The command line's own behaviour: help, version, and short answers to mistakes. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/program.js';
import { captureIo } from '../audit/helpers.js';

async function cli(...argv: string[]) {
  const { io, out, err } = captureIo();
  const code = await main(argv, io);
  return { code, out: out(), err: err() };
}

describe('image-admission', () => {
  it('prints the version of package.json with --version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) expect(await cli(flag)).toEqual({ code: 0, out: `image-admission ${version}\n`, err: '' });
  });

  it('lists its commands with --help', async () => {
    const { code, out } = await cli('--help');
    expect(code).toBe(0);
    for (const command of ['serve', 'certs', 'audit', 'check', 'review', 'manifests', 'rules']) expect(out).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it.each([
    { argv: [], want: 'image-admission: missing command' },
    { argv: ['deploy'], want: 'image-admission: unknown command "deploy"' },
    { argv: ['rules', '--colour'], want: "image-admission rules: Unknown option '--colour'" },
    { argv: ['certs', '--days', '0'], want: 'image-admission certs: --days must be a whole number' },
    { argv: ['manifests'], want: 'image-admission manifests: --image REF or --ca FILE is required' },
  ])('answers a usage error in two lines, not the whole help, and exits 2: $argv', async ({ argv, want }) => {
    const { code, out, err } = await cli(...argv);
    expect(code).toBe(2);
    expect(out).toBe('');
    const lines = err.trimEnd().split('\n');
    expect(lines[0]).toContain(want);
    expect(lines.at(-1)).toMatch(/^Run 'image-admission( \w+)? --help' for usage\.$/);
    expect(err).not.toContain('usage:');
  });

  it.each(['rules', 'certs', 'manifests', 'check', 'review', 'serve', 'audit review', 'audit scan'])('gives %s one help format: usage line, flags, and -h', async (command) => {
    const { code, out } = await cli(...command.split(' '), '--help');
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^usage: image-admission ${command} `));
    expect(out).toMatch(/\nflags:\n/);
    expect(out).toMatch(/\n {2}-h, --help +show this help\n/);
  });
});
