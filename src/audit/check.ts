/**
 * `check`: judges Image manifests before they are applied, with the same rules and the same denial the
 * webhook would answer, printed as kubectl prints a 422 Invalid error.
 */
import { denied, toWarning } from '../admission/respond.js';
import type { Status } from '../admission/types.js';
import { formatError, judgeCreate, type JudgeOptions, judgeUpdate } from '../image/index.js';
import { parseObjects } from './scan.js';

/** The verdict on one Image of one file. */
export interface CheckResult {
  file: string;
  name: string;
  valid: boolean;
  /** What kubectl would print for the webhook's denial (ends with a newline). */
  message?: string;
  /** Admission warnings kubectl would print as `Warning: ...`. */
  warnings: string[];
}

/** The Images of a file's text: objects of kind Image (or without a kind), Lists flattened. */
export function imagesOf(text: string): Record<string, unknown>[] {
  const flat = (value: unknown): unknown[] => {
    const items = (value as { items?: unknown } | null)?.items;
    return Array.isArray(items) ? items.flatMap(flat) : Array.isArray(value) ? value.flatMap(flat) : [value];
  };
  return parseObjects(text)
    .flatMap(flat)
    .filter((o): o is Record<string, unknown> => typeof o === 'object' && o !== null && ((o as { kind?: unknown }).kind ?? 'Image') === 'Image');
}

/**
 * Checks `image` with the CREATE rules, or with the UPDATE rules against `old` (as the mutating
 * webhook sees a write: strictly, with ratcheting).
 */
export function checkImage(file: string, image: Record<string, unknown>, old?: unknown, rules: JudgeOptions = {}): CheckResult {
  const name = nameOf(image);
  const verdict = old === undefined ? judgeCreate(image, rules) : judgeUpdate(image, old, 'mutate', rules);
  const warnings = [...verdict.inherited.map((e) => `pre-existing: ${formatError(e)}`), ...verdict.advisories.map(formatError)].map(toWarning);
  if (verdict.violations.length === 0) return { file, name, valid: true, warnings };
  const response = denied(verdict.violations, { group: 'image.openshift.io', kind: 'Image', name });
  return { file, name, valid: false, message: kubectlInvalidMessage(response.status!), warnings };
}

/**
 * What kubectl prints for a 422 Invalid StatusError (kubectl's cmd/util checkErr with
 * statusCausesToAggrError and MultilineError): `The Kind "name" is invalid: field: message` for one
 * cause; for several, the prefix on its own line (with its trailing space) and `* field: message`
 * per distinct cause.
 */
export function kubectlInvalidMessage(status: Pick<Status, 'message' | 'details'>): string {
  const details = status.details;
  let text = 'The request is invalid';
  if (!details) return `${status.message ? `${text}: ${status.message}` : text}\n`;
  const causes = [...new Set(details.causes.map((c) => `${c.field}: ${c.message}`))];
  if (details.kind || details.name) text = `The ${details.kind} ${JSON.stringify(details.name)} is invalid`;
  else if (status.message && causes.length === 0) text += `: ${status.message}`;
  if (causes.length === 0) return `${text}\n`;
  if (causes.length === 1) return `${text}: ${causes[0]}\n`;
  return `${text}: \n${causes.map((c) => `* ${c}\n`).join('')}`;
}

function nameOf(image: Record<string, unknown>): string {
  const name = (image.metadata as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : '';
}
