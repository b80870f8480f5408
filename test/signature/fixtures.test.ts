import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeSignature } from '../../src/signature/judge.js';
import { SignatureVerifier } from '../../src/signature/verifier.js';
import { caseNamed, contentOf, fixtures, trustedKeysOf } from './helpers.js';

const keys = await trustedKeysOf(fixtures);

describe('real signatures made by gpg (through skopeo standalone-sign where skopeo can make them)', () => {
  it.each(fixtures.cases)('$name: Trusted=$trusted ($reason), ForImage=$forImage', async (c) => {
    const verifier = new SignatureVerifier(keys);
    const verdict = await verifier.verify(readFileSync(join(fixtures.dir, c.signature)).toString('base64'));
    const judgement = judgeSignature({ name: c.imageName, dockerImageReference: c.imageReference }, verdict);
    expect({ trusted: judgement.trusted.status, reason: judgement.trusted.reason, forImage: judgement.forImage.status }).toEqual({
      trusted: c.trusted ? 'True' : 'False',
      reason: c.reason,
      forImage: c.forImage,
    });
    // Claims are derived only from a payload whose signature verified under a trusted key.
    if (verdict.verified) {
      expect(judgement.fields.issuedTo?.publicKeyID).toBe(c.signer);
      expect(judgement.fields.imageIdentity).toBe(c.signedReference);
    } else {
      expect(judgement.fields).toEqual({});
    }
  });

  it('a signing subkey counts as its primary key: trusting the primary trusts it, and publicKeyID names the subkey', async () => {
    const verdict = await new SignatureVerifier(keys).verify(contentOf(fixtures, 'subkey-valid'));
    expect(verdict.verified).toBe(true);
    if (!verdict.verified) return;
    expect(verdict.signer.fingerprint).toBe(caseNamed(fixtures, 'subkey-valid').signer);
    expect(verdict.signer.primaryFingerprint).not.toBe(verdict.signer.fingerprint);
    expect(keys.fingerprints).toContain(verdict.signer.primaryFingerprint);
  });

  it('a signature by an untrusted key verifies once its key is trusted, and not before', async () => {
    const content = contentOf(fixtures, 'untrusted-key');
    const verifier = new SignatureVerifier(keys);
    expect(await verifier.verify(content)).toMatchObject({ verified: false, reason: 'UntrustedKey' });
    verifier.setKeys(await trustedKeysOf(fixtures, ['untrusted.pub']));
    expect(await verifier.verify(content)).toMatchObject({ verified: true });
  });

  it('without keys nothing is trusted: even a good signature is UntrustedKey', async () => {
    expect(await new SignatureVerifier().verify(contentOf(fixtures, 'rsa-valid'))).toMatchObject({ verified: false, reason: 'UntrustedKey' });
  });

  it('a key expired by now fails a signature made while it was valid (judged now, as gpgme does)', async () => {
    const c = caseNamed(fixtures, 'expired-key');
    const content = contentOf(fixtures, 'expired-key');
    // The same blob, verified at a time inside the key's validity, is good: only "now" makes it fail.
    const then = new SignatureVerifier(keys, () => Date.parse('2024-01-20T00:00:00Z'));
    expect(await then.verify(content)).toMatchObject({ verified: true });
    expect(await new SignatureVerifier(keys).verify(content)).toMatchObject({ verified: false, reason: c.reason });
  });
});
