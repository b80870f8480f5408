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
import { reviewAuditLogs } from '../audit/review.js';
import { imagesFromCluster, objectsFromFile, scanImages } from '../audit/scan.js';
import type { CommandIo } from './io.js';
import { DISABLE_RULES_USAGE, readDisableRules } from './rules-flag.js';

const USAGE = `usage: image-admission audit <review|scan> [flags]

  audit review FILE...        review Kubernetes audit logs (JSON lines, plain or gzip; - for stdin)
      --webhook-name NAME     a webhook name whose annotations to read (repeatable; default
                              ${DEFAULT_WEBHOOK_NAMES.join(' and ')})
      --decisions FILE        join the webhook's decision log by decision id
      --json                  print the report as JSON
      --html FILE             also write a self-contained HTML report

  audit scan [FILE...]        check existing Images: kubectl get images -o json|yaml output (- for
                              stdin), or, with no FILE, the cluster of the kubeconfig
      --kubeconfig FILE       kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)
      --context NAME          kubeconfig context
      --page-size N           Images per list request (default 500)
      --json, --html FILE     as for review

  both:
      ${DISABLE_RULES_USAGE}

Exit status: 0 nothing found; 1 writes got through with violations or while the webhook failed open
(review), or Images with violations (scan); 2 usage errors.
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

  try {
    let decisions;
    if (typeof parsed.values.decisions === 'string') {
      const log = await loadDecisionLog({ path: parsed.values.decisions, ...(io.stdin ? { stdin: io.stdin } : {}) });
      decisions = log.decisions;
    }
    const bar = io.stderr.isTTY ? progressBar(io.stderr, 'reading') : undefined;
    const report = await reviewAuditLogs({
      inputs: parsed.positionals.map((path) => ({ path, ...(io.stdin ? { stdin: io.stdin } : {}) })),
      webhookNames: names,
      ...rules,
      ...(decisions ? { decisions } : {}),
      ...(bar ? { onProgress: () => bar.update } : {}),
    });
    bar?.done();
    for (const input of report.inputs) {
      if (input.malformed > 0) {
        io.stderr.write(`image-admission audit: ${input.path}: skipped ${input.malformed} malformed line(s): ${input.malformedLines.join(', ')}${input.malformed > input.malformedLines.length ? ', ...' : ''}\n`);
      }
    }
    if (typeof parsed.values.html === 'string') await writeFile(parsed.values.html, renderAuditHtml(report));
    io.stdout.write(parsed.values.json ? `${JSON.stringify(report, null, 2)}\n` : renderAuditText(report));
    return report.findingsTotal > 0 ? 1 : 0;
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

// A file that cannot be read, or a cluster that cannot be reached: the command could not do its work.
function inputError(io: CommandIo, error: unknown): number {
  const e = error as NodeJS.ErrnoException & { code?: unknown; body?: unknown };
  const detail = e.code === 'ENOENT' ? `no such file: ${e.path ?? ''}` : e.message ?? String(error);
  io.stderr.write(`image-admission audit: ${detail}\n`);
  return 2;
}
