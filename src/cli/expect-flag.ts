/**
 * The `--expect-trusted-signature SCOPES` flag (env EXPECT_TRUSTED_SIGNATURE, as serve reads it) of the
 * commands that judge as the server does outside it: `review` and `audit scan`.
 */
import type { Policy } from '../admission/policy.js';
import { parseRepositoryScopes } from '../signature/index.js';
import type { Flag } from './args.js';

/** The environment variable serve reads the scopes from. */
const EXPECT_TRUSTED_SIGNATURE_ENV = 'EXPECT_TRUSTED_SIGNATURE';

/** The flag, for a command's spec. */
export const EXPECT_TRUSTED_SIGNATURE_FLAG = {
  type: 'string',
  value: 'SCOPES',
  help: `comma-separated repository prefixes whose Images should carry a trusted signature, as serve's\n--expect-trusted-signature (env ${EXPECT_TRUSTED_SIGNATURE_ENV})`,
} as const satisfies Flag;

/** The scopes given by the flag, else by the environment (none when neither), or the usage problem. */
export function readExpectTrustedSignature(flag: string | undefined, env: NodeJS.ProcessEnv): Pick<Policy, 'expectTrustedSignature'> | string {
  const parsed = parseRepositoryScopes(flag ?? env[EXPECT_TRUSTED_SIGNATURE_ENV] ?? '');
  if (!parsed.ok) return `--expect-trusted-signature: ${parsed.problems.join('; ')}`;
  return parsed.scopes.length === 0 ? {} : { expectTrustedSignature: parsed.scopes };
}
