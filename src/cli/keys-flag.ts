/**
 * `--trusted-keys DIR` for the commands that judge signatures outside the server (check): the same key
 * directory the server reads, loaded the same way (src/keys), so a signature is Trusted in CI exactly
 * when the server would call it so.
 */
import { loadTrustedKeys } from '../keys/trusted-keys.js';
import { SignatureVerifier } from '../signature/index.js';
import type { Flag } from './args.js';
import { fileSystemReason } from './check-inputs.js';
import type { CommandIo } from './io.js';

export const TRUSTED_KEYS_FLAG = {
  type: 'string',
  value: 'DIR',
  help: "directory of OpenPGP public keys trusted for image signatures, as the server's --trusted-keys (without it no signature is trusted)",
} as const satisfies Flag;

/**
 * The verifier for `dir` (one that trusts nothing without it), or the problem when the directory
 * cannot be read: a typo must not quietly trust nothing. Key files that cannot be used are reported on
 * stderr, by name only, and skipped, as the server does.
 */
export async function verifierFor(dir: string | undefined, io: CommandIo, command: string): Promise<SignatureVerifier | string> {
  if (dir === undefined) return new SignatureVerifier();
  let keys;
  try {
    keys = await loadTrustedKeys(dir);
  } catch (error) {
    return `--trusted-keys ${dir}: ${fileSystemReason(error)}`;
  }
  for (const { name, problem } of keys.problems) io.stderr.write(`image-admission ${command}: trusted key file ${name} skipped: ${problem}\n`);
  return new SignatureVerifier(keys.keySet);
}
