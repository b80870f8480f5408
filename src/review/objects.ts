/**
 * Reading Kubernetes objects from files and standard input, for the commands that judge manifests
 * (check) or lists of existing Images (audit scan): one reader, one notion of "is an Image".
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);

/** Whether a manifest object is an Image: kind Image, or no kind and an Image's own fields. */
export function isImage(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === 'Image' || (kind === undefined && ('dockerImageReference' in value || 'dockerImageLayers' in value));
}

/**
 * Why a file named on the command line is no input for a command that judges Images (check, audit
 * scan): `holds no Image (it holds a ConfigMap "x"; an Image has kind: Image)`, at most three named.
 */
export function noImageReason(objects: readonly unknown[]): string {
  if (objects.length === 0) return 'holds no Image (it holds no object)';
  const described = objects.slice(0, 3).map((o) => {
    const { kind, metadata } = (typeof o === 'object' && o !== null ? o : {}) as { kind?: unknown; metadata?: { name?: unknown } };
    const what = typeof kind === 'string' ? kind.slice(0, 64) : Array.isArray(o) ? 'a list' : typeof o === 'object' && o !== null ? 'an object without kind' : `a ${typeof o}`;
    return typeof metadata?.name === 'string' ? `${what} ${JSON.stringify(metadata.name.slice(0, 64))}` : what;
  });
  const more = objects.length > 3 ? ` and ${objects.length - 3} more` : '';
  return `holds no Image (it holds ${described.join(', ')}${more}; an Image has kind: Image)`;
}

/**
 * Why a file's text is not objects: the reason, and the line it starts at when known (1-based). The
 * message reads `line N: reason`; `check` prints `FILE:N: reason`.
 */
export class InputError extends Error {
  constructor(
    readonly reason: string,
    readonly line?: number,
  ) {
    super(line === undefined ? reason : `line ${line}: ${reason}`);
    this.name = 'InputError';
  }
}

/**
 * The objects of a file (or `-`, standard input): a List with `items`, one object, JSON lines,
 * concatenated JSON, or YAML documents. Lists are flattened. Throws InputError for text that is not
 * JSON or YAML (a binary file such as a PNG, a syntax error), and the file system's errors as they are.
 */
export async function objectsFromFile(path: string, stdin?: NodeJS.ReadableStream): Promise<unknown[]> {
  const bytes = path === '-' ? await readAll(stdin ?? process.stdin) : await readFile(path);
  return parseObjects(textOf(bytes)).flatMap(flattenList);
}

/** The UTF-8 text of `bytes`, or an InputError for a file that is not text (an image, an archive). */
function textOf(bytes: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError('not a text file (not UTF-8): JSON or YAML manifests expected');
  }
  // Text files hold no NUL; binary formats (PNG, gzip, tar) almost always do.
  if (text.includes('\u0000')) throw new InputError('not a text file (holds NUL bytes): JSON or YAML manifests expected');
  return text;
}

/**
 * Parses JSON (one value, lines, or concatenated values) or, failing that, YAML documents. Throws
 * InputError naming the line of the first syntax error.
 */
export function parseObjects(text: string): unknown[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return [JSON.parse(text)];
    } catch {
      return splitJsonValues(text).map(({ value, line }) => parseJsonValue(value, line));
    }
  }
  return parseYaml(text).flatMap((doc) => {
    const error = doc.errors[0];
    if (error !== undefined) throw yamlError(error);
    const value = doc.toJS() as unknown;
    return value === null || value === undefined ? [] : [value];
  });
}

/** Loaded on first use: audit review never needs a YAML parser at startup. */
function parseYaml(text: string): Yaml.Document.Parsed[] {
  const { parseAllDocuments } = require('yaml') as typeof Yaml;
  // An empty stream is an empty array too.
  return parseAllDocuments(text);
}

/** A YAML parser error as an InputError: its first line of prose (the snippet left out) and its line. */
function yamlError(error: Yaml.YAMLError, lineOffset = 0): InputError {
  const reason = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const line = error.linePos?.[0]?.line;
  return new InputError(reason, line === undefined ? undefined : line + lineOffset);
}

/**
 * One JSON value starting at `line`. JSON.parse names a position for most mistakes (never a line); for
 * the others the YAML parser, which reads JSON too, may find the line; else the value's first line.
 */
function parseJsonValue(value: string, line: number): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    // The engine's message, without the text it echoes (`Unexpected token '}', "{..." is not valid JSON`).
    const reason = message
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '')
      .slice(0, 200);
    const position = /at position (\d+)/.exec(message)?.[1];
    if (position !== undefined) return fail(`not valid JSON: ${reason}`, line + countLines(value.slice(0, Number(position))));
    const found = parseYaml(value).flatMap((doc) => doc.errors)[0];
    if (found !== undefined) throw yamlError(found, line - 1);
    return fail(`not valid JSON: ${reason}`, line);
  }
}

function fail(reason: string, line: number): never {
  throw new InputError(reason, line);
}

function countLines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

function flattenList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(flattenList);
  const items = (value as { items?: unknown } | null)?.items;
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (Array.isArray(items) && (kind === undefined || (typeof kind === 'string' && kind.endsWith('List')))) return items;
  return [value];
}

/** Splits concatenated top-level JSON values (`{...}{...}` or one per line), each with its first line. */
function splitJsonValues(text: string): { value: string; line: number }[] {
  const values: { value: string; line: number }[] = [];
  let depth = 0;
  let start = -1;
  let startLine = 1;
  let line = 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth === 0) {
        start = i;
        startLine = line;
      }
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0 && start !== -1) {
        values.push({ value: text.slice(start, i + 1), line: startLine });
        start = -1;
      }
      if (depth < 0) throw new InputError(`unexpected ${c}`, line);
    } else if (depth === 0 && c !== undefined && !/\s/.test(c)) throw new InputError(`unexpected ${JSON.stringify(c)}: not JSON`, line);
  }
  if (depth !== 0) throw new InputError('unexpected end of input: an unterminated JSON value', startLine);
  return values;
}

/** Everything `stream` holds, as bytes. */
function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return readAtMost(stream, Infinity) as Promise<Buffer>;
}

/**
 * Everything `stream` holds, as bytes, or undefined as soon as it holds more than `maxBytes`: reading
 * stops there (the stream is destroyed), so an endless input costs at most `maxBytes` and one chunk.
 */
export async function readAtMost(stream: NodeJS.ReadableStream, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += bytes.length;
    // Leaving the loop early destroys the stream: nothing more is read.
    if (total > maxBytes) return undefined;
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}
