/**
 * The `--trusted-keys DIR` flag (env TRUSTED_KEYS_DIR, as serve reads it) of the commands that judge
 * stored Images outside the server: `audit scan` and `controller`. Without it no key is trusted, as on
 * the webhook: every stored Trusted=True disagrees with verification and is reported.
 */
import { loadTrustedKeys, type TrustedKeys } from '../keys/trusted-keys.js';
import type { Flag } from './args.js';

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
