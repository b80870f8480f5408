/**
 * The reports the controller writes: one cluster-scoped report per Image in violation, in the format
 * of whichever report API the cluster serves. Pure: names, shapes and comparison, no I/O.
 *
 * Formats (their published APIs, checked against test CRDs written from them in test/crds/):
 *   - openreports.io/v1alpha1 ClusterReport (github.com/openreports/reports-api): top-level `source`,
 *     `scope`, `configuration.limits`, `summary`, `results[]`;
 *   - wgpolicyk8s.io/v1alpha2 ClusterPolicyReport (kubernetes-sigs/wg-policy-prototypes): the same
 *     without the top-level `source` and `configuration`; `source` goes on each result.
 * A CRD prunes fields it does not declare, so each shape carries only its API's fields: anything else
 * would be dropped on write and the next comparison would see a change that never lands.
 *
 * Lessons from the tools that report this way: reports only for Images in violation (per-object pass
 * reports are what filled etcd in Kyverno's issues 2674, 5830, 8974); a bounded, deterministic list of
 * results (Gatekeeper's capped, shuffled status lists, issue 3261); no rewrite when nothing changed.
 */
import { createHash } from 'node:crypto';
import { ruleById } from '../image/index.js';
import type { ExistingViolation } from '../audit/existing.js';

/** The `source` of every result: the tool that judged. */
export const REPORT_SOURCE = 'image-admission-webhook';
/** Results per report: a report stays far below etcd's 1.5 MiB object limit whatever an Image holds. */
export const MAX_RESULTS = 100;
/** Label on every report this controller writes: how it finds its own reports again. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'image-admission-controller';

/** A report API the controller can write, in order of preference. */
export interface ReportApi {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
}

export const OPEN_REPORTS: ReportApi = { group: 'openreports.io', version: 'v1alpha1', kind: 'ClusterReport', plural: 'clusterreports' };
export const POLICY_REPORTS: ReportApi = { group: 'wgpolicyk8s.io', version: 'v1alpha2', kind: 'ClusterPolicyReport', plural: 'clusterpolicyreports' };
/** openreports.io first: it is where the policy-report work moved (wg-policy's KEP 4447 became OpenReports). */
export const REPORT_APIS: readonly ReportApi[] = [OPEN_REPORTS, POLICY_REPORTS];

/**
 * What the controller keeps of an Image in violation, instead of the Image: the first MAX_RESULTS
 * violations, the counts of all of them, and every rule broken (for the gauge).
 */
export interface Finding {
  readonly violations: readonly ExistingViolation[];
  readonly fail: number;
  readonly warn: number;
  readonly rules: readonly string[];
}

/** The finding of a verdict's violations (none: the Image is clean). */
export function toFinding(violations: readonly ExistingViolation[]): Finding | undefined {
  if (violations.length === 0) return undefined;
  return {
    violations: violations.slice(0, MAX_RESULTS),
    fail: violations.filter((v) => v.result === 'fail').length,
    warn: violations.filter((v) => v.result === 'warn').length,
    rules: [...new Set(violations.map((v) => v.rule))],
  };
}

/** The Image a report is about. */
export interface ImageRef {
  name: string;
  uid?: string;
}

/** A Kubernetes object as the report API stores it (only the fields the controller writes). */
export type ReportObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels: Record<string, string>; resourceVersion?: string };
  summary: Summary;
  results: Result[];
};

interface Summary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

interface Result {
  source: string;
  policy: string;
  rule: string;
  result: 'fail' | 'warn';
  message: string;
  properties: Record<string, string>;
  resources: ObjectReference[];
  timestamp: { seconds: number; nanos: number };
}

interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid?: string;
}

/** The policy a rule belongs to: its section of the rule catalogue (shared/spec/rules.md). */
const POLICIES: Record<string, string> = {
  '2': 'image-shape',
  '3': 'image-create-rules',
  content: 'image-content-addressing',
  '4': 'image-update-rules',
};

/** The policy name reported for a rule. */
export function policyOf(rule: string): string {
  const section = ruleById(rule)?.section;
  return (section !== undefined && POLICIES[section]) || 'image-rules';
}

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const OPENSHIFT_IMAGE_NAME = /^sha256:([0-9a-f]{64})$/;

/**
 * The report's name for an Image. Report names must be DNS subdomains and OpenShift names Images
 * `sha256:<hex>`, so the name is mapped; three forms that can never meet keep it one-to-one:
 *   `sha256:<hex>`           -> `image-sha256-<hex>`          (OpenShift's own names: readable)
 *   a DNS subdomain `n`      -> `image.n`                     (e.g. the test CRD's `sha256.<hex>`)
 *   anything else            -> `image-<32 hex of sha256(n)>` (shorter than the first form)
 */
export function reportName(imageName: string): string {
  const digest = OPENSHIFT_IMAGE_NAME.exec(imageName);
  if (digest) return `image-sha256-${digest[1]}`;
  if (DNS_SUBDOMAIN.test(`image.${imageName}`)) return `image.${imageName}`;
  return `image-${createHash('sha256').update(imageName).digest('hex').slice(0, 32)}`;
}

/** The report for an Image with violations, in the shape of `api`. `now` stamps the results. */
export function buildReport(api: ReportApi, image: ImageRef, finding: Finding, now: Date): ReportObject {
  const scope: ObjectReference = { apiVersion: 'image.openshift.io/v1', kind: 'Image', name: image.name, ...(image.uid ? { uid: image.uid } : {}) };
  const seconds = Math.floor(now.getTime() / 1000);
  const timestamp = { seconds, nanos: (now.getTime() - seconds * 1000) * 1_000_000 };
  const results: Result[] = finding.violations.slice(0, MAX_RESULTS).map((v) => ({
    source: REPORT_SOURCE,
    policy: policyOf(v.rule),
    rule: v.rule,
    result: v.result,
    message: v.message,
    properties: { field: v.path },
    resources: [scope],
    timestamp,
  }));
  // The summary counts every violation, also those past MAX_RESULTS.
  const summary: Summary = { pass: 0, fail: finding.fail, warn: finding.warn, error: 0, skip: 0 };
  const common = {
    apiVersion: `${api.group}/${api.version}`,
    kind: api.kind,
    metadata: { name: reportName(image.name), labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    scope,
    summary,
    results,
  };
  if (api === OPEN_REPORTS || api.group === OPEN_REPORTS.group) {
    // The contract OpenReports defines for consumers: at most this many results, only these statuses.
    return { ...common, source: REPORT_SOURCE, configuration: { limits: { maxResults: MAX_RESULTS, statusFilter: ['fail', 'warn'] } } };
  }
  return common;
}

/**
 * The SHA-256 of `value`'s canonical JSON, where only equality matters: the controller keeps one per
 * Image in violation (and per report), and a key of the whole JSON would hold every finding a second
 * and third time. 64 characters whatever the size; a collision is not a practical concern.
 */
export function contentDigest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * What a report says, independent of when it was written and of key order: two reports with the same
 * content have the same content key (a digest, see contentDigest), so an unchanged verdict never
 * causes a write. Results' timestamps are left out (a rescan finding the same violation is not news).
 */
export function contentKey(report: Record<string, unknown>): string {
  const results = Array.isArray(report.results) ? report.results.map((r) => omit(r as Record<string, unknown>, 'timestamp')) : [];
  const metadata = (report.metadata ?? {}) as { labels?: unknown };
  return contentDigest({
    apiVersion: report.apiVersion,
    kind: report.kind,
    labels: metadata.labels ?? {},
    source: report.source,
    scope: report.scope,
    configuration: report.configuration,
    summary: report.summary,
    results,
  });
}

function omit(object: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = object;
  return rest;
}

/** JSON with object keys sorted at every depth (the API server returns custom resources' keys sorted). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
