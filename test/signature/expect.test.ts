/** Which Images --expect-trusted-signature scopes cover: repository prefixes, normalised as identities are. */
import { describe, expect, it } from 'vitest';
import { parseRepositoryScopes, scopeOf } from '../../src/signature/expect.js';

const scopes = (list: string) => {
  const parsed = parseRepositoryScopes(list);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.scopes;
};

describe('scopeOf', () => {
  it.each<[string, string, string | undefined]>([
    ['quay.io/example', 'quay.io/example/hello@sha256:948cd34b7db8a62f8241a4e9dfeb24088cb712f1ddfa07b405e5290a5a405eb2', 'quay.io/example'],
    ['quay.io/example', 'quay.io/example:1.0', 'quay.io/example'],
    ['quay.io/example', 'quay.io/examples/hello:1.0', undefined],
    ['quay.io/example', 'quay.io/other/hello:1.0', undefined],
    ['quay.io', 'quay.io/any/thing:1', 'quay.io'],
    ['quay.io', 'quay.io.evil.example/any:1', undefined],
    ['ubuntu', 'docker.io/library/ubuntu:22.04', 'docker.io/library/ubuntu'],
    ['docker.io/library/ubuntu', 'ubuntu:22.04', 'docker.io/library/ubuntu'],
    ['index.docker.io', 'busybox:1', 'docker.io'],
    ['registry.example.com:5000/team', 'registry.example.com:5000/team/app:1', 'registry.example.com:5000/team'],
    ['quay.io/example', 'not a reference', undefined],
  ])('scope %s, reference %s: %s', (list, reference, want) => {
    expect(scopeOf(reference, scopes(list))).toBe(want);
  });

  it('covers nothing without scopes or without a reference', () => {
    expect(scopeOf('quay.io/example/hello:1', [])).toBeUndefined();
    expect(scopeOf(undefined, scopes('quay.io'))).toBeUndefined();
  });
});
