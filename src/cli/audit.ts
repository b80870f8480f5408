/**
 * `image-admission audit review FILE...` and `image-admission audit scan [FILE...]`: parse flags,
 * call src/audit, print, and pick the exit code (0 clean, 1 findings, 2 usage).
 */
import { writeFile } from 'node:fs/promises';
import { loadDecisionLog } from '../audit/decision-log.js';
import { DEFAULT_WEBHOOK_NAMES } from '../audit/events.js';
import { progressBar } from '../audit/lines.js';
import { renderAuditHtml, renderScanHtml } from '../audit/render-html.js';
import { renderAuditText, renderScanText } from '../audit/render-text.js';
import { DEFAULT_MAX_ENTRIES, reviewAuditLogs, type WriteEntry } from '../audit/review.js';
import { imagesFromCluster, scanImages } from '../audit/scan.js';
import { isImage, noImageReason, objectsFromFile } from '../review/objects.js';
import { type CommandSpec, type Flag, readCommand, usageError as reportUsage } from './args.js';
import type { CommandIo } from './io.js';
import { DISABLE_RULES_FLAG, readRuleFlags, readRuleFlagsOrEnv, RULE_FLAGS_OR_ENV } from './rules-flag.js';
import { EXPECT_TRUSTED_SIGNATURE_FLAG, readExpectTrustedSignature } from './expect-flag.js';
import { TRUSTED_KEYS_FLAG, trustedKeysDirOf, verifierTrusting } from './trusted-keys-flag.js';
import { SIGNATURE_RULE } from '../signature/index.js';

/** The flags review and scan share: how to judge, and how to print. */
const SHARED_FLAGS = {
  'disable-rules': DISABLE_RULES_FLAG,
  json: { type: 'boolean', help: 'print the report as JSON' },
  html: { type: 'string', value: 'FILE', help: 'also write a self-contained HTML report' },
} as const satisfies Record<string, Flag>;

const REVIEW = {
  name: 'audit review',
  synopsis: 'FILE... [flags]',
  description: `Reviews Kubernetes audit logs: every create, update and patch of Images gets one outcome
(docs/audit.md). FILE: JSON lines, pretty-printed JSON, arrays or EventLists; plain or gzip; - for stdin.`,
  flags: {
    'webhook-name': {
      type: 'string',
      multiple: true,
      value: 'NAME',
      help: `a webhook name whose annotations to read (repeatable; default\n${DEFAULT_WEBHOOK_NAMES.join(' and ')})`,
    },
    decisions: { type: 'string', value: 'FILE', help: "join the webhook's decision log by decision id" },
    ...SHARED_FLAGS,
    json: { type: 'boolean', help: 'print the report as JSON: counts per outcome, and every write whose\noutcome is not denied, allowed or warned' },
    ndjson: { type: 'boolean', help: 'stream instead: one JSON line per listed write as it is found, then\none summary line (no cap, flat memory)' },
    'list-all': { type: 'boolean', help: 'list every write, also denied, allowed and warned ones' },
    'max-entries': {
      type: 'string',
      value: 'N',
      help: `writes kept for --json, text and HTML (default ${DEFAULT_MAX_ENTRIES}; 0: all);\nthe report says when more were found`,
    },
  },
  positionals: { min: 1, missing: 'audit review needs at least one FILE (or - for stdin)' },
  footer: `Exit status: 0 every write is accounted for and none needs attention; 1 writes need attention
(warned, exempt, dry-run, bypassed, partial, failed-open, failed-closed); 2 usage errors, or the
review cannot tell (unreadable or malformed input, no audit events, webhook names the log does not
hold, events it cannot classify).`,
} as const satisfies CommandSpec;

const SCAN = {
  name: 'audit scan',
  synopsis: '[FILE...] [flags]',
  description: `Checks existing Images: kubectl get images -o json|yaml output (- for stdin), or, with no FILE,
the cluster of the kubeconfig. Signatures are judged as the webhook's /validate judges them: stored
conditions or claims that disagree with verification against the trusted keys are violations.`,
  flags: {
    kubeconfig: { type: 'string', value: 'FILE', help: 'kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)' },
    context: { type: 'string', value: 'NAME', help: 'kubeconfig context' },
    'page-size': { type: 'string', value: 'N', help: 'Images per list request (default 500)' },
    'trusted-keys': TRUSTED_KEYS_FLAG,
    'expect-trusted-signature': EXPECT_TRUSTED_SIGNATURE_FLAG,
    ...SHARED_FLAGS,
    ...RULE_FLAGS_OR_ENV,
    'rule-actions': { ...RULE_FLAGS_OR_ENV['rule-actions'], help: `${RULE_FLAGS_OR_ENV['rule-actions'].help};\nwarn rules' violations are listed but do not fail the scan` },
  },
  footer: `Exit status: 0 no Image breaks a rule that denies (warn-only violations are listed), or the cluster
holds no Image; 1 Images with such violations; 2 usage errors, a FILE that cannot be read or parsed,
a FILE that holds no Image (ImageStreams, an empty file: the scan cannot tell), or a cluster that
cannot be read.`,
} as const satisfies CommandSpec;

const GROUP_HELP = `usage: image-admission audit <review|scan> [flags]

commands:
  review     review Kubernetes audit logs: one outcome for every write of Images
  scan       check existing Images, from files or from the cluster

Run 'image-admission audit <command> --help' for a command's flags.
`;

/** Runs `audit review` or `audit scan`. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(GROUP_HELP);
    return 0;
  }
  if (sub === 'review') return review(rest, io);
  if (sub === 'scan') return scan(rest, io);
  return reportUsage(io, 'audit', sub === undefined ? 'missing subcommand: review or scan' : `unknown subcommand ${JSON.stringify(sub)}: review or scan`);
}

async function review(argv: string[], io: CommandIo): Promise<number> {
  const parsed = readCommand(REVIEW, argv, io);
  if ('exit' in parsed) return parsed.exit;
  const usageError = (problem: string) => reportUsage(io, REVIEW.name, problem);
  const rules = readRuleFlags({ 'disable-rules': parsed.values['disable-rules'] });
  if (typeof rules === 'string') return usageError(rules);
  const names = parsed.values['webhook-name'] ?? [...DEFAULT_WEBHOOK_NAMES];
  const bad = names.filter((n) => n.trim() === '' || n.includes('/'));
  if (bad.length > 0) return usageError(`--webhook-name must be a webhook name without "/", got ${JSON.stringify(bad[0])}`);

  const maxEntries = Number(parsed.values['max-entries'] ?? String(DEFAULT_MAX_ENTRIES));
  if (!Number.isInteger(maxEntries) || maxEntries < 0) return usageError(`--max-entries must be a whole number (0 for no cap), got ${JSON.stringify(parsed.values['max-entries'])}`);
  const ndjson = parsed.values.ndjson === true;
  if (ndjson && (parsed.values.json || typeof parsed.values.html === 'string')) return usageError('--ndjson streams the writes as it finds them: it cannot be combined with --json or --html');
  const stdinUses = parsed.positionals.filter((p) => p === '-').length + (parsed.values.decisions === '-' ? 1 : 0);
  if (stdinUses > 1) return usageError('standard input (-) can be read only once');

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
  const parsed = readCommand(SCAN, argv, io);
  if ('exit' in parsed) return parsed.exit;
  const usageError = (problem: string) => reportUsage(io, SCAN.name, problem);
  const pageSize = Number(parsed.values['page-size'] ?? '500');
  if (!Number.isInteger(pageSize) || pageSize < 1) return usageError(`--page-size must be a positive integer, got ${JSON.stringify(parsed.values['page-size'])}`);
  // As the webhook and the controller judge, from the same flags or variables: an `off` rule is not
  // judged, a `warn` rule's violations are listed and counted but do not fail the scan.
  const ruleOptions = readRuleFlagsOrEnv(parsed.values, io.env);
  if (typeof ruleOptions === 'string') return usageError(ruleOptions);
  const scopes = readExpectTrustedSignature(parsed.values['expect-trusted-signature'], io.env);
  if (typeof scopes === 'string') return usageError(scopes);
  const rules = { ...ruleOptions, ...scopes };
  const keysDir = trustedKeysDirOf(parsed.values['trusted-keys'], io.env);
  try {
    const verifier = await verifierTrusting(keysDir, 'audit', io);
    let report;
    if (parsed.positionals.length > 0) {
      const objects: unknown[] = [];
      const withoutImage: string[] = [];
      for (const path of parsed.positionals) {
        const held = await objectsFromFile(path, io.stdin);
        if (!held.some(isImage)) withoutImage.push(`${path === '-' ? '<stdin>' : path}: ${noImageReason(held)}`);
        objects.push(...held);
      }
      // A file without an Image is the wrong file (ImageStreams, an empty dump), not a clean cluster:
      // "0 Images, 0 violations" would be a false all-clear. As check, exit 2 naming the file. A cluster
      // with no Image is a true answer and stays 0.
      if (withoutImage.length > 0) {
        for (const problem of withoutImage) io.stderr.write(`image-admission audit: ${problem}\n`);
        return 2;
      }
      report = await scanImages(objects, parsed.positionals.join(', '), rules, verifier);
    } else {
      const { kubeconfig, context } = parsed.values;
      report = await scanImages(
        imagesFromCluster({ pageSize, env: io.env, ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) }),
        `the cluster${context ? ` (context ${context})` : ''}`,
        rules,
        verifier,
      );
    }
    if (keysDir === undefined && (report.byRule[SIGNATURE_RULE] ?? 0) > 0) {
      io.stderr.write(`image-admission audit: no --trusted-keys: no signature is trusted, so stored Trusted=True conditions are ${SIGNATURE_RULE} violations (docs/signatures.md)\n`);
    }
    if (typeof parsed.values.html === 'string') await writeFile(parsed.values.html, renderScanHtml(report));
    io.stdout.write(parsed.values.json ? `${JSON.stringify(report, null, 2)}\n` : renderScanText(report));
    return report.failing > 0 ? 1 : 0;
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
