/** Content digests as registries compute them. Pure computation, no I/O. */
import { createHash } from 'node:crypto';

/** `sha256:<hex>` of the UTF-8 bytes of `content`. */
export function sha256Digest(content: string): string {
  return `sha256:${createHash('sha256').update(content, 'utf8').digest('hex')}`;
}
