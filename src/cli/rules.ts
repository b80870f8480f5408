/** `image-admission rules`: lists the rule catalogue, the identifiers --disable-rules takes. */
import { RULES } from '../image/index.js';
import type { CommandIo } from './io.js';

const USAGE = `usage: image-admission rules [--json]

Lists every rule the webhook enforces: its identifier (as in denials' audit annotations, the decision
log, metrics and --disable-rules), what it checks, and whether a violation denies or only warns.
`;

/** Prints the catalogue as a table, or as JSON with --json. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const unknown = argv.filter((a) => a !== '--json' && a !== '--help' && a !== '-h');
  if (unknown.length > 0) {
    io.stderr.write(`image-admission rules: unexpected argument ${JSON.stringify(unknown[0])}\n\n${USAGE}`);
    return 2;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (argv.includes('--json')) {
    io.stdout.write(`${JSON.stringify(RULES, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...RULES.map((r) => r.id.length));
  const lines = RULES.map((r) => `${r.id.padEnd(width)}  ${r.enforcement.padEnd(4)}  ${r.summary}`);
  io.stdout.write(`${'rule'.padEnd(width)}  on    checks\n${lines.join('\n')}\n`);
  return 0;
}
