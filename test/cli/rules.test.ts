import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/rules.js';
import { RULES } from '../../src/image/index.js';
import { captureIo } from '../audit/helpers.js';

describe('image-admission rules', () => {
  it('lists every rule of the catalogue with its enforcement', async () => {
    const { io, out } = captureIo();
    expect(await run([], io)).toBe(0);
    const lines = out().trim().split('\n').slice(1);
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(RULES.map((r) => r.id));
    expect(lines.find((l) => l.startsWith('reference-digest'))).toMatch(/\bwarn\b/);
  });

  it('prints JSON with --json, and refuses other arguments', async () => {
    const json = captureIo();
    expect(await run(['--json'], json.io)).toBe(0);
    const rows = JSON.parse(json.out()) as { id: string; enforcement: string; action: string; explicit: boolean }[];
    expect(rows.map(({ id, enforcement }) => ({ id, enforcement }))).toEqual(RULES.map(({ id, enforcement }) => ({ id, enforcement })));
    expect(rows.every((r) => r.action === r.enforcement && !r.explicit)).toBe(true);
    expect(await run(['--colour'], captureIo().io)).toBe(2);
  });

  it('shows what --rule-actions and --disable-rules make of each rule, marked as set', async () => {
    const { io, out } = captureIo();
    expect(await run(['--rule-actions', 'reference-digest=deny,layer-size=warn', '--disable-rules', 'layer-name'], io)).toBe(0);
    const action = (id: string) => out().split('\n').find((l) => l.startsWith(`${id} `))!.split(/\s+/)[1];
    expect(action('reference-digest')).toBe('deny*');
    expect(action('layer-size')).toBe('warn*');
    expect(action('layer-name')).toBe('off*');
    expect(action('layer-media-type')).toBe('deny');
    expect(out()).toContain('* set by --rule-actions or --disable-rules');
  });

  it('refuses a --rule-actions entry that names no rule, with exit 2', async () => {
    const { io, err } = captureIo();
    expect(await run(['--rule-actions', 'nope=deny'], io)).toBe(2);
    expect(err()).toContain('"nope" is not a rule');
  });
});
