/**
 * Verifies one `atomic` signature blob (a binary OpenPGP signed message) against the trusted keys, as
 * containers/image's gpgme mechanism (signature/mechanism_gpgme.go) judges it, with openpgp.js for
 * every cryptographic step. Pure in the sense that matters here: bytes and keys in, a verdict out, no
 * I/O; it is async only because openpgp.js is.
 *
 * What is refused, in this order, and why the order: everything that costs no public-key operation
 * comes first, so that a writer cannot make the webhook do expensive work with junk.
 * 1. more than MAX_MESSAGE_BYTES; armored or cleartext-signed (`-----BEGIN PGP`: `oc` and
 *    containers/image accept only binary messages); not an OpenPGP packet at all;
 * 2. packets that do not parse, or that decompress beyond MAX_DECOMPRESSED_BYTES;
 * 3. anything but exactly one literal data packet and exactly one signature (at most one one-pass
 *    signature header): gpgme's "Unexpected GPG signature count";
 * 4. a signature by a key that is not trusted (found by the issuer key ID: no public-key work);
 * 5. the signature does not verify, or has expired by now;
 * 6. the key, judged NOW as gpgme judges it: a key or signing subkey that is revoked or has expired by
 *    now fails the signature even if it was valid when it signed (openpgp.js on its own judges the key
 *    at the signature's creation time). A signing subkey counts as its primary key: trusting a key
 *    trusts its valid signing subkeys.
 * The payload is returned unparsed: it is parsed only after this succeeded (payload.ts).
 */
import { type Config, config as defaults, enums, type Key, type PublicKey, readMessage, verify } from 'openpgp';

/** A signed message larger than this is refused unread. Real atomic signatures are under 2 KiB. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** A compressed message may not inflate beyond this (a compression bomb costs nothing to send). */
const MAX_DECOMPRESSED_BYTES = 64 * 1024;
/** A signed message has a one-pass header, the literal data and the signature: nothing more. */
const MAX_PACKETS = 3;

/** Why a blob failed, as a stable identifier (metrics, condition reasons). */
export type CryptoFailure =
  | 'TooLarge'
  | 'Armored'
  | 'NotOpenPGP'
  | 'MalformedMessage'
  | 'SignatureCount'
  | 'UntrustedKey'
  | 'BadSignature'
  | 'ExpiredSignature'
  | 'ExpiredKey'
  | 'RevokedKey'
  | 'UnusableKey';

/** Who made a verified signature. */
export interface Signer {
  /** The fingerprint of the key that made the signature (a subkey's when a subkey signed), upper-case hex as gpgme gives it. */
  readonly fingerprint: string;
  /** The fingerprint of its primary key: the trusted key. */
  readonly primaryFingerprint: string;
  /** The primary user ID of the trusted key (e.g. `Release Signing <sign@example.com>`), at most 256 characters. */
  readonly userID: string;
}

export type CryptoVerdict =
  | { readonly ok: true; readonly payload: Uint8Array; readonly signer: Signer; readonly created: Date }
  | { readonly ok: false; readonly reason: CryptoFailure; readonly message: string };

/** Counts of the work done, for tests and metrics: how often public-key operations ran. */
export interface VerifyWork {
  /** Messages that reached the public-key step (5 above). */
  publicKeyChecks: number;
}

/** openpgp.js's defaults (which refuse MD5, RIPEMD, DSA, ElGamal and RSA under 2047 bits) plus the inflation cap. */
const CONFIG: Config = { ...defaults, maxDecompressedMessageSize: MAX_DECOMPRESSED_BYTES };

/** Verifies `content` (the decoded signature blob) against `keys` at time `now`. */
export async function verifyMessage(content: Uint8Array, keys: readonly PublicKey[], now: Date, work?: VerifyWork): Promise<CryptoVerdict> {
  if (content.length > MAX_MESSAGE_BYTES) return failure('TooLarge', `the signature is ${content.length} bytes; at most ${MAX_MESSAGE_BYTES} are verified`);
  if (startsWithArmor(content)) return failure('Armored', 'the signature is ASCII-armored or cleartext-signed; only binary OpenPGP messages are accepted');
  // Every OpenPGP packet header has its top bit set.
  if (content.length === 0 || (content[0]! & 0x80) === 0) return failure('NotOpenPGP', 'the signature is not an OpenPGP message');

  let message: Awaited<ReturnType<typeof readMessage<Uint8Array>>>;
  try {
    message = (await readMessage({ binaryMessage: content, config: CONFIG })).unwrapCompressed();
  } catch (error) {
    return failure('MalformedMessage', `the signature is not a valid OpenPGP message: ${brief(error)}`);
  }
  const counts = new Map<number, number>();
  const packets = packetsOf(message);
  for (const packet of packets) {
    const tag = (packet.constructor as unknown as { tag: number }).tag;
    counts.set(tag, (counts.get(tag) ?? 0) + 1);
  }
  const literal = counts.get(enums.packet.literalData) ?? 0;
  const signatures = counts.get(enums.packet.signature) ?? 0;
  const onePass = counts.get(enums.packet.onePassSignature) ?? 0;
  if (signatures !== 1) return failure('SignatureCount', `the message carries ${signatures} signatures; exactly one is required`);
  if (literal !== 1 || onePass > 1 || packets.length > MAX_PACKETS || literal + signatures + onePass !== packets.length) {
    return failure('MalformedMessage', 'the message is not one signed literal data packet');
  }

  const [keyID] = message.getSigningKeyIDs();
  const key = keyID === undefined ? undefined : keys.find((candidate) => candidate.getKeys(keyID).length > 0);
  if (keyID === undefined || key === undefined) {
    return failure('UntrustedKey', `the signature was made by key ${keyID?.toHex().toUpperCase() ?? '(none named)'}, which is not a trusted key`);
  }

  if (work) work.publicKeyChecks++;
  let payload: Uint8Array;
  let created: Date;
  try {
    const result = await verify({ message, verificationKeys: [key], format: 'binary', date: now, config: CONFIG });
    const [only] = result.signatures;
    if (only === undefined) return failure('SignatureCount', 'the message carries no signature');
    await only.verified;
    const packet = (await only.signature).packets[0];
    if (packet?.created === undefined || packet.created === null) return failure('BadSignature', 'the signature has no creation time');
    created = packet.created;
    payload = result.data;
    const expires = packet.getExpirationTime();
    if (expires !== Infinity && now >= expires) return failure('ExpiredSignature', `the signature expired at ${new Date(expires).toISOString()}`);
  } catch (error) {
    return failure(classify(error, 'BadSignature'), `the signature does not verify: ${brief(error)}`);
  }

  // gpgme judges the key now; openpgp.js judged it at the signature's creation time.
  let signingKey: Awaited<ReturnType<Key['getSigningKey']>>;
  try {
    signingKey = await key.getSigningKey(keyID, now, undefined, CONFIG);
  } catch (error) {
    return failure(classify(error, 'UnusableKey'), `the signing key cannot be trusted now: ${brief(error)}`);
  }
  return {
    ok: true,
    payload,
    created,
    signer: {
      fingerprint: signingKey.getFingerprint().toUpperCase(),
      primaryFingerprint: key.getFingerprint().toUpperCase(),
      userID: await primaryUserID(key, now),
    },
  };
}

/**
 * Every packet of a message read from bytes. openpgp.js keeps the list itself only up to the literal data
 * (the trailing signatures are meant to be streamed); the whole sequence, already parsed and checked
 * against the message grammar, is in the list's `stream`, an array when the input was not a stream.
 * The two-signatures fixture guards this: if openpgp.js changes, it stops counting two.
 */
function packetsOf(message: { packets: object & ArrayLike<object> }): readonly object[] {
  const stream = (message.packets as { stream?: unknown }).stream;
  return Array.isArray(stream) ? (stream as object[]) : Array.from(message.packets);
}

const ARMOR = Buffer.from('-----BEGIN PGP');

function startsWithArmor(content: Uint8Array): boolean {
  // Leading whitespace does not make an armored blob binary.
  let i = 0;
  while (i < content.length && (content[i] === 0x20 || content[i] === 0x09 || content[i] === 0x0a || content[i] === 0x0d)) i++;
  return Buffer.from(content.buffer, content.byteOffset + i, Math.min(ARMOR.length, content.length - i)).equals(ARMOR);
}

async function primaryUserID(key: PublicKey, now: Date): Promise<string> {
  try {
    const { user } = await key.getPrimaryUser(now, undefined, CONFIG);
    return (user.userID?.userID ?? '').slice(0, 256);
  } catch {
    return '';
  }
}

/** Sorts openpgp.js's error messages into the reasons gpgme distinguishes. */
function classify(error: unknown, otherwise: CryptoFailure): CryptoFailure {
  const text = error instanceof Error ? error.message : String(error);
  if (/revoked/i.test(text)) return 'RevokedKey';
  if (/signature is expired/i.test(text)) return 'ExpiredSignature';
  if (/expired/i.test(text)) return 'ExpiredKey';
  return otherwise;
}

function brief(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}

function failure(reason: CryptoFailure, message: string): CryptoVerdict {
  return { ok: false, reason, message };
}
