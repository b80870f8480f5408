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
    expect(JSON.parse(json.out())).toEqual(RULES);
    expect(await run(['--colour'], captureIo().io)).toBe(2);
  });
});
