/** Plain-text summaries for a terminal: aligned tables, worst first. */
import { OUTCOMES } from './events.js';
import type { AuditReport } from './review.js';
import type { ScanReport } from './scan.js';

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd())
    .map((l) => `  ${l}`)
    .join('\n');
}

// Terminal control characters in log data could rewrite the screen: show them as escapes instead.
// eslint-disable-next-line no-control-regex
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** The audit review as a terminal summary. */
export function renderAuditText(report: AuditReport): string {
  const out: string[] = [];
  const total = report.inputs.reduce((n, i) => n + i.lines, 0);
  out.push(`Audit review: ${report.events} events on Image resources in ${total} lines from ${report.inputs.length} input(s)`);
  for (const input of report.inputs) {
    const malformed = input.malformed > 0 ? `, ${input.malformed} malformed (lines ${input.malformedLines.join(', ')}${input.malformed > input.malformedLines.length ? ', ...' : ''})` : '';
    out.push(`  ${printable(input.path)}${input.gzip ? ' (gzip)' : ''}: ${input.lines} lines${malformed}`);
  }
  out.push('', 'By decision:');
  out.push(table(['decision', 'events'], OUTCOMES.map((o) => [o, report.byDecision[o]])));
  const rules = Object.entries(report.byRule);
  out.push('', 'By rule:');
  out.push(rules.length === 0 ? '  (no violations)' : table(['rule', 'events'], rules));
  out.push('', 'By resource:');
  out.push(table(['resource', ...OUTCOMES], Object.entries(report.byResource).map(([r, c]) => [r, ...OUTCOMES.map((o) => c[o])])));
  const users = Object.entries(report.byUser).sort((a, b) => b[1].writes - a[1].writes).slice(0, 20);
  out.push('', `By user${Object.keys(report.byUser).length > 20 ? ' (top 20 by events)' : ''}:`);
  out.push(table(['user', 'events', 'denied', 'through', 'failed-open'], users.map(([u, c]) => [printable(u), c.writes, c.denied, c.through, c.failedOpen])));
  out.push('', 'Worst offenders:');
  out.push(
    report.offenders.length === 0
      ? '  (none)'
      : table(['user', 'through', 'denied', 'failed-open'], report.offenders.map((o) => [printable(o.user), o.through, o.denied, o.failedOpen])),
  );
  out.push('', 'Timeline (per hour, UTC):');
  const peak = Math.max(1, ...report.timeline.map((t) => sum(t.counts)));
  for (const { hour, counts } of report.timeline) {
    const n = sum(counts);
    const bar = '#'.repeat(Math.max(1, Math.round((n / peak) * 30)));
    out.push(`  ${hour}  ${String(n).padStart(6)} ${bar.padEnd(30)}  denied ${counts.denied}, failed-open ${counts['failed-open']}`);
  }
  if (report.timeline.length === 0) out.push('  (no events)');
  if (report.join) out.push('', `Decision log: ${report.join.decisions} decisions; ${report.join.matched} events matched, ${report.join.unmatched} unmatched`);
  out.push('', `Re-checked ${report.recheck.checked} logged objects; ${report.recheck.withViolations} with violations`);
  out.push('', report.findingsTotal === 0 ? 'No write got through with violations, and none while the webhook failed open.' : `FOUND ${report.findingsTotal} write(s) that got through with violations or while the webhook failed open:`);
  for (const f of report.findings) {
    const what = `${f.verb} ${f.resource}${f.namespace ? ` ${f.namespace}/` : ' '}${f.name ?? ''}`;
    out.push(`  ${f.time ?? '-'}  ${printable(f.user)}  ${printable(what)}  [${f.outcome}${f.code !== undefined ? `, ${f.code}` : ''}]${f.note ? ` (${printable(f.note)})` : ''}`);
    for (const v of f.violations) out.push(`      ${printable(v.rule)}${v.path ? ` at ${printable(v.path)}` : ''}${v.detail ? `: ${printable(v.detail)}` : ''}`);
  }
  for (const note of report.notes) out.push(`note: ${note}`);
  return `${out.join('\n')}\n`;
}

/** The scan of existing Images as a terminal summary. */
export function renderScanText(report: ScanReport): string {
  const out: string[] = [];
  out.push(`Scanned ${report.images} Images from ${printable(report.source)}: ${report.withViolations} with violations${report.skipped > 0 ? `, ${report.skipped} objects skipped (not Images)` : ''}`);
  const rules = Object.entries(report.byRule);
  out.push('', 'By rule:');
  out.push(rules.length === 0 ? '  (no violations)' : table(['rule', 'images'], rules));
  for (const finding of report.findings) {
    out.push('', `Image ${printable(finding.name)}${finding.reference ? ` (${printable(finding.reference)})` : ''}:`);
    for (const v of finding.violations) out.push(`  ${printable(v.path)}: ${printable(v.detail)}  [${v.rule}]`);
  }
  if (report.findingsTotal > report.findings.length) out.push('', `note: only the first ${report.findings.length} of ${report.findingsTotal} Images with violations are listed`);
  return `${out.join('\n')}\n`;
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
