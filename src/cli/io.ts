/** What a subcommand may touch of the process: its output streams and environment. */
export interface CommandIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Standard input, for `-` arguments; process.stdin when absent. */
  stdin?: NodeJS.ReadableStream;
}
