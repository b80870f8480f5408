/**
 * `image-admission audit review FILE...` and `image-admission audit scan [FILE...]`: parse flags,
 * call src/audit, print, and pick the exit code (0 clean, 1 findings, 2 usage).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadDecisionLog } from '../audit/decision-log.js';
import { DEFAULT_WEBHOOK_NAMES } from '../audit/events.js';
import { progressBar } from '../audit/lines.js';
import { renderAuditHtml, renderScanHtml } from '../audit/render-html.js';
import { renderAuditText, renderScanText } from '../audit/render-text.js';
import { DEFAULT_MAX_ENTRIES, reviewAuditLogs, type WriteEntry } from '../audit/review.js';
import { imagesFromCluster, objectsFromFile, scanImages } from '../audit/scan.js';
import type { CommandIo } from './io.js';
import { DISABLE_RULES_USAGE, readDisableRules } from './rules-flag.js';

const USAGE = `usage: image-admission audit <review|scan> [flags]

  audit review FILE...        review Kubernetes audit logs: every create, update and patch of Images
                              gets one outcome (docs/audit.md). FILE: JSON lines, pretty-printed
                              JSON, arrays or EventLists; plain or gzip; - for stdin
      --webhook-name NAME     a webhook name whose annotations to read (repeatable; default
                              ${DEFAULT_WEBHOOK_NAMES.join(' and ')})
      --decisions FILE        join the webhook's decision log by decision id
      --json                  print the report as JSON: counts per outcome, and every write whose
                              outcome is not denied, allowed or warned
      --ndjson                stream instead: one JSON line per listed write as it is found, then
                              one summary line (no cap, flat memory)
      --list-all              list every write, also denied, allowed and warned ones
      --max-entries N         writes kept for --json, text and HTML (default ${DEFAULT_MAX_ENTRIES}; 0: all);
                              the report says when more were found
      --html FILE             also write a self-contained HTML report

  audit scan [FILE...]        check existing Images: kubectl get images -o json|yaml output (- for
                              stdin), or, with no FILE, the cluster of the kubeconfig
      --kubeconfig FILE       kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)
      --context NAME          kubeconfig context
      --page-size N           Images per list request (default 500)
      --json, --html FILE     as for review

  both:
      ${DISABLE_RULES_USAGE}

Exit status (review): 0 every write is accounted for and none needs attention; 1 writes need
attention (warned, exempt, dry-run, bypassed, partial, failed-open, failed-closed); 2 usage errors,
or the review cannot tell (unreadable or malformed input, no audit events, webhook names the log
does not hold, events it cannot classify). Scan: 1 Images with violations; 2 usage or input errors.
`;

type Parsed = { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };

function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>): Parsed | string {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true }) as Parsed;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Runs `audit review` or `audit scan`. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (sub === 'review') return review(rest, io);
  if (sub === 'scan') return scan(rest, io);
  io.stderr.write(`image-admission audit: ${sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`}\n\n${USAGE}`);
  return 2;
}

function usageError(io: CommandIo, problem: string): number {
  io.stderr.write(`image-admission audit: ${problem}\n\n${USAGE}`);
  return 2;
}

/** The flags review and scan share: how to judge, and how to print. */
const SHARED_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  'disable-rules': { type: 'string' },
  json: { type: 'boolean' },
  html: { type: 'string' },
};

async function review(argv: string[], io: CommandIo): Promise<number> {
  const parsed = parse(argv, {
    'webhook-name': { type: 'string', multiple: true },
    decisions: { type: 'string' },
    ndjson: { type: 'boolean' },
    'list-all': { type: 'boolean' },
    'max-entries': { type: 'string' },
    ...SHARED_OPTIONS,
  });
  if (typeof parsed === 'string') return usageError(io, parsed);
  if (parsed.values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) return usageError(io, 'audit review needs at least one FILE (or - for stdin)');
  const rules = readDisableRules(parsed.values['disable-rules']);
  if (typeof rules === 'string') return usageError(io, rules);
  const names = (parsed.values['webhook-name'] as string[] | undefined) ?? [...DEFAULT_WEBHOOK_NAMES];
  const bad = names.filter((n) => n.trim() === '' || n.includes('/'));
  if (bad.length > 0) return usageError(io, `--webhook-name must be a webhook name without "/", got ${JSON.stringify(bad[0])}`);

  const maxEntries = Number(parsed.values['max-entries'] ?? String(DEFAULT_MAX_ENTRIES));
  if (!Number.isInteger(maxEntries) || maxEntries < 0) return usageError(io, `--max-entries must be a whole number (0 for no cap), got ${JSON.stringify(parsed.values['max-entries'])}`);
  const ndjson = parsed.values.ndjson === true;
  if (ndjson && (parsed.values.json || typeof parsed.values.html === 'string')) return usageError(io, '--ndjson streams the writes as it finds them: it cannot be combined with --json or --html');
  const stdinUses = parsed.positionals.filter((p) => p === '-').length + (parsed.values.decisions === '-' ? 1 : 0);
  if (stdinUses > 1) return usageError(io, 'standard input (-) can be read only once');

  try {
    let decisions;
    if (typeof parsed.values.decisions === 'string') {
      const log = await loadDecisionLog({ path: parsed.values.decisions, ...(io.stdin ? { stdin: io.stdin } : {}) });
      decisions = log.decisions;
    }
    const bar = io.stderr.isTTY ? progressBar(io.stderr, 'reading') : undefined;
    // NDJSON lines are written in batches: one write per line would cost more than the review.
    const stream = batched(io.stdout);
    const report = await reviewAuditLogs({
      inputs: parsed.positionals.map((path) => ({ path, ...(io.stdin ? { stdin: io.stdin } : {}) })),
      webhookNames: names,
      ...rules,
      maxEntries,
      ...(parsed.values['list-all'] ? { listAll: true } : {}),
      ...(decisions ? { decisions } : {}),
      ...(ndjson ? { onEntry: (entry: WriteEntry) => stream.push(`{"type":"write",${JSON.stringify(entry).slice(1)}\n`), pause: stream.pause } : {}),
      ...(bar ? { onProgress: () => bar.update } : {}),
    });
    bar?.done();
    for (const problem of report.problems) io.stderr.write(`image-admission audit: ${problem}\n`);
    if (typeof parsed.values.html === 'string') await writeFile(parsed.values.html, renderAuditHtml(report));
    if (ndjson) {
      stream.push(`${JSON.stringify({ type: 'summary', ...report, entries: undefined })}\n`);
      stream.flush();
    }
    // Indented for a person at a terminal; one line for a pipe (jq), which is also much faster on big reports.
    else io.stdout.write(parsed.values.json ? `${JSON.stringify(report, null, (io.stdout as { isTTY?: boolean }).isTTY ? 2 : undefined)}\n` : renderAuditText(report));
    // "All clear" only when the review could read everything and nothing needs attention.
    if (report.problems.length > 0) return 2;
    return report.attention > 0 ? 1 : 0;
  } catch (error) {
    return inputError(io, error);
  }
}

async function scan(argv: string[], io: CommandIo): Promise<number> {
  const parsed = parse(argv, {
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    'page-size': { type: 'string' },
    ...SHARED_OPTIONS,
  });
  if (typeof parsed === 'string') return usageError(io, parsed);
  if (parsed.values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const pageSize = Number(parsed.values['page-size'] ?? '500');
  if (!Number.isInteger(pageSize) || pageSize < 1) return usageError(io, `--page-size must be a positive integer, got ${JSON.stringify(parsed.values['page-size'])}`);
  const rules = readDisableRules(parsed.values['disable-rules']);
  if (typeof rules === 'string') return usageError(io, rules);
  try {
    let report;
    if (parsed.positionals.length > 0) {
      const objects: unknown[] = [];
      for (const path of parsed.positionals) objects.push(...(await objectsFromFile(path, io.stdin)));
      report = await scanImages(objects, parsed.positionals.join(', '), rules);
    } else {
      const kubeconfig = parsed.values.kubeconfig as string | undefined;
      const context = parsed.values.context as string | undefined;
      report = await scanImages(
        imagesFromCluster({ pageSize, ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) }),
        `the cluster${context ? ` (context ${context})` : ''}`,
        rules,
      );
    }
    if (typeof parsed.values.html === 'string') await writeFile(parsed.values.html, renderScanHtml(report));
    io.stdout.write(parsed.values.json ? `${JSON.stringify(report, null, 2)}\n` : renderScanText(report));
    return report.withViolations > 0 ? 1 : 0;
  } catch (error) {
    return inputError(io, error);
  }
}

/**
 * Collects text and writes it in chunks of about 256 KiB; `pause` gives a promise while the output
 * is full (a pipe to a slower reader), so that the review waits instead of buffering without bound.
 */
function batched(out: NodeJS.WritableStream): { push(text: string): void; flush(): void; pause(): Promise<void> | undefined } {
  let parts: string[] = [];
  let size = 0;
  let full = false;
  const flush = () => {
    if (parts.length > 0 && !out.write(parts.join(''))) full = true;
    parts = [];
    size = 0;
  };
  return {
    push(text) {
      parts.push(text);
      size += text.length;
      if (size >= 256 * 1024) flush();
    },
    flush,
    pause() {
      if (!full) return undefined;
      full = false;
      return new Promise((resolve) => out.once('drain', () => resolve()));
    },
  };
}

// A file that cannot be read, or a cluster that cannot be reached: the command could not do its work.
function inputError(io: CommandIo, error: unknown): number {
  const e = error as NodeJS.ErrnoException & { code?: unknown; body?: unknown };
  const detail = e.code === 'ENOENT' ? `no such file: ${e.path ?? ''}` : e.message ?? String(error);
  io.stderr.write(`image-admission audit: ${detail}\n`);
  return 2;
}
