/**
 * The `--trusted-keys DIR` flag (env TRUSTED_KEYS_DIR, as serve reads it) of the commands that judge
 * outside the server: `check`, `review`, `audit scan` and `controller`. Without it no key is trusted, as
 * on the webhook: every stored Trusted=True disagrees with verification and is reported.
 */
import { loadTrustedKeys, type TrustedKeys } from '../keys/trusted-keys.js';
import { SignatureVerifier } from '../signature/index.js';
import type { Flag } from './args.js';
import type { CommandIo } from './io.js';

/** The environment variable serve reads for the same directory. */
export const TRUSTED_KEYS_ENV = 'TRUSTED_KEYS_DIR';

/** The flag, for a command's spec. */
export const TRUSTED_KEYS_FLAG = {
  type: 'string',
  value: 'DIR',
  help: `directory of trusted OpenPGP public keys, as serve's --trusted-keys\n(env ${TRUSTED_KEYS_ENV}; without it no signature is trusted)`,
} as const satisfies Flag;

/** The directory given by the flag, else by the environment; undefined when neither (or empty). */
export function trustedKeysDirOf(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const dir = flag ?? env[TRUSTED_KEYS_ENV];
  return dir === undefined || dir === '' ? undefined : dir;
}

/**
 * Reads the key directory. A directory that cannot be read is an error (a typo must not silently trust
 * nothing); files that hold no usable public key come back as problems (names and reasons, never
 * contents) and are skipped.
 */
export async function readTrustedKeysDir(dir: string): Promise<TrustedKeys> {
  try {
    return await loadTrustedKeys(dir);
  } catch (error) {
    throw new Error(`cannot read the trusted keys directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/**
 * A verifier trusting the keys of `dir` as the server does (none without a directory); each key file
 * skipped is named on stderr (`image-admission COMMAND: trusted key file NAME skipped: REASON`). Throws,
 * as readTrustedKeysDir does, when the directory cannot be read: each command answers that its own way.
 */
export async function verifierTrusting(dir: string | undefined, command: string, io: CommandIo): Promise<SignatureVerifier> {
  const verifier = new SignatureVerifier();
  if (dir === undefined) return verifier;
  const keys = await readTrustedKeysDir(dir);
  for (const { name, problem } of keys.problems) io.stderr.write(`image-admission ${command}: trusted key file ${name} skipped: ${problem}\n`);
  verifier.setKeys(keys.keySet);
  return verifier;
}
