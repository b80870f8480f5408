/** `image-admission review`: the answer the server would send, byte for byte, without a socket. */
import { copyFileSync, writeFileSync } from 'node:fs';
import fastJsonPatch from 'fast-json-patch';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/admission/policy.js';
import type { RuleId } from '../../src/image/index.js';
import { run } from '../../src/cli/review.js';
import { buildApp } from '../../src/http/app.js';
import { BODY_LIMIT } from '../../src/review/json-body.js';
import { brokenImage } from '../audit/audit-log.js';
import { captureIo, tempDir } from '../audit/helpers.js';
import { admissionReview, anImage } from '../fixtures/index.js';
import { untrustedRealSignature } from '../fixtures/signatures.js';
import { SignatureVerifier } from '../../src/signature/verifier.js';
import { fixtures, trustedKeysOf } from '../signature/helpers.js';

async function review(args: string[], stdin?: string) {
  const { io, out, err } = captureIo(stdin);
  const code = await run(args, io);
  return { code, out: out(), err: err() };
}

/** What the server answers `body` at `endpoint` under `policy`. */
async function server(body: string, endpoint: string, policy: Policy) {
  const app = buildApp({ policy });
  const response = await app.inject({ method: 'POST', url: `/${endpoint}`, headers: { 'content-type': 'application/json' }, payload: body });
  await app.close();
  return response;
}

const enforce: Policy = { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set() };

describe('image-admission review', () => {
  it.each([
    { what: 'an allowed create at /mutate, with its defaulting patch', body: () => admissionReview({ operation: 'CREATE', object: anImage() }), args: ['--endpoint', 'mutate'], policy: enforce, code: 0 },
    { what: 'a denied create at /validate', body: () => admissionReview({ operation: 'CREATE', object: brokenImage('r') }), args: [], policy: enforce, code: 1 },
    {
      what: 'a warned create in warn mode, with a rule turned off',
      body: () => admissionReview({ operation: 'CREATE', object: brokenImage('r') }),
      args: ['--mode', 'warn', '--disable-rules', 'signature-type'],
      policy: { ...enforce, mode: 'warn' as const, disabledRules: new Set<RuleId>(['signature-type']) },
      code: 0,
    },
  ])('prints exactly the server\'s answer: $what', async ({ body, args, policy, code }) => {
    const text = JSON.stringify(body());
    const path = join(tempDir(), 'review.json');
    writeFileSync(path, text);
    const endpoint = args.includes('mutate') ? 'mutate' : 'validate';
    const want = await server(text, endpoint, policy);
    expect(want.statusCode).toBe(200);
    const got = await review([path, ...args]);
    expect(got).toEqual({ code, out: `${want.body}\n`, err: '' });
    const fromStdin = await review(['-', ...args], text);
    expect(fromStdin.out).toBe(`${want.body}\n`);
  });

  it('says why the server would refuse a body, and exits 2', async () => {
    const text = JSON.stringify({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1' });
    const want = await server(text, 'validate', enforce);
    expect(want.statusCode).toBe(400);
    const got = await review(['-'], text);
    expect(got.code).toBe(2);
    expect(got.out).toBe('');
    expect(got.err).toContain((want.json() as { reason: string }).reason);
  });

  describe("holds input to the server's body limit", () => {
    // A review padded with trailing spaces (valid JSON) to exactly `bytes`.
    const padded = (bytes: number) => {
      const text = JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage() }));
      return text + ' '.repeat(bytes - Buffer.byteLength(text));
    };

    it('answers a body of exactly the limit, as the server does', async () => {
      const text = padded(BODY_LIMIT);
      const want = await server(text, 'validate', enforce);
      expect(want.statusCode).toBe(200);
      const path = join(tempDir(), 'at-limit.json');
      writeFileSync(path, text);
      expect(await review([path])).toEqual({ code: 0, out: `${want.body}\n`, err: '' });
    });

    it('refuses a file one byte over it with exit 2, where the server answers 413', async () => {
      const text = padded(BODY_LIMIT + 1);
      expect((await server(text, 'validate', enforce)).statusCode).toBe(413);
      const path = join(tempDir(), 'over-limit.json');
      writeFileSync(path, text);
      const got = await review([path]);
      expect(got.code).toBe(2);
      expect(got.out).toBe('');
      expect(got.err).toBe(`image-admission review: ${path}: larger than the server's body limit of 7 MiB; the server would answer 413\n`);
    });

    it('stops reading an endless stdin at the limit', async () => {
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let pulled = 0;
      const endless = new Readable({
        read() {
          pulled += chunk.length;
          this.push(chunk);
        },
      });
      const { io, out, err } = captureIo();
      const code = await run(['-'], { ...io, stdin: endless });
      expect({ code, out: out() }).toEqual({ code: 2, out: '' });
      expect(err()).toContain("larger than the server's body limit of 7 MiB");
      // Work bounded by the limit: past it, only the stream's read-ahead (a chunk or two) was pulled.
      expect(pulled).toBeLessThanOrEqual(BODY_LIMIT + 16 * chunk.length);
      expect(endless.destroyed).toBe(true);
    });
  });

  it.each([
    { args: [], problem: 'needs a FILE' },
    { args: ['a', 'b'], problem: 'takes one FILE' },
    { args: ['a', '--endpoint', 'admit'], problem: '--endpoint must be mutate or validate' },
    { args: ['a', '--mode', 'strict'], problem: '--mode must be one of' },
    { args: ['a', '--disable-rules', 'no-such-rule'], problem: '"no-such-rule"' },
    { args: [join('no', 'such', 'file.json')], problem: 'no such file' },
  ])('exits 2 on $problem', async ({ args, problem }) => {
    const got = await review(args);
    expect(got.code).toBe(2);
    expect(got.err).toContain(problem);
  });
});

describe('image-admission review --trusted-keys', () => {
  /** The known-good Image carrying a real signature by the fixtures' RSA key, as a registry import writes it. */
  function signedImage() {
    const image = anImage();
    const { metadata, type, content } = untrustedRealSignature(String(image.metadata?.name), { fixture: 'rsa-valid' });
    image.signatures = [{ metadata, type, content }];
    return image;
  }

  function keysDir(): string {
    const dir = tempDir();
    for (const file of fixtures.trustedKeys) copyFileSync(join(fixtures.dir, file), join(dir, file));
    return dir;
  }

  const trustedOf = (reply: string, image: unknown) => {
    const { response } = JSON.parse(reply) as { response: { patch?: string } };
    const stored = fastJsonPatch.applyPatch(structuredClone(image), JSON.parse(Buffer.from(response.patch ?? 'W10=', 'base64').toString('utf8'))).newDocument as {
      signatures: { conditions: { type: string; status: string; reason: string }[] }[];
    };
    return stored.signatures[0]!.conditions[0]!;
  };

  it('derives the verdicts the server derives with the same keys: Trusted=True, and UntrustedKey without them', async () => {
    const image = signedImage();
    const path = join(tempDir(), 'review.json');
    writeFileSync(path, JSON.stringify(admissionReview({ operation: 'CREATE', object: image })));
    const trusted = await review([path, '--endpoint', 'mutate', '--trusted-keys', keysDir()]);
    expect(trusted.code).toBe(0);
    expect(trustedOf(trusted.out, image)).toMatchObject({ type: 'Trusted', status: 'True', reason: 'Verified' });
    const untrusted = await review([path, '--endpoint', 'mutate']);
    expect(trustedOf(untrusted.out, image)).toMatchObject({ type: 'Trusted', status: 'False', reason: 'UntrustedKey' });
  });

  it('prints exactly what the server answers at /validate with the same keys, for an allowed and a denied write', async () => {
    const keys = keysDir();
    const verifier = new SignatureVerifier(await trustedKeysOf(fixtures));
    const image = signedImage();
    const mutated = await review([writeReview(admissionReview({ operation: 'CREATE', object: image })), '--endpoint', 'mutate', '--trusted-keys', keys]);
    const { response } = JSON.parse(mutated.out) as { response: { patch: string } };
    const stored = fastJsonPatch.applyPatch(structuredClone(image), JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'))).newDocument;
    for (const [object, code] of [
      [stored, 0],
      [image, 1],
    ] as const) {
      const text = JSON.stringify(admissionReview({ operation: 'CREATE', object, uid: '00000000-0000-4000-8000-000000000001' }));
      const app = buildApp({ policy: enforce, verifier });
      const want = await app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: text });
      await app.close();
      const got = await review([writeReview(JSON.parse(text)), '--trusted-keys', keys]);
      expect(got).toEqual({ code, out: `${want.body}\n`, err: '' });
    }
  });

  it('a key directory that cannot be read is an error, not an untrusting review', async () => {
    const got = await review([writeReview(admissionReview({ operation: 'CREATE', object: anImage() })), '--trusted-keys', join(tempDir(), 'missing')]);
    expect(got.code).toBe(2);
    expect(got.err).toMatch(/^image-admission review: cannot read the trusted keys directory .*missing: ENOENT\n$/);
  });

  function writeReview(body: unknown): string {
    const path = join(tempDir(), 'review.json');
    writeFileSync(path, JSON.stringify(body));
    return path;
  }
});
