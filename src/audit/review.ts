/**
 * `audit review`: reads Kubernetes audit logs in one streaming pass and gives every Image write
 * exactly one outcome (events.ts), lists every write an auditor must look at, re-checks the objects
 * the log holds with the webhook's own rules, and says plainly when it cannot tell. Memory stays flat
 * however large the logs are: only counts and the listed writes (capped, the cap said, or streamed)
 * are kept.
 */
import { imagesIn, IMAGE_GROUP, targetOf } from '../admission/targets.js';
import { DECISION_ID_FIELD, type ReadDecisionLine } from '../review/record.js';
import { errorBody, formatPath, judgeCreate, type JudgeOptions, withPathPrefix } from '../image/index.js';
import {
  ATTENTION,
  classify,
  LISTED,
  OUTCOMES,
  type WriteOutcome,
  readEvent,
  tookEffect,
  VERDICTS,
  type WebhookVerdict,
  type WriteEvent,
} from './events.js';
import { JsonValueSplitter } from './json-values.js';
import { forEachLine, type LineInput, type Pause, type ProgressListener } from './lines.js';
import { Timeline, type TimelineBucket } from './timeline.js';

/** Line numbers of the first malformed lines kept per input. */
const MALFORMED_EXAMPLES = 5;
/** Writes listed in full by default; the rest are counted, and the report says so. */
export const DEFAULT_MAX_ENTRIES = 10_000;

/** A violation as the report shows it. */
export interface Violation {
  rule: string;
  path: string;
  detail: string;
}

/** One write, as listed: everything an auditor needs to follow it up. */
export interface WriteEntry {
  auditID: string | null;
  outcome: WriteOutcome;
  time: string | null;
  verb: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name: string | null;
  /** Who sent the request: with impersonation, the real actor. */
  user: string;
  /** Whom the actor impersonated, if anyone. */
  impersonatedUser: string | null;
  sourceIPs: string[];
  userAgent: string | null;
  code: number;
  dryRun: boolean;
  /** Each of our webhooks, by name: its decision, or what happened to the call. */
  webhooks: Record<string, WebhookVerdict>;
  /** The violations of the written object: from the decision log, the re-check, or the annotated rule names. */
  violations: Violation[];
  violationsFrom: 'decision-log' | 'recheck' | 'annotation' | 'none';
  /** Whether the object was re-checked: not logged at this audit level, re-checked, or only with the create rules. */
  recheck: 'not-logged' | 'checked' | 'create-rules-only' | 'not-needed';
  /** Where the event is: input path and line. */
  at: string;
  note?: string;
}

export type OutcomeCounts = Record<WriteOutcome, number>;
export type VerdictCounts = Record<WebhookVerdict, number>;

/** Counts for one actor (the real user; `user (as other)` when impersonating). */
export interface UserCounts {
  writes: number;
  denied: number;
  /** Writes that took effect and need attention (see ATTENTION). */
  attention: number;
  bypassed: number;
  failedOpen: number;
}

/** One input as read. */
export interface InputSummary {
  path: string;
  lines: number;
  bytes: number;
  gzip: boolean;
  /** `lines`: one event a line; `json`: pretty-printed JSON, arrays or EventLists. */
  format: 'lines' | 'json';
  /** Whether the input holds audit events at all, and its Image writes. */
  auditEvents: boolean;
  writes: number;
  malformed: number;
  malformedLines: number[];
  /** Why the input could not be read to its end. */
  error?: string;
  hint?: string;
}

/** The review of one or more audit logs. */
export interface AuditReport {
  kind: 'AuditReview';
  webhookNames: string[];
  inputs: InputSummary[];
  /** Completed create, update and patch events on the audited resources: each has one outcome. */
  writes: number;
  /** Writes per outcome, each under its own name. */
  outcomes: OutcomeCounts;
  /** Writes whose outcome needs attention. */
  attention: number;
  /** Events on the Image group that could not be classified, with the first few. */
  unknown: { count: number; examples: { at: string; reason: string; auditID?: string }[] };
  byResource: Record<string, OutcomeCounts>;
  /** What each of our webhooks did, over the writes they are registered for. */
  byWebhook: Record<string, VerdictCounts>;
  /** Rules of refused writes, and rules of writes that took effect anyway. */
  deniedByRule: Record<string, number>;
  throughByRule: Record<string, number>;
  /** Per rule and actor: how often refused, how often through. */
  ruleByUser: { rule: string; user: string; denied: number; through: number }[];
  byUser: Record<string, UserCounts>;
  timeline: { bucketSize: string; buckets: TimelineBucket<OutcomeCounts>[] };
  /** The listed writes (every write whose outcome is not denied, allowed or warned; all with listAll). */
  entries: WriteEntry[];
  entriesTotal: number;
  /** True when more writes qualified than were kept (raise --max-entries or use --ndjson). */
  entriesCapped: boolean;
  recheck: { checked: number; createRulesOnly: number; withViolations: number; notLogged: number };
  join?: { decisions: number; matched: number; unmatched: number };
  /** Webhooks the log names that are not ours: to fix --webhook-name. */
  otherWebhooks: string[];
  /** Why the review cannot vouch for the whole log; any problem makes the exit status 2. */
  problems: string[];
  notes: string[];
}

/** A line's logged objects, parsed on demand, and their text. */
type LazyObjects = (() => { requestObject?: unknown; responseObject?: unknown }) & { text: () => string };

/** Re-check results by the exact text of the objects: audit logs repeat objects (an Image re-imported, a write retried). */
type RecheckCache = Map<string, { violations: Violation[]; createRulesOnly: boolean } | undefined>;
const CACHED_ENTRIES = 256;
const CACHED_TEXT = 64 * 1024;

/** What to review and how. */
export interface ReviewOptions extends JudgeOptions {
  inputs: LineInput[];
  webhookNames: readonly string[];
  /** The decision log, loaded beforehand, by decision id. */
  decisions?: ReadonlyMap<string, ReadDecisionLine>;
  onProgress?: (path: string) => ProgressListener | undefined;
  /** Entries kept in the report; 0 keeps every one. */
  maxEntries?: number;
  /** List every write, not only those whose outcome is not denied, allowed or warned. */
  listAll?: boolean;
  /** Called with each listed entry as soon as it is found (NDJSON streaming). */
  onEntry?: (entry: WriteEntry) => void;
  /** Asked between reads whether to wait (for the output to drain). */
  pause?: Pause;
}

const GROUP_MARKER = Buffer.from(JSON.stringify(IMAGE_GROUP));
const GROUP_URI_MARKER = Buffer.from(`/apis/${IMAGE_GROUP}/`);
const GROUP_TEXT = Buffer.from(IMAGE_GROUP);
const STAGE_KEY = Buffer.from('"stage":"');
const STAGE_COMPLETE = Buffer.from('ResponseComplete"');
const STAGE_PANIC = Buffer.from('Panic"');
const VERB_KEY = Buffer.from('"verb":"');
const AUDIT_ID_KEY = Buffer.from('"auditID"');
const DECISION_ID_KEY = Buffer.from(JSON.stringify(DECISION_ID_FIELD));
const EVENT_LIST = Buffer.from('"EventList"');
const REQUEST_OBJECT_KEY = Buffer.from(',"requestObject":');
const RESPONSE_OBJECT_KEY = Buffer.from(',"responseObject":');
const TAIL_KEY = Buffer.from(',"requestReceivedTimestamp":');
// First letters of the write verbs: create (and connect), update, patch.
const WRITE_INITIALS = new Set([0x63, 0x75, 0x70]);
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
// Outcomes whose object is re-checked: stored without a full verdict of ours. Exempt and dry-run
// writes were judged: their annotations name the rules, the decision log (--decisions) the paths.
const RECHECKED: ReadonlySet<WriteOutcome> = new Set(['bypassed', 'partial', 'failed-open']);

const zeroOutcomes = (): OutcomeCounts => Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;
const zeroVerdicts = (): VerdictCounts => Object.fromEntries(VERDICTS.map((v) => [v, 0])) as VerdictCounts;
const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
const sortedCounts = (map: Map<string, number>) => Object.fromEntries([...map.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));

/** Reviews the audit logs and returns the report; never throws on bad input. */
export async function reviewAuditLogs(options: ReviewOptions): Promise<AuditReport> {
  const names = options.webhookNames;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const report: AuditReport = {
    kind: 'AuditReview',
    webhookNames: [...names],
    inputs: [],
    writes: 0,
    outcomes: zeroOutcomes(),
    attention: 0,
    unknown: { count: 0, examples: [] },
    byResource: {},
    byWebhook: Object.fromEntries(names.map((n) => [n, zeroVerdicts()])),
    deniedByRule: {},
    throughByRule: {},
    ruleByUser: [],
    byUser: {},
    timeline: { bucketSize: '', buckets: [] },
    entries: [],
    entriesTotal: 0,
    entriesCapped: false,
    recheck: { checked: 0, createRulesOnly: 0, withViolations: 0, notLogged: 0 },
    ...(options.decisions ? { join: { decisions: options.decisions.size, matched: 0, unmatched: 0 } } : {}),
    otherWebhooks: [],
    problems: [],
    notes: [],
  };
  const timeline = new Timeline<OutcomeCounts>(zeroOutcomes);
  const recheckCache: RecheckCache = new Map();
  const byUser = new Map<string, UserCounts>();
  const byResource = new Map<string, OutcomeCounts>();
  const deniedByRule = new Map<string, number>();
  const throughByRule = new Map<string, number>();
  const ruleByUser = new Map<string, { rule: string; user: string; denied: number; through: number }>();
  const ourNamesSeen = new Set<string>();
  const otherWebhooks = new Set<string>();
  let sawImageGroup = false;

  const take = (event: WriteEvent, input: InputSummary, at: string) => {
    report.writes++;
    input.writes++;
    const c = classify(event, names);
    const { outcome } = c;
    report.outcomes[outcome]++;
    const attention = ATTENTION.has(outcome);
    if (attention) report.attention++;
    timeline.add(event.time)[outcome]++;
    let resourceCounts = byResource.get(event.resource);
    if (!resourceCounts) byResource.set(event.resource, (resourceCounts = zeroOutcomes()));
    resourceCounts[outcome]++;
    for (const name of names) {
      const verdict = c.webhooks[name]!;
      if (verdict !== 'not-called') ourNamesSeen.add(name);
      report.byWebhook[name]![verdict]++;
    }
    for (const name of c.otherWebhooks) if (otherWebhooks.size < 50) otherWebhooks.add(name);

    const actor = event.impersonatedUser ? `${event.user} (as ${event.impersonatedUser})` : event.user;
    let userCounts = byUser.get(actor);
    if (!userCounts) byUser.set(actor, (userCounts = { writes: 0, denied: 0, attention: 0, bypassed: 0, failedOpen: 0 }));
    userCounts.writes++;
    if (outcome === 'denied') userCounts.denied++;
    if (attention) userCounts.attention++;
    if (outcome === 'bypassed') userCounts.bypassed++;
    if (outcome === 'failed-open') userCounts.failedOpen++;

    // The violations: the decision log's when joined, else the re-checked object's, else the rule
    // names our webhooks annotated.
    let logged: ReadDecisionLine | undefined;
    if (options.decisions && c.decisionIds.length > 0) {
      for (const id of c.decisionIds) logged ??= options.decisions.get(id);
      if (logged) report.join!.matched++;
      else report.join!.unmatched++;
    }
    let recheckState: WriteEntry['recheck'] = 'not-needed';
    let rechecked: ReturnType<typeof recheck>;
    if (RECHECKED.has(outcome)) {
      rechecked = recheck(event, options, c.inheritedRules, recheckCache);
      if (rechecked) {
        report.recheck.checked++;
        if (rechecked.createRulesOnly) report.recheck.createRulesOnly++;
        if (rechecked.violations.length > 0) report.recheck.withViolations++;
        recheckState = rechecked.createRulesOnly ? 'create-rules-only' : 'checked';
      } else {
        report.recheck.notLogged++;
        recheckState = 'not-logged';
      }
    }
    let violations: Violation[] = [];
    let violationsFrom: WriteEntry['violationsFrom'] = 'none';
    if (logged && logged.violations.length > 0) {
      violations = logged.violations.map((v) => ({ rule: v.rule, path: v.path, detail: v.detail ?? v.type }));
      violationsFrom = 'decision-log';
    } else if (rechecked && rechecked.violations.length > 0) {
      violations = rechecked.violations;
      violationsFrom = 'recheck';
    } else if (c.annotatedRules.length > 0) {
      violations = c.annotatedRules.map((rule) => ({ rule, path: '', detail: '' }));
      violationsFrom = 'annotation';
    }
    const stored = tookEffect(event);
    for (const rule of new Set(violations.map((v) => v.rule))) {
      if (outcome === 'denied') add(deniedByRule, rule);
      else if (stored) add(throughByRule, rule);
      else continue;
      const key = `${rule}\u0000${actor}`;
      let cell = ruleByUser.get(key);
      if (!cell) ruleByUser.set(key, (cell = { rule, user: actor, denied: 0, through: 0 }));
      if (outcome === 'denied') cell.denied++;
      else cell.through++;
    }

    if (!LISTED.has(outcome) && !options.listAll) return;
    report.entriesTotal++;
    const entry: WriteEntry = {
      auditID: event.auditID ?? null,
      outcome,
      time: event.time ?? null,
      verb: event.verb,
      resource: event.resource,
      ...(event.subresource ? { subresource: event.subresource } : {}),
      ...(event.namespace ? { namespace: event.namespace } : {}),
      name: event.name ?? null,
      user: event.user,
      impersonatedUser: event.impersonatedUser ?? null,
      sourceIPs: event.sourceIPs,
      userAgent: event.userAgent ?? null,
      code: event.code,
      dryRun: event.dryRun,
      webhooks: c.webhooks,
      violations,
      violationsFrom,
      recheck: recheckState,
      at,
    };
    const note = noteFor(event, outcome, c.inferred);
    if (note) entry.note = note;
    options.onEntry?.(entry);
    if (options.onEntry) return;
    if (maxEntries === 0 || report.entries.length < maxEntries) report.entries.push(entry);
    else report.entriesCapped = true;
  };

  for (const input of options.inputs) {
    const summary: InputSummary = { path: input.path, lines: 0, bytes: 0, gzip: false, format: 'lines', auditEvents: false, writes: 0, malformed: 0, malformedLines: [] };
    report.inputs.push(summary);
    const bad = (lineNo: number) => {
      summary.malformed++;
      if (summary.malformedLines.length < MALFORMED_EXAMPLES) summary.malformedLines.push(lineNo);
    };
    let sawEvent = false;
    let decisionLines = 0;
    let lastLine = 0;

    const takeValue = (value: unknown, lineNo: number, objects?: LazyObjects) => {
      if (typeof value !== 'object' || value === null) return bad(lineNo);
      const items = Array.isArray(value) ? value : (value as { kind?: unknown }).kind === 'EventList' ? (value as { items?: unknown }).items : [value];
      if (!Array.isArray(items)) return bad(lineNo);
      for (const item of items) {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) {
          bad(lineNo);
          continue;
        }
        if ('auditID' in item || 'stage' in item) sawEvent = true;
        const read = readEvent(item, objects);
        if (read.kind === 'write' && objects) read.event.objectsText = objects.text;
        const at = `${input.path}:${lineNo}`;
        if (read.kind === 'write') {
          sawImageGroup = true;
          take(read.event, summary, at);
        } else if (read.kind === 'unknown') {
          sawImageGroup = true;
          report.unknown.count++;
          if (report.unknown.examples.length < MALFORMED_EXAMPLES) report.unknown.examples.push({ at, reason: read.reason, ...(read.auditID ? { auditID: read.auditID } : {}) });
        }
      }
    };
    const parseValue = (json: string, lineNo: number) => {
      let value: unknown;
      try {
        value = JSON.parse(json);
      } catch {
        return bad(lineNo);
      }
      takeValue(value, lineNo);
    };
    let splitter: JsonValueSplitter | undefined;
    let decided = false;

    const onLine = (line: Buffer, lineNo: number) => {
      lastLine = lineNo;
      if (splitter) return splitter.line(line, lineNo);
      const first = firstNonSpace(line);
      if (first === -1) return;
      const shaped = line[first] === OPEN_BRACE && line[lastNonSpace(line)] === CLOSE_BRACE;
      if (!decided) {
        decided = true;
        // Not one JSON object a line: pretty-printed JSON (its first line a lone brace), an array, or
        // an EventList across lines. A first line cut short is only a malformed line.
        if (line[first] === OPEN_BRACKET || (line[first] === OPEN_BRACE && lastNonSpace(line) === first)) {
          summary.format = 'json';
          splitter = new JsonValueSplitter(parseValue);
          return splitter.line(line, lineNo);
        }
      }
      if (!shaped) return bad(lineNo);
      if (!sawEvent) {
        // Cheap hints about what the input is, checked only until the first audit event.
        if (line.indexOf(AUDIT_ID_KEY) !== -1) sawEvent = true;
        else if (line.indexOf(DECISION_ID_KEY) !== -1) decisionLines++;
      }
      if (!sawImageGroup && line.indexOf(GROUP_TEXT) !== -1) sawImageGroup = true;
      const list = line.indexOf(EVENT_LIST);
      if (list !== -1 && list <= 64) return parseValue(line.toString('utf8'), lineNo);
      if (!mayBeWrite(line)) return;
      // The API server writes the objects after the fields that classify a write, and the times and
      // annotations after them: parse the rest first, and the objects only if a re-check needs them.
      const start = line.indexOf(REQUEST_OBJECT_KEY);
      const objectsAt = start !== -1 ? start : line.indexOf(RESPONSE_OBJECT_KEY);
      const tail = objectsAt === -1 ? -1 : line.lastIndexOf(TAIL_KEY);
      if (tail > objectsAt) {
        let envelope: unknown;
        try {
          envelope = JSON.parse(line.toString('utf8', 0, objectsAt) + line.toString('utf8', tail));
        } catch {
          envelope = undefined;
        }
        if (typeof envelope === 'object' && envelope !== null && !Array.isArray(envelope)) {
          // Decoded only if a re-check needs it, and only while this line is handled (the buffer is reused).
          let text: string | undefined;
          const objects: LazyObjects = Object.assign(
            () => {
              try {
                return JSON.parse(`{${objects.text()}}`) as { requestObject?: unknown; responseObject?: unknown };
              } catch {
                bad(lineNo);
                return {};
              }
            },
            { text: () => (text ??= line.toString('utf8', objectsAt + 1, tail)) },
          );
          return takeValue(envelope, lineNo, objects);
        }
      }
      parseValue(line.toString('utf8'), lineNo);
    };

    try {
      const read = await forEachLine(input, onLine, options.onProgress?.(input.path), options.pause);
      Object.assign(summary, read);
    } catch (error) {
      summary.lines = lastLine;
      summary.error = describeReadError(input.path, error, lastLine);
    }
    if (splitter) {
      if (splitter.open) bad(lastLine);
      if (splitter.stray > 0 && summary.malformed === 0) bad(lastLine);
    }
    summary.auditEvents = sawEvent;
    if (!sawEvent && !summary.error) {
      summary.hint =
        decisionLines > 0
          ? "this looks like the webhook's decision log, not an audit log: pass it with --decisions"
          : summary.lines === 0
            ? 'the input is empty'
            : 'no audit event (audit.k8s.io/v1 Event) in this input';
    }
  }

  // What the review cannot vouch for: each makes the exit status 2.
  for (const input of report.inputs) {
    if (input.error) report.problems.push(input.error);
    if (input.malformed > 0) {
      report.problems.push(
        `${input.path}: ${input.malformed} line(s) are not audit events that can be read (line${input.malformed > 1 ? 's' : ''} ${input.malformedLines.join(', ')}${input.malformed > input.malformedLines.length ? ', ...' : ''}): an Image write there would be missed`,
      );
    }
    if (input.hint && !input.error) report.problems.push(`${input.path}: ${input.hint}`);
  }
  if (report.inputs.some((i) => i.auditEvents) && !sawImageGroup) {
    report.problems.push(
      'no event in the log is about image.openshift.io: on OpenShift, Images are served by openshift-apiserver, whose audit log is openshift-apiserver/audit.log, not kube-apiserver/audit.log',
    );
  }
  if (report.unknown.count > 0) {
    report.problems.push(
      `${report.unknown.count} write event(s) on image.openshift.io could not be classified (${report.unknown.examples.map((u) => `${u.at}: ${u.reason}`).join('; ')})`,
    );
  }
  report.otherWebhooks = [...otherWebhooks].sort();
  if (report.writes > 0 && ourNamesSeen.size === 0) {
    if (otherWebhooks.size > 0) {
      report.problems.push(
        `no event names the webhook(s) ${names.join(', ')}; the log names ${report.otherWebhooks.join(', ')}: pass the right ones with --webhook-name`,
      );
    } else {
      report.notes.push(`no event names the webhook(s) ${names.join(', ')}: no write was judged by them (were they registered under these names?)`);
    }
  } else {
    const unseen = names.filter((n) => !ourNamesSeen.has(n));
    if (report.writes > 0 && unseen.length > 0) report.notes.push(`no event names the webhook ${unseen.join(', ')}`);
  }

  const bucketed = timeline.finish();
  report.timeline = { bucketSize: bucketed.bucketSize, buckets: bucketed.buckets };
  report.byUser = Object.fromEntries([...byUser.entries()].sort(([a], [b]) => a.localeCompare(b)));
  report.byResource = Object.fromEntries([...byResource.entries()].sort(([a], [b]) => a.localeCompare(b)));
  report.deniedByRule = sortedCounts(deniedByRule);
  report.throughByRule = sortedCounts(throughByRule);
  report.ruleByUser = [...ruleByUser.values()].sort((a, b) => b.through - a.through || b.denied - a.denied || a.rule.localeCompare(b.rule) || a.user.localeCompare(b.user));
  // Bypasses and failures first, then by time.
  report.entries.sort((a, b) => ENTRY_ORDER.indexOf(a.outcome) - ENTRY_ORDER.indexOf(b.outcome) || (a.time ?? '').localeCompare(b.time ?? ''));
  if (report.recheck.createRulesOnly > 0) {
    report.notes.push('updates and patches were re-checked with the create rules only: the audit log holds no old object, so immutability and ratcheting could not be judged');
  }
  if (report.recheck.notLogged > 0) {
    report.notes.push(
      `${report.recheck.notLogged} write(s) that need attention could not be re-checked: the audit policy logged no object for them (level Metadata); OpenShift's WriteRequestBodies profile logs them`,
    );
  }
  if (report.entriesCapped) {
    report.notes.push(`only the first ${report.entries.length} of ${report.entriesTotal} listed writes are kept: raise --max-entries (0 for all) or stream them with --ndjson`);
  }
  return report;
}

/** The order writes are listed in: what got past the webhook first. */
const ENTRY_ORDER: readonly WriteOutcome[] = ['failed-open', 'bypassed', 'partial', 'exempt', 'dry-run', 'warned', 'failed-closed', 'refused-elsewhere', 'not-stored', 'denied', 'allowed'];

function noteFor(event: WriteEvent, outcome: WriteOutcome, inferred: boolean): string | undefined {
  if (inferred && (outcome === 'failed-open' || outcome === 'failed-closed')) {
    return 'inferred: the API server recorded a call to our webhook (or refused the write with an internal error) but no decision of it, so the call failed';
  }
  if (outcome === 'not-stored' && event.dryRun) return 'dry-run request: nothing was stored';
  if (outcome === 'failed-closed' || outcome === 'refused-elsewhere' || outcome === 'not-stored') return event.message ? event.message.slice(0, 300) : undefined;
  return undefined;
}

function describeReadError(path: string, error: unknown, line: number): string {
  const e = error as NodeJS.ErrnoException;
  const where = line > 0 ? ` after line ${line}` : '';
  switch (e.code) {
    case 'ENOENT':
      return `${path}: no such file`;
    case 'EISDIR':
      return `${path}: is a directory`;
    case 'EACCES':
      return `${path}: permission denied`;
    case 'Z_BUF_ERROR':
      return `${path}: the gzip data ends early${where} (a truncated file?); the lines before were reviewed`;
    case 'Z_DATA_ERROR':
      return `${path}: the gzip data is corrupt${where}; the lines before were reviewed`;
    default:
      return `${path}: ${e.message ?? String(error)}${where}`;
  }
}

/**
 * A byte-level pre-filter: false only for lines that cannot be Image writes. The API server writes
 * compact JSON where stage and verb come early in the line; when the compact keys are not found (a
 * re-serialised log), the line goes on to the parse.
 */
function mayBeWrite(line: Buffer): boolean {
  const verb = line.indexOf(VERB_KEY);
  if (verb !== -1 && !WRITE_INITIALS.has(line[verb + VERB_KEY.length]!)) return false;
  const stage = line.indexOf(STAGE_KEY);
  if (stage !== -1 && !startsWithAt(line, stage + STAGE_KEY.length, STAGE_COMPLETE) && !startsWithAt(line, stage + STAGE_KEY.length, STAGE_PANIC)) return false;
  return line.indexOf(GROUP_MARKER) !== -1 || line.indexOf(GROUP_URI_MARKER) !== -1;
}

function startsWithAt(line: Buffer, at: number, value: Buffer): boolean {
  if (at + value.length > line.length) return false;
  for (let i = 0; i < value.length; i++) if (line[at + i] !== value[i]) return false;
  return true;
}

function firstNonSpace(line: Buffer): number {
  for (let i = 0; i < line.length; i++) {
    const b = line[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return i;
  }
  return -1;
}

function lastNonSpace(line: Buffer): number {
  for (let i = line.length - 1; i >= 0; i--) {
    const b = line[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return i;
  }
  return -1;
}

/**
 * Re-checks the Images an event holds (levels Request and RequestResponse) with the create rules,
 * where src/admission/targets.ts says they are: images created or updated, the Image a mapping
 * carries, the Images an import wrote (its response). An update has no old object in the log: create
 * rules only. A patch is not the object: it is checked on the stored object of a RequestResponse
 * event. Undefined when the event holds nothing to check; a lone signature is not an Image.
 */
function recheck(
  event: WriteEvent,
  rules: JudgeOptions = {},
  inherited: readonly string[] = [],
  cache?: RecheckCache,
): { violations: Violation[]; createRulesOnly: boolean } | undefined {
  const text = cache ? event.objectsText?.() : undefined;
  if (text === undefined || text.length > CACHED_TEXT) return recheckNow(event, rules, inherited);
  // Exact keys: the same text, resource, verb and inherited rules give the same verdict.
  const key = `${event.resource}\u0000${event.verb}\u0000${inherited.join(',')}\u0000${text}`;
  if (cache!.has(key)) return cache!.get(key);
  const result = recheckNow(event, rules, inherited);
  if (cache!.size >= CACHED_ENTRIES) cache!.clear();
  cache!.set(key, result);
  return result;
}

function recheckNow(event: WriteEvent, rules: JudgeOptions, inherited: readonly string[]): { violations: Violation[]; createRulesOnly: boolean } | undefined {
  const target = targetOf(event.resource);
  if (target === undefined || target.carrier === 'none' || event.subresource) return undefined;
  const { verb } = event;
  // The verbs whose object is in the log whole: what the webhook judges (a patch as an UPDATE), and an import's create.
  const operation = verb === 'create' ? 'CREATE' : 'UPDATE';
  if (target.carrier === 'response' ? verb !== 'create' : !target.judged.includes(operation)) return undefined;
  const objects = event.objects();
  const carrier = target.carrier === 'response' || verb === 'patch' ? objects.responseObject : objects.requestObject;
  if (!isObject(carrier)) return undefined;
  const located = imagesIn(target, carrier)?.filter(({ image }) => isObject(image));
  // A mapping without an Image is not re-checked; an import is, even when it wrote no Image.
  if (located === undefined || (located.length === 0 && target.carrier === 'request')) return undefined;
  let errors = located.flatMap(({ image, at }) => judgeCreate(image, rules).violations.map((e) => withPathPrefix(e, at)));
  if (verb !== 'create') {
    // Violations the webhook already called pre-existing were allowed on purpose (ratcheting).
    const allowed = new Set(inherited);
    errors = errors.filter((v) => !allowed.has(v.rule));
  }
  return { violations: errors.map((e) => ({ rule: e.rule, path: formatPath(e.path), detail: errorBody(e) })), createRulesOnly: verb !== 'create' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
