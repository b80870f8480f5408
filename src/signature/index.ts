/** Image signature verification's one import surface: pure (no I/O), async only where openpgp.js is. */
export type { SignatureVerdict } from './verdict.js';
export { checkDerivedSignature, checkDerivedSignatures, deriveSignature, hasDerivedFields, withDerivedSignatures, DERIVED_FIELDS, RULE as SIGNATURE_RULE } from './derive.js';
export { contentsToVerify, judgementOfLoneSignature, judgementsOf, loneSignatureContents } from './plan.js';
export { SignatureVerifier, readKeySet, MAX_KEY_FILE_BYTES, VERDICT_CACHE_BYTES, type KeySet, type KeySource } from './verifier.js';
export { checkExpectedTrust, EXPECT_RULE, parseRepositoryScopes } from './expect.js';
