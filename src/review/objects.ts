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
 * The objects of a file (or `-`, standard input): a List with `items`, one object, JSON lines,
 * concatenated JSON, or YAML documents. Lists are flattened.
 */
export async function objectsFromFile(path: string, stdin?: NodeJS.ReadableStream): Promise<unknown[]> {
  const text = path === '-' ? (await readAll(stdin ?? process.stdin)).toString('utf8') : await readFile(path, 'utf8');
  return parseObjects(text).flatMap(flattenList);
}

/** Parses JSON (one value, lines, or concatenated values) or, failing that, YAML documents. */
export function parseObjects(text: string): unknown[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return [JSON.parse(text)];
    } catch {
      return splitJsonValues(text).map((value) => JSON.parse(value) as unknown);
    }
  }
  // Loaded on first use: audit review never needs a YAML parser at startup.
  const { parseAllDocuments } = require('yaml') as typeof Yaml;
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(doc.errors[0]!.message);
    const value = doc.toJS() as unknown;
    return value === null || value === undefined ? [] : [value];
  });
}

function flattenList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(flattenList);
  const items = (value as { items?: unknown } | null)?.items;
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (Array.isArray(items) && (kind === undefined || (typeof kind === 'string' && kind.endsWith('List')))) return items;
  return [value];
}

/** Splits concatenated top-level JSON values (`{...}{...}` or one per line). */
function splitJsonValues(text: string): string[] {
  const values: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0 && start !== -1) {
        values.push(text.slice(start, i + 1));
        start = -1;
      }
      if (depth < 0) throw new Error(`unexpected ${c} at offset ${i}`);
    } else if (depth === 0 && c !== undefined && !/\s/.test(c)) throw new Error(`unexpected ${JSON.stringify(c)} at offset ${i}: not JSON`);
  }
  if (depth !== 0) throw new Error('unexpected end of input: an unterminated JSON value');
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
