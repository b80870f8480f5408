/**
 * The log formats of the long-running commands (serve, controller): JSON lines, one object a line, for
 * log collectors (the default, and the decision log's public format), or text for a person at a
 * terminal. Text is written from the JSON line, so both carry the same fields.
 */

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** pino's numeric levels (the webhook's log), by name; the controller writes names already. */
const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * One JSON log line as text: `TIME LEVEL message key=value ...`, strings bare when they hold no space,
 * quote or `=`, everything else as JSON. pino's `pid` and `hostname` are left out (the same on every
 * line of one process). A line that is not a JSON object is passed through.
 */
export function textLine(json: string): string {
  let entry: unknown;
  try {
    entry = JSON.parse(json);
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return json.endsWith('\n') ? json : `${json}\n`;
  const { level, time, msg, pid: _pid, hostname: _hostname, ...fields } = entry as Record<string, unknown>;
  const at = typeof time === 'number' ? new Date(time).toISOString() : typeof time === 'string' ? time : '';
  const name = typeof level === 'number' ? (LEVEL_NAMES[level] ?? String(level)) : String(level ?? '').toUpperCase();
  const rest = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${valueText(value)}`);
  return `${[at, name.padEnd(5), typeof msg === 'string' ? msg : JSON.stringify(msg ?? ''), ...rest].join(' ').trimEnd()}\n`;
}

function valueText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** Where a logger writes `format` to `out`: a pino destination (fastify's `logger.stream`). */
export function logStream(out: NodeJS.WritableStream, format: LogFormat): { write(line: string): void } {
  return format === 'text' ? { write: (line: string) => void out.write(textLine(line)) } : { write: (line: string) => void out.write(line) };
}
