/**
 * Which TLS versions and TLS 1.2 cipher suites the server accepts, named as Kubernetes components
 * name them (`--tls-min-version VersionTLS12`, `--tls-cipher-suites` with IANA names), and turned into
 * the options Node's TLS layer takes.
 *
 * Node's default TLS 1.2 list still offers RSA key exchange (no forward secrecy) and CBC-SHA1 suites.
 * The default here is Mozilla's "intermediate" profile as Go's crypto/tls defaults read it: ECDHE key
 * exchange with AES-GCM or ChaCha20-Poly1305 only. The API server is a Go client and offers these
 * first, so nothing it needs is lost. TLS 1.3 suites are all forward-secret AEAD and, as in Go, are
 * not configurable.
 */

/** The TLS 1.2 suites that may be named: IANA name → OpenSSL name. Only forward-secret AEAD suites. */
const TLS12_CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};

/** All of them, in Go's preference order (AES-128 first: as strong in practice, and cheaper). */
const DEFAULT_TLS12_CIPHER_SUITES: readonly string[] = Object.keys(TLS12_CIPHER_SUITES);

/** `--tls-min-version` values, as Kubernetes components spell them, and Node's names for them. */
export const TLS_VERSIONS = { VersionTLS12: 'TLSv1.2', VersionTLS13: 'TLSv1.3' } as const;
export type TlsVersionName = keyof typeof TLS_VERSIONS;

/** What the server accepts; part of the Config. */
export interface TlsPolicy {
  minVersion: TlsVersionName;
  /** IANA names of the TLS 1.2 suites, in preference order (ignored when minVersion is TLS 1.3). */
  cipherSuites: readonly string[];
}

export const DEFAULT_TLS_POLICY: TlsPolicy = { minVersion: 'VersionTLS12', cipherSuites: DEFAULT_TLS12_CIPHER_SUITES };

/** Reads `--tls-cipher-suites`: a comma-separated list of IANA names, or why it cannot be used. */
export function parseCipherSuites(list: string): { ok: true; suites: string[] } | { ok: false; problem: string } {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) return { ok: false, problem: 'names no cipher suite' };
  const unknown = names.filter((name) => !Object.hasOwn(TLS12_CIPHER_SUITES, name));
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 5).map((name) => JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name));
    return {
      ok: false,
      problem: `names suites that are not forward-secret AEAD TLS 1.2 suites (or not IANA names): ${shown.join(', ')}; accepted: ${DEFAULT_TLS12_CIPHER_SUITES.join(', ')}`,
    };
  }
  return { ok: true, suites: [...new Set(names)] };
}

/** The options of tls.createSecureContext / https.createServer that enforce `policy`. */
export function secureContextOptions(policy: TlsPolicy): { minVersion: 'TLSv1.2' | 'TLSv1.3'; ciphers: string; honorCipherOrder: true } {
  // OpenSSL takes TLS 1.2 suites from this list; without a TLS_* (TLS 1.3) name in it, Node keeps
  // the TLS 1.3 defaults.
  return {
    minVersion: TLS_VERSIONS[policy.minVersion],
    ciphers: policy.cipherSuites.map((name) => TLS12_CIPHER_SUITES[name]!).join(':'),
    honorCipherOrder: true,
  };
}
