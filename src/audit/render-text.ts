/** Plain-text summaries for a terminal: aligned tables, worst first. */
import { ATTENTION, OUTCOMES, type WriteOutcome, VERDICTS } from './events.js';
import type { AuditReport, WriteEntry } from './review.js';
import type { ScanReport } from './scan.js';

function table(header: string[], rows: (string | number)[][], numeric?: boolean[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const right = (i: number) => (numeric ? numeric[i] === true : i > 0);
  return cells
    .map((r) => r.map((c, i) => (right(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .map((l) => `  ${l}`)
    .join('\n');
}

// Terminal control characters in log data could rewrite the screen: show them as escapes instead.
// eslint-disable-next-line no-control-regex
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** What each outcome means, in the words of docs/audit.md. */
export const OUTCOME_MEANING: Record<WriteOutcome, string> = {
  denied: 'refused by our webhook',
  allowed: 'allowed by our webhooks; stored',
  warned: 'stored with violations: our webhook warned (warn mode or pre-existing)',
  exempt: 'stored with violations: the user or group is exempt',
  'dry-run': 'stored with violations: our webhook runs in dry-run mode',
  bypassed: 'stored, and no webhook of ours judged it',
  partial: 'stored, judged by only one of our webhooks',
  'failed-open': 'stored while a call to our webhook failed',
  'failed-closed': 'refused because a call to our webhook failed (outage)',
  'refused-elsewhere': 'allowed by ours, refused by something else',
  'not-stored': 'a dry-run request, or refused before our webhook was called',
};

const who = (e: { user: string; impersonatedUser: string | null }) => `${e.user}${e.impersonatedUser ? ` (as ${e.impersonatedUser})` : ''}`;

/** One listed write on one line, then its violations. */
function entryLines(e: WriteEntry): string[] {
  const what = `${e.verb} ${e.resource}${e.subresource ? `/${e.subresource}` : ''} ${e.namespace ? `${e.namespace}/` : ''}${e.name ?? '(no name)'}`;
  const hooks = Object.entries(e.webhooks)
    .map(([name, verdict]) => `${name}=${verdict}`)
    .join(' ');
  const out = [
    `  [${e.outcome}] ${e.time ?? '-'}  auditID ${e.auditID ?? '-'}  ${printable(what)} -> ${e.code}`,
    `      by ${printable(who(e))}${e.sourceIPs.length > 0 ? ` from ${printable(e.sourceIPs.join(', '))}` : ''}${e.userAgent ? ` (${printable(e.userAgent)})` : ''}`,
    `      webhooks: ${printable(hooks)}; re-check: ${e.recheck}`,
  ];
  if (e.note) out.push(`      note: ${printable(e.note)}`);
  for (const v of e.violations) out.push(`      ${printable(v.rule)}${v.path ? ` at ${printable(v.path)}` : ''}${v.detail ? `: ${printable(v.detail)}` : ''}`);
  return out;
}

/** The audit review as a terminal summary: problems and writes needing attention first. */
export function renderAuditText(report: AuditReport): string {
  const out: string[] = [];
  const total = report.inputs.reduce((n, i) => n + i.lines, 0);
  out.push(`Audit review: ${report.writes} Image write(s) in ${total} lines from ${report.inputs.length} input(s); webhooks ${report.webhookNames.map(printable).join(', ')}`);
  for (const input of report.inputs) {
    const extra = [
      input.format === 'json' ? 'JSON documents' : '',
      input.malformed > 0 ? `${input.malformed} malformed (lines ${input.malformedLines.join(', ')}${input.malformed > input.malformedLines.length ? ', ...' : ''})` : '',
      input.error ? `ERROR: ${input.error}` : '',
    ].filter(Boolean);
    out.push(`  ${printable(input.path)}${input.gzip ? ' (gzip)' : ''}: ${input.lines} lines, ${input.writes} writes${extra.length ? `; ${printable(extra.join('; '))}` : ''}`);
  }
  out.push('');
  if (report.problems.length > 0) {
    out.push('CANNOT TELL: the review cannot vouch for the whole log:');
    for (const problem of report.problems) out.push(`  - ${printable(problem)}`);
    out.push('');
  }
  out.push(
    report.attention === 0
      ? report.problems.length === 0
        ? 'Every write is accounted for; none needs attention.'
        : 'No write read needs attention (but see above).'
      : `NEEDS ATTENTION: ${report.attention} write(s) ${ATTENTION_LIST}.`,
  );
  out.push('', 'Outcomes:');
  out.push(table(['outcome', 'writes', 'meaning'], OUTCOMES.map((o) => [o, report.outcomes[o], OUTCOME_MEANING[o]]), [false, true, false]));

  const attention = report.entries.filter((e) => ATTENTION.has(e.outcome));
  const listedAttention = report.entries.length === report.entriesTotal ? attention.length : `${attention.length} kept`;
  if (attention.length > 0) {
    out.push('', `Writes that need attention (${listedAttention}; bypasses and failed-open first):`);
    for (const e of attention) out.push(...entryLines(e));
  }
  const warned = report.outcomes.warned;
  if (warned > 0 && !attention.some((e) => e.outcome === 'warned')) out.push('', `${warned} warned write(s) are summed up by rule and user below (list them with --list-all).`);
  const quiet = report.entries.filter((e) => !ATTENTION.has(e.outcome));
  if (quiet.length > 0) {
    out.push('', `Writes that did not take effect (${quiet.length}):`);
    for (const e of quiet) out.push(...entryLines(e));
  }

  out.push('', 'Per webhook (writes it is registered for):');
  const verdicts = VERDICTS.filter((v) => Object.values(report.byWebhook).some((c) => c[v] > 0));
  out.push(
    verdicts.length === 0
      ? '  (no write)'
      : table(['webhook', ...verdicts], Object.entries(report.byWebhook).map(([name, c]) => [printable(name), ...verdicts.map((v) => c[v])]), [false, ...verdicts.map(() => true)]),
  );
  const denied = Object.entries(report.deniedByRule);
  out.push('', 'Denied, by rule:');
  out.push(denied.length === 0 ? '  (none)' : table(['rule', 'writes'], denied, [false, true]));
  const through = Object.entries(report.throughByRule);
  out.push('', 'Stored with violations, by rule:');
  out.push(through.length === 0 ? '  (none)' : table(['rule', 'writes'], through, [false, true]));
  if (report.ruleByUser.length > 0) {
    out.push('', `Rule x user${report.ruleByUser.length > 30 ? ' (top 30)' : ''}:`);
    out.push(table(['rule', 'user', 'denied', 'stored'], report.ruleByUser.slice(0, 30).map((r) => [r.rule, printable(r.user), r.denied, r.through]), [false, false, true, true]));
  }
  const columns = OUTCOMES.filter((o) => report.outcomes[o] > 0);
  if (columns.length > 0) {
    out.push('', 'By resource:');
    out.push(table(['resource', ...columns], Object.entries(report.byResource).map(([r, c]) => [printable(r), ...columns.map((o) => c[o])]), [false, ...columns.map(() => true)]));
  }
  const users = Object.entries(report.byUser).sort((a, b) => b[1].attention - a[1].attention || b[1].writes - a[1].writes).slice(0, 20);
  if (users.length > 0) {
    out.push('', `By user${Object.keys(report.byUser).length > 20 ? ' (top 20)' : ''}:`);
    out.push(table(['user', 'writes', 'denied', 'attention', 'bypassed', 'failed-open'], users.map(([u, c]) => [printable(u), c.writes, c.denied, c.attention, c.bypassed, c.failedOpen]), [false, true, true, true, true, true]));
  }
  out.push('', `Outcomes over time (UTC${report.timeline.bucketSize ? `, per ${report.timeline.bucketSize}` : ''}):`);
  const buckets = report.timeline.buckets;
  const peak = Math.max(1, ...buckets.map((b) => sum(b.counts)));
  for (const { start, counts } of buckets) {
    const n = sum(counts);
    const bar = n === 0 ? '' : '#'.repeat(Math.max(1, Math.round((n / peak) * 30)));
    const needs = [...ATTENTION].reduce((k, o) => k + counts[o], 0);
    out.push(`  ${start.slice(0, 16)}Z ${String(n).padStart(7)} ${bar.padEnd(30)}  denied ${counts.denied}, attention ${needs}`);
  }
  if (buckets.length === 0) out.push('  (no write with a time)');
  if (report.join) out.push('', `Decision log: ${report.join.decisions} decisions; ${report.join.matched} writes matched, ${report.join.unmatched} unmatched`);
  out.push('', `Re-checked ${report.recheck.checked} logged object(s): ${report.recheck.withViolations} with violations; ${report.recheck.notLogged} not logged at this audit level`);
  if (report.otherWebhooks.length > 0) out.push('', `Other webhooks named in the log: ${report.otherWebhooks.map(printable).join(', ')}`);
  for (const note of report.notes) out.push(`note: ${printable(note)}`);
  return `${out.join('\n')}\n`;
}

const ATTENTION_LIST = `(${[...ATTENTION].join(', ')})`;

/** The scan of existing Images as a terminal summary. */
export function renderScanText(report: ScanReport): string {
  const out: string[] = [];
  const warnOnly = report.withViolations - report.failing;
  out.push(
    `Scanned ${report.images} Images from ${printable(report.source)}: ${report.withViolations} with violations${warnOnly > 0 ? ` (${warnOnly} of them warn-only)` : ''}${report.skipped > 0 ? `, ${report.skipped} objects skipped (not Images)` : ''}`,
  );
  const rules = Object.entries(report.byRule);
  out.push('', 'By rule:');
  out.push(rules.length === 0 ? '  (no violations)' : table(['rule', 'images'], rules));
  for (const finding of report.findings) {
    out.push('', `Image ${printable(finding.name)}${finding.reference ? ` (${printable(finding.reference)})` : ''}:`);
    for (const v of finding.violations) out.push(`  ${printable(v.path)}: ${printable(v.detail)}  [${v.rule}${v.result === 'warn' ? ', warn' : ''}]`);
  }
  if (report.findingsTotal > report.findings.length) out.push('', `note: only the first ${report.findings.length} of ${report.findingsTotal} Images with violations are listed`);
  const untrusted = report.untrustedInScope;
  if (untrusted !== undefined) {
    out.push('', `Images in --expect-trusted-signature scopes without a trusted signature (a warning): ${untrusted.total}`);
    for (const image of untrusted.images) out.push(`  ${printable(image.name)}${image.reference ? ` (${printable(image.reference)})` : ''}`);
    if (untrusted.total > untrusted.images.length) out.push(`  note: only the first ${untrusted.images.length} are listed`);
  }
  return `${out.join('\n')}\n`;
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
