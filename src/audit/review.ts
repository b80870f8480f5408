/**
 * `audit review`: reads Kubernetes audit logs in one streaming pass, classifies every completed event
 * on Image-carrying resources, re-checks the objects the log holds with the webhook's own rules, and
 * keeps only counts and a bounded list of findings, so memory stays flat however large the logs are.
 */
import { imagesIn, IMAGE_GROUP, targetOf } from '../admission/targets.js';
import { errorBody, formatPath, judgeCreate, type JudgeOptions, withPathPrefix } from '../image/index.js';
import { type DecisionRecord, type LoggedViolation } from './decision-log.js';
import { type AuditEvent, classify, gotThrough, hourOf, isAudited, OUTCOMES, type Outcome } from './events.js';
import { forEachLine, type LineInput, type ProgressListener } from './lines.js';

/** Line numbers of the first malformed lines kept per input. */
export const MALFORMED_EXAMPLES = 5;
/** Findings listed in full; the rest are only counted. */
export const FINDINGS_LISTED = 500;

/** A violation as the report shows it. */
export type Violation = LoggedViolation;

/** A write that took effect although it broke the rules, or while the webhook failed open. */
export interface Finding {
  time?: string;
  auditID?: string;
  user: string;
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
  outcome: Outcome;
  code?: number;
  violations: Violation[];
  /** Where the violations come from. */
  source: 'decision-log' | 'recheck' | 'annotation' | 'none';
  note?: string;
}

export type OutcomeCounts = Record<Outcome, number>;

/** Counts for one user. */
export interface UserCounts {
  writes: number;
  denied: number;
  /** Writes that took effect with violations or while failing open (findings). */
  through: number;
  failedOpen: number;
}

/** The review of one or more audit logs. */
export interface AuditReport {
  kind: 'AuditReview';
  webhookNames: string[];
  inputs: { path: string; lines: number; bytes: number; gzip: boolean; malformed: number; malformedLines: number[] }[];
  /** Events kept: stage ResponseComplete on the audited resources. */
  events: number;
  malformed: number;
  byDecision: OutcomeCounts;
  byRule: Record<string, number>;
  byUser: Record<string, UserCounts>;
  byResource: Record<string, OutcomeCounts>;
  /** Per hour (UTC), oldest first. */
  timeline: { hour: string; counts: OutcomeCounts }[];
  offenders: ({ user: string } & UserCounts)[];
  findings: Finding[];
  findingsTotal: number;
  recheck: { checked: number; createRulesOnly: number; withViolations: number };
  join?: { decisions: number; matched: number; unmatched: number };
  notes: string[];
}

/** What to review and how. */
export interface ReviewOptions extends JudgeOptions {
  inputs: LineInput[];
  webhookNames: readonly string[];
  /** The decision log, loaded beforehand, by decision id. */
  decisions?: ReadonlyMap<string, DecisionRecord>;
  onProgress?: (path: string) => ProgressListener | undefined;
}

const GROUP_MARKER = Buffer.from(JSON.stringify(IMAGE_GROUP));
const STAGE_KEY = Buffer.from('"stage":"');
const STAGE_VALUE = Buffer.from('ResponseComplete"');
const VERB_KEY = Buffer.from('"verb":"');
// First letters of the write verbs: create (and connect), update, patch, delete(collection).
const WRITE_INITIALS = new Set([0x63, 0x75, 0x70, 0x64]);
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

const zero = (): OutcomeCounts => Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;

/** Reviews the audit logs and returns the report; never throws on a bad line. */
export async function reviewAuditLogs(options: ReviewOptions): Promise<AuditReport> {
  const report: AuditReport = {
    kind: 'AuditReview',
    webhookNames: [...options.webhookNames],
    inputs: [],
    events: 0,
    malformed: 0,
    byDecision: zero(),
    byRule: {},
    byUser: {},
    byResource: {},
    timeline: [],
    offenders: [],
    findings: [],
    findingsTotal: 0,
    recheck: { checked: 0, createRulesOnly: 0, withViolations: 0 },
    ...(options.decisions ? { join: { decisions: options.decisions.size, matched: 0, unmatched: 0 } } : {}),
    notes: [],
  };
  const hours = new Map<string, OutcomeCounts>();
  const byUser = new Map<string, UserCounts>();
  const byResource = new Map<string, OutcomeCounts>();
  const byRule = new Map<string, number>();

  const take = (event: AuditEvent) => {
    report.events++;
    const classified = classify(event, options.webhookNames);
    const { outcome } = classified;
    report.byDecision[outcome]++;
    const hour = hourOf(event);
    if (hour !== undefined) {
      let counts = hours.get(hour);
      if (!counts) hours.set(hour, (counts = zero()));
      counts[outcome]++;
    }
    const resource = event.objectRef?.resource ?? '';
    let resourceCounts = byResource.get(resource);
    if (!resourceCounts) byResource.set(resource, (resourceCounts = zero()));
    resourceCounts[outcome]++;
    const user = (event.impersonatedUser ?? event.user)?.username ?? '(unknown)';
    let userCounts = byUser.get(user);
    if (!userCounts) byUser.set(user, (userCounts = { writes: 0, denied: 0, through: 0, failedOpen: 0 }));
    userCounts.writes++;
    if (outcome === 'denied') userCounts.denied++;
    if (outcome === 'failed-open') userCounts.failedOpen++;

    // The violations of this write: the decision log's when joined, else the rules re-checked on the
    // logged object, else the rule names the webhook annotated.
    let violations: Violation[] = [];
    let source: Finding['source'] = 'none';
    let note: string | undefined;
    let logged: DecisionRecord | undefined;
    if (options.decisions && classified.decisionIds.length > 0) {
      for (const id of classified.decisionIds) logged ??= options.decisions.get(id);
      if (logged) report.join!.matched++;
      else report.join!.unmatched++;
    }
    // A denied write changed nothing, and the webhook named its rules: re-check only what took effect.
    const rechecked = outcome === 'denied' && gotThrough(event) === false ? undefined : recheck(event, options);
    if (rechecked) {
      report.recheck.checked++;
      if (rechecked.createRulesOnly) report.recheck.createRulesOnly++;
      if (rechecked.violations.length > 0) report.recheck.withViolations++;
    }
    if (logged && logged.violations.length > 0) {
      violations = logged.violations;
      source = 'decision-log';
    } else if (rechecked && rechecked.violations.length > 0) {
      violations = rechecked.violations;
      source = 'recheck';
      if (rechecked.createRulesOnly) note = 'update: create rules only (the audit log has no old object)';
    } else if (classified.annotatedRules.length > 0) {
      violations = classified.annotatedRules.map((rule) => ({ rule, path: '', detail: '' }));
      source = 'annotation';
    }
    for (const rule of new Set(violations.map((v) => v.rule))) byRule.set(rule, (byRule.get(rule) ?? 0) + 1);

    const through = gotThrough(event) && outcome !== 'denied';
    if (through && (violations.length > 0 || outcome === 'failed-open')) {
      userCounts.through++;
      report.findingsTotal++;
      if (report.findings.length < FINDINGS_LISTED) {
        const ref = event.objectRef ?? {};
        if (outcome === 'failed-open') note = `failed open: ${classified.failedOpen.join(', ')}${note ? `; ${note}` : ''}`;
        report.findings.push({
          ...(event.stageTimestamp ?? event.requestReceivedTimestamp ? { time: event.stageTimestamp ?? event.requestReceivedTimestamp } : {}),
          ...(event.auditID ? { auditID: event.auditID } : {}),
          user,
          verb: event.verb ?? '',
          resource,
          ...(ref.namespace ? { namespace: ref.namespace } : {}),
          ...(ref.name ? { name: ref.name } : {}),
          outcome,
          ...(event.responseStatus?.code !== undefined ? { code: event.responseStatus.code } : {}),
          violations,
          source,
          ...(note ? { note } : {}),
        });
      }
    }
  };

  for (const input of options.inputs) {
    const entry = { path: input.path, lines: 0, bytes: 0, gzip: false, malformed: 0, malformedLines: [] as number[] };
    const bad = (lineNo: number) => {
      entry.malformed++;
      if (entry.malformedLines.length < MALFORMED_EXAMPLES) entry.malformedLines.push(lineNo);
    };
    const read = await forEachLine(
      input,
      (line, lineNo) => {
        // A cheap shape check on every line, so that truncated or foreign lines are counted without
        // paying for a parse of the many events that are not about Images.
        const first = firstNonSpace(line);
        if (first === -1) return;
        if (line[first] !== OPEN_BRACE || line[lastNonSpace(line)] !== CLOSE_BRACE) return bad(lineNo);
        if (!mayBeAudited(line)) return;
        let event: unknown;
        try {
          event = JSON.parse(line.toString('utf8'));
        } catch {
          return bad(lineNo);
        }
        if (typeof event !== 'object' || event === null || Array.isArray(event)) return bad(lineNo);
        if (isAudited(event as AuditEvent)) take(event as AuditEvent);
      },
      options.onProgress?.(input.path),
    );
    Object.assign(entry, read);
    report.malformed += entry.malformed;
    report.inputs.push(entry);
  }

  report.timeline = [...hours.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([hour, counts]) => ({ hour, counts }));
  report.byUser = Object.fromEntries([...byUser.entries()].sort(([a], [b]) => a.localeCompare(b)));
  report.byResource = Object.fromEntries(byResource);
  report.byRule = Object.fromEntries([...byRule.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  report.offenders = [...byUser.entries()]
    .map(([user, counts]) => ({ user, ...counts }))
    .filter((o) => o.through + o.denied > 0)
    .sort((a, b) => b.through - a.through || b.denied - a.denied || a.user.localeCompare(b.user))
    .slice(0, 10);
  if (report.recheck.createRulesOnly > 0) {
    report.notes.push('updates were re-checked with the create rules only: the audit log holds no old object, so immutability and ratcheting could not be judged');
  }
  if (report.findingsTotal > report.findings.length) report.notes.push(`only the first ${report.findings.length} of ${report.findingsTotal} findings are listed`);
  return report;
}

/**
 * A byte-level pre-filter: false only for lines that cannot be kept events. The API server writes
 * compact JSON, where stage and verb come early in the line; when the compact keys are not found
 * (a re-serialised log), the line goes on to the parse.
 */
function mayBeAudited(line: Buffer): boolean {
  const verb = line.indexOf(VERB_KEY);
  if (verb !== -1 && !WRITE_INITIALS.has(line[verb + VERB_KEY.length]!)) return false;
  const stage = line.indexOf(STAGE_KEY);
  if (stage !== -1 && !startsWithAt(line, stage + STAGE_KEY.length, STAGE_VALUE)) return false;
  return line.indexOf(GROUP_MARKER) !== -1;
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
 * Re-checks the object an event holds (levels Request and RequestResponse) with the create rules:
 * images created or updated (an update has no old object in the log: create rules only), the Image a
 * mapping carries, and the Images an import wrote (in the response; imports bypass webhooks on images).
 * Patches and signatures are not re-checked: a patch is not the object, and a lone signature is not an Image.
 */
export function recheck(event: AuditEvent, rules: JudgeOptions = {}): { violations: Violation[]; createRulesOnly: boolean } | undefined {
  const target = targetOf(event.objectRef?.resource ?? '');
  const verb = event.verb;
  // The verbs whose object is in the log whole: what the webhook judges, and an import's create.
  const verbs = target?.carrier === 'response' ? ['create'] : (target?.judged ?? []).map((operation) => operation.toLowerCase());
  if (target === undefined || verb === undefined || !verbs.includes(verb)) return undefined;
  const carrier = target.carrier === 'response' ? event.responseObject : event.requestObject;
  if (!isObject(carrier)) return undefined;
  const located = imagesIn(target, carrier)?.filter(({ image }) => isObject(image));
  // A mapping without an Image is not re-checked; an import is, even when it wrote no Image.
  if (located === undefined || (located.length === 0 && target.carrier === 'request')) return undefined;
  let errors = located.flatMap(({ image, at }) => judgeCreate(image, rules).violations.map((e) => withPathPrefix(e, at)));
  if (verb === 'update') {
    // Violations the webhook already called pre-existing were allowed on purpose (ratcheting).
    const inherited = new Set(Object.entries(event.annotations ?? {}).filter(([k]) => k.endsWith('/pre-existing-violations')).flatMap(([, v]) => v.split(',')));
    errors = errors.filter((v) => !inherited.has(v.rule));
  }
  return { violations: errors.map((e) => ({ rule: e.rule, path: formatPath(e.path), detail: errorBody(e) })), createRulesOnly: verb === 'update' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
