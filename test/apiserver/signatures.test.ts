/**
 * Signature verification behind a real kube-apiserver (v1.20.2): the webhook runs with
 * `--trusted-keys DIR` holding the fixtures' trusted keys, and Images carrying real signatures (made
 * by gpg through skopeo, test/fixtures/data/signatures/) are written with kubectl. What the API server
 * stores is what /mutate derived from verification, never what the writer claimed.
 *
 * Under the CustomResourceDefinition an Image cannot be named `sha256:<hex>` (custom resource names
 * are DNS subdomains), so these Images are named `signatures-suite-…`: a name that is no digest leaves
 * the manifest's own digest as the one a signature must name (docs/signatures.md).
 *
 * Needs the cluster of scripts/apiserver/run.sh: run it with `npm run test:apiserver`.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Image, ImageSignature } from '../../src/image/types.js';
import { anImage } from '../fixtures/index.js';
import { untrustedRealSignature } from '../fixtures/signatures.js';
import { caseNamed, fixtures } from '../signature/helpers.js';
import { kubectl, kubectlJson, registerWebhook, SIGNATURES_SUITE_PREFIX, startWebhook, suiteEnvironment, unregisterWebhook, type Webhook } from './harness.js';

const env = suiteEnvironment();
let webhook: Webhook;

/** The known-good Image (whose manifest the fixtures signed), named for the CRD, carrying `signatures`. */
function signedImage(label: string, signatures: ImageSignature[]): Image {
  const image = anImage();
  const name = `${SIGNATURES_SUITE_PREFIX}${label}`;
  image.metadata = { name };
  image.signatures = signatures.map((signature) => {
    const suffix = String(signature.metadata?.name).split('@')[1];
    return { ...signature, metadata: { name: `${name}@${suffix}` } };
  });
  return image;
}

/** A fixture signature as a registry import carries it: type and content only, nothing derived. */
function bare(fixture: string): ImageSignature {
  const { metadata, type, content } = untrustedRealSignature('x', { fixture });
  return { metadata, type, content };
}

function get(name: string): Image {
  return kubectlJson<Image>(env, ['get', 'images.image.openshift.io', name]);
}

const conditionsOf = (signature: ImageSignature | undefined) => (signature?.conditions ?? []).map((c) => [c.type, c.status, c.reason]);

beforeAll(async () => {
  // The directory a mounted ConfigMap would be: the fixture set's trusted public keys.
  const keys = join(env.work, 'signatures-suite-trusted-keys');
  mkdirSync(keys, { recursive: true });
  for (const file of fixtures.trustedKeys) copyFileSync(join(fixtures.dir, file), join(keys, file));
  webhook = await startWebhook(env, ['--trusted-keys', keys]);
  await registerWebhook(env, webhook);
});

afterAll(async () => {
  unregisterWebhook(env);
  await webhook?.stop();
});

describe('an Image signed by trusted keys, written with kubectl', () => {
  const signers = ['rsa-valid', 'ed25519-valid', 'subkey-valid'];
  const image = signedImage('trusted', signers.map(bare));

  it('comes back with the conditions and claims verification derives', () => {
    const run = kubectl(env, ['create', '-f', '-', '-o', 'json'], { as: 'jane', input: JSON.stringify(image) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const returned = JSON.parse(run.stdout) as Image;
    for (const object of [returned, get(String(image.metadata?.name))]) {
      expect(object.signatures).toHaveLength(signers.length);
      signers.forEach((fixture, i) => {
        const signature = object.signatures![i]!;
        const want = caseNamed(fixtures, fixture);
        expect(conditionsOf(signature), fixture).toEqual([
          ['Trusted', 'True', 'Verified'],
          ['ForImage', 'True', 'DigestMatches'],
        ]);
        expect(signature.content).toBe(image.signatures![i]!.content);
        expect(signature.issuedTo?.publicKeyID, fixture).toBe(want.signer);
        expect(signature.imageIdentity, fixture).toBe(want.signedReference);
        expect(signature.signedClaims, fixture).toMatchObject({
          'critical.type': 'atomic container signature',
          'critical.image.docker-manifest-digest': want.imageName,
          'critical.identity.docker-reference': want.signedReference,
        });
        expect(signature.created, fixture).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      });
    }
  });

  it('a writer setting Trusted=False on a stored good signature gets it back as Trusted=True, with a warning', () => {
    const name = String(image.metadata?.name);
    const patch = [{ op: 'replace', path: '/signatures/0/conditions/0/status', value: 'False' }];
    const run = kubectl(env, ['patch', 'images.image.openshift.io', name, '--type=json', '-p', JSON.stringify(patch)], { as: 'jane' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^Warning: signatures\[0\]\.conditions: replaced: /);
    expect(conditionsOf(get(name).signatures![0])).toEqual([
      ['Trusted', 'True', 'Verified'],
      ['ForImage', 'True', 'DigestMatches'],
    ]);
  });
});

describe('a writer claiming Trusted=True on a signature by a key nobody trusts', () => {
  it('is stored with Trusted=False and none of the claims, and told so', () => {
    const claimed = bare('untrusted-key');
    const now = '2026-01-01T00:00:00Z';
    const want = caseNamed(fixtures, 'untrusted-key');
    claimed.conditions = [
      { type: 'Trusted', status: 'True', lastProbeTime: now, lastTransitionTime: now },
      { type: 'ForImage', status: 'True', lastProbeTime: now, lastTransitionTime: now },
    ];
    claimed.imageIdentity = want.signedReference;
    claimed.issuedTo = { commonName: 'release-signer', publicKeyID: caseNamed(fixtures, 'rsa-valid').signer };
    const image = signedImage('untrusted-claims-trusted', [claimed]);
    const run = kubectl(env, ['create', '-f', '-'], { as: 'jane', input: JSON.stringify(image) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^Warning: signatures\[0\]\.conditions: replaced: /);
    const stored = get(String(image.metadata?.name)).signatures![0]!;
    expect(conditionsOf(stored)).toEqual([
      ['Trusted', 'False', 'UntrustedKey'],
      ['ForImage', 'Unknown', 'NotVerified'],
    ]);
    expect(stored.conditions![0]!.message).toContain(want.signer.slice(-16));
    expect(stored.imageIdentity).toBeUndefined();
    expect(stored.issuedTo).toBeUndefined();
  });
});
