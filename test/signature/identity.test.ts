import { describe, expect, it } from 'vitest';
import { formatReference, matchRepoDigestOrExact, normalizeReference } from '../../src/signature/identity.js';

const D = `sha256:${'b'.repeat(64)}`;

describe("docker/reference's normalisation", () => {
  it.each([
    ['ubuntu', 'docker.io/library/ubuntu'],
    ['ubuntu:22.04', 'docker.io/library/ubuntu:22.04'],
    ['library/ubuntu', 'docker.io/library/ubuntu'],
    ['someone/tool:1', 'docker.io/someone/tool:1'],
    ['index.docker.io/ubuntu', 'docker.io/library/ubuntu'],
    ['docker.io/ubuntu', 'docker.io/library/ubuntu'],
    ['localhost/app', 'localhost/app'],
    ['localhost:5000/app:1', 'localhost:5000/app:1'],
    ['quay.io/a/b@' + D, 'quay.io/a/b@' + D],
    // A first component with upper case cannot be a repository: it is a host (docker_mixed-case).
    ['Example.com/app', 'Example.com/app'],
    ['Foo/bar', 'Foo/bar'],
  ])('%s is %s', (input, want) => {
    const result = normalizeReference(input);
    expect(result.ok && formatReference(result.reference)).toBe(want);
  });

  it.each([['UPPER'], ['quay.io/Upper/case'], ['a'.repeat(64)], [''], ['quay.io/a/b@sha256:abc'], ['ubuntu:bad tag']])('refuses %j', (input) => {
    expect(normalizeReference(input).ok).toBe(false);
  });
});

describe('matchRepoDigestOrExact (containers/image signature/policy_reference_match.go)', () => {
  it.each([
    // The Image is referenced by digest: the signed reference's repository must be the Image's.
    [`quay.io/a/b@${D}`, 'quay.io/a/b:latest', true],
    [`quay.io/a/b@${D}`, `quay.io/a/b@${D}`, true],
    [`quay.io/a/b@${D}`, 'quay.io/a/c:latest', false],
    [`docker.io/library/busybox@${D}`, 'busybox:1.36', true],
    [`busybox@${D}`, 'docker.io/library/busybox:1.36', true],
    [`busybox@${D}`, 'index.docker.io/library/busybox:1', true],
    [`quay.io/a/b@${D}`, 'quay.io/a/b', false],
    // The Image is referenced by tag (with or without a digest): the references must be equal.
    ['quay.io/a/b:1', 'quay.io/a/b:1', true],
    ['quay.io/a/b:1', 'quay.io/a/b:2', false],
    ['ubuntu:22.04', 'docker.io/library/ubuntu:22.04', true],
    [`quay.io/a/b:1@${D}`, 'quay.io/a/b:1', false],
    [`quay.io/a/b:1@${D}`, `quay.io/a/b:1@${D}`, true],
    // Name-only on either side never matches.
    ['quay.io/a/b', 'quay.io/a/b:1', false],
    ['quay.io/a/b', 'quay.io/a/b', false],
    ['not a reference', 'quay.io/a/b:1', false],
  ])('image %s, signed %s: %s', (image, signed, want) => {
    expect(matchRepoDigestOrExact(image, signed).ok).toBe(want);
  });
});
