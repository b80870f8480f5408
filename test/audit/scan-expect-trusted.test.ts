/**
 * `audit scan --expect-trusted-signature`: stored Images in scope none of whose signatures verifies as
 * Trusted=True and ForImage=True (real signatures, the fixtures' keys) are listed, as the webhook warns
 * about them; they do not fail the scan, as the webhook never denies them.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanImages } from '../../src/audit/scan.js';
import { run } from '../../src/cli/audit.js';
import type { Image } from '../../src/image/types.js';
import { SignatureVerifier } from '../../src/signature/verifier.js';
import { anImage } from '../fixtures/index.js';
import { untrustedRealSignature } from '../fixtures/signatures.js';
import { fixtures, trustedKeysOf } from '../signature/helpers.js';
import { captureIo, tempDir } from './helpers.js';

/** The known-good Image (quay.io/example/hello) named `name`, with the named real signatures as a registry import stores them. */
function stored(name: string, ...fixtureNames: string[]): Image {
  const image = anImage();
  const imageName = String(image.metadata?.name);
  image.signatures = fixtureNames.map((fixture) => {
    const { metadata, type, content } = untrustedRealSignature(imageName, { fixture });
    return { metadata, type, content };
  });
  image.metadata = { ...image.metadata, annotations: { 'example.com/label': name } };
  return image;
}

const list = (...images: Image[]) => ({ apiVersion: 'v1', kind: 'List', items: images });

describe('audit scan --expect-trusted-signature', () => {
  it('lists the Images in scope without a trusted signature, and only those', async () => {
    const verifier = new SignatureVerifier(await trustedKeysOf(fixtures));
    const images = [stored('signed', 'rsa-valid'), stored('untrusted', 'untrusted-key'), stored('unsigned')];
    const report = await scanImages(images, 'images.json', { expectTrustedSignature: ['quay.io/example'] }, verifier);
    expect(report.untrustedInScope?.total).toBe(2);
    expect(report.untrustedInScope?.images).toEqual([
      { name: images[1]!.metadata!.name, reference: images[1]!.dockerImageReference },
      { name: images[2]!.metadata!.name, reference: images[2]!.dockerImageReference },
    ]);
    // Out of scope: nothing listed; without scopes: no such section at all.
    expect((await scanImages(images, 'images.json', { expectTrustedSignature: ['quay.io/other'] }, verifier)).untrustedInScope).toEqual({ total: 0, images: [] });
    expect((await scanImages(images, 'images.json', {}, verifier)).untrustedInScope).toBeUndefined();
  });

  it('prints them from the command line, with the keys given, and does not fail the scan for them', async () => {
    const keys = tempDir();
    for (const file of fixtures.trustedKeys) copyFileSync(join(fixtures.dir, file), join(keys, file));
    const path = join(tempDir(), 'images.json');
    // One Image only, signed by an untrusted key, with the signature-verified rule off: its only finding is the expectation.
    writeFileSync(path, JSON.stringify(list(stored('untrusted', 'untrusted-key'))));
    const { io, out, err } = captureIo();
    const code = await run(['scan', path, '--trusted-keys', keys, '--expect-trusted-signature', 'quay.io/example', '--disable-rules', 'signature-verified'], io);
    expect(err()).toBe('');
    expect(code).toBe(0);
    expect(out()).toContain('Images in --expect-trusted-signature scopes without a trusted signature (a warning): 1\n  sha256:');
    const json = captureIo();
    await run(['scan', path, '--trusted-keys', keys, '--expect-trusted-signature', 'quay.io/example', '--json'], json.io);
    expect((JSON.parse(json.out()) as { untrustedInScope: { total: number } }).untrustedInScope.total).toBe(1);
  });

  it('refuses a scope that is not a repository prefix', async () => {
    const { io, err } = captureIo();
    expect(await run(['scan', '-', '--expect-trusted-signature', 'quay.io/example:latest'], io)).toBe(2);
    expect(err()).toContain('--expect-trusted-signature: "quay.io/example:latest" names a tag or digest');
  });
});
