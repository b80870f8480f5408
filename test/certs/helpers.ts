/** Test helpers: raw DER fields of a certificate, and openssl verification. */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The raw DER (tag, length and content) of each field of a certificate's TBSCertificate. */
export interface TbsFields {
  serial: Buffer;
  issuer: Buffer;
  subject: Buffer;
}

interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

// A DER reader just big enough to cut a certificate into its fields without re-encoding them:
// re-encoding would hide exactly the byte-level differences these tests look for.
function readTlv(der: Buffer, start: number): Tlv {
  const tag = der[start]!;
  let length = der[start + 1]!;
  let contentStart = start + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[contentStart + i]!;
    contentStart += count;
  }
  return { tag, start, contentStart, end: contentStart + length };
}

function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = readTlv(der, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** Cuts the serial number, issuer and subject out of a PEM certificate, as raw DER. */
export function tbsFields(pem: string): TbsFields {
  const der = new X509Certificate(pem).raw;
  const certificate = readTlv(der, 0);
  const tbs = children(der, certificate)[0]!;
  const fields = children(der, tbs);
  // TBSCertificate: [0] version, serialNumber, signature, issuer, validity, subject, ...
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0;
  const raw = (i: number): Buffer => {
    const f = fields[offset + i]!;
    return der.subarray(f.start, f.end);
  };
  return { serial: raw(0), issuer: raw(2), subject: raw(4) };
}

/** Runs `openssl verify` the way a strict server-certificate check does; resolves to its exit status and output. */
export async function opensslVerify(
  caFile: string,
  certFile: string,
  host: string,
): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('/usr/bin/openssl', [
      'verify',
      '-x509_strict',
      '-purpose',
      'sslserver',
      '-verify_hostname',
      host,
      '-CAfile',
      caFile,
      certFile,
    ]);
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
