/**
 * Verification is the costliest work a write can ask for, and the writer chooses how much. These tests
 * count the work (public-key checks, verifications, cache hits), never the time.
 */
import { deflateSync } from 'node:zlib';
import { createMessage, generateKey, readPrivateKey, sign } from 'openpgp';
import { describe, expect, it } from 'vitest';
import { contentsToVerify, judgementsOf, MAX_VERIFIED_PER_REVIEW } from '../../src/signature/plan.js';
import { SignatureVerifier } from '../../src/signature/verifier.js';
import { MAX_MESSAGE_BYTES } from '../../src/signature/verify.js';
import { anImage } from '../fixtures/index.js';
import { contentOf, fixtures, trustedKeysOf } from './helpers.js';

const keys = await trustedKeysOf(fixtures);

async function signedWith(data: Uint8Array, compressed: boolean): Promise<string> {
  const { privateKey } = await generateKey({ type: 'curve25519', userIDs: [{ name: 'bomb (test only)' }], format: 'armored' });
  const key = await readPrivateKey({ armoredKey: privateKey });
  const message = await createMessage({ binary: data });
  const signed = await sign({ message, signingKeys: key, format: 'binary' });
  if (!compressed) return Buffer.from(signed).toString('base64');
  // What gpg writes by default: the signed packets inside one compressed data packet (tag 8, algorithm
  // 2 = ZLIB), with a five-octet new-format length.
  const body = Buffer.concat([Buffer.from([2]), deflateSync(signed, { level: 9 })]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([Buffer.from([0xc0 | 8, 0xff]), length, body]).toString('base64');
}

describe('bounded verification', () => {
  it('refuses a message over the size cap before reading it: no public-key work', async () => {
    const verifier = new SignatureVerifier(keys);
    const big = Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0xa3).toString('base64');
    expect(await verifier.verify(big)).toMatchObject({ verified: false, reason: 'TooLarge' });
    expect(verifier.work.publicKeyChecks).toBe(0);
  });

  it('refuses a compression bomb (8 MiB of zeros in a few KiB) before any public-key work', async () => {
    const bomb = await signedWith(new Uint8Array(8 * 1024 * 1024), true);
    expect(bomb.length).toBeLessThan(MAX_MESSAGE_BYTES);
    const verifier = new SignatureVerifier(keys);
    expect(await verifier.verify(bomb)).toMatchObject({ verified: false, reason: 'MalformedMessage' });
    expect(verifier.work.publicKeyChecks).toBe(0);
  });

  it('refuses a message with two signatures before any public-key work', async () => {
    const verifier = new SignatureVerifier(keys);
    expect(await verifier.verify(contentOf(fixtures, 'two-signatures'))).toMatchObject({ verified: false, reason: 'SignatureCount' });
    expect(verifier.work.publicKeyChecks).toBe(0);
  });

  it('refuses a signature by an unknown key without public-key work', async () => {
    const verifier = new SignatureVerifier(keys);
    await verifier.verify(contentOf(fixtures, 'untrusted-key'));
    expect(verifier.work.publicKeyChecks).toBe(0);
  });

  it('verifies one content once however often it is asked (mutate, validate, re-writes)', async () => {
    const verifier = new SignatureVerifier(keys);
    const content = contentOf(fixtures, 'rsa-valid');
    for (let i = 0; i < 5; i++) await verifier.verifyAll([content]);
    expect(verifier.work).toMatchObject({ verifications: 1, publicKeyChecks: 1, cacheHits: 4 });
  });

  it('verifies again once the keys change', async () => {
    const verifier = new SignatureVerifier(keys);
    const content = contentOf(fixtures, 'rsa-valid');
    await verifier.verify(content);
    verifier.setKeys(await trustedKeysOf(fixtures, ['untrusted.pub']));
    await verifier.verify(content);
    expect(verifier.work.verifications).toBe(2);
  });

  it(`an Image with 5,000 signatures costs at most ${MAX_VERIFIED_PER_REVIEW} verifications; the rest are not trusted`, async () => {
    const good = contentOf(fixtures, 'rsa-valid');
    const image = anImage() as Record<string, unknown>;
    const name = (image.metadata as { name: string }).name;
    // All distinct: a valid blob with junk appended still costs a full parse.
    image.signatures = Array.from({ length: 5000 }, (_, i) => ({
      metadata: { name: `${name}@${i.toString(16).padStart(32, '0')}` },
      type: 'atomic',
      content: i === 0 ? good : Buffer.concat([Buffer.from(good, 'base64'), Buffer.from([i & 0xff, i >> 8])]).toString('base64'),
    }));
    const contents = contentsToVerify(image);
    expect(contents).toHaveLength(MAX_VERIFIED_PER_REVIEW);
    const verifier = new SignatureVerifier(keys);
    const verdicts = await verifier.verifyAll(contents);
    expect(verifier.work.verifications).toBe(MAX_VERIFIED_PER_REVIEW);
    expect(verifier.work.publicKeyChecks).toBeLessThanOrEqual(MAX_VERIFIED_PER_REVIEW);
    const judge = judgementsOf(image, verdicts);
    expect(judge(0)?.trusted).toMatchObject({ status: 'True' });
    expect(judge(4999)?.trusted).toMatchObject({ status: 'False', reason: 'TooManySignatures' });
  });
});
