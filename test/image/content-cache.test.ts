import { beforeEach, describe, expect, it } from 'vitest';
import { CACHE_FROM_CHARS, CONTENT_CACHE_BYTES, CONTENT_CACHE_ENTRIES, clearContentCache, contentCacheSize, contentCacheStats, factOf } from '../../src/image/content-cache.js';
import { formatPath, judgeCreate } from '../../src/image/index.js';
import { anImage } from '../fixtures/index.js';
import { hugeImage } from '../fixtures/huge.js';

beforeEach(clearContentCache);

/** A text long enough to be kept from one review to the next, named by `tag` (at its start). */
const long = (tag: string) => `${tag} ${'.'.repeat(CACHE_FROM_CHARS)}`;

const rows = (errors: { rule: string; path: readonly (string | number)[] }[]) => errors.map((e) => `${e.rule} ${formatPath(e.path)}`).sort();

describe('the content cache', () => {
  it('lets the second review of the same large content (as /validate after /mutate) reuse the first one’s work', () => {
    const image = hugeImage(256 * 1024);
    expect(image.dockerImageConfig!.length).toBeGreaterThanOrEqual(CACHE_FROM_CHARS);
    const first = judgeCreate(image);
    const misses = contentCacheStats.misses;
    expect(misses).toBeGreaterThan(0);
    expect(contentCacheStats.hits).toBe(0);
    // Another Image in between, then a fresh parse of the same body: equal strings, not the same string objects.
    judgeCreate(anImage());
    const missesBefore = contentCacheStats.misses;
    const second = judgeCreate(JSON.parse(JSON.stringify(image)));
    expect(contentCacheStats.hits).toBeGreaterThan(0);
    expect(second).toEqual(first);
    // The config's facts were found; only the small manifest's were computed again.
    expect(contentCacheSize().entries).toBe(1);
    expect(contentCacheStats.misses - missesBefore).toBeLessThan(misses);
  });

  it('keeps no small text from one review to the next, and judges it the same again', () => {
    const first = judgeCreate(anImage());
    judgeCreate(JSON.parse(JSON.stringify(anImage({ dockerImageReference: 'registry.example.com/other@sha256:' + 'a'.repeat(64) }))));
    expect(contentCacheSize()).toEqual({ entries: 0, bytes: 0 });
    const misses = contentCacheStats.misses;
    const hits = contentCacheStats.hits;
    // Two Images since: the last texts remembered are the second one's, which are the same; use a third.
    const third = anImage();
    third.dockerImageConfig = `${third.dockerImageConfig!} `;
    judgeCreate(third);
    const again = judgeCreate(JSON.parse(JSON.stringify(anImage())));
    expect(again).toEqual(first);
    expect(contentCacheStats.misses).toBeGreaterThan(misses);
    expect(contentCacheStats.hits).toBeGreaterThanOrEqual(hits);
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
    for (let i = 0; i < CONTENT_CACHE_ENTRIES + 50; i++) factOf(long(`text ${i}`), 'length', (t) => t.length);
    expect(contentCacheSize().entries).toBe(CONTENT_CACHE_ENTRIES);
    const hits = contentCacheStats.hits;
    factOf(long(`text ${CONTENT_CACHE_ENTRIES + 49}`), 'length', (t) => t.length);
    expect(contentCacheStats.hits).toBe(hits + 1);
    factOf(long('text 0'), 'length', (t) => t.length);
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
    // Position 33 is neither in the head nor among the spread characters of a text this long.
    const text = (c: string) => `${'a'.repeat(33)}${c}${'a'.repeat(CACHE_FROM_CHARS)}`;
    const letters = 'bcdefghijk';
    for (const c of letters) expect(factOf(text(c), 'char', (t) => t[33])).toBe(c);
    for (const c of letters) expect(factOf(text(c), 'char', (t) => t[33])).toBe(c);
    // Ten texts of one sample: at most four are kept, so a lookup compares at most four texts.
    expect(contentCacheSize().entries).toBeLessThanOrEqual(4);
  });

  it('keeps a recently used text over an older one', () => {
    factOf(long('keep me'), 'n', () => 1);
    for (let i = 0; i < CONTENT_CACHE_ENTRIES - 1; i++) factOf(long(`filler ${i}`), 'n', () => 1);
    factOf(long('keep me'), 'n', () => 1); // used again: now the most recent
    factOf(long('one more'), 'n', () => 1); // evicts the oldest, which is no longer "keep me"
    factOf(long('and one more'), 'n', () => 1); // so that "keep me" is not among the last two texts asked about
    const hits = contentCacheStats.hits;
    factOf(long('keep me'), 'n', () => 1);
    expect(contentCacheStats.hits).toBe(hits + 1);
  });
});
