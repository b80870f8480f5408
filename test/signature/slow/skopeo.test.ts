/**
 * Every verdict checked against containers/image itself: `skopeo standalone-verify` (gpgme) judges each
 * fixture, and the webhook must agree (Trusted=True exactly when skopeo verifies), except where a case
 * names why it differs by design. Runs over the committed set and over a set generated afresh (new
 * keys, new signatures) so that the committed bytes are not the only evidence.
 *
 * Needs `skopeo` and `gpg` (CI installs them: .ci/run). Without them the suite says so and runs
 * nothing, unless REQUIRE_SKOPEO=1 (set by .ci/run), where their absence fails it.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { judgeSignature } from '../../../src/signature/judge.js';
import { SignatureVerifier } from '../../../src/signature/verifier.js';
import type { SignatureFixtures } from '../../fixtures/signatures/fixture-set.js';
import { generateSignatureFixtures } from '../../fixtures/signatures/generate.js';
import { fixtures as committed, trustedKeysOf } from '../helpers.js';

const available = ['skopeo', 'gpg'].every((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0);
const required = process.env.REQUIRE_SKOPEO === '1';

describe('the tools are there when CI requires them', () => {
  it('skopeo and gpg are installed, or REQUIRE_SKOPEO is not set', () => {
    expect(available || !required, 'REQUIRE_SKOPEO=1 but skopeo or gpg is missing: apt-get install -y skopeo gnupg').toBe(true);
  });
});

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/** skopeo standalone-verify with only the set's trusted keys in its keyring. */
function skopeoVerifies(set: SignatureFixtures, c: SignatureFixtures['cases'][number], home: string): Promise<boolean> {
  const args = ['standalone-verify', join(set.dir, c.manifest), c.skopeoReference, c.signer, join(set.dir, c.signature)];
  return new Promise((resolve) => execFile('skopeo', args, { env: { ...process.env, GNUPGHOME: home } }, (error) => resolve(error === null)));
}

function keyringOf(set: SignatureFixtures): string {
  const home = mkdtempSync(join(tmpdir(), 'skopeo-verify-gnupg-'));
  temporary.push(home);
  for (const key of set.trustedKeys) execFileSync('gpg', ['--batch', '--quiet', '--import', join(set.dir, key)], { env: { ...process.env, GNUPGHOME: home }, stdio: 'pipe' });
  return home;
}

describe.runIf(available)('the webhook agrees with skopeo standalone-verify', () => {
  const sets: [string, () => SignatureFixtures][] = [
    ['the committed set', () => committed],
    [
      'a freshly generated set',
      () => {
        const dir = mkdtempSync(join(tmpdir(), 'signature-fixtures-'));
        temporary.push(dir);
        return generateSignatureFixtures(dir);
      },
    ],
  ];
  it.each(sets)('%s', async (_name, make) => {
    const set = make();
    const home = keyringOf(set);
    const verifier = new SignatureVerifier(await trustedKeysOf(set));
    const rows: { name: string; ours: boolean; expected: boolean; skopeo: boolean; differs: boolean }[] = [];
    // Four skopeo processes at a time: each takes most of a second, mostly waiting for gpg-agent.
    const queue = [...set.cases];
    const worker = async () => {
      for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
        const verdict = await verifier.verify(readFileSync(join(set.dir, c.signature)).toString('base64'));
        const judgement = judgeSignature({ name: c.imageName, dockerImageReference: c.imageReference }, verdict);
        const ours = judgement.trusted.status === 'True';
        rows.push({ name: c.name, ours, expected: c.trusted, skopeo: await skopeoVerifies(set, c, home), differs: c.skopeoDiffers !== undefined });
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(rows).toHaveLength(set.cases.length);
    expect(rows.filter((r) => r.ours !== r.expected)).toEqual([]);
    expect(rows.filter((r) => !r.differs && r.ours !== r.skopeo)).toEqual([]);
    // A difference by design must really be one, or its note is stale.
    expect(rows.filter((r) => r.differs && r.ours === r.skopeo)).toEqual([]);
  }, 120_000);
});
