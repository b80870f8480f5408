/**
 * The one argument parser and help format of every subcommand. A command declares its flags once, with
 * their help; `parseCommand` reads argv with node:util's parseArgs (strict: an unknown flag is an
 * error), `helpText` prints the help, and `usageError` answers a mistake with one short line and a
 * pointer to --help, exit status 2.
 */
import { parseArgs } from 'node:util';
import type { CommandIo } from './io.js';

/** One flag: its type and the line of help that describes it. */
export interface Flag {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value's placeholder in the help (`FILE`, `IDS`); string flags only. */
  readonly value?: string;
  readonly help: string;
}

/** A command's interface: how it is called and what its flags mean. */
export interface CommandSpec<F extends Readonly<Record<string, Flag>> = Readonly<Record<string, Flag>>> {
  /** As typed after `image-admission`: `check`, `audit review`. */
  readonly name: string;
  /** What follows the name in the usage line, such as `FILE... [flags]`. */
  readonly synopsis: string;
  /** What the command does, as paragraphs. */
  readonly description: string;
  readonly flags: F;
  /** The fewest positional arguments, and what to say when fewer are given. */
  readonly positionals?: { readonly min: number; readonly missing: string } | 'none';
  /** Closing text, such as the exit statuses. */
  readonly footer?: string;
}

type ValueOf<T extends Flag> = T['type'] extends 'boolean' ? boolean | undefined : T['multiple'] extends true ? string[] | undefined : string | undefined;

/** The values of a command's flags, typed by its spec. */
export type Values<F extends Readonly<Record<string, Flag>>> = { -readonly [K in keyof F]: ValueOf<F[K]> };

/** What the arguments asked for: the work, the help, or nothing valid. */
export type ParsedCommand<F extends Readonly<Record<string, Flag>>> =
  | { kind: 'run'; values: Values<F>; positionals: string[] }
  | { kind: 'help' }
  | { kind: 'usage-error'; problem: string };

/** Reads `argv` against `spec`. */
export function parseCommand<F extends Readonly<Record<string, Flag>>>(spec: CommandSpec<F>, argv: readonly string[]): ParsedCommand<F> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, flag] of Object.entries(spec.flags)) {
    options[name] = { type: flag.type, ...(flag.short ? { short: flag.short } : {}), ...(flag.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: spec.positionals !== 'none' });
  } catch (error) {
    return { kind: 'usage-error', problem: (error as Error).message };
  }
  if (parsed.values.help === true) return { kind: 'help' };
  const { help: _help, ...values } = parsed.values;
  if (spec.positionals !== undefined && spec.positionals !== 'none' && parsed.positionals.length < spec.positionals.min) {
    return { kind: 'usage-error', problem: spec.positionals.missing };
  }
  return { kind: 'run', values: values as Values<F>, positionals: parsed.positionals };
}

const FLAG_COLUMN = 26;

/** The help of a command: usage line, description, flags, footer. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.flags).map(([name, flag]) => flagRow(`${flag.short ? `-${flag.short}, ` : ''}--${name}${flag.value ? ` ${flag.value}` : ''}`, flag.help));
  rows.push(flagRow('-h, --help', 'show this help'));
  const parts = [`usage: image-admission ${spec.name} ${spec.synopsis}`.trimEnd(), spec.description.trim(), `flags:\n${rows.join('\n')}`];
  if (spec.footer) parts.push(spec.footer.trim());
  return `${parts.join('\n\n')}\n`;
}

/** One flag's help line; a long flag puts its help on the next line, aligned. */
function flagRow(flag: string, help: string): string {
  const lines = help.split('\n');
  const first = flag.length < FLAG_COLUMN - 3 ? `  ${flag.padEnd(FLAG_COLUMN - 2)}${lines[0]}` : `  ${flag}\n${' '.repeat(FLAG_COLUMN)}${lines[0]}`;
  return [first, ...lines.slice(1).map((line) => `${' '.repeat(FLAG_COLUMN)}${line}`)].join('\n');
}

/** Says what is wrong with the command line, and where the help is; the exit status of a usage error. */
export function usageError(io: CommandIo, command: string, ...problems: string[]): 2 {
  const prefix = command === '' ? 'image-admission' : `image-admission ${command}`;
  io.stderr.write(`${problems.map((p) => `${prefix}: ${p}\n`).join('')}Run '${prefix} --help' for usage.\n`);
  return 2;
}

/** Runs a command's parse and answers help and usage errors; undefined when the command has been answered. */
export function readCommand<F extends Readonly<Record<string, Flag>>>(
  spec: CommandSpec<F>,
  argv: readonly string[],
  io: CommandIo,
): { values: Values<F>; positionals: string[] } | { exit: number } {
  const parsed = parseCommand(spec, argv);
  if (parsed.kind === 'help') {
    io.stdout.write(helpText(spec));
    return { exit: 0 };
  }
  if (parsed.kind === 'usage-error') return { exit: usageError(io, spec.name, parsed.problem) };
  return parsed;
}
