#!/usr/bin/env node
/**
 * The `image-admission` command: picks a subcommand and hands it the remaining arguments.
 * Each subcommand module exports `run(argv, io)` and returns the process exit code.
 */
import type { CommandIo } from './io.js';

type Command = { run(argv: string[], io: CommandIo): Promise<number> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'run the webhook HTTPS server', load: () => import('./serve.js') },
  certs: { summary: 'create or renew development TLS certificates', load: () => import('./certs.js') },
  audit: { summary: 'review audit logs, or scan existing Images', load: () => import('./audit.js') },
  controller: { summary: 'keep every stored Image judged and report violations in the cluster', load: () => import('./controller.js') },
  check: { summary: 'check Image manifests before they are applied', load: () => import('./check.js') },
  manifests: { summary: 'write the webhook configurations with a CA bundle', load: () => import('./manifests.js') },
  rules: { summary: 'list the rules and their identifiers', load: () => import('./rules.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: image-admission <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\nRun 'image-admission <command> --help' for a command's flags.\n`;
}

async function main(argv: string[]): Promise<number> {
  const io: CommandIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`image-admission: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest, io);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`image-admission: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
