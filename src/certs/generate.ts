/**
 * Builds a development CA and a serving certificate the Kubernetes API server accepts.
 *
 * The API server verifies webhook certificates with Go's crypto/x509, which is stricter than Node:
 * names only in SANs, SHA-256 (not SHA-1), positive minimally encoded serials, a CA marked as one.
 * Every choice below that looks pedantic is one of those checks (see docs pitfalls.md, "TLS").
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

/** A certificate and its private key, both PEM. */
export interface PemKeyPair {
  cert: string;
  key: string;
}

/** Everything `generateCertificates` makes: the CA pair and the serving pair, all PEM. */
export interface CertificatePems {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

/** The names a serving certificate is valid for. */
export interface ServingIdentity {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
}

/** The Service a webhook is reached through, plus names to add for development. */
export interface ServiceNames {
  service: string;
  namespace: string;
  extraDnsNames?: string[];
  /** IP SANs in addition to 127.0.0.1. */
  ipAddresses?: string[];
}

/** How long a certificate is valid; `now` is injectable for tests and renewal. */
export interface Validity {
  validityDays?: number;
  now?: Date;
}

/** Options of `generateCertificateAuthority`. */
export interface CaOptions extends Validity {
  commonName?: string;
}

/** Options of `generateCertificates`. */
export interface GenerateOptions extends ServiceNames {
  validityDays?: number;
  caValidityDays?: number;
  now?: Date;
}

/** Default lifetime of the development CA: long, since every client must be given it again when it changes. */
const DEFAULT_CA_VALIDITY_DAYS = 3650;
/** Default lifetime of the serving certificate: short enough to exercise renewal, long enough to forget. */
const DEFAULT_VALIDITY_DAYS = 365;

const DAY_MS = 24 * 60 * 60 * 1000;
// Backdated so that a node whose clock is a little behind the signer's still accepts a fresh certificate.
const BACKDATE_MS = 60 * 60 * 1000;

/** Creates a self-signed RSA-2048 CA that may sign certificates and CRLs, and nothing else. */
export function generateCertificateAuthority(opts: CaOptions = {}): PemKeyPair {
  const { privateKey, publicKey, keyPem } = newRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialHex();
  setValidity(cert, opts.now, opts.validityDays ?? DEFAULT_CA_VALIDITY_DAYS);
  const subject = [{ shortName: 'CN', value: opts.commonName ?? 'image-admission-webhook development CA' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    // Go refuses to chain through a certificate whose basicConstraints do not say cA.
    { name: 'basicConstraints', critical: true, cA: true },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

/** The SANs of a webhook behind `service` in `namespace`, plus localhost and 127.0.0.1 for development. */
export function servingIdentity(names: ServiceNames): ServingIdentity {
  const { service, namespace } = names;
  const dnsNames = [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
    'localhost',
    ...(names.extraDnsNames ?? []),
  ];
  const ipAddresses = ['127.0.0.1', ...(names.ipAddresses ?? [])];
  return { commonName: `${service}.${namespace}.svc`, dnsNames: unique(dnsNames), ipAddresses: unique(ipAddresses) };
}

/** Reads the names back out of a serving certificate, so that renewal keeps them. */
export function servingIdentityOf(certPem: string): ServingIdentity {
  const cert = forge.pki.certificateFromPem(certPem);
  const cn = cert.subject.getField('CN') as { value: string } | null;
  const san = cert.getExtension('subjectAltName') as { altNames?: { type: number; value: string; ip?: string }[] } | undefined;
  const altNames = san?.altNames ?? [];
  return {
    commonName: cn?.value ?? '',
    dnsNames: altNames.filter((n) => n.type === SAN_DNS).map((n) => n.value),
    ipAddresses: altNames.filter((n) => n.type === SAN_IP && n.ip !== undefined).map((n) => n.ip as string),
  };
}

/**
 * Issues an RSA-2048 serverAuth certificate signed by `ca`, for a Service or for explicit names.
 * The leaf never outlives its CA: a chain is only as valid as its shortest-lived link.
 */
export function issueServingCertificate(ca: PemKeyPair, opts: (ServiceNames | ServingIdentity) & Validity): PemKeyPair {
  const identity = 'service' in opts ? servingIdentity(opts) : opts;
  if (identity.dnsNames.length === 0 && identity.ipAddresses.length === 0) {
    throw new Error('a serving certificate needs at least one DNS name or IP address');
  }
  return issueLeaf(ca, identity.commonName, opts, [
    { name: 'extKeyUsage', serverAuth: true },
    // Go and Node match names against SANs only; the CN is for people reading the certificate.
    {
      name: 'subjectAltName',
      altNames: [
        ...identity.dnsNames.map((value) => ({ type: SAN_DNS, value })),
        ...identity.ipAddresses.map((ip) => ({ type: SAN_IP, ip: checkedIp(ip) })),
      ],
    },
  ]);
}

/**
 * Signs a new RSA-2048 end-entity certificate with `ca`: SHA-256, a fresh random serial, never valid
 * beyond the CA, the issuer copied from the CA's subject, and `usage` (extKeyUsage, SANs) on top.
 */
function issueLeaf(ca: PemKeyPair, commonName: string, validity: Validity, usage: object[]): PemKeyPair {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const { publicKey, keyPem } = newRsaKey();

  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialHex();
  setValidity(cert, validity.now, validity.validityDays ?? DEFAULT_VALIDITY_DAYS);
  if (cert.validity.notAfter > caCert.validity.notAfter) cert.validity.notAfter = caCert.validity.notAfter;
  cert.setSubject([{ shortName: 'CN', value: commonName }]);
  // Copying the parsed attributes keeps their string types, so the issuer re-encodes to the CA subject's bytes.
  cert.setIssuer(caCert.subject.attributes);

  const extensions: object[] = [
    { name: 'basicConstraints', critical: true, cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    ...usage,
    { name: 'subjectKeyIdentifier' },
  ];
  // forge's `keyIdentifier: true` hashes the certificate being built, not its issuer: copy the CA's own
  // identifier, and leave the extension out when the CA has none rather than write a wrong one.
  const caSki = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  if (caSki?.subjectKeyIdentifier) {
    extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(caSki.subjectKeyIdentifier) });
  }
  cert.setExtensions(extensions);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

/**
 * Issues an RSA-2048 clientAuth certificate signed by `ca`, for mutual TLS: the identity the API
 * server presents through its admission configuration (kubeConfigFile), or a test client's.
 */
export function issueClientCertificate(ca: PemKeyPair, opts: { commonName: string } & Validity): PemKeyPair {
  // OpenSSL checks a client's certificate for the clientAuth purpose; a serving certificate fails it.
  return issueLeaf(ca, opts.commonName, opts, [{ name: 'extKeyUsage', clientAuth: true }]);
}

/** Makes a fresh CA and a serving certificate for `<service>.<namespace>.svc`, all as PEM. */
export function generateCertificates(opts: GenerateOptions): CertificatePems {
  const ca = generateCertificateAuthority({ validityDays: opts.caValidityDays, now: opts.now });
  const leaf = issueServingCertificate(ca, { ...opts, validityDays: opts.validityDays, now: opts.now });
  return { caCert: ca.cert, caKey: ca.key, cert: leaf.cert, key: leaf.key };
}

const SAN_DNS = 2;
const SAN_IP = 7;

// forge generates RSA keys in JavaScript (seconds each); OpenSSL through node:crypto takes milliseconds.
function newRsaKey(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; keyPem: string } {
  const { privateKey: keyPem } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const privateKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  return { privateKey, publicKey: forge.pki.setRsaPublicKey(privateKey.n, privateKey.e), keyPem };
}

/**
 * 16 random bytes as a DER INTEGER body. forge writes the bytes as given, so the top bit is cleared
 * (a set bit would make the serial negative) and the first byte is non-zero (a leading zero byte is
 * non-minimal DER); Go 1.23 rejects both. 127 bits of randomness keep serials unique per CA.
 */
function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) || 0x01;
  return bytes.toString('hex');
}

function setValidity(cert: forge.pki.Certificate, now: Date | undefined, days: number): void {
  if (!Number.isFinite(days) || days <= 0) throw new Error(`validity must be a positive number of days, got ${days}`);
  const start = (now ?? new Date()).getTime();
  cert.validity.notBefore = new Date(start - BACKDATE_MS);
  cert.validity.notAfter = new Date(start + days * DAY_MS);
}

function checkedIp(ip: string): string {
  if (isIP(ip) === 0) throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
  return ip;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
