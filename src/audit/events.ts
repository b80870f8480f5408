/**
 * Kubernetes audit events (`audit.k8s.io/v1` Event) as far as the review reads them, and how one event
 * is classified: denied by this webhook, allowed by it, let through while it failed open, or never seen.
 */
import { IMAGE_GROUP, TARGET_RESOURCES } from '../admission/targets.js';

/** The webhook names of the manifests: the mutating one and the validating one. */
export const DEFAULT_WEBHOOK_NAMES = ['mutate.images.image-admission.io', 'validate.images.image-admission.io'] as const;

/** The fields of an audit Event that the review reads. */
export interface AuditEvent {
  auditID?: string;
  stage?: string;
  verb?: string;
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
  user?: { username?: string; groups?: string[] };
  impersonatedUser?: { username?: string; groups?: string[] };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; apiVersion?: string; subresource?: string };
  responseStatus?: { code?: number; message?: string; reason?: string; status?: string };
  requestObject?: unknown;
  responseObject?: unknown;
  annotations?: Record<string, string>;
}

/**
 * What happened to a write, as far as this webhook is concerned. `allowed`, `warned`, `exempt` and
 * `dry-run` are the webhook's own decisions (rules.md §6, §8).
 */
export const OUTCOMES = ['denied', 'allowed', 'warned', 'exempt', 'dry-run', 'failed-open', 'not-seen'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** One event's classification. */
export interface Classification {
  outcome: Outcome;
  /** The decision ids the webhook wrote (one per webhook that answered). */
  decisionIds: string[];
  /** Rules named in the webhook's `violations` annotations. */
  annotatedRules: string[];
  /** For failed-open: the annotation values (the API server writes the webhook's name there). */
  failedOpen: string[];
}

// The API server prefixes a webhook's denial with this (k8s.io/apiserver webhook errors.ToStatusErr).
const deniedBy = (name: string) => `admission webhook "${name}" denied the request`;

// More severe first: when both webhooks answered, the event shows the strongest decision.
const SEVERITY: readonly Outcome[] = ['denied', 'exempt', 'dry-run', 'warned', 'allowed'];

/** The verbs that pass admission; reads (get, list, watch) never reach a webhook. */
export const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'] as const;

/** Whether the event is one the review keeps: a completed write on the audited resources. */
export function isAudited(event: AuditEvent): boolean {
  const ref = event.objectRef;
  return (
    event.stage === 'ResponseComplete' &&
    (WRITE_VERBS as readonly string[]).includes(event.verb ?? '') &&
    ref?.apiGroup === IMAGE_GROUP &&
    (TARGET_RESOURCES as readonly string[]).includes(ref.resource ?? '')
  );
}

/** Classifies one kept event for webhooks named `names`. */
export function classify(event: AuditEvent, names: readonly string[]): Classification {
  const annotations = event.annotations ?? {};
  const decisions: Outcome[] = [];
  const decisionIds: string[] = [];
  const annotatedRules = new Set<string>();
  const failedOpen: string[] = [];
  for (const name of names) {
    const decision = annotations[`${name}/decision`];
    if (decision !== undefined && (SEVERITY as readonly string[]).includes(decision)) decisions.push(decision as Outcome);
    const id = annotations[`${name}/decision-id`];
    if (id !== undefined && id !== '') decisionIds.push(id);
    for (const rule of (annotations[`${name}/violations`] ?? '').split(',')) if (rule !== '') annotatedRules.add(rule);
  }
  for (const [key, value] of Object.entries(annotations)) if (key.startsWith('failed-open.')) failedOpen.push(value);

  const message = event.responseStatus?.message ?? '';
  // kubectl shows a 422 Invalid denial without the "admission webhook ... denied" prefix, and a log
  // pipeline that copied kubectl's text may too: then the annotation is the evidence.
  const deniedByMessage = names.some((name) => message.includes(deniedBy(name)));
  let outcome: Outcome;
  if (deniedByMessage || decisions.includes('denied')) outcome = 'denied';
  else if (failedOpen.length > 0) outcome = 'failed-open';
  else if (decisions.length > 0) outcome = SEVERITY.find((s) => decisions.includes(s))!;
  else outcome = 'not-seen';
  return { outcome, decisionIds, annotatedRules: [...annotatedRules], failedOpen };
}

/** Whether the write took effect: the API server answered below 400 (or the event has no status). */
export function gotThrough(event: AuditEvent): boolean {
  const code = event.responseStatus?.code;
  return code === undefined || code < 400;
}

/** The hour an event belongs to, `YYYY-MM-DDTHH:00Z`, or undefined when it has no usable time. */
export function hourOf(event: AuditEvent): string | undefined {
  const time = event.stageTimestamp ?? event.requestReceivedTimestamp;
  if (typeof time !== 'string' || time.length < 13 || time[4] !== '-' || time[10] !== 'T') return undefined;
  return `${time.slice(0, 13)}:00Z`;
}
