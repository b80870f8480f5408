#!/usr/bin/env node
/** The `image-admission` executable: runs the command line of src/cli/program.ts with this process's streams. */
import { main } from './program.js';

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`image-admission: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
