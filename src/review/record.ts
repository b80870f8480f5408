/**
 * The trail's one owner: what one answered review leaves behind. `ReviewRecord` is what the pipeline
 * knows about a review (the metrics count it, the decision log prints it); `DecisionLine` is the
 * decision log's line, written by the server (`toDecisionLine`) and read back by `audit review
 * --decisions` (`parseDecisionLine`). Writer and reader share these definitions, so the format
 * cannot drift between them.
 */
import type { AdmissionResult } from '../admission/handle.js';
import { APPLIED_ACTIONS, type AppliedAction, type Decision, type Policy } from '../admission/policy.js';
import { imageNameIn, targetOf } from '../admission/targets.js';
import type { AdmissionRequest } from '../admission/types.js';
import { type AdmissionPhase, bounded, type FieldError, type FieldErrorType, formatPath, MAX_DETAIL_CHARS, type RuleId } from '../image/index.js';

/** The `msg` of every decision line. */
export const DECISION_MESSAGE = 'decision';

/**
 * Violations kept per list in the decision log: a hostile review can carry 100,000 of them and one log
 * line must stay readable (the metrics count them all).
 */
const LOGGED_VIOLATIONS = 20;

/** A violation as the trail records it: never the offending value (it may be signature content). */
export interface LoggedViolation {
  /** A string, not a RuleId: the reader takes lines of other versions, whose rules this catalogue may lack. */
  rule: string;
  /** The field, as `dockerImageLayers[2].size`. */
  path: string;
  type: FieldErrorType;
  detail?: string;
  /** What it did to the write: denied it, warned the writer, or was only recorded. */
  action?: AppliedAction;
}

/** How many violations of one rule, of one kind, a review found: what the metrics count. */
export interface RuleCount {
  rule: RuleId;
  kind: 'violation' | 'pre-existing' | 'advisory';
  count: number;
}

/**
 * One decision log line's own fields (the logger adds `level`, `time`, `msg` and its context). Field
 * names are the log's public format: dashboards and `audit review --decisions` read them.
 */
export interface DecisionLine {
  /** The review's uid, also written to the audit annotation `decision-id`. */
  decisionId: string;
  endpoint: AdmissionPhase;
  operation: string;
  /** `resource.group`, as kubectl names it. */
  resource: string;
  name?: string;
  imageName?: string;
  namespace?: string;
  user?: string;
  groups?: string[];
  dryRun?: boolean;
  decision: Decision;
  mode: Policy['mode'];
  violations: LoggedViolation[];
  preExisting: LoggedViolation[];
  advisories: LoggedViolation[];
  patched: boolean;
  /** From the request's arrival at the handler to the answer. */
  latencyMs: number;
}

/**
 * What the metrics and the decision log need to know about one answered review: the decision line's
 * fields (one definition, above) with the request's own `uid`, `group` and `resource` where the line
 * has `decisionId` and `resource.group`, the per-rule counts, and the time in seconds.
 */
export type ReviewRecord = Omit<DecisionLine, typeof DECISION_ID_FIELD | 'resource' | 'latencyMs'> & {
  uid: string;
  group: string;
  resource: string;
  counts: RuleCount[];
  /** From the parsed body to the serialized answer. */
  seconds: number;
};

/**
 * The key that joins a decision line to its audit event (whose `decision-id` annotation holds the same
 * uid): `audit review` looks for it in raw lines before parsing them.
 */
export const DECISION_ID_FIELD = 'decisionId' satisfies keyof DecisionLine;

/** The decision line of `record`. */
export function toDecisionLine(record: ReviewRecord, latencyMs: number): DecisionLine {
  return {
    decisionId: record.uid,
    endpoint: record.endpoint,
    operation: record.operation,
    resource: record.group ? `${record.resource}.${record.group}` : record.resource,
    name: record.name,
    imageName: record.imageName,
    namespace: record.namespace,
    user: record.user,
    groups: record.groups,
    dryRun: record.dryRun,
    decision: record.decision,
    mode: record.mode,
    violations: record.violations,
    preExisting: record.preExisting,
    advisories: record.advisories,
    patched: record.patched,
    latencyMs,
  };
}

/** What `audit review` reads of a decision line: enough to join an audit event to its reasons. */
export type ReadDecisionLine = Pick<DecisionLine, 'decisionId' | 'violations'> & { decision: string };

/**
 * Reads one log line as a decision line, or undefined for any other line (startup messages, other
 * JSON, garbage). Lenient about the fields it does not need, so lines of other versions still join.
 */
export function parseDecisionLine(text: string): ReadDecisionLine | undefined {
  let entry: { msg?: unknown; decisionId?: unknown; decision?: unknown; violations?: unknown };
  try {
    entry = JSON.parse(text) as typeof entry;
  } catch {
    return undefined;
  }
  if (entry?.msg !== DECISION_MESSAGE || typeof entry.decisionId !== 'string') return undefined;
  const violations = Array.isArray(entry.violations)
    ? entry.violations.map((v: { rule?: unknown; path?: unknown; type?: unknown; detail?: unknown; action?: unknown }): LoggedViolation => ({
        rule: String(v?.rule ?? ''),
        path: String(v?.path ?? ''),
        type: String(v?.type ?? '') as FieldErrorType,
        ...(v?.detail == null ? {} : { detail: String(v.detail) }),
        ...(APPLIED_ACTIONS.includes(v?.action as AppliedAction) ? { action: v.action as AppliedAction } : {}),
      }))
    : [];
  return { decisionId: entry.decisionId, decision: String(entry.decision ?? ''), violations };
}

/** The record of one answered review. */
export function recordOf(request: AdmissionRequest, endpoint: AdmissionPhase, policy: Policy, result: AdmissionResult, seconds: number): ReviewRecord {
  const { group, resource } = request.resource;
  const object = request.object as { metadata?: { name?: unknown } } | null | undefined;
  const objectName = typeof object?.metadata?.name === 'string' ? object.metadata.name : undefined;
  const name = request.name ?? objectName;
  const imageName = imageNameOf(request);
  return {
    // Every string a client sent is cut to bounded()'s length and the group list to LOGGED_GROUPS: one
    // log line per review, never megabytes (the uid is bounded by parseReview).
    uid: request.uid,
    endpoint,
    operation: request.operation,
    group: bounded(group),
    resource: bounded(resource),
    ...(name === undefined ? {} : { name: bounded(name) }),
    ...(imageName === undefined ? {} : { imageName: bounded(imageName) }),
    ...(request.namespace === undefined ? {} : { namespace: bounded(request.namespace) }),
    ...(request.userInfo.username === undefined ? {} : { user: bounded(request.userInfo.username) }),
    ...(request.userInfo.groups == null ? {} : { groups: loggedGroups(request.userInfo.groups) }),
    ...(request.dryRun === undefined ? {} : { dryRun: request.dryRun }),
    decision: result.decision,
    mode: policy.mode,
    patched: result.patched,
    violations: logged(result.violations, result.actions),
    preExisting: logged(result.inherited, result.actions),
    advisories: logged(result.advisories, result.actions),
    counts: [...count(result.violations, 'violation'), ...count(result.inherited, 'pre-existing'), ...count(result.advisories, 'advisory')],
    seconds,
  };
}

function logged(errors: readonly FieldError[], actions: ReadonlyMap<RuleId, AppliedAction>): LoggedViolation[] {
  return errors.slice(0, LOGGED_VIOLATIONS).map((e) => {
    const action = actions.get(e.rule);
    return {
      rule: e.rule,
      path: bounded(formatPath(e.path)),
      type: e.type,
      ...(e.detail === undefined ? {} : { detail: bounded(e.detail, MAX_DETAIL_CHARS) }),
      ...(action === undefined ? {} : { action }),
    };
  });
}

/** Groups kept in the decision log; the rest are counted. */
const LOGGED_GROUPS = 20;

function loggedGroups(groups: readonly string[]): string[] {
  const shown = groups.slice(0, LOGGED_GROUPS).map((group) => bounded(group));
  return groups.length > LOGGED_GROUPS ? [...shown, `and ${groups.length - LOGGED_GROUPS} more`] : shown;
}

function count(errors: readonly FieldError[], kind: RuleCount['kind']): RuleCount[] {
  const byRule = new Map<RuleId, number>();
  for (const error of errors) byRule.set(error.rule, (byRule.get(error.rule) ?? 0) + 1);
  return [...byRule].map(([rule, n]) => ({ rule, kind, count: n }));
}

/** The Image's name: the object's for images, the embedded `image`'s for imagestreammappings. */
function imageNameOf(request: AdmissionRequest): string | undefined {
  const target = targetOf(request.resource.resource);
  return target === undefined ? undefined : imageNameIn(target, request.object);
}
