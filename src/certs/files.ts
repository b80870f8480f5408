/**
 * The certificate folder on disk: `ca.crt`, `ca.key`, `tls.crt`, `tls.key`, the names a Kubernetes
 * TLS Secret mounts with, so the server reads the same paths in development and in a cluster.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { access, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CertificatePems,
  type GenerateOptions,
  generateCertificates,
  issueServingCertificate,
  type ServiceNames,
  servingIdentity,
  servingIdentityOf,
  type Validity,
} from './generate.js';

/** Where each PEM of `CertificatePems` lives in a certificate folder. */
export type CertificatePaths = Record<keyof CertificatePems, string>;

/** The file names inside a certificate folder. */
const CERTIFICATE_FILES: CertificatePaths = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key' };

const PRIVATE: ReadonlySet<keyof CertificatePems> = new Set(['caKey', 'key']);

/** The four paths of a certificate folder. */
export function certificatePaths(dir: string): CertificatePaths {
  return {
    caCert: join(dir, CERTIFICATE_FILES.caCert),
    caKey: join(dir, CERTIFICATE_FILES.caKey),
    cert: join(dir, CERTIFICATE_FILES.cert),
    key: join(dir, CERTIFICATE_FILES.key),
  };
}

/**
 * Writes the given PEMs (all four, or only some), each atomically; keys get mode 0600, certificates 0644.
 * Returns the paths written. The key is written before its certificate, so a reader that sees the new
 * certificate finds the new key already there.
 */
export async function writeCertificates(dir: string, pems: Partial<CertificatePems>): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = certificatePaths(dir);
  const order: (keyof CertificatePems)[] = ['caKey', 'caCert', 'key', 'cert'];
  const written: string[] = [];
  for (const name of order) {
    const pem = pems[name];
    if (pem === undefined) continue;
    await writeFileAtomically(paths[name], pem, PRIVATE.has(name) ? 0o600 : 0o644);
    written.push(paths[name]);
  }
  return written;
}

/** Reads all four PEMs of a certificate folder; fails when one is missing. */
export async function readCertificates(dir: string): Promise<CertificatePems> {
  const paths = certificatePaths(dir);
  const [caCert, caKey, cert, key] = await Promise.all(
    [paths.caCert, paths.caKey, paths.cert, paths.key].map((path) => readFile(path, 'utf8')),
  );
  return { caCert: caCert!, caKey: caKey!, cert: cert!, key: key! };
}

/** What `ensureDevelopmentCertificates` did. */
export interface EnsureResult {
  generated: boolean;
  paths: CertificatePaths;
  /** The files written, empty when nothing was generated. */
  written: string[];
}

/**
 * Makes sure `dir` holds a serving pair, generating one only when `tls.crt` or `tls.key` is missing.
 * An existing CA (both `ca.crt` and `ca.key`) is reused, so clients that trust it keep working.
 */
export async function ensureDevelopmentCertificates(dir: string, opts: GenerateOptions): Promise<EnsureResult> {
  const paths = certificatePaths(dir);
  if ((await exists(paths.cert)) && (await exists(paths.key))) return { generated: false, paths, written: [] };

  if ((await exists(paths.caCert)) && (await exists(paths.caKey))) {
    const ca = { cert: await readFile(paths.caCert, 'utf8'), key: await readFile(paths.caKey, 'utf8') };
    const leaf = issueServingCertificate(ca, opts);
    return { generated: true, paths, written: await writeCertificates(dir, leaf) };
  }
  return { generated: true, paths, written: await writeCertificates(dir, generateCertificates(opts)) };
}

/** Options of `renewServingCertificate`. */
export interface RenewOptions {
  /** Renew when the serving certificate expires within this many days (or has expired). */
  renewWithinDays: number;
  /** Lifetime of the new serving certificate; defaults to `DEFAULT_VALIDITY_DAYS`. */
  validityDays?: number;
  now?: Date;
}

/** What `renewServingCertificate` did. */
export interface RenewResult {
  renewed: boolean;
  /** When the serving certificate now on disk expires. */
  notAfter: Date;
  written: string[];
}

/**
 * Re-issues `tls.crt`/`tls.key` from the CA in `dir` when the serving certificate expires within the
 * window, keeping the CA (so the webhook configuration's caBundle stays valid) and the certificate's names.
 */
export async function renewServingCertificate(dir: string, opts: RenewOptions): Promise<RenewResult> {
  const now = opts.now ?? new Date();
  const pems = await readCertificates(dir);
  const notAfter = certificateExpiry(pems.cert);
  if (notAfter.getTime() - now.getTime() > opts.renewWithinDays * 24 * 60 * 60 * 1000) {
    return { renewed: false, notAfter, written: [] };
  }
  const leaf = issueServingCertificate(
    { cert: pems.caCert, key: pems.caKey },
    { ...servingIdentityOf(pems.cert), validityDays: opts.validityDays, now },
  );
  const written = await writeCertificates(dir, leaf);
  return { renewed: true, notAfter: certificateExpiry(leaf.cert), written };
}

/** What `reissueForNames` did: nothing when the serving certificate already carries every name. */
export interface ReissueResult {
  reissued: boolean;
  /** The DNS names the certificate lacked. */
  missing: string[];
  written: string[];
}

/**
 * Re-issues `tls.crt`/`tls.key` from the CA in `dir` when the serving certificate lacks a name a new one
 * for `names` would carry (the Service or its namespace changed). The CA is kept, so every caBundle
 * that trusts it stays valid; only the leaf changes.
 */
export async function reissueForNames(dir: string, names: ServiceNames & Validity): Promise<ReissueResult> {
  const pems = await readCertificates(dir);
  const have = servingIdentityOf(pems.cert);
  const want = servingIdentity(names);
  const missing = [...want.dnsNames.filter((n) => !have.dnsNames.includes(n)), ...want.ipAddresses.filter((ip) => !have.ipAddresses.includes(ip))];
  if (missing.length === 0) return { reissued: false, missing, written: [] };
  const leaf = issueServingCertificate({ cert: pems.caCert, key: pems.caKey }, names);
  return { reissued: true, missing, written: await writeCertificates(dir, leaf) };
}

/** The notAfter time of the first certificate in a PEM. */
export function certificateExpiry(pem: string): Date {
  const expiry = new Date(new X509Certificate(pem).validTo);
  if (Number.isNaN(expiry.getTime())) throw new Error('cannot read the certificate expiry date');
  return expiry;
}

// Write-then-rename: a reader (the server, the reload watcher) sees the old file or the new one, never half.
// The temporary file is created with its final mode, so a key is never readable by others, even briefly.
async function writeFileAtomically(path: string, content: string, mode: number): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(content);
    // open() applies the umask; chmod makes the mode exact whatever the umask.
    await handle.chmod(mode);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
