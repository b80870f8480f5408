/**
 * `image-admission check FILE... [--old FILE]`: prints each invalid Image's denial exactly as kubectl
 * would show it, and exits 1 when any is invalid (2 on usage errors).
 */
import type { Policy } from '../admission/policy.js';
import { checkImage, type CheckResult } from '../review/check.js';
import { isImage, objectsFromFile } from '../review/objects.js';
import { type CommandSpec, readCommand, usageError } from './args.js';
import type { CommandIo } from './io.js';
import { DISABLE_RULES_FLAG, readRuleFlags, RULE_ACTIONS_FLAG } from './rules-flag.js';

const SPEC = {
  name: 'check',
  synopsis: 'FILE... [flags]',
  description: `Checks Image manifests (JSON or YAML; Lists and several documents allowed; - for stdin) with the
webhook's CREATE rules, or its UPDATE rules against the Image in --old (matched by name, or the only
one). Prints each denial as kubectl would ("The Image "NAME" is invalid: ...") and its warnings as
"Warning: ...".`,
  flags: {
    old: { type: 'string', value: 'FILE', help: 'the Images before the write: check an update of them' },
    'disable-rules': DISABLE_RULES_FLAG,
    'rule-actions': RULE_ACTIONS_FLAG,
  },
  positionals: { min: 1, missing: 'needs at least one FILE (or - for stdin)' },
  footer: 'Exit status: 0 all valid, 1 some invalid, 2 usage or unreadable input.',
} as const satisfies CommandSpec;

/** Runs `check`. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const parsed = readCommand(SPEC, argv, io);
  if ('exit' in parsed) return parsed.exit;
  const rules = readRuleFlags(parsed.values);
  if (typeof rules === 'string') return usageError(io, SPEC.name, rules);
  // The server's policy with nothing exempt: what an enforcing webhook answers.
  const policy: Policy = { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set(), ...rules };
  const imagesIn = async (path: string) => (await objectsFromFile(path, io.stdin)).filter(isImage);
  const results: CheckResult[] = [];
  try {
    let olds: Record<string, unknown>[] | undefined;
    if (parsed.values.old !== undefined) olds = await imagesIn(parsed.values.old);
    for (const file of parsed.positionals) {
      const images = await imagesIn(file);
      if (images.length === 0) io.stderr.write(`image-admission check: ${file}: no Image found\n`);
      for (const image of images) {
        const name = (image.metadata as { name?: unknown } | undefined)?.name;
        const old = olds === undefined ? undefined : olds.length === 1 ? olds[0] : olds.find((o) => (o.metadata as { name?: unknown } | undefined)?.name === name);
        if (olds !== undefined && old === undefined) {
          io.stderr.write(`image-admission check: --old holds no Image named ${JSON.stringify(name)}\n`);
          return 2;
        }
        results.push(checkImage(file, image, old, policy));
      }
    }
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    io.stderr.write(`image-admission check: ${e.code === 'ENOENT' ? `no such file: ${e.path}` : e.message}\n`);
    return 2;
  }
  for (const result of results) {
    for (const warning of result.warnings) io.stderr.write(`Warning: ${warning}\n`);
    if (result.valid) io.stdout.write(`image.image.openshift.io/${result.name} valid (${result.file})\n`);
    else io.stdout.write(result.message!);
  }
  return results.some((r) => !r.valid) ? 1 : 0;
}
