/**
 * Self-contained HTML reports: no scripts, no external assets, charts as inline SVG. Every string that
 * comes from a log or a cluster is untrusted and goes through `escapeHtml`; a Content-Security-Policy
 * forbids scripts and remote loads in case one ever slipped through.
 */
import { OUTCOMES, type Outcome } from './events.js';
import type { AuditReport } from './review.js';
import type { ScanReport } from './scan.js';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const COLORS: Record<Outcome, string> = {
  denied: '#d1453b',
  allowed: '#3f9b5f',
  warned: '#e0a227',
  exempt: '#8c62c9',
  'dry-run': '#4f86c6',
  'failed-open': '#5b1a1a',
  'not-seen': '#9aa0a6',
};

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1f2328}
header{background:#1f2a37;color:#fff;padding:18px 32px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#c9d1d9}
main{padding:20px 32px;max-width:1200px}
section{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:16px 20px;margin:0 0 18px}
h2{font-size:16px;margin:0 0 12px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:18px}
.card{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:12px 18px;min-width:130px}
.card b{display:block;font-size:26px}.card span{color:#57606a}
.card.bad{border-color:#d1453b;background:#fff5f4}.card.bad b{color:#b3261e}.card.good b{color:#2d7a48}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{color:#57606a;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
td code{word-break:break-all}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f0f2f4;padding:1px 4px;border-radius:3px}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.note{color:#57606a}.two{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:18px}.two section{margin:0}
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

function card(label: string, value: number, tone: 'bad' | 'good' | '' = ''): string {
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

/** Horizontal bars, one per label (labels are escaped here). */
export function barChart(entries: [string, number][], color = '#4f86c6'): string {
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

/** Stacked bars of decisions per hour. */
function timelineChart(timeline: AuditReport['timeline']): string {
  if (timeline.length === 0) return '<p class="note">No events with a time.</p>';
  const width = 1100;
  const height = 280;
  const left = 52;
  const bottom = 40;
  const top = 10;
  const plotW = width - left - 10;
  const plotH = height - top - bottom;
  const totals = timeline.map((t) => OUTCOMES.reduce((n, o) => n + t.counts[o], 0));
  const max = niceCeiling(Math.max(1, ...totals));
  const slot = plotW / timeline.length;
  const barW = Math.max(1, slot * 0.8);
  const parts: string[] = [];
  // Whole-number ticks: 50 in steps of 10, 20 in steps of 5, 2 in steps of 1.
  const intervals = [5, 4, 2].find((k) => Number.isInteger(max / k)) ?? 1;
  for (let k = 0; k <= intervals; k++) {
    const y = top + plotH - (k / intervals) * plotH;
    parts.push(`<line x1="${left}" x2="${width - 10}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e3e6ea"/><text x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#57606a">${(max * k) / intervals}</text>`);
  }
  timeline.forEach((t, i) => {
    let y = top + plotH;
    const x = left + i * slot + (slot - barW) / 2;
    for (const outcome of OUTCOMES) {
      const n = t.counts[outcome];
      if (n === 0) continue;
      const h = (n / max) * plotH;
      y -= h;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[outcome]}"><title>${escapeHtml(`${t.hour} ${outcome}: ${n}`)}</title></rect>`);
    }
  });
  const every = Math.max(1, Math.ceil(timeline.length / 8));
  timeline.forEach((t, i) => {
    if (i % every !== 0) return;
    const x = left + i * slot + slot / 2;
    parts.push(`<text x="${x.toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle" font-size="11" fill="#57606a">${escapeHtml(t.hour.slice(5, 13).replace('T', ' '))}h</text>`);
  });
  parts.push(`<line x1="${left}" x2="${width - 10}" y1="${top + plotH}" y2="${top + plotH}" stroke="#8c959f"/>`);
  const legend = OUTCOMES.map((o) => `<span><i style="background:${COLORS[o]}"></i>${escapeHtml(o)}</span>`).join('');
  return `<svg class="chart timeline" role="img" aria-label="decisions per hour" width="100%" viewBox="0 0 ${width} ${height}" font-family="system-ui,sans-serif">${parts.join('')}</svg><div class="legend">${legend}</div>`;
}

/** The audit review as an HTML page. */
export function renderAuditHtml(report: AuditReport, generatedAt = new Date()): string {
  const lines = report.inputs.reduce((n, i) => n + i.lines, 0);
  const d = report.byDecision;
  const cards = [
    card('events on Image resources', report.events),
    card('denied', d.denied),
    card('allowed, warned, exempt, dry-run', d.allowed + d.warned + d.exempt + d['dry-run']),
    card('failed open', d['failed-open'], d['failed-open'] > 0 ? 'bad' : 'good'),
    card('never seen by the webhook', d['not-seen']),
    card('got through with violations or failing open', report.findingsTotal, report.findingsTotal > 0 ? 'bad' : 'good'),
  ].join('');
  const inputs = tableHtml(
    ['input', 'lines', 'bytes', 'malformed', 'first malformed lines'],
    report.inputs.map((i) => [`<code>${escapeHtml(i.path)}</code>${i.gzip ? ' (gzip)' : ''}`, i.lines, i.bytes, i.malformed, escapeHtml(i.malformedLines.join(', '))]),
    [false, true, true, true, false],
  );
  const resources = tableHtml(
    ['resource', ...OUTCOMES],
    Object.entries(report.byResource).map(([r, c]) => [`<code>${escapeHtml(r)}</code>`, ...OUTCOMES.map((o) => c[o])]),
    [false, ...OUTCOMES.map(() => true)],
  );
  const users = Object.entries(report.byUser).sort((a, b) => b[1].writes - a[1].writes).slice(0, 50);
  const userTable = tableHtml(
    ['user', 'events', 'denied', 'got through with violations', 'failed open'],
    users.map(([u, c]) => [`<code>${escapeHtml(u)}</code>`, c.writes, c.denied, c.through, c.failedOpen]),
    [false, true, true, true, true],
  );
  const offenders =
    report.offenders.length === 0
      ? '<p class="note">None.</p>'
      : tableHtml(
          ['user', 'got through', 'denied', 'failed open'],
          report.offenders.map((o) => [`<code>${escapeHtml(o.user)}</code>`, o.through, o.denied, o.failedOpen]),
          [false, true, true, true],
        );
  const findings =
    report.findings.length === 0
      ? '<p class="note">No write got through with violations, and none while the webhook failed open.</p>'
      : tableHtml(
          ['time', 'user', 'write', 'outcome', 'violations'],
          report.findings.map((f) => [
            escapeHtml(f.time ?? ''),
            `<code>${escapeHtml(f.user)}</code>`,
            `${escapeHtml(f.verb)} <code>${escapeHtml(f.resource)}</code> ${escapeHtml(f.namespace ? `${f.namespace}/` : '')}${escapeHtml(f.name ?? '')}`,
            `${escapeHtml(f.outcome)}${f.code !== undefined ? ` (${f.code})` : ''}${f.note ? `<br><span class="note">${escapeHtml(f.note)}</span>` : ''}`,
            f.violations.map((v) => `<code>${escapeHtml(v.rule)}</code> ${escapeHtml(v.path)}${v.detail ? `: ${escapeHtml(v.detail)}` : ''}`).join('<br>') || '<span class="note">none</span>',
          ]),
        );
  const join = report.join
    ? `<p>Decision log: ${report.join.decisions} decisions; <b>${report.join.matched}</b> events matched, <b>${report.join.unmatched}</b> unmatched.</p>`
    : '';
  const notes = report.notes.map((n) => `<p class="note">Note: ${escapeHtml(n)}</p>`).join('');
  const body = `<div class="cards">${cards}</div>
<section><h2>Decisions per hour (UTC)</h2>${timelineChart(report.timeline)}</section>
<div class="two"><section><h2>Violations by rule</h2>${barChart(Object.entries(report.byRule), '#d1453b')}</section>
<section><h2>Worst offenders</h2>${offenders}</section></div>
<section style="margin-top:18px"><h2>Writes that got through with violations or while failing open (${report.findingsTotal})</h2>${findings}${notes}</section>
<section><h2>By resource</h2>${resources}</section>
<section><h2>By user</h2>${userTable}</section>
<section><h2>Inputs</h2>${inputs}${join}<p>Re-checked ${report.recheck.checked} logged objects with the webhook's rules: ${report.recheck.withViolations} with violations.</p></section>`;
  return page('Image admission audit review', `${report.events} events in ${lines} lines, webhooks ${report.webhookNames.join(', ')}; generated ${generatedAt.toISOString()}`, body);
}

/** The scan of existing Images as an HTML page. */
export function renderScanHtml(report: ScanReport, generatedAt = new Date()): string {
  const cards = [card('Images scanned', report.images), card('with violations', report.withViolations, report.withViolations > 0 ? 'bad' : 'good'), card('other objects skipped', report.skipped)].join('');
  const findings =
    report.findings.length === 0
      ? '<p class="note">Every Image passes the create rules.</p>'
      : tableHtml(
          ['Image', 'path', 'violation', 'rule'],
          report.findings.flatMap((f) =>
            f.violations.map((v, i) => [
              i === 0 ? `<code>${escapeHtml(f.name)}</code>${f.reference ? `<br><span class="note">${escapeHtml(f.reference)}</span>` : ''}` : '',
              `<code>${escapeHtml(v.path)}</code>`,
              escapeHtml(v.detail),
              `<code>${escapeHtml(v.rule)}</code>`,
            ]),
          ),
        );
  const body = `<div class="cards">${cards}</div>
<section><h2>Images with violations, by rule</h2>${barChart(Object.entries(report.byRule), '#d1453b')}</section>
<section><h2>Violations by Image</h2>${findings}</section>`;
  return page('Image admission scan', `${report.images} Images from ${report.source}; generated ${generatedAt.toISOString()}`, body);
}
