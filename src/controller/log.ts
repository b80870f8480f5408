/** The controller's log: one JSON object a line on standard output, as the webhook logs (or text, --log-format). */
import { type LogFormat, textLine } from '../log-format.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50 };

/** Writes log lines at or above a level. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** A logger writing to `out` at `level` and above. */
export function createLogger(out: NodeJS.WritableStream, level: Level | 'silent', format: LogFormat = 'json'): Logger {
  const write = (at: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (level === 'silent' || ORDER[at] < ORDER[level]) return;
    const line = `${JSON.stringify({ level: at, time: new Date().toISOString(), msg, ...fields })}\n`;
    out.write(format === 'text' ? textLine(line) : line);
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  };
}

/** An error as a bounded string (never a stack, never a body that could echo secrets in full). */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}
