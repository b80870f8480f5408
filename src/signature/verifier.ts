/**
 * The webhook's signature verifier: the current trusted key set, and a bounded cache of verdicts keyed
 * by content under that key set (emptied when the keys change), so that the /mutate and /validate calls of one write, and re-writes of the
 * same Image, verify each signature once. No I/O: keys arrive as bytes (src/keys reads the files).
 *
 * A verdict depends on the time too (a key or signature expires): cached verdicts live at most
 * CACHE_TTL_MS, so an expiry is noticed within that long.
 */
import { createHash } from 'node:crypto';
import { type PublicKey, readKeys } from 'openpgp';
import { MAX_MESSAGE_BYTES, type VerifyWork } from './verify.js';
import { type SignatureVerdict, verifySignature } from './verdict.js';

/** A set of trusted public keys; `id` changes whenever any key's bytes change. */
export interface KeySet {
  readonly id: string;
  readonly keys: readonly PublicKey[];
  /** Primary key fingerprints, upper-case hex. */
  readonly fingerprints: readonly string[];
}

/** One key file's bytes, armored or binary. */
export interface KeySource {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** The empty key set: nothing is trusted. */
const NO_KEYS: KeySet = { id: 'none', keys: [], fingerprints: [] };

/** Key files larger than this are refused unread (a key with many signatures is still far smaller). */
export const MAX_KEY_FILE_BYTES = 1024 * 1024;
/** At most this many keys are trusted at once. */
const MAX_KEYS = 256;

/**
 * Reads key files into a key set. A file that is not a public key (unreadable, a private key, too large)
 * is reported and skipped; the others still count.
 */
export async function readKeySet(sources: readonly KeySource[]): Promise<{ keySet: KeySet; problems: { name: string; problem: string }[] }> {
  const problems: { name: string; problem: string }[] = [];
  const keys: PublicKey[] = [];
  const hash = createHash('sha256');
  for (const { name, bytes } of [...sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (bytes.length > MAX_KEY_FILE_BYTES) {
      problems.push({ name, problem: `larger than ${MAX_KEY_FILE_BYTES} bytes` });
      continue;
    }
    let read: Awaited<ReturnType<typeof readKeys>>;
    try {
      const text = Buffer.from(bytes).toString('latin1');
      read = text.trimStart().startsWith('-----BEGIN PGP') ? await readKeys({ armoredKeys: text }) : await readKeys({ binaryKeys: bytes });
    } catch (error) {
      problems.push({ name, problem: `not an OpenPGP public key: ${(error instanceof Error ? error.message : String(error)).slice(0, 200)}` });
      continue;
    }
    // A private key in a ConfigMap is a leak to report, never a key to use.
    if (read.some((key) => key.isPrivate())) {
      problems.push({ name, problem: 'holds a private key: only public keys may be trusted (remove it, and treat the key as exposed)' });
      continue;
    }
    if (keys.length + read.length > MAX_KEYS) {
      problems.push({ name, problem: `more than ${MAX_KEYS} keys in total` });
      continue;
    }
    keys.push(...(read as PublicKey[]));
    hash.update(`${name}\0${bytes.length}\0`).update(bytes);
  }
  const fingerprints = keys.map((key) => key.getFingerprint().toUpperCase());
  return { keySet: keys.length === 0 ? NO_KEYS : { id: hash.digest('hex'), keys, fingerprints }, problems };
}

/** Outcomes of verifications actually performed (not cache hits), by verdict reason. */
export type VerificationCounts = Map<string, number>;

/** Limits of the cache. */
const CACHE_TTL_MS = 5 * 60_000;
/** The cache holds at most this many characters of content (keys are the contents themselves). */
const CACHE_MAX_CHARS = 16 * 1024 * 1024;
const CACHE_MAX_ENTRIES = 10_000;
/**
 * The most memory the cache holds, for the memory budget (src/http/memory-budget.ts): its keys are
 * base64, one byte per character, and an entry with its verdict is about 200 bytes more.
 */
export const VERDICT_CACHE_BYTES = CACHE_MAX_CHARS + CACHE_MAX_ENTRIES * 200;

interface Entry {
  readonly verdict: Promise<SignatureVerdict>;
  readonly expires: number;
}

/** The verifier a server (or a CLI run) holds: replace its keys when the key files change. */
export class SignatureVerifier {
  private keySet: KeySet;
  private readonly cache = new Map<string, Entry>();
  private cachedChars = 0;
  /** Work done, for tests and metrics. */
  readonly work: VerifyWork & { verifications: number; cacheHits: number } = { publicKeyChecks: 0, verifications: 0, cacheHits: 0 };
  readonly outcomes: VerificationCounts = new Map();

  constructor(
    keySet: KeySet = NO_KEYS,
    private readonly clock: () => number = Date.now,
    /** Hears the outcome of each verification performed (for metrics). */
    private readonly onOutcome: (outcome: string) => void = () => {},
  ) {
    this.keySet = keySet;
  }

  get keys(): KeySet {
    return this.keySet;
  }

  /** Trusts `keySet` from now on; verdicts under the old set are no longer used. */
  setKeys(keySet: KeySet): void {
    this.keySet = keySet;
    this.cache.clear();
    this.cachedChars = 0;
  }

  /** The verdict on each of `contents` (standard base64 signature blobs). */
  async verifyAll(contents: readonly string[]): Promise<Map<string, SignatureVerdict>> {
    const verdicts = await Promise.all(contents.map((content) => this.verify(content)));
    return new Map(contents.map((content, i) => [content, verdicts[i]!]));
  }

  /** Whether `content` has a verdict (cached, unexpired) under the current keys: it was verified, so it is standard base64. */
  knows(content: string): boolean {
    const hit = this.cache.get(content);
    return hit !== undefined && hit.expires > this.clock();
  }

  /** The verdict on one standard base64 signature blob under the current keys. */
  verify(content: string): Promise<SignatureVerdict> {
    const now = this.clock();
    // Keyed by the content alone: setKeys empties the cache, and an entry is stored when its
    // verification starts, under the keys it uses. (A key joined with the key set's id was a new
    // string to copy and hash for every signature of every review, cache hit or not.)
    const key = content;
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.expires > now) {
      this.work.cacheHits++;
      // Most recently used last: eviction takes the oldest first.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.verdict;
    }
    if (hit !== undefined) this.forget(key);
    this.work.verifications++;
    const verdict = this.compute(content, now);
    this.remember(key, { verdict, expires: now + CACHE_TTL_MS });
    return verdict;
  }

  private async compute(content: string, now: number): Promise<SignatureVerdict> {
    // Refused before decoding: base64 is 4 characters per 3 bytes.
    const verdict: SignatureVerdict =
      content.length > Math.ceil(MAX_MESSAGE_BYTES / 3) * 4
        ? { verified: false, reason: 'TooLarge', message: `the signature is larger than ${MAX_MESSAGE_BYTES} bytes` }
        : await verifySignature(Buffer.from(content, 'base64'), this.keySet.keys, new Date(now), this.work);
    const outcome = verdict.verified ? 'Verified' : verdict.reason;
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    this.onOutcome(outcome);
    return verdict;
  }

  private remember(key: string, entry: Entry): void {
    this.cache.set(key, entry);
    this.cachedChars += key.length;
    for (const [oldest] of this.cache) {
      if (this.cache.size <= CACHE_MAX_ENTRIES && this.cachedChars <= CACHE_MAX_CHARS) break;
      this.forget(oldest);
    }
  }

  private forget(key: string): void {
    if (this.cache.delete(key)) this.cachedChars -= key.length;
  }
}
