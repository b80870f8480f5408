/**
 * The real server over verified TLS with `trustedKeysDir` laid out as Kubernetes mounts a ConfigMap
 * (`..data` symlink onto a timestamped folder, each key a symlink into `..data`): signatures written
 * with Trusted=False by a key it trusts come back Trusted=True from /mutate, writes that disagree with
 * verification are denied by /validate, a bad key file is skipped, and a `..data` swap is followed live.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastJsonPatch from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionReview, anImage, type AdmissionReview } from '../../fixtures/index.js';
import { publishGeneration } from '../../support/configmap-volume.js';
import { send, startTestServer, type TestServer } from '../../support/tls.js';
import { fixtures } from '../helpers.js';

let keysDir: string;
let server: TestServer;

beforeAll(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'trusted-keys-'));
  const rsa = await readFile(join(fixtures.dir, 'rsa.asc'));
  await publishGeneration(keysDir, { 'rsa.asc': rsa, 'broken.asc': '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n' }, '2026_01_01_a');
  server = await startTestServer({ trustedKeysDir: keysDir });
}, 30_000);

afterAll(async () => {
  await server?.stop();
  await rm(keysDir, { recursive: true, force: true });
});

async function review(path: '/mutate' | '/validate', body: AdmissionReview) {
  const answer = await send(server.port, server.pems.caCert, path, JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  expect(answer.status).toBe(200);
  return (answer.json as { response: { allowed: boolean; patch?: string; warnings?: string[]; status?: { message?: string } } }).response;
}

function patched(object: unknown, patch: string | undefined): Record<string, unknown> {
  if (patch === undefined) return object as Record<string, unknown>;
  return fastJsonPatch.applyPatch(structuredClone(object), JSON.parse(Buffer.from(patch, 'base64').toString('utf8'))).newDocument as Record<string, unknown>;
}

const trustedOf = (image: Record<string, unknown>) => (image.signatures as { conditions: { type: string; status: string; reason: string }[] }[])[0]!.conditions[0]!;

describe('a server with --trusted-keys', () => {
  it('/mutate derives Trusted=True for a good signature by a trusted key, and /validate accepts the result', async () => {
    const written = anImage();
    const mutated = await review('/mutate', admissionReview({ operation: 'CREATE', object: written }));
    expect(mutated.allowed).toBe(true);
    const stored = patched(written, mutated.patch);
    expect(trustedOf(stored)).toMatchObject({ type: 'Trusted', status: 'True', reason: 'Verified' });
    expect((stored.signatures as { issuedTo?: { publicKeyID?: string } }[])[0]!.issuedTo?.publicKeyID).toMatch(/^[0-9A-F]{40}$/);
    // The writer's Trusted=False was replaced, and the writer is told.
    expect(mutated.warnings?.some((w) => w.includes('signatures[0].conditions'))).toBe(true);
    expect((await review('/validate', admissionReview({ operation: 'CREATE', object: stored }))).allowed).toBe(true);
  });

  it('/validate denies a write whose conditions disagree with verification (one that skipped /mutate)', async () => {
    const answer = await review('/validate', admissionReview({ operation: 'CREATE', object: anImage() }));
    expect(answer.allowed).toBe(false);
    expect(answer.status?.message).toContain('signatures[0].conditions');
  });

  it('counts the keys it trusts and the key file it skipped', async () => {
    const metrics = (await send(server.port, server.pems.caCert, '/metrics', undefined, { method: 'GET' })).text;
    expect(metrics).toMatch(/^image_admission_trusted_keys 1$/m);
    expect(metrics).toMatch(/^image_admission_trusted_key_files_skipped 1$/m);
    expect(metrics).toMatch(/^image_admission_signature_verifications_total\{result="Verified"\} [1-9]/m);
  });

  it('follows a ..data swap: once the key is gone, the same signature is no longer trusted', async () => {
    await publishGeneration(keysDir, { 'ed25519.asc': await readFile(join(fixtures.dir, 'ed25519.asc')) }, '2026_01_02_b');
    // The reload is asynchronous; ask until it shows (bounded: 100 tries), judging outcomes, not time.
    let reason = '';
    for (let i = 0; i < 100 && reason !== 'UntrustedKey'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const written = anImage();
      reason = trustedOf(patched(written, (await review('/mutate', admissionReview({ operation: 'CREATE', object: written }))).patch)).reason;
    }
    expect(reason).toBe('UntrustedKey');
  });
});
