/**
 * `check` for CI pipelines: files, directories (-R) and stdin; every result names its file, Image and
 * rule; --json; exit 0 only when every input was read and every Image is valid, 1 on denials, 2 when
 * an input could not be read or held no Image.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { run } from '../../src/cli/check.js';
import { anImage } from '../fixtures/index.js';
import { untrustedRealSignature } from '../fixtures/signatures.js';
import { BROKEN_PATHS, BROKEN_RULES, brokenImage } from '../audit/audit-log.js';
import { captureIo, tempDir } from '../audit/helpers.js';

function file(name: string, content: string | Buffer, dir = tempDir()): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}

async function check(args: string[], stdin?: string) {
  const { io, out, err } = captureIo(stdin);
  const code = await run(args, io);
  return { code, out: out(), err: err() };
}

const CONFIG_MAP = stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' } });
/** The first bytes of a PNG: a signature and an IHDR chunk header. */
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001', 'hex');

interface Report {
  results: { file: string; index: number; name: string; operation: string; valid: boolean; deniedAt?: string; findings: { rule: string; field: string; message: string; kind: string; action: string }[] }[];
  errors: { file: string; line?: number; reason: string }[];
  summary: { inputs: number; images: number; valid: number; invalid: number; errors: number };
}

describe('image-admission check: results', () => {
  it('accepts a valid Image and exits 0, naming the file and the Image', async () => {
    const image = anImage();
    const path = file('ok.json', JSON.stringify(image));
    const { code, out } = await check([path]);
    expect(code).toBe(0);
    expect(out).toContain(`${path}: Image "${image.metadata!.name}" valid\n`);
    expect(out).toMatch(/^1 Image checked in 1 input: 1 valid, 0 denied$/m);
  });

  it('prints one line per violation with the file, the Image, the field and the rule id, and exits 1', async () => {
    const image = brokenImage('check');
    const path = file('bad.yaml', stringify(image));
    const { code, out } = await check([path]);
    expect(code).toBe(1);
    const denied = out.split('\n').filter((line) => line.includes(' denied: '));
    expect(denied).toEqual([
      `${path}: Image "${image.metadata!.name}" denied: signatures[0].type: Required value [signature-type]`,
      `${path}: Image "${image.metadata!.name}" denied: signatures[0].conditions[1].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown" [signature-condition-status]`,
    ]);
    expect(out).not.toContain(' valid\n');
  });

  it('--json: one document with the file, the Image and each finding with its rule id and action', async () => {
    const bad = brokenImage('json');
    const good = anImage();
    const badPath = file('bad.json', JSON.stringify(bad));
    const goodPath = file('good.json', JSON.stringify(good));
    const { code, out } = await check(['--json', badPath, goodPath]);
    expect(code).toBe(1);
    const report = JSON.parse(out) as Report;
    expect(report.summary).toEqual({ inputs: 2, images: 2, valid: 1, invalid: 1, errors: 0 });
    const [denied, valid] = report.results;
    expect(denied).toMatchObject({ file: badPath, index: 1, name: bad.metadata!.name, operation: 'CREATE', valid: false, deniedAt: 'mutate' });
    const violations = denied!.findings.filter((f) => f.kind === 'violation');
    expect(violations.map((f) => [f.rule, f.field, f.action])).toEqual(BROKEN_RULES.map((rule, i) => [rule, BROKEN_PATHS[i], 'deny']));
    expect(valid).toEqual({ file: goodPath, index: 1, name: good.metadata!.name, operation: 'CREATE', valid: true, findings: [] });
    expect(report.errors).toEqual([]);
  });

  it('names an Image without a name by its place in the file', async () => {
    const image = anImage();
    delete image.metadata!.name;
    const path = file('unnamed.yaml', `${stringify(anImage())}---\n${stringify(image)}`);
    const { code, out } = await check([path]);
    expect(code).toBe(1);
    expect(out).toContain(`${path}: Image #2 (no name) denied: metadata.name: Required value: name or generateName is required [name-required]\n`);
  });

  it('checks every Image of several files, Lists and YAML streams, and skips other kinds beside an Image', async () => {
    const list = JSON.stringify({ kind: 'List', apiVersion: 'v1', items: [anImage(), brokenImage('l')] });
    const stream = `${stringify(anImage())}---\n${CONFIG_MAP}`;
    const { code, out } = await check([file('list.json', list), file('stream.yaml', stream)]);
    expect(code).toBe(1);
    expect(out.match(/ valid$/gm)).toHaveLength(2);
    expect(out).toMatch(/^3 Images checked in 2 inputs: 2 valid, 1 denied$/m);
  });

  it('reads standard input for -, named <stdin>', async () => {
    const image = anImage();
    const { code, out } = await check(['-'], JSON.stringify(image));
    expect(code).toBe(0);
    expect(out).toContain(`<stdin>: Image "${image.metadata!.name}" valid`);
  });
});

describe('image-admission check: the flags of serve', () => {
  it('leaves out the rules named by --disable-rules', async () => {
    const image = anImage({ dockerImageReference: undefined });
    expect((await check([file('on.json', JSON.stringify(image))])).code).toBe(1);
    expect((await check([file('off.json', JSON.stringify(image)), '--disable-rules', 'reference-format'])).code).toBe(0);
  });

  it('applies --rule-actions: warn lets the write through with a warning naming the rule, off leaves it out', async () => {
    const image = anImage({ dockerImageReference: undefined });
    const path = file('warned.json', JSON.stringify(image));
    const warned = await check([path, '--rule-actions', 'reference-format=warn']);
    expect(warned.code).toBe(0);
    expect(warned.out).toContain(`${path}: Image "${image.metadata!.name}" warning: dockerImageReference: Required value [reference-format]\n`);
    const off = await check([path, '--rule-actions', 'reference-format=off']);
    expect(off.code).toBe(0);
    expect(off.out).not.toContain('reference-format');
    const refused = await check([path, '--rule-actions', 'reference-format=block']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('reference-format="block": the action must be one of deny, warn, off');
  });

  it('refuses --disable-rules with an identifier the catalogue does not have', async () => {
    const { code, err } = await check([file('x.json', JSON.stringify(anImage())), '--disable-rules', 'no-such-rule']);
    expect(code).toBe(2);
    expect(err).toContain('"no-such-rule"');
  });

  it('verifies signatures under --trusted-keys as the server does', async () => {
    const image = anImage();
    // Stored as the server stores it when the signer's key is not trusted: Trusted=False (UntrustedKey).
    image.signatures = [untrustedRealSignature(image.metadata!.name!)];
    const path = file('signed.json', JSON.stringify(image));
    const untrusted = JSON.parse((await check(['--json', path])).out) as Report;
    expect(untrusted.results[0]).toMatchObject({ valid: true, findings: [] });

    const keys = tempDir();
    copyFileSync(new URL('../fixtures/data/signatures/rsa.asc', import.meta.url), join(keys, 'rsa.asc'));
    const trusted = await check(['--json', path, '--trusted-keys', keys]);
    expect(trusted.code).toBe(0);
    // Under the signer's key the claim Trusted=False is not what verification derives: /mutate replaces it.
    const findings = (JSON.parse(trusted.out) as Report).results[0]!.findings;
    expect(findings).toEqual([expect.objectContaining({ rule: 'signature-verified', kind: 'replaced', action: 'warn', field: 'signatures[0].conditions' })]);
    expect(findings[0]!.message).toContain('Trusted=True (Verified)');
  });

  it('refuses a --trusted-keys directory that cannot be read: a typo must not trust nothing quietly', async () => {
    const { code, err } = await check([file('x.json', JSON.stringify(anImage())), '--trusted-keys', join(tempDir(), 'nope')]);
    expect(code).toBe(2);
    expect(err).toContain('--trusted-keys: cannot read the trusted keys directory');
    expect(err).toContain('ENOENT');
  });

  it('applies the UPDATE rules with --old: a changed reference is immutable', async () => {
    const old = anImage();
    const next = anImage({ dockerImageReference: 'quay.io/example/other@' + old.metadata!.name });
    const { code, out } = await check([file('next.json', JSON.stringify(next)), '--old', file('old.json', JSON.stringify(old))]);
    expect(code).toBe(1);
    expect(out).toMatch(/ denied: dockerImageReference: Invalid value: .*field is immutable \[immutable-field\]$/m);
  });

  it('lets an UPDATE keep violations the old Image already had, with a warning (ratcheting)', async () => {
    const old = brokenImage('ratchet');
    const next = structuredClone(old);
    next.metadata!.labels = { team: 'ml' };
    const path = file('next.json', JSON.stringify(next));
    const { code, out } = await check([path, '--old', file('old.json', JSON.stringify(old))]);
    expect(code).toBe(0);
    expect(out).toContain(`${path}: Image "${old.metadata!.name}" warning: pre-existing: signatures[0].type: Required value [signature-type]\n`);
    expect(out).toContain(' valid\n');
  });
});

describe('image-admission check: inputs it cannot judge exit 2', () => {
  it('a directory without -R: says to pass -R (no raw EISDIR)', async () => {
    const dir = tempDir();
    file('a.json', JSON.stringify(anImage()), dir);
    const { code, err } = await check([dir]);
    expect(code).toBe(2);
    expect(err).toBe(`${dir}: error: is a directory: pass -R to check the .json, .yaml and .yml files under it\n`);
  });

  it('-R: the manifest files under the directory, nested, in name order; other files and kinds skipped', async () => {
    const dir = tempDir();
    const bad = brokenImage('tree');
    file('b/nested/bad.yml', stringify(bad), dir);
    file('a.json', JSON.stringify(anImage()), dir);
    file('config.yaml', CONFIG_MAP, dir);
    file('logo.png', PNG, dir);
    file('.git/HEAD.json', 'not json at all', dir);
    const { code, out, err } = await check(['-R', dir]);
    expect(err).toBe('');
    expect(code).toBe(1);
    const subjects = out
      .split('\n')
      .filter((l) => l.includes(': Image '))
      .map((l) => l.slice(0, l.indexOf(': Image ')));
    expect([...new Set(subjects)]).toEqual([join(dir, 'a.json'), join(dir, 'b/nested/bad.yml')]);
    expect(out).toMatch(/^2 Images checked in 3 inputs: 1 valid, 1 denied$/m);
  });

  it('-R over a directory with no Image at all: "no Image found"', async () => {
    const dir = tempDir();
    file('config.yaml', CONFIG_MAP, dir);
    const { code, err } = await check(['-R', dir]);
    expect(code).toBe(2);
    expect(err).toContain('no Image found');
  });

  it.each([
    { what: 'a PNG', content: PNG, name: 'logo.png', want: 'not a text file (not UTF-8): JSON or YAML manifests expected' },
    { what: 'a ConfigMap', content: CONFIG_MAP, name: 'cm.yaml', want: 'holds no Image (it holds ConfigMap "settings"; an Image has kind: Image)' },
    { what: 'an empty file', content: '', name: 'empty.yaml', want: 'holds no Image (it holds no object)' },
  ])('$what named on the command line', async ({ content, name, want }) => {
    const path = file(name, content);
    const { code, err } = await check([path]);
    expect(code).toBe(2);
    expect(err).toBe(`${path}: error: ${want}\n`);
  });

  it.each([
    { what: 'YAML', name: 'bad.yaml', content: `${stringify(anImage())}---\nkind: Image\nmetadata:\n  name: x\n   labels: {}\n`, line: /^\d+$/ },
    { what: 'JSON', name: 'bad.json', content: '{\n  "kind": "Image",\n  "metadata": {"name": "x"}\n  "dockerImageReference": "a"\n}\n', line: /^4$/ },
  ])('a $what syntax error: names the file and the line, and beats the valid files (exit 2, not 0)', async ({ name, content, line }) => {
    const path = file(name, content);
    const valid = file('ok.json', JSON.stringify(anImage()));
    const { code, err, out } = await check([valid, path]);
    expect(code).toBe(2);
    const match = new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+): error: (.+)$`).exec(err.trim());
    expect(match, err).not.toBeNull();
    expect(match![1]).toMatch(line);
    expect(out).toContain(' valid\n');
    expect(out).toMatch(/1 input could not be checked$/m);
  });

  it('a YAML error names the line of the broken document, not of the file start', async () => {
    const path = file('third.yaml', `${stringify(anImage())}---\n${CONFIG_MAP}---\nkind: Image\nmetadata: {name: [x}\n`);
    const { code, err } = await check([path]);
    expect(code).toBe(2);
    const lines = stringify(anImage()).split('\n').length + CONFIG_MAP.split('\n').length;
    const reported = Number(/:(\d+): error:/.exec(err)?.[1]);
    expect(reported).toBeGreaterThanOrEqual(lines);
  });

  it('--json carries the errors too, with the line', async () => {
    const path = file('bad.json', '{"kind": "Image",\n"metadata": }');
    const { code, out } = await check(['--json', path]);
    expect(code).toBe(2);
    const report = JSON.parse(out) as Report;
    expect(report.errors).toEqual([{ file: path, line: expect.any(Number) as number, reason: expect.stringContaining('JSON') as string }]);
    expect(report.summary).toMatchObject({ images: 0, errors: 1 });
  });

  it.each([
    { args: [], want: 'needs at least one FILE' },
    { args: ['--nope'], want: "Unknown option '--nope'" },
    { args: ['/nonexistent/image.json'], want: '/nonexistent/image.json: error: no such file or directory' },
  ])('exits 2 on $want', async ({ args, want }) => {
    const { code, err } = await check(args);
    expect(code).toBe(2);
    expect(err).toContain(want);
  });
});
