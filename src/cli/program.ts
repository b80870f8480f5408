/**
 * The `image-admission` command line: picks a subcommand and hands it the remaining arguments. Each
 * subcommand module exports `run(argv, io)` and returns the process exit code. main.ts runs it.
 */
import { usageError } from './args.js';
import { VERSION } from '../version.js';
import type { CommandIo } from './io.js';

type Command = { run(argv: string[], io: CommandIo): Promise<number> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'run the webhook HTTPS server', load: () => import('./serve.js') },
  certs: { summary: 'create or renew development TLS certificates', load: () => import('./certs.js') },
  audit: { summary: 'review audit logs, or scan existing Images', load: () => import('./audit.js') },
  controller: { summary: 'keep every stored Image judged and report violations in the cluster', load: () => import('./controller.js') },
  check: { summary: 'check Image manifests before they are applied', load: () => import('./check.js') },
  review: { summary: 'answer an AdmissionReview exactly as the server would', load: () => import('./review.js') },
  manifests: { summary: 'write the webhook configurations with a CA bundle', load: () => import('./manifests.js') },
  rules: { summary: 'list the rules and their identifiers', load: () => import('./rules.js') },
};

function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: image-admission <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\nflags:\n  -h, --help     show this help\n  -V, --version  print the version\n\nRun 'image-admission <command> --help' for a command's flags.\n`;
}

/** Runs the command line `argv` (without node and the script). */
export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(help());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`image-admission ${VERSION}\n`);
    return 0;
  }
  if (name === undefined) return usageError(io, '', `missing command: one of ${Object.keys(COMMANDS).join(', ')}`);
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) return usageError(io, '', `unknown command ${JSON.stringify(name)}: one of ${Object.keys(COMMANDS).join(', ')}`);
  return (await command.load()).run(rest, io);
}
