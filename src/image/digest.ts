/** Content digests as registries compute them. Pure computation, no I/O. */
import { hash } from 'node:crypto';

/** The digest algorithms go-digest registers, which are the ones OpenShift accepts in names. */
export const DIGEST_ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

const HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** The algorithm of a well-formed `algorithm:hex` digest of a known algorithm, else undefined. */
export function digestAlgorithm(digest: unknown): DigestAlgorithm | undefined {
  if (typeof digest !== 'string') return undefined;
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon) as DigestAlgorithm;
  if (colon < 0 || !DIGEST_ALGORITHMS.includes(algorithm)) return undefined;
  return digest.length - colon - 1 === HEX_LENGTH[algorithm] && /^[a-f0-9]+$/.test(digest.slice(colon + 1)) ? algorithm : undefined;
}

/**
 * `<algorithm>:<hex>` of `content`; a string is hashed as its UTF-8 bytes without being copied into a
 * Buffer first. One-shot `crypto.hash` (Node 20.12+), not `createHash`: no Hash stream object per
 * digest, which was a third of the hashing time on a typical review (docs/performance.md).
 */
export function digestOf(content: string | Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${hash(algorithm, content, 'hex')}`;
}

/** `sha256:<hex>` of the UTF-8 bytes of `content`. */
export function sha256Digest(content: string): string {
  return digestOf(content, 'sha256');
}
