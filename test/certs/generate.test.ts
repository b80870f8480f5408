import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CertificatePems,
  generateCertificateAuthority,
  generateCertificates,
  issueServingCertificate,
  servingIdentityOf,
} from '../../src/certs/generate.js';
import { opensslVerify, tbsFields } from './helpers.js';

const SERVICE = 'image-admission-webhook';
const NAMESPACE = 'image-admission';
const SVC_HOST = `${SERVICE}.${NAMESPACE}.svc`;
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

let first: CertificatePems;
let second: CertificatePems;
let generatedAt: number;
let leaf: X509Certificate;
let ca: X509Certificate;
let dir: string;

beforeAll(async () => {
  generatedAt = Date.now();
  first = generateCertificates({ service: SERVICE, namespace: NAMESPACE });
  second = generateCertificates({ service: SERVICE, namespace: NAMESPACE });
  leaf = new X509Certificate(first.cert);
  ca = new X509Certificate(first.caCert);
  dir = await mkdtemp(join(tmpdir(), 'certs-generate-'));
  await writeFile(join(dir, 'ca.crt'), first.caCert);
  await writeFile(join(dir, 'tls.crt'), first.cert);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function extension<T>(pem: string, name: string): T & { critical?: boolean } {
  const ext = forge.pki.certificateFromPem(pem).getExtension(name);
  if (!ext) throw new Error(`no ${name} extension`);
  return ext as T & { critical?: boolean };
}

describe('the serving certificate names', () => {
  it('lists the Service names, localhost and 127.0.0.1 as SANs', () => {
    expect(leaf.subjectAltName?.split(', ')).toEqual([
      `DNS:${SERVICE}`,
      `DNS:${SERVICE}.${NAMESPACE}`,
      `DNS:${SVC_HOST}`,
      `DNS:${SVC_HOST}.cluster.local`,
      'DNS:localhost',
      'IP Address:127.0.0.1',
    ]);
  });

  it.each([SVC_HOST, `${SVC_HOST}.cluster.local`, SERVICE, 'localhost'])('matches %s through SANs alone', (host) => {
    expect(leaf.checkHost(host, { subject: 'never' })).toBe(host);
  });

  it('matches 127.0.0.1 as an IP SAN', () => {
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('has the subject CN <svc>.<ns>.svc', () => {
    expect(leaf.subject).toBe(`CN=${SVC_HOST}`);
  });

  it('does not match a name that is only in the CN, as Go would not', () => {
    const cnOnly = issueServingCertificate(
      { cert: first.caCert, key: first.caKey },
      { commonName: 'only-in-cn.example', dnsNames: ['other.example'], ipAddresses: [] },
    );
    const cert = new X509Certificate(cnOnly.cert);
    expect(cert.checkHost('only-in-cn.example', { subject: 'never' })).toBeUndefined();
    expect(cert.checkHost('other.example', { subject: 'never' })).toBe('other.example');
  });

  it('adds extra DNS names and IP addresses', () => {
    const extra = issueServingCertificate(
      { cert: first.caCert, key: first.caKey },
      { service: SERVICE, namespace: NAMESPACE, extraDnsNames: ['webhook.example'], ipAddresses: ['10.0.0.7', '::1'] },
    );
    const cert = new X509Certificate(extra.cert);
    expect(cert.checkHost('webhook.example', { subject: 'never' })).toBe('webhook.example');
    expect(cert.checkIP('10.0.0.7')).toBe('10.0.0.7');
    expect(cert.checkIP('::1')).toBe('::1');
  });

  it('reads its names back for renewal', () => {
    expect(servingIdentityOf(first.cert)).toEqual({
      commonName: SVC_HOST,
      dnsNames: [SERVICE, `${SERVICE}.${NAMESPACE}`, SVC_HOST, `${SVC_HOST}.cluster.local`, 'localhost'],
      ipAddresses: ['127.0.0.1'],
    });
  });

  it('refuses a malformed IP address', () => {
    expect(() =>
      issueServingCertificate({ cert: first.caCert, key: first.caKey }, { service: 's', namespace: 'n', ipAddresses: ['300.1.1.1'] }),
    ).toThrow(/not an IP address/);
  });
});

describe('the CA', () => {
  it('is a CA, with basicConstraints critical', () => {
    expect(ca.ca).toBe(true);
    expect(extension<{ cA: boolean }>(first.caCert, 'basicConstraints')).toMatchObject({ cA: true, critical: true });
  });

  it('may sign certificates and CRLs only, with keyUsage critical', () => {
    expect(extension(first.caCert, 'keyUsage')).toMatchObject({
      critical: true,
      keyCertSign: true,
      cRLSign: true,
      digitalSignature: false,
      keyEncipherment: false,
    });
  });

  it('has a subject key identifier', () => {
    expect(extension<{ subjectKeyIdentifier: string }>(first.caCert, 'subjectKeyIdentifier').subjectKeyIdentifier).toMatch(
      /^[0-9a-f]{40}$/,
    );
  });

  it('is self-issued and valid for 3650 days from an hour ago', () => {
    expect(tbsFields(first.caCert).issuer.equals(tbsFields(first.caCert).subject)).toBe(true);
    expect(Math.abs(Date.parse(ca.validFrom) - (generatedAt - HOUR))).toBeLessThan(60_000);
    expect(Math.abs(Date.parse(ca.validTo) - (generatedAt + 3650 * DAY))).toBeLessThan(60_000);
  });
});

describe('the serving certificate', () => {
  it('is not a CA', () => {
    expect(leaf.ca).toBe(false);
    expect(extension<{ cA: boolean }>(first.cert, 'basicConstraints').cA).toBe(false);
  });

  it('allows digitalSignature and keyEncipherment, and not certificate signing', () => {
    expect(extension(first.cert, 'keyUsage')).toMatchObject({
      digitalSignature: true,
      keyEncipherment: true,
      keyCertSign: false,
    });
  });

  it('is for serverAuth', () => {
    expect(leaf.keyUsage).toEqual([SERVER_AUTH]);
  });

  it('names the CA key as its authority key identifier, not its own key', () => {
    const caSki = extension<{ subjectKeyIdentifier: string }>(first.caCert, 'subjectKeyIdentifier').subjectKeyIdentifier;
    const ownSki = extension<{ subjectKeyIdentifier: string }>(first.cert, 'subjectKeyIdentifier').subjectKeyIdentifier;
    const aki = extension<{ value: string }>(first.cert, 'authorityKeyIdentifier');
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] OCTET STRING, ... }
    const keyIdentifier = (forge.asn1.fromDer(aki.value).value as forge.asn1.Asn1[])[0]!;
    expect(keyIdentifier.tagClass).toBe(forge.asn1.Class.CONTEXT_SPECIFIC);
    expect(keyIdentifier.type).toBe(0);
    expect(forge.util.bytesToHex(keyIdentifier.value as string)).toBe(caSki);
    expect(ownSki).not.toBe(caSki);
  });

  it('has an issuer byte-identical to the CA subject', () => {
    expect(tbsFields(first.cert).issuer.equals(tbsFields(first.caCert).subject)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
  });

  it('is valid from an hour ago for 365 days', () => {
    expect(Math.abs(Date.parse(leaf.validFrom) - (generatedAt - HOUR))).toBeLessThan(60_000);
    expect(Math.abs(Date.parse(leaf.validTo) - (generatedAt + 365 * DAY))).toBeLessThan(60_000);
  });

  it('never outlives its CA', () => {
    const shortCa = generateCertificateAuthority({ validityDays: 10 });
    const long = issueServingCertificate(shortCa, { service: SERVICE, namespace: NAMESPACE, validityDays: 365 });
    expect(new X509Certificate(long.cert).validTo).toBe(new X509Certificate(shortCa.cert).validTo);
  });

  it('has a 2048-bit RSA key that matches the certificate', () => {
    expect(leaf.publicKey.asymmetricKeyType).toBe('rsa');
    expect(leaf.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(ca.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(leaf.checkPrivateKey(createPrivateKey(first.key))).toBe(true);
    expect(ca.checkPrivateKey(createPrivateKey(first.caKey))).toBe(true);
  });
});

describe('signatures and serial numbers', () => {
  it.each(['caCert', 'cert'] as const)('%s is signed with sha256WithRSAEncryption', (name) => {
    const cert = forge.pki.certificateFromPem(first[name]);
    expect(forge.pki.oids[cert.signatureOid]).toBe('sha256WithRSAEncryption');
    expect(forge.pki.oids[cert.siginfo.algorithmOid]).toBe('sha256WithRSAEncryption');
  });

  it('uses positive, minimally encoded serials of at most 20 bytes', () => {
    for (const pem of [first.caCert, first.cert, second.caCert, second.cert]) {
      const serial = tbsFields(pem).serial;
      expect(serial[0]).toBe(0x02); // INTEGER
      const content = serial.subarray(2);
      expect(serial[1]).toBe(content.length);
      expect(content.length).toBeGreaterThan(0);
      expect(content.length).toBeLessThanOrEqual(20);
      expect(content[0]! & 0x80).toBe(0); // positive
      expect(content[0] === 0 && content.length > 1 && (content[1]! & 0x80) === 0).toBe(false); // minimal
      expect(content.equals(Buffer.alloc(content.length))).toBe(false); // not zero
    }
  });

  it('gives every certificate its own serial', () => {
    const serials = [first.caCert, first.cert, second.caCert, second.cert].map((pem) => tbsFields(pem).serial.toString('hex'));
    expect(new Set(serials).size).toBe(4);
  });

  it('gives each generation its own CA key', () => {
    expect(second.caKey).not.toBe(first.caKey);
    expect(second.key).not.toBe(first.key);
  });
});

describe('openssl verify -x509_strict -purpose sslserver', () => {
  it('accepts the serving certificate for the Service name', async () => {
    const result = await opensslVerify(join(dir, 'ca.crt'), join(dir, 'tls.crt'), SVC_HOST);
    expect(result.output).toContain('OK');
    expect(result.ok).toBe(true);
  });

  it('rejects it for another host name', async () => {
    const result = await opensslVerify(join(dir, 'ca.crt'), join(dir, 'tls.crt'), `other.${NAMESPACE}.svc`);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/hostname mismatch/i);
  });
});
