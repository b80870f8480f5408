/**
 * Self-contained HTML reports: no scripts, no external assets, charts as inline SVG. Every string that
 * comes from a log or a cluster is untrusted and goes through `escapeHtml`; a Content-Security-Policy
 * forbids scripts and remote loads in case one ever slipped through.
 */
import { ATTENTION, OUTCOMES, type WriteOutcome, VERDICTS } from './events.js';
import { OUTCOME_MEANING } from './render-text.js';
import type { AuditReport, WriteEntry } from './review.js';
import type { ScanReport } from './scan.js';

/** Escapes text for HTML element content and quoted attribute values. */
function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const COLORS: Record<WriteOutcome, string> = {
  denied: '#d1453b',
  allowed: '#3f9b5f',
  warned: '#e0a227',
  exempt: '#8c62c9',
  'dry-run': '#4f86c6',
  bypassed: '#b0156b',
  partial: '#e8710a',
  'failed-open': '#5b1a1a',
  'failed-closed': '#6d4c41',
  'refused-elsewhere': '#78909c',
  'not-stored': '#c5cad0',
};

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1f2328}
header{background:#1f2a37;color:#fff;padding:18px 32px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#c9d1d9}
main{padding:20px 32px;max-width:1216px;box-sizing:border-box}
section{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:16px 20px;margin:0 0 18px}
h2{font-size:16px;margin:0 0 12px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:18px}
.card{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:12px 18px;min-width:110px}
.card b{display:block;font-size:26px}.card span{color:#57606a}
.card.bad{border-color:#d1453b;background:#fff5f4}.card.bad b{color:#b3261e}.card.good b{color:#2d7a48}
.card.warn{border-color:#e0a227;background:#fffaf0}.card.warn b{color:#9a6700}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{color:#57606a;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
td code{overflow-wrap:anywhere}
table.fixed{table-layout:fixed}table.fixed td{overflow-wrap:anywhere}
.problems{border-color:#d1453b;background:#fff5f4}.problems li{margin:4px 0}
.tag{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-size:12px;white-space:nowrap}
.scroll{overflow-x:auto}.nowrap{white-space:nowrap}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f0f2f4;padding:1px 4px;border-radius:3px}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.note{color:#57606a}.two{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:18px}.two section{margin:0}.half{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:18px}.half section{margin:0}
`;

function page(title: string, subtitle: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(title)}</h1><p>${escapeHtml(subtitle)}</p></header><main>
${body}
</main></body></html>
`;
}

function card(label: string, value: number, tone: 'bad' | 'warn' | 'good' | '' = ''): string {
  return `<div class="card ${tone}"><b>${value.toLocaleString('en-US')}</b><span>${escapeHtml(label)}</span></div>`;
}

/** A table whose text cells are HTML the caller has already escaped. */
function tableHtml(header: string[], rows: (string | number)[][], numeric: boolean[] = []): string {
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((c, i) => (numeric[i] ? `<td class="n">${escapeHtml(c)}</td>` : `<td>${c}</td>`)).join('')}</tr>`)
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/**
 * A fixed-layout table whose text cells are HTML the caller has already escaped: each column keeps its
 * share of the width and long values (digests, references) wrap inside it, so the page fits 1280 px.
 */
function fixedTableHtml(className: string, columns: [header: string, percent: number][], rows: string[][]): string {
  const widths = columns.map(([, percent]) => `<col style="width:${percent}%">`).join('');
  const head = columns.map(([header]) => `<th>${escapeHtml(header)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table class="fixed ${className}"><colgroup>${widths}</colgroup><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Horizontal bars, one per label (labels are escaped here). */
function barChart(entries: [string, number][], color = '#4f86c6'): string {
  if (entries.length === 0) return '<p class="note">No violations.</p>';
  const row = 26;
  const labelWidth = 230;
  const width = 760;
  const max = Math.max(...entries.map(([, n]) => n));
  const bars = entries
    .map(([label, n], i) => {
      const w = Math.max(2, ((width - labelWidth - 70) * n) / max);
      const y = i * row;
      return `<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end" font-size="12">${escapeHtml(label)}</text><rect x="${labelWidth}" y="${y + 5}" width="${w.toFixed(1)}" height="16" rx="3" fill="${color}"/><text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 17}" font-size="12">${n}</text>`;
    })
    .join('');
  return `<svg class="chart rules" role="img" aria-label="bars by rule" width="100%" style="max-width:${width}px" viewBox="0 0 ${width} ${entries.length * row + 6}" font-family="system-ui,sans-serif">${bars}</svg>`;
}

/** The smallest 1, 2, 2.5 or 5 times a power of ten at or above `n`, so that axis ticks are round. */
function niceCeiling(n: number): number {
  const power = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((v) => v >= n)!;
}

/** Stacked bars of outcomes per bucket. */
function timelineChart(timeline: AuditReport['timeline']): string {
  const buckets = timeline.buckets;
  if (buckets.length === 0) return '<p class="note">No write with a time.</p>';
  const width = 1100;
  const height = 280;
  const left = 52;
  const bottom = 40;
  const top = 10;
  const plotW = width - left - 10;
  const plotH = height - top - bottom;
  const totals = buckets.map((t) => OUTCOMES.reduce((n, o) => n + t.counts[o], 0));
  const max = niceCeiling(Math.max(1, ...totals));
  const slot = plotW / buckets.length;
  const barW = Math.max(1, slot * 0.8);
  const parts: string[] = [];
  // Whole-number ticks: 50 in steps of 10, 20 in steps of 5, 2 in steps of 1.
  const intervals = [5, 4, 2].find((k) => Number.isInteger(max / k)) ?? 1;
  for (let k = 0; k <= intervals; k++) {
    const y = top + plotH - (k / intervals) * plotH;
    parts.push(`<line x1="${left}" x2="${width - 10}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e3e6ea"/><text x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#57606a">${(max * k) / intervals}</text>`);
  }
  // Attention first, at the bottom of each bar, where it is easiest to see.
  const order = [...OUTCOMES].sort((a, b) => Number(ATTENTION.has(b)) - Number(ATTENTION.has(a)));
  buckets.forEach((t, i) => {
    let y = top + plotH;
    const x = left + i * slot + (slot - barW) / 2;
    for (const outcome of order) {
      const n = t.counts[outcome];
      if (n === 0) continue;
      const h = (n / max) * plotH;
      y -= h;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[outcome]}"><title>${escapeHtml(`${t.start} ${outcome}: ${n}`)}</title></rect>`);
    }
  });
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  const spansDays = buckets[0]!.start.slice(0, 10) !== buckets[buckets.length - 1]!.start.slice(0, 10);
  buckets.forEach((t, i) => {
    if (i % every !== 0) return;
    const x = left + i * slot + slot / 2;
    const label = spansDays ? t.start.slice(5, 16).replace('T', ' ') : t.start.slice(11, 16);
    parts.push(`<text x="${x.toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle" font-size="11" fill="#57606a">${escapeHtml(label)}</text>`);
  });
  parts.push(`<line x1="${left}" x2="${width - 10}" y1="${top + plotH}" y2="${top + plotH}" stroke="#8c959f"/>`);
  const legend = OUTCOMES.map((o) => `<span><i style="background:${COLORS[o]}"></i>${escapeHtml(o)}</span>`).join('');
  return `<svg class="chart timeline" role="img" aria-label="outcomes per ${escapeHtml(timeline.bucketSize)}" width="100%" viewBox="0 0 ${width} ${height}" font-family="system-ui,sans-serif">${parts.join('')}</svg><div class="legend">${legend}</div>`;
}

function tag(outcome: WriteOutcome): string {
  const dark = outcome !== 'not-stored';
  return `<span class="tag" style="background:${COLORS[outcome]};${dark ? '' : 'color:#1f2328'}">${escapeHtml(outcome)}</span>`;
}

/** The listed writes as a fixed-layout table that fits 1280 px: long values wrap inside their column. */
function entriesTable(entries: WriteEntry[]): string {
  const rows = entries
    .map((e) => {
      const what = `${escapeHtml(e.verb)} <code>${escapeHtml(e.resource)}${e.subresource ? `/${escapeHtml(e.subresource)}` : ''}</code> ${e.namespace ? `${escapeHtml(e.namespace)}/` : ''}<code>${escapeHtml(e.name ?? '(no name)')}</code> → ${e.code}`;
      const actor = `<code>${escapeHtml(e.user)}</code>${e.impersonatedUser ? `<br>as <code>${escapeHtml(e.impersonatedUser)}</code>` : ''}${e.sourceIPs.length ? `<br><span class="note">${escapeHtml(e.sourceIPs.join(', '))}</span>` : ''}`;
      const hooks = Object.entries(e.webhooks)
        .map(([name, verdict]) => `<code>${escapeHtml(name.split('.')[0]!)}</code> <span class="nowrap">${escapeHtml(verdict)}</span>`)
        .join('<br>');
      const violations = e.violations.map((v) => `<code>${escapeHtml(v.rule)}</code> ${escapeHtml(v.path)}${v.detail ? `: ${escapeHtml(v.detail)}` : ''}`).join('<br>');
      const extra = [violations, e.note ? `<span class="note">${escapeHtml(e.note)}</span>` : '', `<span class="note">re-check: ${escapeHtml(e.recheck)}</span>`].filter(Boolean).join('<br>');
      return `<tr><td>${tag(e.outcome)}<br><span class="note">${escapeHtml((e.time ?? '').replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</span></td><td><code>${escapeHtml(e.auditID ?? '-')}</code></td><td>${what}</td><td>${actor}</td><td>${hooks}</td><td>${extra}</td></tr>`;
    })
    .join('');
  return `<table class="fixed entries"><colgroup><col style="width:13%"><col style="width:14%"><col style="width:22%"><col style="width:16%"><col style="width:13%"><col style="width:22%"></colgroup><thead><tr><th>outcome, time</th><th>auditID</th><th>write</th><th>actor</th><th>webhooks</th><th>violations</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** The audit review as an HTML page. */
export function renderAuditHtml(report: AuditReport, generatedAt = new Date()): string {
  const lines = report.inputs.reduce((n, i) => n + i.lines, 0);
  const o = report.outcomes;
  const cards = [
    card('Image writes', report.writes),
    card('need attention', report.attention, report.attention > 0 ? 'bad' : 'good'),
    card('bypassed', o.bypassed, o.bypassed > 0 ? 'bad' : 'good'),
    card('failed open', o['failed-open'], o['failed-open'] > 0 ? 'bad' : 'good'),
    card('partial', o.partial, o.partial > 0 ? 'bad' : 'good'),
    card('denied', o.denied),
    card('allowed', o.allowed),
  ].join('');
  const problems =
    report.problems.length === 0
      ? ''
      : `<section class="problems"><h2>Cannot tell: the review cannot vouch for the whole log</h2><ul>${report.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul></section>`;
  const outcomes = tableHtml(
    ['outcome', 'writes', 'meaning'],
    OUTCOMES.map((outcome) => [tag(outcome), o[outcome], escapeHtml(OUTCOME_MEANING[outcome])]),
    [false, true, false],
  );
  const attention = report.entries.filter((e) => ATTENTION.has(e.outcome));
  const quiet = report.entries.filter((e) => !ATTENTION.has(e.outcome));
  const capped = report.entriesCapped ? `<p class="note">Only ${report.entries.length} of ${report.entriesTotal} listed writes are kept: raise --max-entries or use --ndjson.</p>` : '';
  const attentionHtml = attention.length === 0 ? '<p class="note">None.</p>' : entriesTable(attention);
  const inputs = tableHtml(
    ['input', 'lines', 'bytes', 'writes', 'malformed', 'error'],
    report.inputs.map((i) => [`<code>${escapeHtml(i.path)}</code>${i.gzip ? ' (gzip)' : ''}${i.format === 'json' ? ' (JSON documents)' : ''}`, i.lines, i.bytes, i.writes, i.malformed, escapeHtml(i.error ?? i.malformedLines.join(', '))]),
    [false, true, true, true, true, false],
  );
  const verdicts = VERDICTS.filter((v) => Object.values(report.byWebhook).some((c) => c[v] > 0));
  const webhooks = tableHtml(
    ['webhook', ...verdicts],
    Object.entries(report.byWebhook).map(([name, c]) => [`<code>${escapeHtml(name)}</code>`, ...verdicts.map((v) => c[v])]),
    [false, ...verdicts.map(() => true)],
  );
  const columns = OUTCOMES.filter((outcome) => o[outcome] > 0);
  const resources = tableHtml(
    ['resource', ...columns],
    Object.entries(report.byResource).map(([r, c]) => [`<code>${escapeHtml(r)}</code>`, ...columns.map((outcome) => c[outcome])]),
    [false, ...columns.map(() => true)],
  );
  const users = Object.entries(report.byUser).sort((a, b) => b[1].attention - a[1].attention || b[1].writes - a[1].writes).slice(0, 50);
  const userTable = tableHtml(
    ['user', 'writes', 'denied', 'need attention', 'bypassed', 'failed open'],
    users.map(([u, c]) => [`<code>${escapeHtml(u)}</code>`, c.writes, c.denied, c.attention, c.bypassed, c.failedOpen]),
    [false, true, true, true, true, true],
  );
  const ruleUser =
    report.ruleByUser.length === 0
      ? '<p class="note">No violations.</p>'
      : tableHtml(
          ['rule', 'user', 'denied', 'stored'],
          report.ruleByUser.slice(0, 50).map((r) => [`<code>${escapeHtml(r.rule)}</code>`, `<code>${escapeHtml(r.user)}</code>`, r.denied, r.through]),
          [false, false, true, true],
        );
  const join = report.join
    ? `<p>Decision log: ${report.join.decisions} decisions; <b>${report.join.matched}</b> writes matched, <b>${report.join.unmatched}</b> unmatched.</p>`
    : '';
  const notes = report.notes.map((n) => `<p class="note">Note: ${escapeHtml(n)}</p>`).join('');
  const body = `<div class="cards">${cards}</div>
${problems}
<section><h2>Writes that need attention (${attention.length}${report.entriesCapped ? ' kept' : ''}): bypasses and failed-open first</h2>${attentionHtml}${capped}</section>
<section><h2>Outcomes over time (UTC, per ${escapeHtml(report.timeline.bucketSize || '-')})</h2>${timelineChart(report.timeline)}</section>
<section><h2>Outcomes</h2>${outcomes}</section>
<section><h2>Per webhook (the writes it is registered for)</h2><div class="scroll">${webhooks}</div></section>
<div class="half"><section><h2>Denied, by rule</h2>${barChart(Object.entries(report.deniedByRule), '#d1453b')}</section>
<section><h2>Stored with violations, by rule</h2>${barChart(Object.entries(report.throughByRule), '#b0156b')}</section></div>
<section style="margin-top:18px"><h2>Rule × user</h2>${ruleUser}</section>
${quiet.length > 0 ? `<section><h2>Writes that did not take effect (${quiet.length})</h2>${entriesTable(quiet)}</section>` : ''}
<section><h2>By resource</h2><div class="scroll">${resources}</div></section>
<section><h2>By user</h2>${userTable}</section>
<section><h2>Inputs</h2>${inputs}${join}<p>Re-checked ${report.recheck.checked} logged objects with the webhook's rules: ${report.recheck.withViolations} with violations; ${report.recheck.notLogged} not logged at this audit level.</p>${report.otherWebhooks.length ? `<p>Other webhooks named in the log: ${report.otherWebhooks.map((w) => `<code>${escapeHtml(w)}</code>`).join(', ')}</p>` : ''}${notes}</section>`;
  return page('Image admission audit review', `${report.writes} Image writes in ${lines} lines, webhooks ${report.webhookNames.join(', ')}; generated ${generatedAt.toISOString()}`, body);
}

/** "Only the first N of M are listed", when the scan kept fewer than it counted. */
function cappedNote(listed: number, total: number, what: string): string {
  return total > listed ? `<p class="note">Only the first ${listed} of ${total} ${what} are listed.</p>` : '';
}

/**
 * The Images in --expect-trusted-signature scopes without a trusted signature, as the scan listed them
 * (absent without scopes). A warning, as on the webhook, so a card of its own tone, not a violation's.
 */
function untrustedSection(untrusted: ScanReport['untrustedInScope']): string {
  if (untrusted === undefined) return '';
  const list =
    untrusted.images.length === 0
      ? '<p class="note">Every Image in scope carries a trusted signature.</p>'
      : fixedTableHtml(
          'untrusted',
          [['Image', 45], ['reference', 55]],
          untrusted.images.map((image) => [`<code>${escapeHtml(image.name)}</code>`, image.reference ? `<code>${escapeHtml(image.reference)}</code>` : '<span class="note">(none)</span>']),
        );
  return `<section class="untrusted"><h2>Images in --expect-trusted-signature scopes without a trusted signature (a warning): ${untrusted.total}</h2>
<p class="note">None of their signatures verifies as Trusted=True and ForImage=True under --trusted-keys; the webhook warns on their writes and does not deny them, so they do not fail the scan.</p>${list}${cappedNote(untrusted.images.length, untrusted.total, 'Images')}</section>`;
}

/** The scan of existing Images as an HTML page. */
export function renderScanHtml(report: ScanReport, generatedAt = new Date()): string {
  const untrusted = report.untrustedInScope;
  const cards = [
    card('Images scanned', report.images),
    card('with violations', report.withViolations, report.failing > 0 ? 'bad' : report.withViolations > 0 ? 'warn' : 'good'),
    ...(untrusted === undefined ? [] : [card('in trust scopes, not trusted', untrusted.total, untrusted.total > 0 ? 'warn' : 'good')]),
    card('other objects skipped', report.skipped),
  ].join('');
  const findings =
    report.findings.length === 0
      ? '<p class="note">Every Image passes the create rules.</p>'
      : fixedTableHtml(
          'findings',
          [['Image', 30], ['path', 20], ['violation', 36], ['rule', 14]],
          report.findings.flatMap((f) =>
            f.violations.map((v, i) => [
              i === 0 ? `<code>${escapeHtml(f.name)}</code>${f.reference ? `<br><span class="note">${escapeHtml(f.reference)}</span>` : ''}` : '',
              `<code>${escapeHtml(v.path)}</code>`,
              escapeHtml(v.detail),
              `<code>${escapeHtml(v.rule)}</code>${v.result === 'warn' ? ' <span class="note">(warn)</span>' : ''}`,
            ]),
          ),
        );
  const body = `<div class="cards">${cards}</div>
<section><h2>Images with violations, by rule</h2>${barChart(Object.entries(report.byRule), '#d1453b')}</section>
${untrustedSection(untrusted)}
<section><h2>Violations by Image</h2>${findings}${cappedNote(report.findings.length, report.findingsTotal, 'Images with violations')}</section>`;
  return page('Image admission scan', `${report.images} Images from ${report.source}; generated ${generatedAt.toISOString()}`, body);
}
