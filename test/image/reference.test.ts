import { describe, expect, it } from 'vitest';
import {
  MAX_REFERENCE_INPUT,
  parseDigest,
  parseReference,
  type ParsedReference,
  type ReferenceErrorReason,
  type ReferenceResult,
} from '../../src/image/reference.js';

const HEX64 = '3c87c572822935df60f0f5d3665bd376841a7fcfeb806b5f212de6a00e9a7b25';
const SHA256 = `sha256:${HEX64}`;
const SHA384 = `sha384:${'ab'.repeat(48)}`;
const SHA512 = `sha512:${'cd'.repeat(64)}`;

const MESSAGES: Record<ReferenceErrorReason, string> = {
  Empty: 'repository name must have at least one component',
  InvalidFormat: 'invalid reference format',
  NameContainsUppercase: 'repository name must be lowercase',
  NameTooLong: 'repository name must not be more than 255 characters',
  DigestInvalidFormat: 'invalid checksum digest format',
  DigestInvalidLength: 'invalid checksum digest length',
  DigestUnsupported: 'unsupported digest algorithm',
};

function ok(reference: ParsedReference): ReferenceResult {
  return { ok: true, reference };
}

function bad(reason: ReferenceErrorReason): ReferenceResult {
  return { ok: false, reason, message: MESSAGES[reason] };
}

// Name of exactly 255 characters: "bar:5000/" (9) + 63 + "/" + 182 (library-go's own boundary case).
const NAME_255 = `bar:5000/${'a'.repeat(63)}/${'b'.repeat(182)}`;
const NAME_256 = `bar:5000/${'a'.repeat(63)}/${'b'.repeat(183)}`;

describe('parseReference: valid references', () => {
  it.each<{ name: string; input: string; want: ReferenceResult }>([
    {
      name: 'docker hub with namespace and tag',
      input: 'docker.io/library/busybox:latest',
      want: ok({ registry: 'docker.io', namespace: 'library', name: 'busybox', tag: 'latest', repository: 'docker.io/library/busybox' }),
    },
    {
      name: 'quay digest',
      input: `quay.io/org/app@${SHA256}`,
      want: ok({ registry: 'quay.io', namespace: 'org', name: 'app', digest: SHA256, repository: 'quay.io/org/app' }),
    },
    {
      name: 'host with port, dotted tag',
      input: 'registry:5000/ns/app:v1.2',
      want: ok({ registry: 'registry:5000', namespace: 'ns', name: 'app', tag: 'v1.2', repository: 'registry:5000/ns/app' }),
    },
    {
      name: 'localhost is a registry',
      input: 'localhost/app',
      want: ok({ registry: 'localhost', name: 'app', repository: 'localhost/app' }),
    },
    {
      name: 'localhost with port',
      input: 'localhost:5000/org/app:1',
      want: ok({ registry: 'localhost:5000', namespace: 'org', name: 'app', tag: '1', repository: 'localhost:5000/org/app' }),
    },
    {
      name: 'in-cluster registry by digest',
      input: `image-registry.openshift-image-registry.svc:5000/ns/app@${SHA256}`,
      want: ok({
        registry: 'image-registry.openshift-image-registry.svc:5000',
        namespace: 'ns',
        name: 'app',
        digest: SHA256,
        repository: 'image-registry.openshift-image-registry.svc:5000/ns/app',
      }),
    },
    {
      name: 'tag and digest',
      input: `quay.io/org/app:v1@${SHA256}`,
      want: ok({ registry: 'quay.io', namespace: 'org', name: 'app', tag: 'v1', digest: SHA256, repository: 'quay.io/org/app' }),
    },
    {
      name: 'IPv4 registry',
      input: '127.0.0.1:5000/app',
      want: ok({ registry: '127.0.0.1:5000', name: 'app', repository: '127.0.0.1:5000/app' }),
    },
    { name: 'bare name', input: 'busybox', want: ok({ name: 'busybox', repository: 'busybox' }) },
    {
      name: 'first segment without . : or localhost is a namespace, not a registry',
      input: 'bar/foo/baz:tag',
      want: ok({ namespace: 'bar', name: 'foo/baz', tag: 'tag', repository: 'bar/foo/baz' }),
    },
    {
      name: 'deep path keeps the rest in name',
      input: 'quay.io/a/b/c/d',
      want: ok({ registry: 'quay.io', namespace: 'a', name: 'b/c/d', repository: 'quay.io/a/b/c/d' }),
    },
    {
      name: 'every separator kind',
      input: 'quay.io/a.b_c__d-e---f/x',
      want: ok({ registry: 'quay.io', namespace: 'a.b_c__d-e---f', name: 'x', repository: 'quay.io/a.b_c__d-e---f/x' }),
    },
    {
      name: 'host labels may be upper case and hyphenated',
      input: 'My-Registry.Example.COM:443/app',
      want: ok({ registry: 'My-Registry.Example.COM:443', name: 'app', repository: 'My-Registry.Example.COM:443/app' }),
    },
    {
      name: 'tags may be upper case and start with _',
      input: 'app:_Latest-1.0',
      want: ok({ name: 'app', tag: '_Latest-1.0', repository: 'app' }),
    },
    {
      name: '128-character tag',
      input: `app:${'t'.repeat(128)}`,
      want: ok({ name: 'app', tag: 't'.repeat(128), repository: 'app' }),
    },
    { name: 'sha384 digest', input: `app@${SHA384}`, want: ok({ name: 'app', digest: SHA384, repository: 'app' }) },
    { name: 'sha512 digest', input: `app@${SHA512}`, want: ok({ name: 'app', digest: SHA512, repository: 'app' }) },
    {
      name: '255-character name',
      input: `${NAME_255}:tag`,
      want: ok({ registry: 'bar:5000', namespace: 'a'.repeat(63), name: 'b'.repeat(182), tag: 'tag', repository: NAME_255 }),
    },
    {
      name: 'a bare digest parses as name "sha256" with a tag (library-go does the same)',
      input: SHA256,
      want: ok({ name: 'sha256', tag: HEX64, repository: 'sha256' }),
    },
    {
      name: 'registry only (library-go: no "/" and a ".")',
      input: 'quay.io',
      want: ok({ registry: 'quay.io', name: '', repository: 'quay.io' }),
    },
    {
      name: 'registry only with port: library-go folds the would-be tag into the registry',
      input: 'localhost:5000',
      want: ok({ registry: 'localhost:5000', name: '', repository: 'localhost' }),
    },
    {
      name: 'registry only with digest: the digest stays in digest',
      input: `quay.io@${SHA256}`,
      want: ok({ registry: 'quay.io', name: '', digest: SHA256, repository: 'quay.io' }),
    },
    {
      // The grammar reads "Library" as a domain (a domain needs no dot there), so upstream accepts it;
      // library-go then files it as the namespace because it has no ".", ":" and is not localhost.
      name: 'upper case in a first segment of two is accepted, as upstream does',
      input: 'Library/app:v1',
      want: ok({ namespace: 'Library', name: 'app', tag: 'v1', repository: 'Library/app' }),
    },
    {
      name: 'a dotted first component is taken as a registry even when it is a valid path component',
      input: 'foo_bar.baz/app',
      want: ok({ registry: 'foo_bar.baz', name: 'app', repository: 'foo_bar.baz/app' }),
    },
  ])('$name', ({ input, want }) => {
    expect(parseReference(input)).toEqual(want);
  });
});

describe('parseReference: invalid references', () => {
  it.each<{ name: string; input: string; want: ReferenceResult }>([
    { name: 'empty (callers report Required)', input: '', want: bad('Empty') },
    { name: 'upper-case path', input: 'quay.io/Org/app', want: bad('NameContainsUppercase') },
    { name: 'upper-case bare name with tag', input: 'App:v1', want: bad('NameContainsUppercase') },
    {
      name: 'upper case is reported before length',
      input: 'A'.repeat(300),
      want: bad('NameContainsUppercase'),
    },
    { name: 'empty component', input: 'quay.io//app', want: bad('InvalidFormat') },
    { name: 'run of slashes', input: 'bar/foo/baz////biz', want: bad('InvalidFormat') },
    { name: 'leading slash', input: '/app', want: bad('InvalidFormat') },
    { name: 'trailing slash before tag', input: 'registry.io/foo/bar/:tag', want: bad('InvalidFormat') },
    { name: 'trailing colon', input: 'quay.io/org/app:', want: bad('InvalidFormat') },
    { name: 'tag starting with a dash', input: 'app:-v1', want: bad('InvalidFormat') },
    { name: 'tag with a forbidden character', input: 'app:v1+build', want: bad('InvalidFormat') },
    { name: 'two tags', input: 'app:v1:v2', want: bad('InvalidFormat') },
    { name: '129-character tag', input: `app:${'t'.repeat(129)}`, want: bad('InvalidFormat') },
    { name: 'tag only', input: ':tag', want: bad('InvalidFormat') },
    { name: 'digest only', input: `@${SHA256}`, want: bad('InvalidFormat') },
    { name: '@ without digest', input: 'quay.io/org/app@', want: bad('InvalidFormat') },
    { name: 'digest without algorithm', input: `app@${HEX64}`, want: bad('InvalidFormat') },
    { name: 'digest shorter than 32 hex (grammar)', input: 'app@sha256:abc', want: bad('InvalidFormat') },
    { name: 'digest with non-hex', input: `app@sha256:${'g'.repeat(64)}`, want: bad('InvalidFormat') },
    { name: 'two digests', input: `app@${SHA256}@${SHA256}`, want: bad('InvalidFormat') },
    {
      name: 'short sha256 digest (32..63 hex)',
      input: 'registry:5000/ns/app@sha256:00000000000000000000000000000001',
      want: bad('DigestInvalidLength'),
    },
    { name: 'long sha256 digest', input: `app@${SHA256}00`, want: bad('DigestInvalidLength') },
    { name: 'sha512 with 64 hex', input: `app@sha512:${HEX64}`, want: bad('DigestInvalidLength') },
    { name: 'unknown algorithm', input: `app@md5:${'a'.repeat(32)}`, want: bad('DigestUnsupported') },
    { name: 'algorithm is case-sensitive', input: `app@SHA256:${HEX64}`, want: bad('DigestUnsupported') },
    { name: 'compound algorithm', input: `app@sha256+b64:${HEX64}`, want: bad('DigestUnsupported') },
    { name: 'upper-case hex', input: `app@sha256:${HEX64.toUpperCase()}`, want: bad('DigestInvalidFormat') },
    {
      name: 'upper-case hex of the wrong length reports the length',
      input: `app@sha256:${'A'.repeat(40)}`,
      want: bad('DigestInvalidLength'),
    },
    { name: '256-character name', input: `${NAME_256}:tag`, want: bad('NameTooLong') },
    { name: '300-character bare name', input: 'a'.repeat(300), want: bad('NameTooLong') },
    { name: 'name length is checked before the digest', input: `${NAME_256}@md5:${'a'.repeat(32)}`, want: bad('NameTooLong') },
    { name: 'space inside', input: 'quay.io/org/app :v1', want: bad('InvalidFormat') },
    { name: 'leading space', input: ' app', want: bad('InvalidFormat') },
    { name: 'trailing newline', input: 'app\n', want: bad('InvalidFormat') },
    { name: 'URL scheme', input: 'https://bar:5000/foo/baz', want: bad('InvalidFormat') },
    { name: 'component starting with a separator', input: 'quay.io/-app', want: bad('InvalidFormat') },
    { name: 'component ending with a separator', input: 'quay.io/app_', want: bad('InvalidFormat') },
    { name: 'two dots', input: 'quay.io/a..b', want: bad('InvalidFormat') },
    { name: 'three underscores', input: 'quay.io/a___b', want: bad('InvalidFormat') },
    { name: 'host label starting with a dash', input: '-quay.io/app', want: bad('InvalidFormat') },
    { name: 'host label ending with a dash', input: 'quay-.io/app', want: bad('InvalidFormat') },
    { name: 'host with underscore and port', input: 'my_registry:5000/app', want: bad('InvalidFormat') },
    { name: 'non-numeric port', input: 'registry:http/app', want: bad('InvalidFormat') },
    { name: 'empty port', input: 'registry:/app', want: bad('InvalidFormat') },
    { name: 'two ports', input: 'registry:5000:6000/app', want: bad('InvalidFormat') },
    { name: 'host with no path', input: 'quay.io:443/', want: bad('InvalidFormat') },
    { name: 'upper case in a single segment', input: 'Library:v1', want: bad('NameContainsUppercase') },
    { name: 'non-ASCII letter', input: 'quay.io/caf\u00e9', want: bad('InvalidFormat') },
    { name: 'IPv6 host (library-go predates IPv6 support)', input: '[::1]:5000/app', want: bad('InvalidFormat') },
    {
      name: 'over the input cap: invalid format even where upstream would say the name is too long',
      input: 'a'.repeat(MAX_REFERENCE_INPUT + 1),
      want: bad('InvalidFormat'),
    },
  ])('$name', ({ input, want }) => {
    expect(parseReference(input)).toEqual(want);
  });
});

describe('parseReference: IPv6 hosts when allowed', () => {
  it.each<{ name: string; input: string; want: ReferenceResult }>([
    {
      name: 'loopback with port',
      input: '[::1]:5000/app:v1',
      want: ok({ registry: '[::1]:5000', name: 'app', tag: 'v1', repository: '[::1]:5000/app' }),
    },
    {
      name: 'full address without port',
      input: '[2001:db8::1]/ns/app',
      want: ok({ registry: '[2001:db8::1]', namespace: 'ns', name: 'app', repository: '[2001:db8::1]/ns/app' }),
    },
    { name: 'empty brackets', input: '[]:5000/app', want: bad('InvalidFormat') },
    { name: 'zone identifier', input: '[fe80::1%eth0]/app', want: bad('InvalidFormat') },
    { name: 'IPv4-mapped', input: '[::ffff:192.0.2.1]/app', want: bad('InvalidFormat') },
    { name: 'brackets without a path', input: '[::1]:5000', want: bad('InvalidFormat') },
    { name: 'junk after the bracket', input: '[::1]x/app', want: bad('InvalidFormat') },
  ])('$name', ({ input, want }) => {
    expect(parseReference(input, { allowIPv6Host: true })).toEqual(want);
  });
});

describe('parseDigest', () => {
  it.each<{ name: string; input: string; want: ReturnType<typeof parseDigest> }>([
    { name: 'sha256', input: SHA256, want: { ok: true, algorithm: 'sha256', hex: HEX64 } },
    { name: 'sha512', input: SHA512, want: { ok: true, algorithm: 'sha512', hex: 'cd'.repeat(64) } },
    { name: 'no colon', input: HEX64, want: { ok: false, reason: 'DigestInvalidFormat', message: MESSAGES.DigestInvalidFormat } },
    { name: 'no hex', input: 'sha256:', want: { ok: false, reason: 'DigestInvalidFormat', message: MESSAGES.DigestInvalidFormat } },
    { name: 'non-hex', input: 'sha256:xyz', want: { ok: false, reason: 'DigestInvalidFormat', message: MESSAGES.DigestInvalidFormat } },
    { name: 'short', input: 'sha256:abc', want: { ok: false, reason: 'DigestInvalidLength', message: MESSAGES.DigestInvalidLength } },
    { name: 'unknown', input: 'sha1:abc', want: { ok: false, reason: 'DigestUnsupported', message: MESSAGES.DigestUnsupported } },
    {
      name: 'upper-case hex',
      input: SHA256.toUpperCase().replace('SHA256', 'sha256'),
      want: { ok: false, reason: 'DigestInvalidFormat', message: MESSAGES.DigestInvalidFormat },
    },
  ])('$name', ({ input, want }) => {
    expect(parseDigest(input)).toEqual(want);
  });
});

describe('parseReference: adversarial input', () => {
  // Inputs shaped to make a backtracking regex explode (long ambiguous runs ending in a mismatch).
  // The parser scans linearly, so each of these returns at once; no timing is asserted, the test's
  // normal timeout is the guard.
  const big = 100 * 1024;
  it.each<{ name: string; input: string }>([
    { name: '100 KB of separators then a bad character', input: `a${'-a'.repeat(big / 2)}!` },
    { name: '100 KB of path components then upper case', input: `${'a/'.repeat(big / 2)}A` },
    { name: '100 KB of host labels', input: `${'a.'.repeat(big / 2)}:5000/app` },
    { name: '100 KB of hex', input: `app@sha256:${'a'.repeat(big)}` },
    { name: '100 KB of colons', input: ':'.repeat(big) },
  ])('$name', ({ input }) => {
    expect(parseReference(input)).toEqual(bad('InvalidFormat'));
  });

  // Just under the input cap, the scanner itself must stay linear.
  const n = MAX_REFERENCE_INPUT;
  it.each<{ name: string; input: string; want: ReferenceResult }>([
    { name: 'separator runs under the cap', input: `a${'_a-'.repeat((n - 2) / 3)}!`, want: bad('InvalidFormat') },
    // Upper case at the end: the lower-cased retry passes, and upper case is reported before length.
    { name: 'components under the cap', input: `${'ab/'.repeat((n - 1) / 3)}A`, want: bad('NameContainsUppercase') },
    { name: 'components under the cap with a bad end', input: `${'ab/'.repeat((n - 1) / 3)}!`, want: bad('InvalidFormat') },
    { name: 'long upper-case input under the cap', input: 'A'.repeat(n), want: bad('NameContainsUppercase') },
    { name: 'long hex under the cap', input: `app@sha256:${'a'.repeat(n - 11)}`, want: bad('DigestInvalidLength') },
  ])('$name', ({ input, want }) => {
    expect(input.length).toBeLessThanOrEqual(n);
    expect(parseReference(input)).toEqual(want);
  });
});

describe('parseReference agrees with the upstream grammar', () => {
  // docker/distribution's reference grammar (the version library-go carries), as a regex. Used only
  // as a test oracle on short random inputs, where backtracking cannot hurt.
  const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  const label = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
  const domain = `${label}(?:\\.${label})*(?::[0-9]+)?`;
  const name = `(?:${domain}/)?${component}(?:/${component})*`;
  const tag = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
  const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}';
  const grammar = new RegExp(`^(${name})(?::(${tag}))?(?:@(${digest}))?$`);

  // A small deterministic generator (mulberry32) so failures reproduce.
  function random(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const pieces = ['a', 'b', '0', 'A', '.', '_', '__', '-', '--', '/', ':', '5000', '@', 'sha256:', HEX64, 'x.io', 'localhost', ' '];

  it('on 20 000 random short inputs', () => {
    const next = random(42);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const count = 1 + Math.floor(next() * 8);
      let input = '';
      for (let j = 0; j < count; j++) input += pieces[Math.floor(next() * pieces.length)];
      const result = parseReference(input);
      const match = grammar.exec(input);
      if (match === null) {
        expect(result.ok, input).toBe(false);
        continue;
      }
      // The grammar matched: only the digest-package checks may still reject it.
      if (result.ok) {
        accepted++;
        expect(result.reference.repository, input).toBe(match[1]);
        expect(result.reference.digest, input).toBe(match[3]);
      } else {
        expect(['DigestInvalidLength', 'DigestInvalidFormat', 'DigestUnsupported', 'NameTooLong'], input).toContain(result.reason);
      }
    }
    // Make sure the generator exercises the accepting side too.
    expect(accepted).toBeGreaterThan(1000);
  });
});
