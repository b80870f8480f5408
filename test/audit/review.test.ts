/** `audit review`: one outcome per write, the listed writes, the join, and the exit codes. */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { classify, DEFAULT_WEBHOOK_NAMES, LISTED, OUTCOMES, readEvent, type WriteEvent } from '../../src/audit/events.js';
import { reviewAuditLogs, type AuditReport } from '../../src/audit/review.js';
import { run } from '../../src/cli/audit.js';
import { auditEvent, auditLines, BROKEN_PATHS, BROKEN_RULES, decisionIdsOf, decisionLine, EXPECTED_OUTCOME, type Level, MUTATING, noiseEvent, type Scenario, SCENARIOS, VALIDATING } from './audit-log.js';
import { captureIo, tempDir } from './helpers.js';

const LEVELS: Level[] = ['Metadata', 'Request', 'RequestResponse'];
const TIME = '2024-06-03T08:15:00.000Z';

function writeOf(raw: unknown): WriteEvent {
  const read = readEvent(raw);
  if (read.kind !== 'write') throw new Error(`not a write: ${JSON.stringify(read)}`);
  return read.event;
}

const eventLine = (scenario: Scenario, seed: string = scenario, level: Level = 'RequestResponse', time = TIME) => JSON.stringify(auditEvent({ scenario, level, seed, time }));

describe('classify', () => {
  it.each(SCENARIOS.flatMap((scenario) => LEVELS.map((level) => ({ scenario, level }))))('gives a $scenario write at level $level its outcome', ({ scenario, level }) => {
    const event = writeOf(auditEvent({ scenario, level, seed: 's', time: TIME }));
    expect(classify(event, DEFAULT_WEBHOOK_NAMES).outcome).toBe(EXPECTED_OUTCOME[scenario]);
  });

  it('blames a failed-open annotation only on the webhook it names', () => {
    const event = writeOf(auditEvent({ scenario: 'other-failed-open', level: 'Metadata', seed: 'o', time: TIME }));
    const c = classify(event, DEFAULT_WEBHOOK_NAMES);
    expect(c.outcome).toBe('allowed');
    expect(c.otherWebhooks).toEqual(['validation.gatekeeper.sh']);
    const ours = writeOf(auditEvent({ scenario: 'failed-open', level: 'Metadata', seed: 'f', time: TIME }));
    expect(classify(ours, DEFAULT_WEBHOOK_NAMES).webhooks).toEqual({ [MUTATING]: 'failed-open', [VALIDATING]: 'failed-open' });
  });

  it('says which webhook failed closed, and that the write was refused', () => {
    const c = classify(writeOf(auditEvent({ scenario: 'failed-closed', level: 'Metadata', seed: 'c', time: TIME })), DEFAULT_WEBHOOK_NAMES);
    expect(c).toMatchObject({ outcome: 'failed-closed', webhooks: { [MUTATING]: 'allowed', [VALIDATING]: 'failed-closed' } });
  });

  it('reads only the configured webhook names', () => {
    const event = writeOf(auditEvent({ scenario: 'denied-422-annotation-only', level: 'Metadata', seed: 's', time: TIME }));
    const c = classify(event, ['other.example.io']);
    expect(c.outcome).toBe('not-stored');
    expect(c.otherWebhooks.sort()).toEqual([MUTATING]);
  });

  it('keeps only completed creates, updates and patches on the Image resources', () => {
    const event = auditEvent({ scenario: 'allowed', level: 'Metadata', seed: 's', time: TIME });
    expect(readEvent(event).kind).toBe('write');
    expect(readEvent({ ...event, stage: 'RequestReceived' }).kind).toBe('other');
    expect(readEvent({ ...event, verb: 'delete' }).kind).toBe('other');
    expect(readEvent(noiseEvent(3, TIME)).kind).toBe('other'); // a list of images: a read
    expect(readEvent(noiseEvent(0, TIME)).kind).toBe('other'); // a lease
  });

  it.each([
    { what: 'no objectRef, on the Image group', change: (e: Record<string, unknown>) => delete e.objectRef, reason: 'no objectRef' },
    { what: 'a resource that is not a string', change: (e: Record<string, unknown>) => ((e.objectRef as Record<string, unknown>).resource = 7), reason: 'objectRef.resource is not a string' },
    { what: 'no response status', change: (e: Record<string, unknown>) => delete e.responseStatus, reason: 'no responseStatus.code' },
    { what: 'an update without a name', change: (e: Record<string, unknown>) => delete (e.objectRef as Record<string, unknown>).name, reason: 'objectRef.name is missing' },
    { what: 'a panic', change: (e: Record<string, unknown>) => (e.stage = 'Panic'), reason: 'panicked' },
  ])('calls an event with $what unknown', ({ change, reason }) => {
    const event = auditEvent({ scenario: 'update-allowed', level: 'Metadata', seed: 'u', time: TIME });
    change(event);
    const read = readEvent(event);
    expect(read.kind).toBe('unknown');
    expect(read.kind === 'unknown' && read.reason).toContain(reason);
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

async function reviewJson(args: string[], stdin?: string | Buffer) {
  const result = await reviewCli([...args, '--json'], stdin);
  return { ...result, report: JSON.parse(result.out) as AuditReport };
}

describe('audit review', () => {
  const lines = auditLines({ perScenario: 3, noise: 3 });

  it('gives every write exactly one outcome, and lists every write that is not denied, allowed or warned', async () => {
    const report = await reviewAuditLogs({ inputs: [{ path: writeLog(lines) }], webhookNames: DEFAULT_WEBHOOK_NAMES });
    expect(report.writes).toBe(3 * SCENARIOS.length);
    expect(report.problems).toEqual([]);
    const want = Object.fromEntries(OUTCOMES.map((o) => [o, 3 * SCENARIOS.filter((s) => EXPECTED_OUTCOME[s] === o).length]));
    expect(report.outcomes).toEqual(want);
    expect(report.entriesTotal).toBe(OUTCOMES.filter((o) => LISTED.has(o)).reduce((n, o) => n + want[o]!, 0));
    expect(report.entries.length).toBe(report.entriesTotal);
    expect(new Set(report.entries.map((e) => e.auditID)).size).toBe(report.entries.length);
    for (const entry of report.entries) {
      expect(LISTED.has(entry.outcome)).toBe(true);
      expect(entry).toMatchObject({ auditID: expect.any(String), time: expect.any(String), user: expect.any(String), sourceIPs: ['10.128.2.15'], userAgent: expect.any(String) });
      expect(Object.keys(entry.webhooks).sort()).toEqual([MUTATING, VALIDATING]);
    }
    // Bypasses and failures first.
    expect(report.entries[0]!.outcome).toBe('failed-open');
    expect(report.entries.findIndex((e) => e.outcome === 'not-stored')).toBeGreaterThan(report.entries.findLastIndex((e) => e.outcome === 'bypassed'));
    expect(report.attention).toBe(['warned', 'exempt', 'dry-run', 'bypassed', 'partial', 'failed-open', 'failed-closed'].reduce((n, o) => n + want[o]!, 0));
    // Imports store Images no webhook on images sees: bypassed, re-checked from the response.
    const imported = report.entries.find((e) => e.resource === 'imagestreamimports' && e.violationsFrom === 'recheck')!;
    expect(imported.outcome).toBe('bypassed');
    expect(imported.violations.map((v) => v.path)).toEqual(BROKEN_PATHS.map((path) => `status.images[0].image.${path}`));
    expect(Object.keys(report.throughByRule).sort()).toEqual([...BROKEN_RULES].sort());
    expect(Object.keys(report.deniedByRule).sort()).toEqual([...BROKEN_RULES].sort());
    expect(report.deniedByRule[BROKEN_RULES[0]!]).toBe(report.outcomes.denied);
    expect(report.byWebhook[VALIDATING]).toMatchObject({ 'failed-closed': 6, 'failed-open': 3, 'not-called': expect.any(Number) });
    expect(report.timeline.buckets.reduce((n, b) => n + Object.values(b.counts).reduce((a, c) => a + c, 0), 0)).toBe(report.writes);
  });

  it('shows the real actor of an impersonated write', async () => {
    const { report } = await reviewJson([writeLog([eventLine('impersonated')]), '--list-all']);
    expect(report.entries[0]).toMatchObject({ outcome: 'allowed', user: 'system:admin', impersonatedUser: 'jane' });
    expect(Object.keys(report.byUser)).toEqual(['system:admin (as jane)']);
  });

  it('says a dry-run request stored nothing', async () => {
    const { code, report } = await reviewJson([writeLog([eventLine('dry-run-request')])]);
    expect(code).toBe(0);
    expect(report.entries[0]).toMatchObject({ outcome: 'not-stored', dryRun: true, note: expect.stringContaining('dry-run request') });
  });

  it('re-checks what the log holds, and says when it could not', async () => {
    const partial = auditEvent({ scenario: 'partial', level: 'Request', seed: 'p', time: TIME });
    const metadata = auditEvent({ scenario: 'bypassed', level: 'Metadata', seed: 'm', time: TIME });
    const { report } = await reviewJson([writeLog([JSON.stringify(partial), JSON.stringify(metadata)])]);
    expect(report.recheck).toEqual({ checked: 1, createRulesOnly: 0, withViolations: 1, notLogged: 1 });
    expect(report.entries.map((e) => [e.outcome, e.recheck, e.violationsFrom])).toEqual([
      ['bypassed', 'not-logged', 'none'],
      ['partial', 'checked', 'recheck'],
    ]);
    expect(report.notes.join(' ')).toContain('WriteRequestBodies');
  });

  it('re-checks without the rules named by --disable-rules', async () => {
    const path = writeLog([eventLine('bypassed')]);
    const all = await reviewJson([path]);
    expect(all.report.entries[0]!.violations.map((v) => v.rule).sort()).toEqual([...BROKEN_RULES].sort());
    const some = await reviewJson([path, '--disable-rules', BROKEN_RULES[0]!]);
    expect(some.report.entries[0]!.violations.map((v) => v.rule)).toEqual([BROKEN_RULES[1]]);
  });

  it('reads gzip (by its magic bytes, whatever the name) exactly like plain text', async () => {
    const plain = await reviewAuditLogs({ inputs: [{ path: writeLog(lines) }], webhookNames: DEFAULT_WEBHOOK_NAMES });
    const path = join(tempDir(), 'audit.log');
    writeFileSync(path, gzipSync(`${lines.join('\n')}\n`));
    const zipped = await reviewAuditLogs({ inputs: [{ path }], webhookNames: DEFAULT_WEBHOOK_NAMES });
    expect(zipped.inputs[0]!.gzip).toBe(true);
    const strip = (r: AuditReport) => ({ ...r, inputs: [], entries: r.entries.map((e) => ({ ...e, at: e.at.replace(/^.*:/, '') })) });
    expect(strip(zipped)).toEqual(strip(plain));
  });

  it('reads standard input for -', async () => {
    const { code, report } = await reviewJson(['-'], gzipSync(`${lines.join('\n')}\n`));
    expect(code).toBe(1);
    expect(report.inputs[0]).toMatchObject({ path: '-', gzip: true });
    expect(report.writes).toBe(3 * SCENARIOS.length);
  });

  it('joins the decision log by decision id and uses its violations', async () => {
    const seeds = [0, 1, 2].map((i) => `exempt/${i}`);
    const events = seeds.map((seed) => JSON.stringify(auditEvent({ scenario: 'exempt', level: 'Metadata', seed, time: TIME })));
    const violations = [{ rule: 'layer-size', path: 'dockerImageLayers[0].size', type: 'Invalid', detail: 'must be an integer' }];
    const log = [
      '{"level":30,"time":1717401600000,"msg":"image-admission-webhook serving"}',
      decisionLine(decisionIdsOf(seeds[0]!).mutating, 'exempt', violations, 1717402500000),
      decisionLine(decisionIdsOf(seeds[1]!).validating, 'exempt', violations, 1717402500000),
      decisionLine('not-in-the-audit-log', 'allowed', [], 1717402500000),
      'garbage',
    ];
    const { code, report } = await reviewJson([writeLog(events), '--decisions', writeLog(log, 'decisions.log')]);
    expect(code).toBe(1);
    expect(report.join).toEqual({ decisions: 3, matched: 2, unmatched: 1 });
    expect(report.entries.map((e) => e.violationsFrom)).toEqual(['decision-log', 'decision-log', 'annotation']);
    expect(report.entries[0]!.violations).toEqual([{ rule: 'layer-size', path: 'dockerImageLayers[0].size', detail: 'must be an integer' }]);
  });

  it.each([
    { scenarios: ['allowed', 'denied', 'mapping-allowed', 'update-allowed', 'patch-allowed', 'impersonated', 'other-failed-open'] as const, want: 0 },
    { scenarios: ['refused-elsewhere', 'not-found', 'dry-run-request', 'denied-422-annotation-only'] as const, want: 0 },
    ...(['warned', 'exempt', 'dry-run', 'bypassed', 'partial', 'failed-open', 'failed-open-inferred', 'failed-closed', 'failed-closed-inferred', 'validating-failed-closed-inferred', 'import-bypassed', 'signature-bypassed'] as const).map((s) => ({ scenarios: ['allowed', s] as const, want: 1 })),
  ])('exits $want for $scenarios', async ({ scenarios, want }) => {
    const { code, out } = await reviewCli([writeLog(scenarios.map((s, i) => eventLine(s, `e${i}`)))]);
    expect(code).toBe(want);
    expect(out).toContain(want === 0 ? 'Every write is accounted for; none needs attention.' : 'NEEDS ATTENTION');
  });

  it('lists findings with their auditIDs in the text report, bypasses first', async () => {
    const { out } = await reviewCli([writeLog([eventLine('warned', 'w'), eventLine('bypassed', 'b'), eventLine('failed-open', 'f')])]);
    const failedOpen = JSON.parse(eventLine('failed-open', 'f')).auditID as string;
    const bypassed = JSON.parse(eventLine('bypassed', 'b')).auditID as string;
    expect(out).toContain(`auditID ${failedOpen}`);
    expect(out.indexOf(`auditID ${failedOpen}`)).toBeLessThan(out.indexOf(`auditID ${bypassed}`));
    for (const heading of ['Outcomes:', 'Per webhook', 'Denied, by rule:', 'Stored with violations, by rule:', 'Rule x user', 'By resource:', 'By user', 'Outcomes over time (UTC, per 1m)']) expect(out).toContain(heading);
  });
});

describe('audit review never says "all clear" when it cannot tell', () => {
  it('names the webhooks the log does hold when --webhook-name matches none', async () => {
    const { code, err, report } = await reviewJson([writeLog([eventLine('allowed'), eventLine('other-failed-open', 'o')]), '--webhook-name', 'someone.else.io']);
    expect(code).toBe(2);
    expect(err).toContain(`no event names the webhook(s) someone.else.io; the log names ${MUTATING}, ${VALIDATING}, validation.gatekeeper.sh`);
    expect(report.outcomes.bypassed).toBe(2);
  });

  it.each([
    { what: 'an empty file', content: '', problem: 'the input is empty' },
    { what: 'blank lines', content: '\n\n  \n', problem: 'no audit event' },
    { what: 'the decision log', content: `${decisionLine('d1', 'allowed', [], 1)}\n`, problem: "the webhook's decision log, not an audit log: pass it with --decisions" },
    { what: 'events of another server', content: `${JSON.stringify(noiseEvent(0, TIME))}\n`, problem: 'openshift-apiserver' },
  ])('exits 2 for $what', async ({ content, problem }) => {
    const path = join(tempDir(), 'in.log');
    writeFileSync(path, content);
    const { code, out, err } = await reviewCli([path]);
    expect(code).toBe(2);
    expect(err).toContain(problem);
    expect(out).toContain('CANNOT TELL');
  });

  it('exits 2 when a write event cannot be classified, naming where it is', async () => {
    const event = auditEvent({ scenario: 'allowed', level: 'Metadata', seed: 'x', time: TIME });
    delete event.responseStatus;
    const path = writeLog([eventLine('allowed'), JSON.stringify(event)]);
    const { code, err } = await reviewCli([path]);
    expect(code).toBe(2);
    expect(err).toContain(`1 write event(s) on image.openshift.io could not be classified (${path}:2: no responseStatus.code)`);
  });

  it('counts malformed lines, says where they are, keeps the rest, and exits 2', async () => {
    const event = eventLine('denied', 'm', 'Request');
    const mixed = [
      event,
      event.slice(0, 300), // truncated mid-write
      'not json at all',
      '',
      '{"stage":"ResponseComplete","objectRef":{"apiGroup":"image.openshift.io"} trailing}',
      event,
      '\u0000\u0001binary',
    ];
    const { code, err, report } = await reviewJson([writeLog(mixed)]);
    expect(code).toBe(2);
    expect(err).toContain('4 line(s) are not audit events that can be read (lines 2, 3, 5, 7)');
    expect(report.outcomes.denied).toBe(2);
  });

  it('keeps the results of the other inputs when one is a truncated gzip, and names it', async () => {
    const zipped = gzipSync(`${lines().join('\n')}\n`);
    const truncated = join(tempDir(), 'rotated.log.gz');
    writeFileSync(truncated, zipped.subarray(0, Math.floor(zipped.length / 2)));
    const whole = writeLog([eventLine('allowed')]);
    const missing = join(tempDir(), 'missing.log');
    const { code, err, report } = await reviewJson([truncated, whole, missing]);
    expect(code).toBe(2);
    expect(err).toMatch(new RegExp(`${truncated}: the gzip data ends early after line \\d+ \\(a truncated file\\?\\)`));
    expect(err).toContain(`${missing}: no such file`);
    expect(report.inputs.map((i) => i.writes > 0)).toEqual([true, true, false]);
    expect(report.outcomes.allowed).toBeGreaterThan(1);
  });

  it('never crashes on numbers, objects or nulls where strings belong', async () => {
    const paths = [
      ['annotations', `${VALIDATING}/decision`],
      ['annotations', `${MUTATING}/violations`],
      ['annotations', 'failed-open.validating.webhook.admission.k8s.io/round_0_index_0'],
      ['annotations', 'mutation.webhook.admission.k8s.io/round_0_index_0'],
      ['annotations'],
      ['responseStatus', 'message'],
      ['responseStatus', 'code'],
      ['responseStatus'],
      ['verb'],
      ['stage'],
      ['requestURI'],
      ['auditID'],
      ['user', 'username'],
      ['user'],
      ['impersonatedUser'],
      ['sourceIPs'],
      ['userAgent'],
      ['stageTimestamp'],
      ['objectRef', 'name'],
      ['objectRef', 'namespace'],
      ['objectRef', 'resource'],
      ['objectRef', 'apiGroup'],
      ['objectRef'],
      ['requestObject'],
      ['responseObject'],
      ['requestObject', 'signatures'],
      ['responseObject', 'status', 'images'],
    ];
    const values = [7, 1e308, -1, true, null, {}, [], ['x', 3], { a: 1 }];
    const out: string[] = [];
    for (const scenario of ['bypassed', 'failed-closed', 'import-bypassed', 'denied'] as const) {
      for (const path of paths) {
        for (const value of values) {
          const event = auditEvent({ scenario, level: 'RequestResponse', seed: `n/${scenario}`, time: TIME });
          let at: Record<string, unknown> = event;
          for (const key of path.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
          if (typeof at === 'object' && at !== null) at[path[path.length - 1]!] = value;
          out.push(JSON.stringify(event));
        }
      }
    }
    const { code, report } = await reviewJson([writeLog(out)]);
    expect([1, 2]).toContain(code);
    expect(report.writes + report.unknown.count).toBeGreaterThan(out.length / 2);
    expect(report.inputs[0]!.malformed).toBe(0);
  });
});

describe('audit review reads JSON in any layout', () => {
  const events = () => [auditEvent({ scenario: 'allowed', level: 'Request', seed: 'a', time: TIME }), auditEvent({ scenario: 'bypassed', level: 'Request', seed: 'b', time: TIME })];

  it.each([
    { what: 'a pretty-printed event', text: () => JSON.stringify(events()[1], null, 2), writes: 1, bypassed: 1 },
    { what: 'pretty-printed events one after another', text: () => events().map((e) => JSON.stringify(e, null, 2)).join('\n'), writes: 2 },
    { what: 'a JSON array', text: () => JSON.stringify(events(), null, 1), writes: 2 },
    { what: 'an EventList batch', text: () => JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: events() }, null, 2), writes: 2 },
    { what: 'an EventList on one line', text: () => JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: [...events(), noiseEvent(1, TIME)] }), writes: 2 },
    { what: 'EventLists one a line', text: () => [0, 1].map(() => JSON.stringify({ kind: 'EventList', items: events() })).join('\n'), writes: 4 },
  ])('reads $what', async ({ text, writes, bypassed }: { text: () => string; writes: number; bypassed?: number }) => {
    const path = join(tempDir(), 'events.json');
    writeFileSync(path, `${text()}\n`);
    const { code, report } = await reviewJson([path]);
    expect(report.problems).toEqual([]);
    expect(report.writes).toBe(writes);
    expect(report.outcomes.bypassed).toBe(bypassed ?? writes / 2);
    expect(code).toBe(1);
  });

  it('says where pretty-printed JSON breaks off', async () => {
    const path = join(tempDir(), 'cut.json');
    const text = JSON.stringify(events(), null, 2);
    writeFileSync(path, text.slice(0, Math.floor(text.length * 0.75)));
    const { code, report } = await reviewJson([path]);
    expect(code).toBe(2);
    expect(report.writes).toBe(1);
    expect(report.inputs[0]).toMatchObject({ format: 'json', malformed: 1 });
  });
});

describe('audit review has no silent caps', () => {
  const many = () => Array.from({ length: 12 }, (_, i) => eventLine('bypassed', `cap/${i}`, 'Metadata'));

  it('says when --max-entries cut the list, and lists all with 0', async () => {
    const capped = await reviewJson([writeLog(many()), '--max-entries', '5']);
    expect(capped.report).toMatchObject({ entriesTotal: 12, entriesCapped: true });
    expect(capped.report.entries).toHaveLength(5);
    expect(capped.report.notes.join(' ')).toContain('only the first 5 of 12 listed writes are kept: raise --max-entries (0 for all) or stream them with --ndjson');
    const all = await reviewJson([writeLog(many()), '--max-entries', '0']);
    expect(all.report.entries).toHaveLength(12);
  });

  it('streams every listed write as NDJSON, then a summary', async () => {
    const { code, out } = await reviewCli([writeLog(many()), '--ndjson', '--max-entries', '1']);
    expect(code).toBe(1);
    const rows = out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; outcome?: string; outcomes?: Record<string, number> });
    expect(rows.filter((r) => r.type === 'write')).toHaveLength(12);
    expect(rows.at(-1)).toMatchObject({ type: 'summary', outcomes: { bypassed: 12 }, entriesCapped: false });
  });

  it.each([
    { args: [], problem: 'at least one FILE' },
    { args: ['x.log', '--bogus'], problem: "Unknown option '--bogus'" },
    { args: ['x.log', '--webhook-name', 'a/b'], problem: '--webhook-name' },
    { args: ['x.log', '--max-entries', '-1'], problem: '--max-entries' },
    { args: ['x.log', '--ndjson', '--json'], problem: '--ndjson' },
    { args: ['-', '--decisions', '-'], problem: 'standard input (-) can be read only once' },
  ])('exits 2 on usage errors: $problem', async ({ args, problem }) => {
    const { code, err } = await reviewCli(args);
    expect(code).toBe(2);
    expect(err).toContain(problem);
  });
});

describe('the HTML report', () => {
  it('escapes what the log says and carries the findings with their auditIDs', async () => {
    const hostile = auditEvent({ scenario: 'bypassed', level: 'Metadata', seed: 'h', time: TIME, user: { username: '<script>alert("x")</script>', groups: [] } });
    (hostile.objectRef as { name: string }).name = '"><img src=x onerror=alert(1)>';
    const html = join(tempDir(), 'report.html');
    const { code } = await reviewCli([writeLog([...lines(), JSON.stringify(hostile)]), '--html', html]);
    expect(code).toBe(1);
    const page = await readFile(html, 'utf8');
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    expect(page).toContain('&#60;script&#62;');
    expect(page).toContain(hostile.auditID as string);
    expect(page).toMatch(/<svg class="chart timeline"/);
    expect(page).toMatch(/<table class="fixed entries">/);
    expect(page).not.toMatch(/(src|href)="https?:/);
  });
});

function lines(): string[] {
  return auditLines({ perScenario: 2, noise: 1 });
}
