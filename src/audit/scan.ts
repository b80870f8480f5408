/**
 * `audit scan`: checks Images that already exist (rules.md §5: a cluster gains the webhook after it
 * holds Images) from `kubectl get images -o json|yaml` output or from a live cluster, page by page.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type * as K8s from '@kubernetes/client-node';
import { IMAGE_GROUP, IMAGE_VERSION } from '../admission/targets.js';
import type { JudgeOptions } from '../image/index.js';
import { isImage, judgeExisting } from './existing.js';
import type { Violation } from './review.js';

const require = createRequire(import.meta.url);

/** Images with violations listed in full; the rest are only counted. */
export const SCAN_FINDINGS_LISTED = 1000;

/** One Image that breaks the rules. */
export interface ScanFinding {
  name: string;
  reference?: string;
  violations: Violation[];
}

/** What the scan found. */
export interface ScanReport {
  kind: 'ImageScan';
  source: string;
  images: number;
  withViolations: number;
  /** Objects that were not Images (other kinds in the input). */
  skipped: number;
  byRule: Record<string, number>;
  findings: ScanFinding[];
  findingsTotal: number;
}

/** Checks every Image of `objects` with the create rules. */
export async function scanImages(objects: AsyncIterable<unknown> | Iterable<unknown>, source: string, rules: JudgeOptions = {}): Promise<ScanReport> {
  const report: ScanReport = { kind: 'ImageScan', source, images: 0, withViolations: 0, skipped: 0, byRule: {}, findings: [], findingsTotal: 0 };
  const byRule = new Map<string, number>();
  for await (const object of objects) {
    if (!isImage(object)) {
      report.skipped++;
      continue;
    }
    report.images++;
    // Only failing violations count here (as before): warn-only rules never made a scan fail.
    const violations = judgeExisting(object, rules).violations.filter((v) => v.result === 'fail');
    if (violations.length === 0) continue;
    report.withViolations++;
    report.findingsTotal++;
    for (const rule of new Set(violations.map((v) => v.rule))) byRule.set(rule, (byRule.get(rule) ?? 0) + 1);
    if (report.findings.length < SCAN_FINDINGS_LISTED) {
      const metadata = object.metadata as { name?: unknown } | undefined;
      report.findings.push({
        name: typeof metadata?.name === 'string' ? metadata.name : '(unnamed)',
        ...(typeof object.dockerImageReference === 'string' ? { reference: object.dockerImageReference } : {}),
        violations: violations.map((v) => ({ rule: v.rule, path: v.path, detail: v.detail })),
      });
    }
  }
  report.byRule = Object.fromEntries([...byRule.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  return report;
}

/**
 * The objects of a file (or `-`, standard input): a List with `items`, one object, JSON lines,
 * concatenated JSON, or YAML documents. Lists are flattened.
 */
export async function objectsFromFile(path: string, stdin?: NodeJS.ReadableStream): Promise<unknown[]> {
  const text = path === '-' ? await readAll(stdin ?? process.stdin) : await readFile(path, 'utf8');
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
export function splitJsonValues(text: string): string[] {
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

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** How to reach a cluster. */
export interface ClusterOptions {
  /** A kubeconfig file; the default chain (KUBECONFIG, ~/.kube/config, in-cluster) when absent. */
  kubeconfig?: string;
  context?: string;
  /** Images per page (the list's `limit`). */
  pageSize: number;
}

type Client = typeof K8s;

/** The client configuration kubectl would use: `--kubeconfig`, else KUBECONFIG, ~/.kube/config, in-cluster. */
export function loadKubeConfig(k8s: Client, options: { kubeconfig?: string; context?: string }): InstanceType<Client['KubeConfig']> {
  const config = new k8s.KubeConfig();
  if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
  else config.loadFromDefault();
  if (options.context) config.setCurrentContext(options.context);
  return config;
}

/** One page of an Image list, and the resourceVersion the whole list is consistent at. */
export interface ImagePage {
  items: unknown[];
  resourceVersion: string;
}

/**
 * Lists `image.openshift.io/v1` images page by page (limit/continue). Every page of one list is read
 * at the first page's resourceVersion, so the last page's resourceVersion is where a watch resumes.
 */
export async function* imagePages(api: InstanceType<Client['CustomObjectsApi']>, pageSize: number): AsyncGenerator<ImagePage> {
  let token: string | undefined;
  do {
    const page = (await api.listClusterCustomObject({
      group: IMAGE_GROUP,
      version: IMAGE_VERSION,
      plural: 'images',
      limit: pageSize,
      ...(token ? { _continue: token } : {}),
    })) as { items?: unknown[]; metadata?: { continue?: string; resourceVersion?: string } };
    yield { items: page.items ?? [], resourceVersion: page.metadata?.resourceVersion ?? '' };
    token = page.metadata?.continue || undefined;
  } while (token);
}

/** Lists `image.openshift.io/v1` images page by page (limit/continue), yielding each Image. */
export async function* imagesFromCluster(options: ClusterOptions): AsyncGenerator<unknown> {
  // Loaded only here: the other commands do not pay for the client's import.
  const k8s = await import('@kubernetes/client-node');
  const api = loadKubeConfig(k8s, options).makeApiClient(k8s.CustomObjectsApi);
  for await (const page of imagePages(api, options.pageSize)) yield* page.items;
}
