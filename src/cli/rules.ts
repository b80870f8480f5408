/** `image-admission rules`: lists the rule catalogue, the identifiers --disable-rules and --rule-actions take. */
import { enforcementOf, isRuleOff, RULES } from '../image/index.js';
import { type CommandSpec, readCommand, usageError } from './args.js';
import type { CommandIo } from './io.js';
import { readRuleFlagsOrEnv, RULE_FLAGS_OR_ENV } from './rules-flag.js';

const SPEC = {
  name: 'rules',
  synopsis: '[--json]',
  description: `Lists every rule the webhook enforces: its identifier (as in denials' audit annotations, the decision
log, metrics, --disable-rules and --rule-actions), what it checks, and what a violation does: deny,
warn, or off. Give the server's --disable-rules and --rule-actions (or DISABLE_RULES and RULE_ACTIONS in
the environment, as serve reads them) to see what they make of each rule (the mode then applies to
the rules without an explicit action). docs/rules.md describes each rule.`,
  flags: {
    json: { type: 'boolean', help: 'print the catalogue as JSON' },
    ...RULE_FLAGS_OR_ENV,
  },
  positionals: 'none',
} as const satisfies CommandSpec;

/** Prints the catalogue as a table, or as JSON with --json. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const command = readCommand(SPEC, argv, io);
  if ('exit' in command) return command.exit;
  // The deployment's rule settings, as serve reads them: DISABLE_RULES and RULE_ACTIONS unless a flag is given.
  const options = readRuleFlagsOrEnv(command.values, io.env);
  if (typeof options === 'string') return usageError(io, SPEC.name, options);
  // What a violation does with these flags: off, or the explicit or catalogue deny/warn.
  const rows = RULES.map((rule) => ({
    ...rule,
    action: isRuleOff(rule.id, options) ? 'off' : enforcementOf(rule.id, options),
    explicit: options.ruleActions?.has(rule.id) === true || options.disabledRules?.has(rule.id) === true,
  }));
  if (command.values.json) {
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...RULES.map((r) => r.id.length));
  const lines = rows.map((r) => `${r.id.padEnd(width)}  ${`${r.action}${r.explicit ? '*' : ''}`.padEnd(6)}  ${r.summary}`);
  const note = rows.some((r) => r.explicit) ? '\n* set by --rule-actions or --disable-rules (or RULE_ACTIONS, DISABLE_RULES)\n' : '\n';
  io.stdout.write(`${'rule'.padEnd(width)}  action  checks\n${lines.join('\n')}${note}`);
  return 0;
}
