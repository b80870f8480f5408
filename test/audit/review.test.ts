/** `audit review`: classification of each event kind, the decision-log join, inputs, and exit codes. */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { classify, DEFAULT_WEBHOOK_NAMES, isAudited, type AuditEvent } from '../../src/audit/events.js';
import { reviewAuditLogs, type AuditReport } from '../../src/audit/review.js';
import { run } from '../../src/cli/audit.js';
import { auditEvent, auditLines, BROKEN_PATHS, BROKEN_RULES, decisionIdsOf, decisionLine, EXPECTED_OUTCOME, type Level, MUTATING, noiseEvent, SCENARIOS, VALIDATING } from './audit-log.js';
import { captureIo, tempDir } from './helpers.js';

const LEVELS: Level[] = ['Metadata', 'Request', 'RequestResponse'];
const TIME = '2024-06-03T08:15:00.000Z';

describe('classify', () => {
  it.each(SCENARIOS.flatMap((scenario) => LEVELS.map((level) => ({ scenario, level }))))('calls a $scenario event at level $level "$scenario"', ({ scenario, level }) => {
    const event = auditEvent({ scenario, level, seed: 's', time: TIME }) as AuditEvent;
    expect(isAudited(event)).toBe(true);
    expect(classify(event, DEFAULT_WEBHOOK_NAMES).outcome).toBe(EXPECTED_OUTCOME[scenario]);
  });

  it('reads only the configured webhook names', () => {
    const event = auditEvent({ scenario: 'denied-422-annotation-only', level: 'Metadata', seed: 's', time: TIME }) as AuditEvent;
    expect(classify(event, ['other.example.io']).outcome).toBe('not-seen');
  });

  it('keeps only completed writes on the Image resources', () => {
    const event = auditEvent({ scenario: 'allowed', level: 'Metadata', seed: 's', time: TIME }) as AuditEvent;
    expect(isAudited({ ...event, stage: 'RequestReceived' })).toBe(false);
    expect(isAudited(noiseEvent(3, TIME) as AuditEvent)).toBe(false); // a list of images: a read
    expect(isAudited(noiseEvent(0, TIME) as AuditEvent)).toBe(false); // a lease
  });
});

function writeLog(lines: string[], name = 'audit.log'): string {
  const path = join(tempDir(), name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function reviewCli(args: string[], stdin?: string | Buffer) {
  const { io, out, err } = captureIo(stdin);
  const code = await run(['review', ...args], io);
  return { code, out: out(), err: err() };
}

describe('audit review', () => {
  const lines = auditLines({ perScenario: 6, noise: 3 });

  it('counts every decision kind once per request, and lists what got through', async () => {
    const report = await reviewAuditLogs({ inputs: [{ path: writeLog(lines) }], webhookNames: DEFAULT_WEBHOOK_NAMES });
    expect(report.events).toBe(6 * SCENARIOS.length);
    expect(report.malformed).toBe(0);
    expect(report.byDecision).toEqual({ denied: 12, allowed: 24, warned: 6, exempt: 6, 'dry-run': 6, 'failed-open': 6, 'not-seen': 12 });
    expect(report.byResource.imagestreamimports!['not-seen']).toBe(6);
    expect(report.byResource.imagesignatures!['not-seen']).toBe(6);
    expect(report.byUser['alice@example.com']).toMatchObject({ denied: 12 });
    // Warned, exempt and dry-run writes took effect with violations; failed-open ones took effect
    // unjudged; imports with a logged response carried broken Images past the webhook.
    const outcomes = new Set(report.findings.map((f) => f.outcome));
    expect([...outcomes].sort()).toEqual(['dry-run', 'exempt', 'failed-open', 'not-seen', 'warned']);
    expect(report.findings.filter((f) => f.outcome === 'not-seen').every((f) => f.resource === 'imagestreamimports')).toBe(true);
    const imported = report.findings.find((f) => f.outcome === 'not-seen')!;
    expect(imported.source).toBe('recheck');
    expect(imported.violations.map((v) => v.path)).toEqual(BROKEN_PATHS.map((path) => `status.images[0].image.${path}`));
    expect(Object.keys(report.byRule).sort()).toEqual([...BROKEN_RULES].sort());
    expect(report.timeline.length).toBeGreaterThan(1);
    expect(report.timeline.reduce((n, t) => n + Object.values(t.counts).reduce((a, b) => a + b, 0), 0)).toBe(report.events);
    expect(report.offenders[0]!.through).toBeGreaterThan(0);
  });

  it('re-checks what the log holds with the same rules, and says when an update got create rules only', async () => {
    const time = TIME;
    const update = auditEvent({ scenario: 'update-allowed', level: 'Request', seed: 'u', time }) as unknown as AuditEvent & { requestObject: { dockerImageLayers: { size: number }[] } };
    update.requestObject.dockerImageLayers[0]!.size = -5;
    const report = await reviewAuditLogs({ inputs: [{ path: writeLog([JSON.stringify(update)]) }], webhookNames: DEFAULT_WEBHOOK_NAMES });
    expect(report.recheck).toEqual({ checked: 1, createRulesOnly: 1, withViolations: 1 });
    expect(report.findings[0]).toMatchObject({ outcome: 'allowed', source: 'recheck', note: expect.stringContaining('create rules only') });
    expect(report.notes.join(' ')).toContain('create rules only');
  });

  it('re-checks without the rules named by --disable-rules', async () => {
    const update = auditEvent({ scenario: 'update-allowed', level: 'Request', seed: 'd', time: TIME }) as unknown as AuditEvent & { requestObject: { dockerImageLayers: { size: number }[] } };
    update.requestObject.dockerImageLayers[0]!.size = -5;
    const path = writeLog([JSON.stringify(update)]);
    expect((await reviewCli([path])).code).toBe(1);
    const { code, out } = await reviewCli([path, '--json', '--disable-rules', 'layer-size,layers-match-manifest']);
    expect(code).toBe(0);
    expect(JSON.parse(out).recheck).toEqual({ checked: 1, createRulesOnly: 1, withViolations: 0 });
  });

  it('reads gzip (by its magic bytes, whatever the name) exactly like plain text', async () => {
    const plain = await reviewAuditLogs({ inputs: [{ path: writeLog(lines) }], webhookNames: DEFAULT_WEBHOOK_NAMES });
    const path = join(tempDir(), 'audit.log');
    writeFileSync(path, gzipSync(`${lines.join('\n')}\n`));
    const zipped = await reviewAuditLogs({ inputs: [{ path }], webhookNames: DEFAULT_WEBHOOK_NAMES });
    expect(zipped.inputs[0]!.gzip).toBe(true);
    const strip = (r: AuditReport) => ({ ...r, inputs: r.inputs.map((i) => ({ ...i, path: '', bytes: 0, gzip: false })) });
    expect(strip(zipped)).toEqual(strip(plain));
  });

  it('skips malformed lines, counts them and reports where the first ones are, never failing', async () => {
    const event = JSON.stringify(auditEvent({ scenario: 'denied', level: 'Request', seed: 'm', time: TIME }));
    const mixed = [
      event,
      event.slice(0, 300), // truncated mid-write
      'not json at all',
      '',
      '{"stage":"ResponseComplete","objectRef":{"apiGroup":"image.openshift.io"} trailing}',
      '[1,2,3]',
      event,
      '{"kind":"Event","apiGroup":"image.openshift.io","stage":"ResponseComplete"', // a line cut short
      '\u0000\u0001binary',
    ];
    const { code, out, err } = await reviewCli([writeLog(mixed)]);
    expect(code).toBe(0);
    expect(err).toContain('skipped 6 malformed line(s): 2, 3, 5, 6, 8, ...');
    expect(out).toContain('6 malformed (lines 2, 3, 5, 6, 8, ...)');
    const { out: json } = await reviewCli([writeLog(mixed), '--json']);
    const report = JSON.parse(json) as AuditReport;
    expect(report.byDecision.denied).toBe(2);
    expect(report.inputs[0]).toMatchObject({ lines: 9, malformed: 6, malformedLines: [2, 3, 5, 6, 8] });
  });

  it('reads standard input for -', async () => {
    const { code, out } = await reviewCli(['-', '--json'], gzipSync(`${lines.join('\n')}\n`));
    expect(code).toBe(1);
    const report = JSON.parse(out) as AuditReport;
    expect(report.inputs[0]).toMatchObject({ path: '-', gzip: true });
    expect(report.events).toBe(6 * SCENARIOS.length);
  });

  it('joins the decision log by decision id and uses its violations', async () => {
    const seeds = [0, 1, 2].map((i) => `warned/${i}`);
    const events = seeds.map((seed) => JSON.stringify(auditEvent({ scenario: 'warned', level: 'Metadata', seed, time: TIME })));
    const violations = [{ rule: 'layer-size', path: 'dockerImageLayers[0].size', type: 'Invalid', detail: 'must be an integer' }];
    const log = [
      '{"level":30,"time":1717401600000,"msg":"image-admission-webhook serving"}',
      decisionLine(decisionIdsOf(seeds[0]!).mutating, 'warned', violations, 1717402500000),
      decisionLine(decisionIdsOf(seeds[1]!).validating, 'warned', violations, 1717402500000),
      decisionLine('not-in-the-audit-log', 'allowed', [], 1717402500000),
      'garbage',
    ];
    const decisions = writeLog(log, 'decisions.log');
    const { code, out } = await reviewCli([writeLog(events), '--decisions', decisions, '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(out) as AuditReport;
    expect(report.join).toEqual({ decisions: 3, matched: 2, unmatched: 1 });
    expect(report.findings.map((f) => f.source)).toEqual(['decision-log', 'decision-log', 'annotation']);
    expect(report.findings[0]!.violations).toEqual([{ rule: 'layer-size', path: 'dockerImageLayers[0].size', detail: 'must be an integer' }]);
  });

  it('honours --webhook-name', async () => {
    const event = JSON.stringify(auditEvent({ scenario: 'warned', level: 'Metadata', seed: 'w', time: TIME }));
    const other = await reviewCli([writeLog([event]), '--webhook-name', 'someone.else.io', '--json']);
    expect((JSON.parse(other.out) as AuditReport).byDecision['not-seen']).toBe(1);
    const ours = await reviewCli([writeLog([event]), '--webhook-name', VALIDATING, '--webhook-name', MUTATING, '--json']);
    expect((JSON.parse(ours.out) as AuditReport).byDecision.warned).toBe(1);
  });

  it.each([
    { what: 'a clean log', scenarios: ['allowed', 'denied', 'mapping-allowed', 'signature-not-seen'] as const, want: 0 },
    { what: 'a write through while failing open', scenarios: ['allowed', 'failed-open'] as const, want: 1 },
    { what: 'a warned write', scenarios: ['warned'] as const, want: 1 },
  ])('exits $want for $what', async ({ scenarios, want }) => {
    const events = scenarios.map((scenario, i) => JSON.stringify(auditEvent({ scenario, level: 'RequestResponse', seed: `e${i}`, time: TIME })));
    const { code, out } = await reviewCli([writeLog(events)]);
    expect(code).toBe(want);
    expect(out).toContain(want === 0 ? 'No write got through' : 'FOUND');
  });

  it.each([
    { args: [], problem: 'at least one FILE' },
    { args: ['x.log', '--bogus'], problem: "Unknown option '--bogus'" },
    { args: ['x.log', '--webhook-name', 'a/b'], problem: '--webhook-name' },
  ])('exits 2 on usage errors: $problem', async ({ args, problem }) => {
    const { code, err } = await reviewCli(args);
    expect(code).toBe(2);
    expect(err).toContain(problem);
  });

  it('exits 2 when an input cannot be read', async () => {
    const { code, err } = await reviewCli([join(tempDir(), 'missing.log')]);
    expect(code).toBe(2);
    expect(err).toContain('no such file');
  });

  it('prints a readable summary and writes an HTML report that escapes what the log says', async () => {
    const hostile = auditEvent({ scenario: 'warned', level: 'Metadata', seed: 'h', time: TIME, user: { username: '<script>alert("x")</script>', groups: [] } });
    (hostile.objectRef as { name: string }).name = '"><img src=x onerror=alert(1)>';
    const html = join(tempDir(), 'report.html');
    const { code, out } = await reviewCli([writeLog([...lines, JSON.stringify(hostile)]), '--html', html]);
    expect(code).toBe(1);
    for (const heading of ['By decision:', 'By rule:', 'By resource:', 'By user', 'Worst offenders:', 'Timeline (per hour, UTC):']) expect(out).toContain(heading);
    const page = await readFile(html, 'utf8');
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    expect(page).toContain('&#60;script&#62;');
    expect(page).toMatch(/<svg class="chart timeline"/);
    expect(page).toMatch(/<svg class="chart rules"/);
    expect(page).not.toMatch(/(src|href)="https?:/);
  });
});
