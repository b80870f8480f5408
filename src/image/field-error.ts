/**
 * One error type for every rule: a Kubernetes field error (k8s.io/apimachinery
 * pkg/util/validation/field) with a structured path and the identifier of the rule that raised it.
 */
import type { RuleId } from './rules.js';
import { work } from './work.js';

/** A path of JSON names and array indexes, e.g. `['dockerImageLayers', 2, 'size']`. */
export type FieldPath = readonly (string | number)[];

/** The error types of k8s.io/apimachinery's field package that the rules use. */
export type FieldErrorType = 'Required' | 'Invalid' | 'Forbidden' | 'NotSupported' | 'TooLong' | 'Duplicate';

/** A violation of one rule at one path. */
export interface FieldError {
  readonly type: FieldErrorType;
  readonly path: FieldPath;
  /** The rule catalogue identifier (src/image/rules.ts): a typo is a compile error. */
  readonly rule: RuleId;
  readonly detail?: string;
  /** The offending value; omitted when printing it would not help (or would leak content). */
  readonly value?: unknown;
  /** For NotSupported: the values that are accepted. */
  readonly supported?: readonly string[];
  /**
   * Other paths whose values decide this violation (a signature's claims are wrong only because of its
   * conditions): ratcheting treats the violation as new when any of them changed too.
   */
  readonly dependsOn?: readonly FieldPath[];
}

const NO_VALUE = Symbol('no value');

function make(
  type: FieldErrorType,
  rule: RuleId,
  path: FieldPath,
  value: unknown,
  detail: string | undefined,
): FieldError {
  work.fieldErrors++;
  const error: { -readonly [K in keyof FieldError]: FieldError[K] } = { type, rule, path };
  if (value !== NO_VALUE) error.value = value;
  if (detail !== undefined) error.detail = detail;
  return error;
}

/** A required value is missing. */
export function required(rule: RuleId, path: FieldPath, detail?: string): FieldError {
  return make('Required', rule, path, NO_VALUE, detail);
}

/** A value is present but wrong; `value` is printed in the message. */
export function invalid(rule: RuleId, path: FieldPath, value: unknown, detail?: string): FieldError {
  return make('Invalid', rule, path, value, detail);
}

/** Like `invalid`, but the value is not shown (too large, or secret like signature content). */
export function invalidHidden(rule: RuleId, path: FieldPath, detail: string): FieldError {
  return make('Invalid', rule, path, NO_VALUE, detail);
}

/** A value is set that may not be set here. */
export function forbidden(rule: RuleId, path: FieldPath, detail: string): FieldError {
  return make('Forbidden', rule, path, NO_VALUE, detail);
}

/** A value is not one of an enumerated set. */
export function notSupported(rule: RuleId, path: FieldPath, value: unknown, supported: readonly string[]): FieldError {
  return { ...make('NotSupported', rule, path, value, undefined), supported };
}

/** A value is longer than allowed. */
export function tooLong(rule: RuleId, path: FieldPath, max: number): FieldError {
  return make('TooLong', rule, path, NO_VALUE, `may not be more than ${max} bytes`);
}

/** A value repeats one that must be unique. */
export function duplicate(rule: RuleId, path: FieldPath, value: unknown): FieldError {
  return make('Duplicate', rule, path, value, undefined);
}

/** Returns the same error with `prefix` put in front of its path (for embedded Images). */
export function withPathPrefix(error: FieldError, prefix: FieldPath): FieldError {
  const moved = { ...error, path: [...prefix, ...error.path] };
  return error.dependsOn ? { ...moved, dependsOn: error.dependsOn.map((path) => [...prefix, ...path]) } : moved;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

// The Image's string maps: a segment after one of these is a key, rendered as `[key]` as the API
// server's field.Path.Key does, whatever characters it holds.
const MAP_FIELDS: ReadonlySet<string> = new Set(['labels', 'annotations', 'signedClaims']);

/**
 * The most characters of one value or map key that a message echoes. Every value a writer controls
 * (a name, a reference, a label key) ends up in the denial, the warnings and the decision log: a 1 MB
 * name would otherwise become a 4 MB answer and a 2 MB log line.
 */
const MAX_ECHOED_CHARS = 256;

/** `text` cut to `max` characters (MAX_ECHOED_CHARS by default), saying how long it was when cut. */
export function bounded(text: string, max: number = MAX_ECHOED_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 3)}... (${text.length} characters)` : text;
}

/**
 * The most characters of a detail. Details are prose, but some quote what they compare (`the
 * manifest's digest is X, but metadata.name is Y`); this bounds them whatever a rule puts in.
 */
export const MAX_DETAIL_CHARS = 1024;

/**
 * Renders a path the way the API server does: `dockerImageLayers[2].size`, with map keys in brackets:
 * `metadata.annotations[image.openshift.io/x]`.
 */
export function formatPath(path: FieldPath): string {
  let out = '';
  let previous: string | number | undefined;
  for (const segment of path) {
    const isKey = typeof segment === 'number' || (typeof previous === 'string' && MAP_FIELDS.has(previous)) || !IDENTIFIER.test(segment);
    const shown = typeof segment === 'string' ? bounded(segment) : segment;
    out += isKey ? `[${shown}]` : out === '' ? shown : `.${shown}`;
    previous = segment;
  }
  return out === '' ? '<root>' : out;
}

/** Renders a value as the API server quotes it: strings in Go's %q style, other values as JSON. */
function formatValue(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= MAX_ECHOED_CHARS) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, MAX_ECHOED_CHARS - 3))}... (${value.length} characters)`;
  }
  if (value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  const json = JSON.stringify(value);
  return json.length > 200 ? `${json.slice(0, 197)}...` : json;
}

/** The message body of one error without its path, e.g. `Invalid value: "x": detail`. */
export function errorBody(unboundedError: FieldError): string {
  const error = unboundedError.detail === undefined ? unboundedError : { ...unboundedError, detail: bounded(unboundedError.detail, MAX_DETAIL_CHARS) };
  const hasValue = 'value' in error;
  const value = hasValue ? formatValue(error.value) : '';
  switch (error.type) {
    case 'Required':
      return error.detail ? `Required value: ${error.detail}` : 'Required value';
    case 'Invalid': {
      let body = 'Invalid value';
      if (hasValue) body += `: ${value}`;
      return error.detail ? `${body}: ${error.detail}` : body;
    }
    case 'Forbidden':
      return error.detail ? `Forbidden: ${error.detail}` : 'Forbidden';
    case 'NotSupported': {
      const options = (error.supported ?? []).map((s) => JSON.stringify(s)).join(', ');
      return `Unsupported value: ${value}: supported values: ${options}`;
    }
    case 'TooLong':
      return error.detail ? `Too long: ${error.detail}` : 'Too long';
    case 'Duplicate':
      return `Duplicate value: ${value}`;
  }
}

/** One error as a line of the API server's message: `path: body`. */
export function formatError(error: FieldError): string {
  return `${formatPath(error.path)}: ${errorBody(error)}`;
}

/** The Status cause reason the API server uses for each error type. */
export function causeReason(error: FieldError): string {
  switch (error.type) {
    case 'Required':
      return 'FieldValueRequired';
    case 'Invalid':
      return 'FieldValueInvalid';
    case 'Forbidden':
      return 'FieldValueForbidden';
    case 'NotSupported':
      return 'FieldValueNotSupported';
    case 'TooLong':
      return 'FieldValueTooLong';
    case 'Duplicate':
      return 'FieldValueDuplicate';
  }
}
