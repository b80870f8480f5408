/**
 * Kubernetes audit events (`audit.k8s.io/v1` Event) as far as the review reads them, and the one
 * outcome each Image write gets. Audit logs are untrusted input: every field is read through a type
 * check here, so a number where a string belongs (or any other surprise) never reaches the rest.
 */
import { AUDIT_KEYS, auditAnnotationKey } from '../admission/audit-annotations.js';
import { IMAGE_GROUP, reviewedTarget, TARGET_RESOURCES } from '../admission/targets.js';

/** The webhook names of the manifests: the mutating one and the validating one. */
export const DEFAULT_WEBHOOK_NAMES = ['mutate.images.image-admission.io', 'validate.images.image-admission.io'] as const;

/** The verbs of a write that can store an Image (a patch reaches the webhooks as an UPDATE). */
export const WRITE_VERBS = ['create', 'update', 'patch'] as const;
export type WriteVerb = (typeof WRITE_VERBS)[number];

/**
 * Whether our webhooks are registered for this write (src/admission/targets.ts, as the manifests
 * register them): a patch is admitted as an UPDATE. Imports and signatures store Images without
 * any webhook on these resources seeing them.
 */
function isJudged(resource: string, verb: WriteVerb): boolean {
  const operation = verb === 'create' ? 'CREATE' : 'UPDATE';
  return reviewedTarget(resource)?.judged.includes(operation) ?? false;
}

// Audit annotations the API server writes about webhook calls (k8s.io/apiserver
// admission/plugin/webhook/{mutating,validating}/dispatcher.go). The key suffix is
// `round_<r>_index_<i>`: nothing in it names the webhook, only the value does.
/** `failed-open.mutation.webhook.admission.k8s.io/…` and `failed-open.validating.webhook.admission.k8s.io/…`: value = webhook name. */
const FAILED_OPEN_PREFIX = 'failed-open.';
const FAILED_OPEN_SUFFIX = '.webhook.admission.k8s.io/';
/** `mutation.webhook.admission.k8s.io/round_N_index_M`: JSON `{"configuration","webhook","mutated"}`, written for every mutating call. */
const MUTATION_PREFIX = 'mutation.webhook.admission.k8s.io/';

/** Our webhook's decisions (docs/rules.md §6, §8). */
export const DECISIONS = ['denied', 'allowed', 'warned', 'exempt', 'dry-run'] as const;
export type WebhookDecision = (typeof DECISIONS)[number];

/**
 * The one outcome of each write (WriteOutcome), as the audit log shows it. `allowed`, `warned`,
 * `exempt` and `dry-run` are our webhooks' decisions on a write that took effect; see docs/audit.md.
 */
export const OUTCOMES = [
  'denied',
  'allowed',
  'warned',
  'exempt',
  'dry-run',
  'bypassed',
  'partial',
  'failed-open',
  'failed-closed',
  'refused-elsewhere',
  'not-stored',
] as const;
export type WriteOutcome = (typeof OUTCOMES)[number];

/** Outcomes an auditor must look at: something was stored that the rules did not fully pass, or an outage. */
export const ATTENTION: ReadonlySet<WriteOutcome> = new Set(['warned', 'exempt', 'dry-run', 'bypassed', 'partial', 'failed-open', 'failed-closed']);
/** Outcomes listed one by one in `--json` (every outcome but the plain decisions). */
export const LISTED: ReadonlySet<WriteOutcome> = new Set(OUTCOMES.filter((o) => o !== 'denied' && o !== 'allowed' && o !== 'warned'));

/** What the audit event says about one of our webhooks. */
export type WebhookVerdict = WebhookDecision | 'failed-open' | 'failed-closed' | 'not-called';
export const VERDICTS = [...DECISIONS, 'failed-open', 'failed-closed', 'not-called'] as const;

/** One completed write on an audited resource, every field checked. */
export interface WriteEvent {
  auditID?: string;
  time?: string;
  verb: WriteVerb;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  user: string;
  impersonatedUser?: string;
  sourceIPs: string[];
  userAgent?: string;
  requestURI: string;
  code: number;
  message: string;
  dryRun: boolean;
  /** The event's annotations; a value that is not a string reads as absent (see `annotation`). */
  annotations: Readonly<Record<string, unknown>>;
  /** The logged objects; read only when needed (the review may parse them lazily). */
  objects: () => { requestObject?: unknown; responseObject?: unknown };
  /** The objects' JSON text as logged, when the review split it off the line: an exact cache key. */
  objectsText?: () => string;
}

/** An annotation's value, if it is a string. */
function annotation(event: WriteEvent, key: string): string | undefined {
  const value = Object.hasOwn(event.annotations, key) ? event.annotations[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

const NO_ANNOTATIONS: Readonly<Record<string, unknown>> = Object.freeze({});

/** What to make of one parsed JSON object. */
export type Read =
  | { kind: 'write'; event: WriteEvent }
  /** Not an Image write: another resource, a read, an earlier stage. */
  | { kind: 'other' }
  /** A completed write on the Image group whose resource or result cannot be read. */
  | { kind: 'unknown'; reason: string; auditID?: string };

// Echoed log strings are bounded: a hostile log cannot make the report arbitrarily large.
const MAX_TEXT = 512;

/** A string field, bounded; anything else is undefined. */
function text(value: unknown, max = MAX_TEXT): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Reads a parsed audit Event; never throws. */
export function readEvent(raw: unknown, objects?: () => { requestObject?: unknown; responseObject?: unknown }): Read {
  const event = record(raw);
  if (!event) return { kind: 'other' };
  const stage = event.stage;
  const verb = event.verb;
  if (typeof verb !== 'string' || !(WRITE_VERBS as readonly string[]).includes(verb)) return { kind: 'other' };
  if (stage !== 'ResponseComplete' && stage !== 'Panic') return { kind: 'other' };
  const ref = record(event.objectRef);
  const requestURI = text(event.requestURI, 2048) ?? '';
  const auditID = text(event.auditID, 128);
  const onGroup = ref ? ref.apiGroup === IMAGE_GROUP : requestURI.startsWith(`/apis/${IMAGE_GROUP}/`);
  if (!onGroup) return { kind: 'other' };
  const unknown = (reason: string): Read => ({ kind: 'unknown', reason, ...(auditID ? { auditID } : {}) });
  if (!ref) return unknown('no objectRef');
  const resource = ref.resource;
  if (typeof resource !== 'string') return unknown('objectRef.resource is not a string');
  if (!(TARGET_RESOURCES as readonly string[]).includes(resource)) return { kind: 'other' };
  if (stage === 'Panic') return unknown('the API server panicked while handling it');
  const status = record(event.responseStatus);
  const code = status?.code;
  if (typeof code !== 'number' || !Number.isInteger(code)) return unknown('no responseStatus.code');
  const name = text(ref.name, 253);
  if (name === undefined && verb !== 'create') return unknown('objectRef.name is missing');

  const annotations = record(event.annotations) ?? NO_ANNOTATIONS;
  const raw_ = event;
  // Built field by field (no spreads): this runs for every Image write of logs of many GB.
  const out: WriteEvent = {
    verb: verb as WriteVerb,
    resource,
    user: text(record(event.user)?.username, 256) ?? '(unknown)',
    sourceIPs: ipsOf(event.sourceIPs),
    requestURI,
    code,
    message: text(status?.message, 4096) ?? '',
    dryRun: isDryRun(requestURI),
    annotations,
    objects: objects ?? (() => ({ requestObject: raw_.requestObject, responseObject: raw_.responseObject })),
  };
  if (auditID !== undefined) out.auditID = auditID;
  const time = text(event.stageTimestamp, 64) ?? text(event.requestReceivedTimestamp, 64);
  if (time !== undefined) out.time = time;
  const subresource = text(ref.subresource, 64);
  if (subresource) out.subresource = subresource;
  const namespace = text(ref.namespace, 63);
  if (namespace) out.namespace = namespace;
  if (name !== undefined) out.name = name;
  const impersonated = event.impersonatedUser === undefined ? undefined : text(record(event.impersonatedUser)?.username, 256);
  if (impersonated !== undefined) out.impersonatedUser = impersonated;
  const userAgent = text(event.userAgent, 256);
  if (userAgent !== undefined) out.userAgent = userAgent;
  return { kind: 'write', event: out };
}

function ipsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const ips: string[] = [];
  for (const ip of value) {
    if (typeof ip === 'string') ips.push(ip.length > 64 ? ip.slice(0, 64) : ip);
    if (ips.length === 8) break;
  }
  return ips;
}

/** Whether the request asked for a dry run (`?dryRun=All`): the API server then stores nothing. */
function isDryRun(requestURI: string): boolean {
  const query = requestURI.indexOf('?');
  if (query === -1 || !requestURI.includes('dryRun=', query)) return false;
  return new URLSearchParams(requestURI.slice(query + 1)).getAll('dryRun').some((v) => v !== '');
}

/** One classified write. */
export interface Classification {
  outcome: WriteOutcome;
  /** What each of our webhooks did, by name. */
  webhooks: Record<string, WebhookVerdict>;
  /** The decision ids our webhooks wrote (one per webhook that answered). */
  decisionIds: string[];
  /** Rules named in our webhooks' `violations` annotations. */
  annotatedRules: string[];
  /** Rules our webhooks called pre-existing (ratcheting). */
  inheritedRules: string[];
  /** Other webhooks the event names (annotations, messages): to help when --webhook-name is wrong. */
  otherWebhooks: string[];
  /** Whether a failed call was inferred (see classify) rather than read from an annotation or message. */
  inferred: boolean;
}

// The API server's wording (k8s.io/apiserver webhook errors.ToStatusErr, util/webhook ErrCallingWebhook).
const deniedBy = (name: string) => `admission webhook "${name}" denied the request`;
const failedCalling = (name: string) => `failed calling webhook "${name}"`;
const NAMED_IN_MESSAGE = /(?:admission webhook|failed calling webhook) "([^"]{1,253})"/g;

// The most telling decision first, when our two webhooks answered differently.
const SEVERITY: readonly WebhookDecision[] = ['exempt', 'dry-run', 'warned', 'allowed'];

/** Classifies one write for our webhooks `names`. */
export function classify(event: WriteEvent, names: readonly string[]): Classification {
  const webhooks: Record<string, WebhookVerdict> = {};
  const decisionIds: string[] = [];
  const annotatedRules = new Set<string>();
  const inheritedRules = new Set<string>();
  const failedOpenNames = new Set<string>();
  const calledNames = new Set<string>();
  const other = new Set<string>();
  const ours = setOf(names);

  for (const key in event.annotations) {
    const value = annotation(event, key);
    if (value === undefined) continue;
    const first = key.charCodeAt(0);
    // Most keys are ours or authorization's: look closer only at the API server's webhook keys.
    if (first === 0x66 /* f */ && key.startsWith(FAILED_OPEN_PREFIX) && key.includes(FAILED_OPEN_SUFFIX)) {
      // Blame only the webhook the annotation names: another webhook failing open is not ours.
      if (ours.has(value)) failedOpenNames.add(value);
      else other.add(value.slice(0, 253));
    } else if (first === 0x6d /* m */ && key.startsWith(MUTATION_PREFIX)) {
      const webhook = mutationWebhook(value);
      if (webhook === undefined) continue;
      if (ours.has(webhook)) calledNames.add(webhook);
      else other.add(webhook);
    } else {
      // This webhook deployed under another name: its decision and decision-id keys.
      const slash = key.lastIndexOf('/');
      if (slash > 0 && key.slice(slash + 1) === AUDIT_KEYS.decisionId && !ours.has(key.slice(0, slash))) other.add(key.slice(0, Math.min(slash, 253)));
    }
  }
  if (event.message !== '') for (const match of event.message.matchAll(NAMED_IN_MESSAGE)) if (!ours.has(match[1]!)) other.add(match[1]!);

  const decided: WebhookDecision[] = [];
  let inferred = false;
  for (const name of names) {
    const decision = annotation(event, auditAnnotationKey(name, 'decision'));
    const id = annotation(event, auditAnnotationKey(name, 'decisionId'));
    if (id) decisionIds.push(id);
    const violated = annotation(event, auditAnnotationKey(name, 'violations'));
    if (violated) for (const rule of violated.split(',')) if (rule !== '') annotatedRules.add(rule);
    const preExisting = annotation(event, auditAnnotationKey(name, 'preExisting'));
    if (preExisting) for (const rule of preExisting.split(',')) if (rule !== '') inheritedRules.add(rule);
    let verdict: WebhookVerdict;
    if (event.message !== '' && event.message.includes(deniedBy(name))) verdict = 'denied';
    else if (decision !== undefined && (DECISIONS as readonly string[]).includes(decision)) verdict = decision as WebhookDecision;
    else if (event.message !== '' && event.message.includes(failedCalling(name))) verdict = 'failed-closed';
    else if (failedOpenNames.has(name)) verdict = 'failed-open';
    // The API server recorded a mutating call, but our webhook (which always annotates) left no
    // decision: the call failed, and the request went on (Ignore) or stopped (Fail). API servers
    // before 1.21 write no failed-open annotation, and no audit level below RequestResponse keeps
    // the status message: this annotation is then the only evidence.
    else if (calledNames.has(name)) {
      verdict = event.code < 400 ? 'failed-open' : 'failed-closed';
      inferred = true;
    } else verdict = 'not-called';
    webhooks[name] = verdict;
    if ((DECISIONS as readonly string[]).includes(verdict)) decided.push(verdict as WebhookDecision);
  }
  // An internal error after one of our webhooks allowed the write, while the other one registered
  // for it left no decision: that call failed closed (a validating call leaves no annotation of the
  // API server's own on 1.20, and the status message is not kept below RequestResponse).
  if (event.code === 500 && isJudged(event.resource, event.verb) && decided.length > 0) {
    for (const name of names) {
      if (webhooks[name] === 'not-called') {
        webhooks[name] = 'failed-closed';
        inferred = true;
      }
    }
  }

  const verdicts = Object.values(webhooks);
  const tookEffect = !event.dryRun && event.code < 400;
  let outcome: WriteOutcome;
  if (verdicts.includes('denied')) outcome = 'denied';
  else if (!tookEffect) {
    if (event.code >= 400 && verdicts.includes('failed-closed')) outcome = 'failed-closed';
    else if (event.dryRun) outcome = 'not-stored';
    else if (decided.length > 0 || verdicts.includes('failed-open')) outcome = 'refused-elsewhere';
    else outcome = 'not-stored';
  } else if (verdicts.includes('failed-open')) outcome = 'failed-open';
  else if (decided.length === 0) outcome = 'bypassed';
  else if (isJudged(event.resource, event.verb) && decided.length < names.length) outcome = 'partial';
  else outcome = SEVERITY.find((s) => decided.includes(s))!;

  return {
    outcome,
    webhooks,
    decisionIds,
    annotatedRules: [...annotatedRules],
    inheritedRules: [...inheritedRules],
    otherWebhooks: [...other],
    inferred,
  };
}

const sets = new WeakMap<readonly string[], ReadonlySet<string>>();
function setOf(names: readonly string[]): ReadonlySet<string> {
  let set = sets.get(names);
  if (!set) sets.set(names, (set = new Set(names)));
  return set;
}

/** The webhook a `mutation.webhook.admission.k8s.io/…` annotation names, if its value is the JSON the API server writes. */
function mutationWebhook(value: string): string | undefined {
  if (value.length > 2048) return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    const webhook = record(parsed)?.webhook;
    return typeof webhook === 'string' ? webhook.slice(0, 253) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the write took effect: not a dry run, and answered below 400. */
export function tookEffect(event: WriteEvent): boolean {
  return !event.dryRun && event.code !== undefined && event.code < 400;
}
