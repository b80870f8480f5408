import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, nestingDepth, parseJsonBody } from '../../src/review/json-body.js';

const parse = (text: string | Buffer) => parseJsonBody(Buffer.isBuffer(text) ? text : Buffer.from(text));

describe('parseJsonBody', () => {
  it.each([
    ['{}', 1],
    ['[[{"a":[1]}]]', 4],
    ['{"a":"[[[[{{{{"}', 1],
    ['1', 0],
    ['{"__proto__":[[1]],"b":{}}', 3],
  ])('measures the nesting of %s as %i', (text, depth) => {
    expect(nestingDepth(JSON.parse(text), 100)).toBe(depth);
  });

  it('stops one level past the limit, however deep the value (no stack overflow)', () => {
    const levels = 200_000;
    expect(nestingDepth(JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`), 100)).toBe(101);
    expect(nestingDepth(JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`), 100)).toBe(101);
  });

  it('keeps __proto__ and constructor keys as plain data and pollutes nothing', () => {
    const body = parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}') as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  // The bodies are named, not printed: some are megabytes long.
  it.each([
    ['an empty body', '', 'empty-body', /body is empty/],
    ['truncated JSON', '{"a":', 'not-json', /body is not valid JSON/],
    ['invalid UTF-8', Buffer.from([0x22, 0xff, 0x22]), 'invalid-utf8', /not valid UTF-8/],
    ['nesting one level over the limit', `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`, 'too-deep', /deeper than 100 levels/],
    ['2,000,000 unclosed arrays', '['.repeat(2_000_000), 'not-json', /not valid JSON: Unexpected end of JSON input/],
  ] as const)('refuses %s', (_name, text, reasonClass, message) => {
    expect(() => parse(text)).toThrow(message);
    expect(() => parse(text)).toThrow(expect.objectContaining({ reasonClass, statusCode: 400 }));
  });

  // Pure ASCII bodies take a faster decoder; anything else must still decode as UTF-8, not latin1.
  it.each([
    ['ASCII', '{"label":"plain"}', 'plain'],
    ['two-byte UTF-8', '{"label":"café"}', 'café'],
    ['three-byte UTF-8', '{"label":"镜像"}', '镜像'],
    ['four-byte UTF-8', '{"label":"📦"}', '📦'],
    ['an escaped non-ASCII character in an ASCII body', '{"label":"caf\\u00e9"}', 'café'],
  ])('decodes %s the same as UTF-8', (_name, text, label) => {
    expect(parse(text)).toEqual({ label });
  });

  it('refuses a body that is ASCII up to one invalid byte at its very end', () => {
    const body = Buffer.concat([Buffer.from(`{"a":"${'x'.repeat(100_000)}`), Buffer.from([0xc3]), Buffer.from('"}')]);
    expect(() => parse(body)).toThrow(expect.objectContaining({ reasonClass: 'invalid-utf8' }));
  });

  it('accepts nesting at the limit', () => {
    expect(parse(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).toBeInstanceOf(Array);
  });
});
