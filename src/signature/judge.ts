/**
 * What a signature is, for one Image: the Trusted and ForImage conditions and the fields OpenShift's
 * ImageSignature derives from a verified signature. Pure and synchronous: the cryptography already
 * happened (verdict.ts); this only compares what the signature claims with the Image.
 *
 * "Trusted" requires all three (docs/signatures.md):
 * 1. the blob verifies under a trusted key, judged now (not revoked, not expired), and its payload is a
 *    valid simple-signing payload;
 * 2. it is for this Image: the signed `docker-manifest-digest` is the Image's digest (`metadata.name`),
 *    which the content rules tie to the manifest (for schema 1, to its canonical payload);
 * 3. its identity matches the Image's repository (`dockerImageReference`) under matchRepoDigestOrExact.
 */
import { matchRepoDigestOrExact } from './identity.js';
import type { SignatureVerdict, VerdictFailure } from './verdict.js';

/** The signature types this webhook verifies: containers/image's, and the name OpenShift's importer writes. */
export const VERIFIED_TYPES: readonly string[] = ['atomic', 'AtomicImageV1'];

/** Why a signature was not verified at all. */
export type NotVerified =
  /** A type this webhook cannot verify. */
  | 'UnsupportedType'
  /** Content that is not standard base64 (the shape rules deny it too). */
  | 'InvalidContent'
  /** Beyond the per-review cap of verified signatures. */
  | 'TooManySignatures';

/** A condition as verification sets it, before times are added. */
export interface DerivedCondition {
  readonly type: 'Trusted' | 'ForImage';
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** The fields of an ImageSignature that verification derives. */
export interface DerivedFields {
  readonly imageIdentity?: string;
  readonly signedClaims?: Readonly<Record<string, string>>;
  readonly created?: string;
  readonly issuedBy?: { readonly commonName: string };
  readonly issuedTo?: { readonly commonName: string; readonly publicKeyID: string };
}

/** Everything verification says about one signature of one Image. */
export interface SignatureJudgement {
  readonly trusted: DerivedCondition;
  readonly forImage: DerivedCondition;
  readonly fields: DerivedFields;
  /** The outcome as one identifier (metrics, logs): `Verified` or the reason it is not trusted. */
  readonly outcome: 'Verified' | VerdictFailure | NotVerified | 'NotForImage' | 'IdentityMismatch' | 'IdentityUnknown';
}

/** The parts of an Image a judgement depends on. */
export interface ImageIdentity {
  /** `metadata.name`: the manifest digest. */
  readonly name: unknown;
  readonly dockerImageReference: unknown;
  /** The digest of `dockerImageManifest`, given only when `name` is no digest: then it is the Image's digest. */
  readonly manifestDigest?: string;
}

const UNKNOWN_FOR_IMAGE = (why: string): DerivedCondition => ({
  type: 'ForImage',
  status: 'Unknown',
  reason: 'NotVerified',
  message: `what the signature is for is unknown: ${why}`,
});

/** Judges a signature that was not verified (unsupported type, bad content, over the cap). */
export function judgeUnverified(why: NotVerified, type: unknown): SignatureJudgement {
  const message =
    why === 'UnsupportedType'
      ? `signatures of type ${JSON.stringify(String(type).slice(0, 64))} are not verified; only ${VERIFIED_TYPES.join(' and ')} are`
      : why === 'InvalidContent'
        ? 'the content is not standard base64'
        : 'not verified: the write carries more signatures than are verified per review';
  return {
    trusted: { type: 'Trusted', status: 'False', reason: why, message },
    forImage: UNKNOWN_FOR_IMAGE('the signature was not verified'),
    fields: {},
    outcome: why,
  };
}

/** Judges a verified (or failed) signature blob against `image`. */
export function judgeSignature(image: ImageIdentity, verdict: SignatureVerdict): SignatureJudgement {
  if (!verdict.verified) {
    return {
      trusted: { type: 'Trusted', status: 'False', reason: verdict.reason, message: verdict.message },
      forImage: UNKNOWN_FOR_IMAGE('the signature did not verify'),
      fields: {},
      outcome: verdict.reason,
    };
  }
  const { claims, signer } = verdict;
  const signedClaims: Record<string, string> = {
    'critical.type': 'atomic container signature',
    'critical.image.docker-manifest-digest': claims.dockerManifestDigest,
    'critical.identity.docker-reference': claims.dockerReference,
  };
  if (claims.creator !== undefined) signedClaims['optional.creator'] = claims.creator;
  if (claims.timestamp !== undefined) signedClaims['optional.timestamp'] = String(claims.timestamp);
  const fields: DerivedFields = {
    imageIdentity: claims.dockerReference,
    signedClaims,
    created: verdict.created,
    issuedBy: { commonName: signer.userID },
    issuedTo: { commonName: signer.userID, publicKeyID: signer.fingerprint },
  };
  const by = `key ${signer.fingerprint}${signer.fingerprint === signer.primaryFingerprint ? '' : ` (a subkey of ${signer.primaryFingerprint})`}`;

  const [digest, digestField] = image.manifestDigest === undefined ? [image.name, 'metadata.name'] : [image.manifestDigest, "the manifest's digest"];
  if (claims.dockerManifestDigest !== digest) {
    return {
      trusted: { type: 'Trusted', status: 'False', reason: 'NotForImage', message: `signed by ${by}, but for manifest ${claims.dockerManifestDigest}, not this Image` },
      forImage: { type: 'ForImage', status: 'False', reason: 'DigestMismatch', message: `the signed digest ${claims.dockerManifestDigest} is not ${digestField}` },
      fields,
      outcome: 'NotForImage',
    };
  }
  const forImage: DerivedCondition = { type: 'ForImage', status: 'True', reason: 'DigestMatches', message: `the signed digest is ${digestField}` };
  const reference = typeof image.dockerImageReference === 'string' ? image.dockerImageReference : '';
  const identity = matchRepoDigestOrExact(reference, claims.dockerReference);
  if (!identity.ok) {
    return {
      trusted: { type: 'Trusted', status: 'False', reason: 'IdentityMismatch', message: `signed by ${by}, but ${identity.problem}` },
      forImage,
      fields,
      outcome: 'IdentityMismatch',
    };
  }
  return {
    trusted: { type: 'Trusted', status: 'True', reason: 'Verified', message: `signed by trusted ${by} for ${claims.dockerReference}` },
    forImage,
    fields,
    outcome: 'Verified',
  };
}

/**
 * Judges a lone ImageSignature object (`imagesignatures` CREATE), named `<imageName>@<signatureName>`:
 * the Image's digest is the name's first part, but its repository is not part of the object, so a
 * signature that verifies for this digest is `Trusted=Unknown` (the claims, which only a trusted
 * signature may carry, stay unset) until it is judged inside its Image. Failures are judged as there.
 */
export function judgeLoneSignature(imageName: string, verdict: SignatureVerdict): SignatureJudgement {
  const judged = judgeSignature({ name: imageName, dockerImageReference: undefined }, verdict);
  if (!verdict.verified || judged.outcome === 'NotForImage') return judged;
  const { fingerprint, primaryFingerprint } = verdict.signer;
  const by = `key ${fingerprint}${fingerprint === primaryFingerprint ? '' : ` (a subkey of ${primaryFingerprint})`}`;
  return {
    trusted: {
      type: 'Trusted',
      status: 'Unknown',
      reason: 'IdentityUnknown',
      message: `signed by trusted ${by} for this digest; its identity ${verdict.claims.dockerReference} is judged against the Image's repository once the signature is in the Image`,
    },
    forImage: judged.forImage,
    fields: {},
    outcome: 'IdentityUnknown',
  };
}
