/** What /mutate writes on signatures and what /validate denies, from real signatures. */
import { describe, expect, it } from 'vitest';
import { checkDerivedSignatures, withDerivedSignatures } from '../../src/signature/derive.js';
import { contentsToVerify, judgementsOf } from '../../src/signature/plan.js';
import { SignatureVerifier } from '../../src/signature/verifier.js';
import { anImage } from '../fixtures/index.js';
import { contentOf, fixtures, trustedKeysOf } from './helpers.js';

const keys = await trustedKeysOf(fixtures);
const NOW = '2026-01-02T03:04:05Z';

/** The known-good Image (whose manifest the fixtures signed) carrying the named fixture signatures. */
function imageWith(...names: string[]): Record<string, unknown> {
  const image = anImage() as Record<string, unknown>;
  const imageName = (image.metadata as { name: string }).name;
  image.signatures = names.map((name, i) => ({ metadata: { name: `${imageName}@${String(i).padStart(32, '0')}` }, type: 'atomic', content: contentOf(fixtures, name) }));
  return image;
}

async function judge(image: Record<string, unknown>) {
  const verifier = new SignatureVerifier(keys);
  return judgementsOf(image, await verifier.verifyAll(contentsToVerify(image)));
}

type Signature = { conditions: { type: string; status: string; reason: string }[]; imageIdentity?: string; issuedTo?: { publicKeyID: string } };

describe('derived signature fields', () => {
  it('two signatures, one good and one tampered: each gets its own verdict', async () => {
    const image = imageWith('rsa-valid', 'tampered');
    const derived = withDerivedSignatures(image, await judge(image), NOW);
    const [good, bad] = derived.signatures as Signature[];
    expect(good!.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([['Trusted', 'True', 'Verified'], ['ForImage', 'True', 'DigestMatches']]);
    expect(good!.imageIdentity).toBe('quay.io/example/hello:latest');
    expect(bad!.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([['Trusted', 'False', 'BadSignature'], ['ForImage', 'Unknown', 'NotVerified']]);
    expect(bad!.imageIdentity).toBeUndefined();
  });

  it.each([
    ['an untrusted key', 'untrusted-key'],
    ['a tampered payload', 'tampered'],
  ])('a writer claiming Trusted=True on %s is corrected by /mutate and denied by /validate', async (_what, name) => {
    const image = imageWith(name);
    const signature = (image.signatures as Record<string, unknown>[])[0]!;
    signature.conditions = [
      { type: 'Trusted', status: 'True', lastProbeTime: NOW, lastTransitionTime: NOW },
      { type: 'ForImage', status: 'True', lastProbeTime: NOW, lastTransitionTime: NOW },
    ];
    signature.imageIdentity = 'quay.io/example/hello:latest';
    signature.issuedTo = { publicKeyID: 'ABCDEF' };
    const judgementOf = await judge(image);
    expect(checkDerivedSignatures(image, judgementOf).map((e) => e.path.join('.'))).toEqual(['signatures.0.conditions', 'signatures.0.imageIdentity', 'signatures.0.issuedTo']);
    const derived = withDerivedSignatures(image, judgementOf, NOW);
    expect((derived.signatures as Signature[])[0]!.conditions[0]).toMatchObject({ type: 'Trusted', status: 'False' });
    expect(checkDerivedSignatures(derived, judgementOf)).toEqual([]);
  });

  it('a writer claiming Trusted=False on a good signature is corrected and denied too', async () => {
    const image = imageWith('ed25519-valid');
    (image.signatures as Record<string, unknown>[])[0]!.conditions = [
      { type: 'Trusted', status: 'False', reason: 'Verified' },
      { type: 'ForImage', status: 'True', reason: 'DigestMatches' },
    ];
    const judgementOf = await judge(image);
    expect(checkDerivedSignatures(image, judgementOf).map((e) => e.path.at(-1))).toEqual(['conditions', 'imageIdentity', 'signedClaims', 'created', 'issuedBy', 'issuedTo']);
    const derived = withDerivedSignatures(image, judgementOf, NOW);
    expect((derived.signatures as Signature[])[0]!.conditions[0]).toMatchObject({ status: 'True', reason: 'Verified' });
    expect((derived.signatures as Signature[])[0]!.issuedTo?.publicKeyID).toMatch(/^[0-9A-F]{40}$/);
  });

  it('is idempotent: deriving twice changes nothing and returns the same object (no patch)', async () => {
    const image = imageWith('rsa-valid', 'untrusted-key');
    const judgementOf = await judge(image);
    const once = withDerivedSignatures(image, judgementOf, NOW);
    expect(withDerivedSignatures(once, judgementOf, '2030-01-01T00:00:00Z')).toBe(once);
  });

  it('keeps lastTransitionTime while the status holds and moves it when the status changes', async () => {
    const image = imageWith('rsa-valid');
    const before = withDerivedSignatures(image, await judge(image), NOW);
    const noKeys = new SignatureVerifier();
    const after = withDerivedSignatures(before, judgementsOf(before, await noKeys.verifyAll(contentsToVerify(before))), '2030-01-01T00:00:00Z');
    const [trusted] = (after.signatures as { conditions: { status: string; lastTransitionTime: string }[] }[])[0]!.conditions;
    expect(trusted).toMatchObject({ status: 'False', lastTransitionTime: '2030-01-01T00:00:00Z' });
  });

  it('a signature of a type it cannot verify never gets Trusted=True', async () => {
    const image = imageWith('rsa-valid');
    (image.signatures as Record<string, unknown>[])[0]!.type = 'cosign';
    const derived = withDerivedSignatures(image, await judge(image), NOW);
    expect((derived.signatures as Signature[])[0]!.conditions[0]).toMatchObject({ status: 'False', reason: 'UnsupportedType' });
  });

  it('AtomicImageV1 (what OpenShift\'s importer writes) is verified like atomic', async () => {
    const image = imageWith('rsa-valid');
    (image.signatures as Record<string, unknown>[])[0]!.type = 'AtomicImageV1';
    const derived = withDerivedSignatures(image, await judge(image), NOW);
    expect((derived.signatures as Signature[])[0]!.conditions[0]).toMatchObject({ status: 'True' });
  });

  describe('an Image whose name is no digest (a CustomResourceDefinition stand-in: sha256.<hex>)', () => {
    const renamed = (image: Record<string, unknown>, name: string): Record<string, unknown> => ({ ...image, metadata: { name } });

    it("is judged by its manifest's digest: the signed manifest is ForImage", async () => {
      const image = imageWith('rsa-valid');
      const crdName = String((image.metadata as { name: string }).name).replace(':', '.');
      const derived = withDerivedSignatures(renamed(image, crdName), await judge(renamed(image, crdName)), NOW);
      expect((derived.signatures as Signature[])[0]!.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
        ['Trusted', 'True', 'Verified'],
        ['ForImage', 'True', 'DigestMatches'],
      ]);
    });

    it("a signature of another manifest is not ForImage, and a digest name is never overridden by the manifest", async () => {
      const other = imageWith('other-image-digest');
      const crd = renamed(other, 'sha256.not-a-digest');
      const derived = withDerivedSignatures(crd, await judge(crd), NOW);
      expect((derived.signatures as Signature[])[0]!.conditions[1]).toMatchObject({ status: 'False', reason: 'DigestMismatch' });
      // A real digest name that is not the manifest's: the name decides (manifest-digest reports the rest).
      const misnamed = renamed(imageWith('rsa-valid'), `sha256:${'0'.repeat(64)}`);
      const judged = withDerivedSignatures(misnamed, await judge(misnamed), NOW);
      expect((judged.signatures as Signature[])[0]!.conditions[1]).toMatchObject({ status: 'False', reason: 'DigestMismatch' });
    });
  });
});
