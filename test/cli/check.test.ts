/** `check`: Image manifests judged before they are applied, the denial printed as kubectl prints it. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kubectlInvalidMessage } from '../../src/review/check.js';
import { run } from '../../src/cli/check.js';
import { anImage } from '../fixtures/index.js';
import { brokenImage } from '../audit/audit-log.js';
import { captureIo, tempDir } from '../audit/helpers.js';

function file(name: string, content: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return path;
}

async function check(args: string[], stdin?: string) {
  const { io, out, err } = captureIo(stdin);
  const code = await run(args, io);
  return { code, out: out(), err: err() };
}

describe("kubectl's printing of a 422 Invalid StatusError", () => {
  const details = (causes: { field: string; message: string }[]) => ({ name: 'sha256:abc', group: 'image.openshift.io', kind: 'Image', causes: causes.map((c) => ({ reason: 'FieldValueInvalid', ...c })) });

  it.each([
    { what: 'one cause: one line', causes: [{ field: 'dockerImageReference', message: 'Required value' }], want: 'The Image "sha256:abc" is invalid: dockerImageReference: Required value\n' },
    {
      what: 'several causes: a list under the prefix, which keeps its trailing space',
      causes: [
        { field: 'a', message: 'Required value' },
        { field: 'b', message: 'Invalid value: 1' },
      ],
      want: 'The Image "sha256:abc" is invalid: \n* a: Required value\n* b: Invalid value: 1\n',
    },
    {
      what: 'duplicate causes once',
      causes: [
        { field: 'a', message: 'Required value' },
        { field: 'a', message: 'Required value' },
      ],
      want: 'The Image "sha256:abc" is invalid: a: Required value\n',
    },
    { what: 'no causes', causes: [], want: 'The Image "sha256:abc" is invalid\n' },
  ])('$what', ({ causes, want }) => {
    expect(kubectlInvalidMessage({ message: 'ignored', details: details(causes) })).toBe(want);
  });

  it('falls back to the message without details', () => {
    expect(kubectlInvalidMessage({ message: 'boom' })).toBe('The request is invalid: boom\n');
  });
});

describe('image-admission check', () => {
  it('accepts a valid Image (JSON) and exits 0', async () => {
    const image = anImage();
    const { code, out } = await check([file('ok.json', JSON.stringify(image))]);
    expect(code).toBe(0);
    expect(out).toContain(`image.image.openshift.io/${image.metadata!.name} valid`);
  });

  it('prints the denial exactly as kubectl would, for YAML too, and exits 1', async () => {
    const image = brokenImage('check');
    const { code, out } = await check([file('bad.yaml', stringify(image))]);
    expect(code).toBe(1);
    expect(out).toBe(
      `The Image "${image.metadata!.name}" is invalid: \n` +
        '* signatures[0].type: Required value\n' +
        '* signatures[0].conditions[1].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"\n',
    );
  });

  it('prints one cause on one line', async () => {
    const image = anImage({ dockerImageReference: undefined });
    const { code, out } = await check([file('one.json', JSON.stringify(image))]);
    expect(code).toBe(1);
    expect(out).toBe(`The Image "${image.metadata!.name}" is invalid: dockerImageReference: Required value\n`);
  });

  it('leaves out the rules named by --disable-rules, as the server does', async () => {
    const image = anImage({ dockerImageReference: undefined });
    const { code } = await check([file('off.json', JSON.stringify(image)), '--disable-rules', 'reference-format']);
    expect(code).toBe(0);
  });

  it('applies --rule-actions as the server does: warn lets the write through with a warning, deny denies a warn-only rule', async () => {
    const image = anImage({ dockerImageReference: undefined });
    const warned = await check([file('warned.json', JSON.stringify(image)), '--rule-actions', 'reference-format=warn']);
    expect(warned.code).toBe(0);
    expect(warned.err).toMatch(/^Warning: dockerImageReference: Required value$/m);
    const off = await check([file('off2.json', JSON.stringify(image)), '--rule-actions', 'reference-format=off']);
    expect(off).toMatchObject({ code: 0, err: '' });
    const refused = await check([file('bad-action.json', JSON.stringify(image)), '--rule-actions', 'reference-format=block']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('reference-format="block": the action must be one of deny, warn, off');
  });

  it('refuses --disable-rules with an identifier the catalogue does not have', async () => {
    const { code, err } = await check([file('x.json', JSON.stringify(anImage())), '--disable-rules', 'no-such-rule']);
    expect(code).toBe(2);
    expect(err).toContain('"no-such-rule"');
  });

  it('checks every Image of several files, Lists and YAML streams', async () => {
    const list = JSON.stringify({ kind: 'List', apiVersion: 'v1', items: [anImage(), brokenImage('l')] });
    const stream = `${stringify(anImage())}---\n${stringify({ kind: 'ConfigMap', metadata: { name: 'skip-me' } })}`;
    const { code, out } = await check([file('list.json', list), file('stream.yaml', stream)]);
    expect(code).toBe(1);
    expect(out.match(/ valid \(/g)).toHaveLength(2);
    expect(out.match(/is invalid/g)).toHaveLength(1);
  });

  it('applies the UPDATE rules with --old: a changed reference is immutable', async () => {
    const old = anImage();
    const next = anImage({ dockerImageReference: 'quay.io/example/other@' + old.metadata!.name });
    const { code, out } = await check([file('next.json', JSON.stringify(next)), '--old', file('old.json', JSON.stringify(old))]);
    expect(code).toBe(1);
    expect(out).toContain(`The Image "${old.metadata!.name}" is invalid: dockerImageReference: Invalid value:`);
    expect(out).toContain('field is immutable');
  });

  it('lets an UPDATE keep violations the old Image already had, with a warning (ratcheting)', async () => {
    const old = brokenImage('ratchet');
    const next = structuredClone(old);
    next.metadata!.labels = { team: 'ml' };
    const { code, out, err } = await check([file('next.json', JSON.stringify(next)), '--old', file('old.json', JSON.stringify(old))]);
    expect(code).toBe(0);
    expect(out).toContain('valid');
    expect(err).toContain('Warning: pre-existing: signatures[0].type');
  });

  it('reads stdin for -', async () => {
    const { code } = await check(['-'], JSON.stringify(anImage()));
    expect(code).toBe(0);
  });

  it.each([
    { args: [], want: 'needs at least one FILE' },
    { args: ['--nope'], want: "Unknown option '--nope'" },
    { args: ['/nonexistent/image.json'], want: 'no such file' },
  ])('exits 2 on $want', async ({ args, want }) => {
    const { code, err } = await check(args);
    expect(code).toBe(2);
    expect(err).toContain(want);
  });
});
