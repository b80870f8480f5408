/** `image-admission rules`: lists the rule catalogue, the identifiers --disable-rules takes. */
import { RULES } from '../image/index.js';
import { type CommandSpec, readCommand } from './args.js';
import type { CommandIo } from './io.js';

const SPEC = {
  name: 'rules',
  synopsis: '[--json]',
  description: `Lists every rule the webhook enforces: its identifier (as in denials' audit annotations, the decision
log, metrics and --disable-rules), what it checks, and whether a violation denies or only warns.
docs/rules.md describes each rule.`,
  flags: { json: { type: 'boolean', help: 'print the catalogue as JSON' } },
  positionals: 'none',
} as const satisfies CommandSpec;

/** Prints the catalogue as a table, or as JSON with --json. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const command = readCommand(SPEC, argv, io);
  if ('exit' in command) return command.exit;
  if (command.values.json) {
    io.stdout.write(`${JSON.stringify(RULES, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...RULES.map((r) => r.id.length));
  const lines = RULES.map((r) => `${r.id.padEnd(width)}  ${r.enforcement.padEnd(4)}  ${r.summary}`);
  io.stdout.write(`${'rule'.padEnd(width)}  on    checks\n${lines.join('\n')}\n`);
  return 0;
}
