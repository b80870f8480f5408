/**
 * `audit scan` judges stored signatures as the webhook's /validate judges a create: the same rule, the
 * same fields, the same messages, under the same trusted keys (`--trusted-keys DIR` or
 * TRUSTED_KEYS_DIR). Real signatures from test/fixtures/data/signatures.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fastJsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/admission/policy.js';
import type { AdmissionResponse } from '../../src/admission/types.js';
import { judgeStoredImage } from '../../src/audit/existing.js';
import type { ScanReport } from '../../src/audit/scan.js';
import { run } from '../../src/cli/audit.js';
import type { Image } from '../../src/image/types.js';
import { answerBody } from '../../src/review/answer.js';
import { type KeySet, readKeySet, SIGNATURE_RULE, SignatureVerifier } from '../../src/signature/index.js';
import { admissionReview, anImage, untrustedRealSignature } from '../fixtures/index.js';
import { fixtures } from '../signature/helpers.js';
import { captureIo, tempDir } from './helpers.js';

const POLICY: Policy = { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set() };

async function rsaKeys(): Promise<KeySet> {
  return (await readKeySet([{ name: 'rsa.asc', bytes: readFileSync(join(fixtures.dir, 'rsa.asc')) }])).keySet;
}

/** A key directory holding the RSA test key (the signer of the rsa-valid fixture). */
function rsaKeyDir(extra: Record<string, string> = {}): string {
  const dir = tempDir();
  copyFileSync(join(fixtures.dir, 'rsa.asc'), join(dir, 'rsa.asc'));
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The known-good Image signed by `fixture`, with a writer's claim that the signature is trusted. */
function claimedTrusted(fixture: string): Image {
  const image = anImage();
  const signature = untrustedRealSignature(image.metadata!.name!, { fixture });
  signature.conditions![0] = { ...signature.conditions![0]!, status: 'True', reason: 'Verified', message: 'trust me' };
  image.signatures = [signature];
  return image;
}

/** The webhook's answer at `endpoint` for creating `image`, with `verifier`'s keys. */
async function webhook(endpoint: 'mutate' | 'validate', image: Image, verifier: SignatureVerifier): Promise<AdmissionResponse> {
  const answer = await answerBody(Buffer.from(JSON.stringify(admissionReview({ operation: 'CREATE', object: image }))), endpoint, POLICY, verifier);
  if (answer.kind !== 'answered') throw new Error(`the webhook did not answer: ${JSON.stringify(answer)}`);
  return (JSON.parse(answer.reply) as { response: AdmissionResponse }).response;
}

/** `image` as the webhook stores it: after /mutate with `verifier`'s keys. */
async function asStored(image: Image, verifier: SignatureVerifier): Promise<Image> {
  const { patch } = await webhook('mutate', image, verifier);
  if (patch === undefined) return image;
  return fastJsonPatch.applyPatch(structuredClone(image), JSON.parse(Buffer.from(patch, 'base64').toString('utf8'))).newDocument;
}

async function scan(images: Image[], args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const file = join(tempDir(), 'images.json');
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: images }));
  const { io, out, err } = captureIo();
  io.env = env;
  const code = await run(['scan', file, '--json', ...args], io);
  return { code, report: code === 2 ? undefined : (JSON.parse(out()) as ScanReport), err: err() };
}

describe('audit scan and the webhook judge a stored signature alike', () => {
  it.each([
    { keys: 'no keys', trusted: false },
    { keys: 'the signing key trusted', trusted: true },
  ])('a writer-claimed Trusted=True by an untrusted key, with $keys: the /validate denial, cause for cause', async ({ trusted }) => {
    const image = claimedTrusted('untrusted-key');
    const verifier = new SignatureVerifier(trusted ? await rsaKeys() : undefined);
    const denial = await webhook('validate', image, verifier);
    expect(denial.allowed).toBe(false);
    const causes = denial.status!.details!.causes.map((c) => [SIGNATURE_RULE, c.field, c.message]);
    expect(causes.length).toBeGreaterThan(0);

    const { code, report } = await scan([image], trusted ? ['--trusted-keys', rsaKeyDir()] : []);
    expect(code).toBe(1);
    expect(report!.findings[0]!.violations.map((v) => [v.rule, v.path, v.detail])).toEqual(causes);
    expect(report!.findings[0]!.violations[0]).toMatchObject({ path: 'signatures[0].conditions', detail: expect.stringContaining('Trusted=False (UntrustedKey)') });
  });

  it('a real signature stored as /mutate derives it under the trusted key: clean with that key, reported without it', async () => {
    const stored = await asStored(claimedTrusted('rsa-valid'), new SignatureVerifier(await rsaKeys()));
    expect(stored.signatures![0]!.conditions![0]).toMatchObject({ type: 'Trusted', status: 'True', reason: 'Verified' });

    expect(await scan([stored], ['--trusted-keys', rsaKeyDir()])).toMatchObject({ code: 0, report: { withViolations: 0 } });
    // The environment variable serve reads names the directory too.
    expect(await scan([stored], [], { TRUSTED_KEYS_DIR: rsaKeyDir() })).toMatchObject({ code: 0, report: { withViolations: 0 } });

    // Without the key nothing is trusted: the stored Trusted=True and the signer's fields disagree.
    const untrusted = await scan([stored]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.report!.findings[0]!.violations.map((v) => v.path)).toEqual(
      ['conditions', 'imageIdentity', 'signedClaims', 'created', 'issuedBy', 'issuedTo'].map((f) => `signatures[0].${f}`),
    );
    expect(untrusted.err).toContain('no --trusted-keys');
  });

  it('--disable-rules signature-verified leaves signatures unjudged, as on the webhook; so does --rule-actions off, and warn does not fail', async () => {
    const image = claimedTrusted('untrusted-key');
    expect(await scan([image], ['--disable-rules', SIGNATURE_RULE])).toMatchObject({ code: 0, report: { withViolations: 0 } });
    expect(await scan([image], ['--rule-actions', `${SIGNATURE_RULE}=off`])).toMatchObject({ code: 0, report: { withViolations: 0 } });
    // A warn rule's violations are listed and counted (as the controller reports and gauges them) but
    // do not fail the scan, as the webhook lets those writes through.
    expect(await scan([image], ['--rule-actions', `${SIGNATURE_RULE}=warn`])).toMatchObject({ code: 0, report: { withViolations: 1, failing: 0, byRule: { [SIGNATURE_RULE]: 1 } } });
    expect(await scan([image], ['--rule-actions', `${SIGNATURE_RULE}=deny`])).toMatchObject({ code: 1, report: { withViolations: 1, failing: 1 } });
  });
});

describe('audit scan --trusted-keys', () => {
  it('exits 2 naming a directory it cannot read: a typo must not silently trust nothing', async () => {
    const missing = join(tempDir(), 'no-such-dir');
    const { code, err } = await scan([anImage()], ['--trusted-keys', missing]);
    expect(code).toBe(2);
    expect(err).toContain(`cannot read the trusted keys directory ${missing}: ENOENT`);
  });

  it('skips a key file that holds no key, names it, and keeps the others', async () => {
    const stored = await asStored(claimedTrusted('rsa-valid'), new SignatureVerifier(await rsaKeys()));
    const dir = rsaKeyDir({ 'broken.asc': 'not a key\n' });
    mkdirSync(join(dir, '..2026_01_01'));
    const { code, err } = await scan([stored], ['--trusted-keys', dir]);
    expect(code).toBe(0);
    expect(err).toMatch(/^image-admission audit: trusted key file broken\.asc skipped: not an OpenPGP public key/);
    expect(err).not.toContain('not a key');
  });
});

describe('judging stored Images verifies through the bounded cache', () => {
  it('verifies a signature content once however many stored Images carry it', async () => {
    const verifier = new SignatureVerifier(await rsaKeys());
    const stored = await asStored(claimedTrusted('rsa-valid'), verifier);
    const fresh = new SignatureVerifier(await rsaKeys());
    for (let i = 0; i < 50; i++) expect((await judgeStoredImage(stored, {}, fresh)).violations).toEqual([]);
    expect(fresh.work).toMatchObject({ verifications: 1, cacheHits: 49 });
  });
});
