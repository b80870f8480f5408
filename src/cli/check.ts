/**
 * `image-admission check PATH... [-R] [--json] [--old FILE]`: judges Image manifests as the server would
 * (/mutate, its patch applied, then /validate), for CI pipelines. Every result names its file, the
 * Image and the rule; the exit status says whether everything could be read and every Image is valid.
 */
import type { Policy } from '../admission/policy.js';
import type { SignatureVerifier } from '../signature/index.js';
import { checkImage } from '../review/check.js';
import { InputError, isImage, noImageReason, objectsFromFile } from '../review/objects.js';
import { type CommandSpec, readCommand, usageError } from './args.js';
import { expandInputs, fileSystemReason, type Input } from './check-inputs.js';
import { type CheckError, type CheckReport, type FileResult, printJson, printText } from './check-print.js';
import type { CommandIo } from './io.js';
import { readRuleFlagsOrEnv, RULE_FLAGS_OR_ENV } from './rules-flag.js';
import { TRUSTED_KEYS_FLAG, trustedKeysDirOf, verifierTrusting } from './trusted-keys-flag.js';

const SPEC = {
  name: 'check',
  synopsis: 'PATH... [flags]',
  description: `Checks Image manifests (JSON or YAML; Lists and several documents allowed; - for stdin) as the
webhook judges a write: /mutate (signatures verified under --trusted-keys), its patch applied, then
/validate, with the server's --disable-rules and --rule-actions (else DISABLE_RULES and RULE_ACTIONS,
as serve reads them) in enforce mode. Each Image is checked
as a CREATE, or as an UPDATE of the Image in --old with the same name (or the only one).

A file named on the command line must hold an Image; with -R, the .json, .yaml and .yml files under a
directory are read and those without an Image are skipped. Every result names the file, the Image and
the rule (the id --disable-rules and --rule-actions take).`,
  flags: {
    recursive: { type: 'boolean', short: 'R', help: 'read the manifest files under each directory' },
    json: { type: 'boolean', help: 'print one JSON report: results, errors and a summary' },
    old: { type: 'string', value: 'FILE', help: 'the Images before the write: check an update of them' },
    ...RULE_FLAGS_OR_ENV,
    'trusted-keys': TRUSTED_KEYS_FLAG,
  },
  positionals: { min: 1, missing: 'needs at least one FILE or directory (or - for stdin)' },
  footer: `Exit status: 0 every input read and every Image valid; 1 some Image denied; 2 an input could not
be read or parsed, no Image was found, or a usage error.`,
} as const satisfies CommandSpec;

/** Runs `check`. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const parsed = readCommand(SPEC, argv, io);
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  // The deployment's rule settings, as serve reads them: DISABLE_RULES and RULE_ACTIONS unless a flag is given.
  const rules = readRuleFlagsOrEnv(values, io.env);
  if (typeof rules === 'string') return usageError(io, SPEC.name, rules);
  // The server's key directory (flag, else TRUSTED_KEYS_DIR); one that cannot be read is an error, so
  // that a typo never quietly trusts nothing. Files without a usable key are named and skipped.
  let verifier: SignatureVerifier;
  try {
    verifier = await verifierTrusting(trustedKeysDirOf(values['trusted-keys'], io.env), SPEC.name, io);
  } catch (error) {
    return usageError(io, SPEC.name, `--trusted-keys: ${(error as Error).message}`);
  }
  // The server's policy with nothing exempt: what an enforcing webhook answers.
  const policy: Policy = { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set(), ...rules };

  let olds: Record<string, unknown>[] | undefined;
  if (values.old !== undefined) {
    const read = await imagesOf({ path: values.old, name: values.old, named: true }, io);
    if ('error' in read) return usageError(io, SPEC.name, `--old ${problemText(read.error)}`);
    olds = read.images;
  }

  const { inputs, problems } = await expandInputs(parsed.positionals, values.recursive === true);
  const report: CheckReport = { inputs: inputs.length, results: [], errors: problems.map((p) => ({ file: p.file, reason: p.reason })) };
  for (const input of inputs) {
    const read = await imagesOf(input, io);
    if ('error' in read) {
      report.errors.push(read.error);
      continue;
    }
    for (const [i, image] of read.images.entries()) {
      const name = (image.metadata as { name?: unknown } | undefined)?.name;
      const old = olds === undefined ? undefined : olds.length === 1 ? olds[0] : olds.find((o) => (o.metadata as { name?: unknown } | undefined)?.name === name);
      if (olds !== undefined && old === undefined) {
        report.errors.push({ file: input.name, reason: `--old holds no Image named ${JSON.stringify(name)}` });
        continue;
      }
      const result: FileResult = { file: input.name, index: i + 1, ...(await checkImage(image, old, policy, verifier)) };
      report.results.push(result);
    }
  }
  if (report.results.length === 0 && report.errors.length === 0) report.errors.push({ file: parsed.positionals.join(' '), reason: 'no Image found' });

  if (values.json === true) printJson(report, io);
  else printText(report, io);
  if (report.errors.length > 0) return 2;
  return report.results.some((r) => !r.valid) ? 1 : 0;
}

/** The Images of one input, or why there are none to check. */
async function imagesOf(input: Input, io: CommandIo): Promise<{ images: Record<string, unknown>[] } | { error: CheckError }> {
  let objects: unknown[];
  try {
    objects = await objectsFromFile(input.path, io.stdin);
  } catch (error) {
    if (error instanceof InputError) return { error: { file: input.name, reason: error.reason, ...(error.line === undefined ? {} : { line: error.line }) } };
    return { error: { file: input.name, reason: fileSystemReason(error) } };
  }
  const images = objects.filter(isImage);
  if (images.length === 0 && input.named) return { error: { file: input.name, reason: noImageReason(objects) } };
  return { images };
}

function problemText(error: CheckError): string {
  return `${error.file}${error.line === undefined ? '' : `:${error.line}`}: ${error.reason}`;
}
