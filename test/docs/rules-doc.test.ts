/** docs/rules.md describes the catalogue as it is: every rule once, nothing else, the same enforcement. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/image/index.js';

const page = readFileSync(new URL('../../docs/rules.md', import.meta.url), 'utf8');
// A rule's row: | `id` | deny or warn | what it checks |
const rows = [...page.matchAll(/^\| `([a-z0-9-]+)` \| (deny|warn) \| (.+) \|$/gm)].map((m) => ({ id: m[1]!, enforcement: m[2]!, text: m[3]! }));

describe('docs/rules.md', () => {
  it('has one row per rule of the catalogue, in its order, with its enforcement', () => {
    expect(rows.map(({ id, enforcement }) => ({ id, enforcement }))).toEqual(RULES.map(({ id, enforcement }) => ({ id, enforcement })));
  });

  it('says what each rule checks', () => {
    for (const row of rows) expect(row.text.trim().length, row.id).toBeGreaterThan(10);
  });
});
