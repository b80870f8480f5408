import { describe, expect, it } from 'vitest';
import { parsePayload } from '../../src/signature/payload.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const good = (edit: (s: string) => string = (s) => s) =>
  Buffer.from(
    edit(
      `{"critical":{"identity":{"docker-reference":"quay.io/a/b:1"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"atomic container signature"},"optional":{"creator":"c","timestamp":1700000000}}`,
    ),
  );

describe('the simple-signing payload, read as strictly as containers/image reads it', () => {
  it('reads what skopeo writes', () => {
    expect(parsePayload(good())).toEqual({
      ok: true,
      claims: { dockerManifestDigest: DIGEST, dockerReference: 'quay.io/a/b:1', creator: 'c', timestamp: 1700000000 },
    });
  });

  it.each([
    ['an empty optional object', (s: string) => s.replace(/"optional":\{[^}]*\}/, '"optional":{}')],
    ['unknown optional keys (ignored)', (s: string) => s.replace('"creator":"c"', '"creator":"c","x":[1,{"y":null}]')],
    ['whitespace around tokens', (s: string) => ` \n${s.replaceAll('":', '" : ').replaceAll(',', ' ,\n')}\t`],
    ['keys in another order', (s: string) => s.replace('{"critical"', '{"optional":{},"critical"').replace(/,"optional":\{[^}]*\}\}$/, '}')],
  ])('accepts %s', (_name, edit) => {
    expect(parsePayload(good(edit)).ok).toBe(true);
  });

  it.each([
    ['a missing optional', (s: string) => s.replace(/,"optional":\{[^}]*\}/, ''), 'key "optional" missing'],
    ['an unknown top-level key', (s: string) => s.replace('{"critical"', '{"x":1,"critical"'), 'unknown key "x"'],
    ['an unknown critical key', (s: string) => s.replace('"type":', '"x":1,"type":'), 'unknown key "x" in critical'],
    ['an unknown key in critical.image', (s: string) => s.replace('{"docker-manifest-digest"', '{"x":1,"docker-manifest-digest"'), 'unknown key "x"'],
    ['a wrong type string', (s: string) => s.replace('"atomic container signature"', '"atomic"'), 'unrecognized signature type'],
    ['a duplicate key (JSON.parse keeps the last)', (s: string) => s.replace('{"docker-reference":', '{"docker-reference":"evil/x:1","docker-reference":'), 'duplicate key "docker-reference"'],
    ['a duplicate top-level key', (s: string) => s.replace(/\}$/, ',"optional":{}}'), 'duplicate key "optional"'],
    ['an upper-case digest', (s: string) => s.replace(DIGEST, DIGEST.toUpperCase().replace('SHA256', 'sha256')), 'invalid checksum digest format'],
    ['a digest of an unknown algorithm', (s: string) => s.replace(DIGEST, `md5:${'a'.repeat(32)}`), 'unsupported digest algorithm'],
    ['a short digest', (s: string) => s.replace(DIGEST, 'sha256:abc'), 'invalid checksum digest length'],
    ['a fractional timestamp', (s: string) => s.replace('1700000000', '1700000000.5'), 'not an integer'],
    ['a string timestamp', (s: string) => s.replace('1700000000', '"1700000000"'), 'not a number'],
    ['a number as the reference', (s: string) => s.replace('"quay.io/a/b:1"', '5'), 'not a string'],
    ['an array at the top', () => '[]', 'not a JSON object'],
    ['trailing data', (s: string) => `${s}{}`, 'unexpected data after'],
    ['a truncated document', (s: string) => s.slice(0, -5), ''],
    ['a bad escape', (s: string) => s.replace('"c"', '"\\x"'), 'invalid string'],
    ['a raw control character in a string', (s: string) => s.replace('"c"', '"\u0001"'), 'control character'],
    ['deep nesting', (s: string) => s.replace('"c"', `${'['.repeat(100)}${']'.repeat(100)}`), 'nested too deeply'],
  ])('rejects %s', (_name, edit, problem) => {
    const result = parsePayload(good(edit));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain(problem);
  });

  it('treats a key named __proto__ as an ordinary (unknown) key', () => {
    const result = parsePayload(good((s) => s.replace('"type":', '"__proto__":{},"type":')));
    expect(result).toEqual({ ok: false, problem: 'unknown key "__proto__" in critical' });
  });
});
