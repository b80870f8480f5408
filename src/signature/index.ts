/** Image signature verification's one import surface: pure (no I/O), async only where openpgp.js is. */
export { verifyMessage, MAX_MESSAGE_BYTES, MAX_DECOMPRESSED_BYTES, type CryptoFailure, type Signer } from './verify.js';
export { parsePayload, type SignedClaims } from './payload.js';
export { verifySignature, type SignatureVerdict, type VerdictFailure } from './verdict.js';
export { matchRepoDigestOrExact, normalizeReference } from './identity.js';
export { judgeSignature, judgeUnverified, VERIFIED_TYPES, type SignatureJudgement } from './judge.js';
export { checkDerivedSignatures, withDerivedSignatures, DERIVED_FIELDS, RULE as SIGNATURE_RULE, type JudgementOf } from './derive.js';
export { contentsToVerify, judgementsOf, MAX_VERIFIED_PER_REVIEW } from './plan.js';
export { SignatureVerifier, readKeySet, NO_KEYS, MAX_KEY_FILE_BYTES, type KeySet, type KeySource } from './verifier.js';
