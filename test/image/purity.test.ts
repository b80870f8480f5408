import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const IMAGE_DIR = new URL('../../src/image/', import.meta.url).pathname;

describe('the Image rules are pure', () => {
  it.each(readdirSync(IMAGE_DIR).filter((f) => f.endsWith('.ts')))('%s imports nothing from HTTP, admission or I/O', (file) => {
    const source = readFileSync(join(IMAGE_DIR, file), 'utf8');
    const imports = [...source.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!);
    for (const spec of imports) {
      expect(spec, `${file} imports ${spec}`).toMatch(/^(\.\/[a-z0-9-]+\.js|node:crypto|ajv)$/);
    }
  });
});
