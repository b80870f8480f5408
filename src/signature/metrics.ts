/**
 * The trust metrics the webhook and the controller both export. One definition of their names, help
 * and labels, so a dashboard or alert reads them the same from either Deployment.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface TrustMetrics {
  /** Records the trusted keys in use and the key files skipped; call at start and on every reload. */
  setTrustedKeys(keys: number, skippedFiles: number): void;
  /** Counts signature verifications actually performed (cache hits are not), by their outcome. */
  signatureVerified(outcome: string, count?: number): void;
}

/** Registers the trust metrics in `registry`. */
export function trustMetrics(registry: Registry): TrustMetrics {
  const trustedKeys = new Gauge({
    name: 'image_admission_trusted_keys',
    help: 'OpenPGP public keys trusted for image signatures (0: no signature is trusted).',
    registers: [registry],
  });
  const skippedKeyFiles = new Gauge({
    name: 'image_admission_trusted_key_files_skipped',
    help: 'Files of the trusted keys directory that hold no usable public key (see the log).',
    registers: [registry],
  });
  const verifications = new Counter({
    name: 'image_admission_signature_verifications_total',
    help: 'Signature verifications performed, by outcome (Verified, UntrustedKey, BadSignature, ExpiredKey, ...); cached verdicts are not counted.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  return {
    setTrustedKeys(keys, skippedFiles) {
      trustedKeys.set(keys);
      skippedKeyFiles.set(skippedFiles);
    },
    signatureVerified(outcome, count = 1) {
      verifications.inc({ result: outcome }, count);
    },
  };
}
