import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certificateExpiry,
  certificatePaths,
  ensureDevelopmentCertificates,
  readCertificates,
  renewServingCertificate,
  writeCertificates,
} from '../../src/certs/files.js';
import { type CertificatePems, generateCertificates } from '../../src/certs/generate.js';
import { opensslVerify, tbsFields } from './helpers.js';

const NAMES = { service: 'image-admission-webhook', namespace: 'image-admission' };
const SVC_HOST = 'image-admission-webhook.image-admission.svc';
const DAY = 24 * 60 * 60 * 1000;

let root: string;
let pems: CertificatePems;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'certs-files-'));
  // A serving certificate that expires in 10 days: inside a 30-day renewal window, outside a 5-day one.
  pems = generateCertificates({ ...NAMES, validityDays: 10 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('writeCertificates', () => {
  it('creates the folder 0700, keys 0600, certificates 0644, and leaves no temporary files', async () => {
    const dir = join(root, 'write', 'nested');
    const written = await writeCertificates(dir, pems);
    const paths = certificatePaths(dir);
    expect(new Set(written)).toEqual(new Set(Object.values(paths)));
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(paths.key)).toBe(0o600);
    expect(await mode(paths.caKey)).toBe(0o600);
    expect(await mode(paths.cert)).toBe(0o644);
    expect(await mode(paths.caCert)).toBe(0o644);
    expect((await readdir(dir)).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    expect(await readCertificates(dir)).toEqual(pems);
  });

  it('replaces a file through a rename, so readers never see a partial one', async () => {
    const dir = join(root, 'replace');
    await writeCertificates(dir, pems);
    const before = (await stat(join(dir, 'tls.key'))).ino;
    await writeCertificates(dir, { key: pems.key });
    expect((await stat(join(dir, 'tls.key'))).ino).not.toBe(before);
    expect(await mode(join(dir, 'tls.key'))).toBe(0o600);
  });
});

describe('certificateExpiry', () => {
  it('reads notAfter', () => {
    expect(certificateExpiry(pems.cert).toISOString()).toBe(new Date(new X509Certificate(pems.cert).validTo).toISOString());
  });
});

describe('ensureDevelopmentCertificates', () => {
  it('generates a verifiable set when the folder is empty', async () => {
    const dir = join(root, 'ensure');
    const result = await ensureDevelopmentCertificates(dir, NAMES);
    expect(result.generated).toBe(true);
    expect(result.written).toHaveLength(4);
    expect(await mode(result.paths.key)).toBe(0o600);
    expect((await opensslVerify(result.paths.caCert, result.paths.cert, SVC_HOST)).ok).toBe(true);
  });

  it('does not regenerate when tls.crt and tls.key are present', async () => {
    const dir = join(root, 'ensure');
    const before = await readCertificates(dir);
    const result = await ensureDevelopmentCertificates(dir, NAMES);
    expect(result).toMatchObject({ generated: false, written: [] });
    expect(await readCertificates(dir)).toEqual(before);
  });

  it('issues a missing serving pair from the CA already there', async () => {
    const dir = join(root, 'ensure');
    const before = await readCertificates(dir);
    await unlink(join(dir, 'tls.key'));
    const result = await ensureDevelopmentCertificates(dir, NAMES);
    expect(result.generated).toBe(true);
    expect(result.written).toEqual([result.paths.key, result.paths.cert]);
    const after = await readCertificates(dir);
    expect(after.caCert).toBe(before.caCert);
    expect(after.cert).not.toBe(before.cert);
    expect((await opensslVerify(result.paths.caCert, result.paths.cert, SVC_HOST)).ok).toBe(true);
  });
});

describe('renewServingCertificate', () => {
  it('keeps a certificate that expires after the window', async () => {
    const dir = join(root, 'renew-late');
    await writeCertificates(dir, pems);
    const result = await renewServingCertificate(dir, { renewWithinDays: 5 });
    expect(result).toMatchObject({ renewed: false, written: [] });
    expect(result.notAfter).toEqual(certificateExpiry(pems.cert));
    expect(await readCertificates(dir)).toEqual(pems);
  });

  it('renews within the window from the same CA, keeping the names', async () => {
    const dir = join(root, 'renew-soon');
    await writeCertificates(dir, pems);
    const renewedAt = Date.now();
    const result = await renewServingCertificate(dir, { renewWithinDays: 30 });
    expect(result.renewed).toBe(true);
    const after = await readCertificates(dir);
    expect(after.caCert).toBe(pems.caCert);
    expect(after.caKey).toBe(pems.caKey);
    expect(after.key).not.toBe(pems.key);
    const leaf = new X509Certificate(after.cert);
    expect(Math.abs(result.notAfter.getTime() - (renewedAt + 365 * DAY))).toBeLessThan(60_000);
    expect(leaf.subjectAltName).toBe(new X509Certificate(pems.cert).subjectAltName);
    expect(leaf.subject).toBe(`CN=${SVC_HOST}`);
    expect(tbsFields(after.cert).issuer.equals(tbsFields(after.caCert).subject)).toBe(true);
    expect(tbsFields(after.cert).serial.equals(tbsFields(pems.cert).serial)).toBe(false);
    expect(await mode(join(dir, 'tls.key'))).toBe(0o600);
    expect((await opensslVerify(join(dir, 'ca.crt'), join(dir, 'tls.crt'), SVC_HOST)).ok).toBe(true);
  });

  it('renews an expired certificate', async () => {
    const dir = join(root, 'renew-expired');
    await writeCertificates(dir, pems);
    const result = await renewServingCertificate(dir, { renewWithinDays: 0, now: new Date(Date.now() + 11 * DAY) });
    expect(result.renewed).toBe(true);
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(pems.caCert);
  });
});
