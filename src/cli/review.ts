/**
 * `image-admission review FILE|-`: answers one AdmissionReview with the function the server answers
 * its request bodies with, and prints the AdmissionReview the server would send back.
 */
import type { AdmissionPhase } from '../image/index.js';
import { createReadStream } from 'node:fs';

import { MODES, type Mode, type Policy } from '../admission/policy.js';
import { answerBody } from '../review/answer.js';
import { BODY_LIMIT } from '../review/json-body.js';
import { readAtMost } from '../review/objects.js';
import type { SignatureVerifier } from '../signature/index.js';
import { type CommandSpec, readCommand, usageError } from './args.js';
import { EXPECT_TRUSTED_SIGNATURE_FLAG, readExpectTrustedSignature } from './expect-flag.js';
import type { CommandIo } from './io.js';
import { readRuleFlagsOrEnv, RULE_FLAGS_OR_ENV } from './rules-flag.js';
import { TRUSTED_KEYS_FLAG, trustedKeysDirOf, verifierTrusting } from './trusted-keys-flag.js';

const MiB = 1024 * 1024;

const SPEC = {
  name: 'review',
  synopsis: 'FILE|- [flags]',
  description: `Answers an AdmissionReview (JSON, as the API server sends it to the webhook) exactly as the server
would, and prints the AdmissionReview it would send back: the same bytes go through the same function
as a request body does in the server. Use it to replay a request from a log, or to try a policy
without a cluster. The rule settings and keys are read as serve reads them: a flag, else its
variable (DISABLE_RULES, RULE_ACTIONS, TRUSTED_KEYS_DIR, EXPECT_TRUSTED_SIGNATURE).`,
  flags: {
    endpoint: { type: 'string', value: 'WEBHOOK', help: 'the path that receives it: mutate or validate (default validate)' },
    mode: { type: 'string', value: 'MODE', help: `enforcement mode: ${MODES.join(', ')} (default enforce)` },
    'exempt-users': { type: 'string', value: 'NAMES', help: 'comma-separated user names whose writes are allowed with a warning' },
    'exempt-groups': { type: 'string', value: 'NAMES', help: 'comma-separated groups whose writes are allowed with a warning' },
    ...RULE_FLAGS_OR_ENV,
    'trusted-keys': TRUSTED_KEYS_FLAG,
    'expect-trusted-signature': EXPECT_TRUSTED_SIGNATURE_FLAG,
  },
  positionals: { min: 1, missing: 'needs a FILE (or - for stdin) holding an AdmissionReview' },
  footer: `Exit status: 0 allowed; 1 denied; 2 usage error, unreadable FILE, a body over the server's ${BODY_LIMIT / MiB} MiB
limit, or a body the server would refuse with HTTP 400 (the reason is printed) or fail on.`,
} as const satisfies CommandSpec;

/** Runs `review`. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const parsed = readCommand(SPEC, argv, io);
  if ('exit' in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  if (positionals.length > 1) return usageError(io, SPEC.name, `takes one FILE, got ${positionals.length}`);
  const endpoint = values.endpoint ?? 'validate';
  if (endpoint !== 'mutate' && endpoint !== 'validate') return usageError(io, SPEC.name, `--endpoint must be mutate or validate, got ${JSON.stringify(endpoint)}`);
  const mode = values.mode ?? 'enforce';
  if (!MODES.includes(mode as Mode)) return usageError(io, SPEC.name, `--mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  // The deployment's rule settings, as serve reads them: DISABLE_RULES and RULE_ACTIONS unless a flag is given.
  const rules = readRuleFlagsOrEnv(values, io.env);
  if (typeof rules === 'string') return usageError(io, SPEC.name, rules);
  const scopes = readExpectTrustedSignature(values['expect-trusted-signature'], io.env);
  if (typeof scopes === 'string') return usageError(io, SPEC.name, scopes);
  const policy: Policy = { mode: mode as Mode, exemptUsers: commaSet(values['exempt-users']), exemptGroups: commaSet(values['exempt-groups']), ...rules, ...scopes };
  // The server's keys, read as the server reads them: signatures get the server's verdicts.
  let verifier: SignatureVerifier;
  try {
    verifier = await verifierTrusting(trustedKeysDirOf(values['trusted-keys'], io.env), SPEC.name, io);
  } catch (error) {
    io.stderr.write(`image-admission review: ${(error as Error).message}\n`);
    return 2;
  }

  const file = positionals[0]!;
  let body: Buffer | undefined;
  try {
    // The server's limit, read as the server reads it: never more than the limit and a chunk in memory.
    body = await readAtMost(file === '-' ? (io.stdin ?? process.stdin) : createReadStream(file), BODY_LIMIT);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    io.stderr.write(`image-admission review: ${e.code === 'ENOENT' ? `no such file: ${file}` : e.message}\n`);
    return 2;
  }
  if (body === undefined) {
    io.stderr.write(`image-admission review: ${file}: larger than the server's body limit of ${BODY_LIMIT / MiB} MiB; the server would answer 413\n`);
    return 2;
  }
  const answer = await answerBody(body, endpoint as AdmissionPhase, policy, verifier);
  switch (answer.kind) {
    case 'answered':
      io.stdout.write(`${answer.reply}\n`);
      return answer.record.decision === 'denied' ? 1 : 0;
    case 'refused':
      io.stderr.write(`image-admission review: ${file}: the server would answer 400: ${answer.message}\n`);
      return 2;
    case 'failed':
      io.stderr.write(`image-admission review: ${file}: the server would answer 500: ${answer.error.type}: ${answer.error.message}\n`);
      return 2;
  }
}

function commaSet(list: string | undefined): ReadonlySet<string> {
  return new Set((list ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
}
