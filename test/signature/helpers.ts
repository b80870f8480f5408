/** Shared by the signature tests: the committed fixture set, read once, and its trusted keys. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type KeySet, readKeySet } from '../../src/signature/verifier.js';
import { COMMITTED_SIGNATURE_FIXTURES, readSignatureFixtures, type SignatureFixtures } from '../fixtures/signatures/fixture-set.js';

export { caseNamed, contentOf } from '../fixtures/signatures/fixture-set.js';

export const fixtures: SignatureFixtures = readSignatureFixtures(COMMITTED_SIGNATURE_FIXTURES);

/** The trusted keys of a set (optionally with more key files of the set). */
export async function trustedKeysOf(set: SignatureFixtures, extra: string[] = []): Promise<KeySet> {
  const sources = [...set.trustedKeys, ...extra].map((name) => ({ name, bytes: readFileSync(join(set.dir, name)) }));
  const { keySet, problems } = await readKeySet(sources);
  if (problems.length > 0) throw new Error(`fixture keys did not load: ${JSON.stringify(problems)}`);
  return keySet;
}
