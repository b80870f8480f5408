/**
 * The verdict on one signature blob under one set of trusted keys: verified (with what it claims and
 * who signed it) or not, and why. It depends only on the blob, the keys and the time, so it can be
 * cached by (content, key set); whether the signature is for a given Image is decided afterwards
 * (judge.ts). Pure: no I/O.
 */
import type { PublicKey } from 'openpgp';
import { parsePayload, type SignedClaims } from './payload.js';
import { type CryptoFailure, type Signer, verifyMessage, type VerifyWork } from './verify.js';

/** Why a blob is not a verified signature. */
export type VerdictFailure = CryptoFailure | 'InvalidPayload';

export type SignatureVerdict =
  | { readonly verified: true; readonly claims: SignedClaims; readonly signer: Signer; readonly created: string }
  | { readonly verified: false; readonly reason: VerdictFailure; readonly message: string };

/** Verifies the blob, and only then reads its payload (containers/image never parses an unverified one). */
export async function verifySignature(content: Uint8Array, keys: readonly PublicKey[], now: Date, work?: VerifyWork): Promise<SignatureVerdict> {
  const result = await verifyMessage(content, keys, now, work);
  if (!result.ok) return { verified: false, reason: result.reason, message: result.message };
  const payload = parsePayload(result.payload);
  if (!payload.ok) return { verified: false, reason: 'InvalidPayload', message: `the signed payload is not a valid simple-signing payload: ${payload.problem}` };
  return { verified: true, claims: payload.claims, signer: result.signer, created: result.created.toISOString().replace(/\.\d{3}Z$/, 'Z') };
}
