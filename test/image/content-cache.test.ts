import { beforeEach, describe, expect, it } from 'vitest';
import { CONTENT_CACHE_BYTES, CONTENT_CACHE_ENTRIES, clearContentCache, contentCacheSize, contentCacheStats, factOf } from '../../src/image/content-cache.js';
import { formatPath, judgeCreate } from '../../src/image/index.js';
import { anImage } from '../fixtures/index.js';

beforeEach(clearContentCache);

const rows = (errors: { rule: string; path: readonly (string | number)[] }[]) => errors.map((e) => `${e.rule} ${formatPath(e.path)}`).sort();

describe('the content cache', () => {
  it('lets the second review of the same content (as /validate after /mutate) reuse the first one’s work', () => {
    const first = judgeCreate(anImage());
    const misses = contentCacheStats.misses;
    expect(misses).toBeGreaterThan(0);
    expect(contentCacheStats.hits).toBe(0);
    // A fresh parse of the same body: equal strings, not the same string objects.
    const second = judgeCreate(JSON.parse(JSON.stringify(anImage())));
    expect(contentCacheStats.misses).toBe(misses);
    expect(contentCacheStats.hits).toBeGreaterThan(0);
    expect(second).toEqual(first);
  });

  it('takes a manifest that differs in one byte for another text, with its own verdict', () => {
    expect(judgeCreate(anImage()).violations).toEqual([]);
    const image = anImage();
    image.dockerImageManifest = image.dockerImageManifest!.replace(/}\s*$/, ' }');
    expect(rows(judgeCreate(image).violations)).toEqual(['manifest-digest dockerImageManifest']);
  });

  it('takes a config that differs in one byte for another text', () => {
    const image = anImage();
    judgeCreate(image);
    image.dockerImageConfig = `${image.dockerImageConfig!} `;
    expect(rows(judgeCreate(image).violations)).toEqual(['config-digest dockerImageConfig', 'config-size dockerImageConfig']);
  });

  it('holds at most its count of texts, oldest out first', () => {
    for (let i = 0; i < CONTENT_CACHE_ENTRIES + 50; i++) factOf(`text ${i}`, 'length', (t) => t.length);
    expect(contentCacheSize().entries).toBe(CONTENT_CACHE_ENTRIES);
    const hits = contentCacheStats.hits;
    factOf(`text ${CONTENT_CACHE_ENTRIES + 49}`, 'length', (t) => t.length);
    expect(contentCacheStats.hits).toBe(hits + 1);
    factOf('text 0', 'length', (t) => t.length);
    expect(contentCacheStats.hits).toBe(hits + 1);
  });

  it('holds at most its estimate of bytes, and never a text larger than that', () => {
    const big = (c: string) => c.repeat(CONTENT_CACHE_BYTES / 2 / 3);
    for (const c of 'abcdef') factOf(big(c), 'length', (t) => t.length);
    expect(contentCacheSize().bytes).toBeLessThanOrEqual(CONTENT_CACHE_BYTES);
    expect(contentCacheSize().entries).toBe(3);
    clearContentCache();
    factOf('x'.repeat(CONTENT_CACHE_BYTES / 2 + 1), 'length', (t) => t.length);
    expect(contentCacheSize()).toEqual({ entries: 0, bytes: 0 });
  });

  it('tells apart texts that share their sample (length, head, tail, spread characters), and keeps few of them', () => {
    // Position 33 is neither in the head nor among the spread characters of a 1,000-character text.
    const text = (c: string) => `${'a'.repeat(33)}${c}${'a'.repeat(966)}`;
    const letters = 'bcdefghijk';
    for (const c of letters) expect(factOf(text(c), 'char', (t) => t[33])).toBe(c);
    for (const c of letters) expect(factOf(text(c), 'char', (t) => t[33])).toBe(c);
    // Ten texts of one sample: at most four are kept, so a lookup compares at most four texts.
    expect(contentCacheSize().entries).toBeLessThanOrEqual(4);
  });

  it('keeps a recently used text over an older one', () => {
    factOf('keep me', 'n', () => 1);
    for (let i = 0; i < CONTENT_CACHE_ENTRIES - 1; i++) factOf(`filler ${i}`, 'n', () => 1);
    factOf('keep me', 'n', () => 1); // used again: now the most recent
    factOf('one more', 'n', () => 1); // evicts the oldest, which is no longer "keep me"
    const hits = contentCacheStats.hits;
    factOf('keep me', 'n', () => 1);
    expect(contentCacheStats.hits).toBe(hits + 1);
  });
});
