/**
 * `audit scan`: checks Images that already exist (docs/rules.md §5: a cluster gains the webhook after it
 * holds Images) from `kubectl get images -o json|yaml` output or from a live cluster, page by page.
 */
import type * as K8s from '@kubernetes/client-node';
import { IMAGE_GROUP, IMAGE_VERSION } from '../admission/targets.js';
import { isImage } from '../review/objects.js';
import { EXPECT_RULE, SignatureVerifier } from '../signature/index.js';
import { judgeStoredImage, type StoredImageOptions } from './existing.js';
import { loadKubeConfig } from './kubeconfig.js';
import type { Violation } from './review.js';

/** Images with violations listed in full; the rest are only counted. */
const SCAN_FINDINGS_LISTED = 1000;

/** One Image that breaks the rules. */
export interface ScanFinding {
  name: string;
  reference?: string;
  /** Each violation with its result: `fail` (the rule denies creates) or `warn` (a warn-only rule), as in the controller's reports. */
  violations: (Violation & { result: 'fail' | 'warn' })[];
}

/** What the scan found. */
export interface ScanReport {
  kind: 'ImageScan';
  source: string;
  images: number;
  /** Images with a violation, `fail` or `warn`: those the controller writes a report for. */
  withViolations: number;
  /** Images with a `fail` violation: these make the scan exit 1 (warn-only rules never did, as the webhook allows those writes). */
  failing: number;
  /** Objects that were not Images (other kinds in the input). */
  skipped: number;
  /** Images in violation of each rule, `fail` or `warn`: what the controller's image_admission_images_in_violation{rule} counts. */
  byRule: Record<string, number>;
  findings: ScanFinding[];
  findingsTotal: number;
  /**
   * With --expect-trusted-signature: the Images in scope none of whose signatures verifies as
   * Trusted=True and ForImage=True (a warning, as on the webhook: they do not fail the scan).
   */
  untrustedInScope?: { total: number; images: { name: string; reference?: string }[] };
}

/**
 * Checks every Image of `objects` with the create rules and its signatures, verified by `verifier`
 * (by default one that trusts no key: then every stored Trusted=True is a violation, as the webhook
 * without --trusted-keys would deny it). Images are judged one at a time, so verification holds at most
 * one Image's signatures in flight.
 */
export async function scanImages(
  objects: AsyncIterable<unknown> | Iterable<unknown>,
  source: string,
  rules: StoredImageOptions = {},
  verifier: SignatureVerifier = new SignatureVerifier(),
): Promise<ScanReport> {
  const report: ScanReport = { kind: 'ImageScan', source, images: 0, withViolations: 0, failing: 0, skipped: 0, byRule: {}, findings: [], findingsTotal: 0 };
  if ((rules.expectTrustedSignature?.length ?? 0) > 0) report.untrustedInScope = { total: 0, images: [] };
  const byRule = new Map<string, number>();
  for await (const object of objects) {
    if (!isImage(object)) {
      report.skipped++;
      continue;
    }
    report.images++;
    const judged = (await judgeStoredImage(object, rules, verifier)).violations;
    if (report.untrustedInScope !== undefined && judged.some((v) => v.rule === EXPECT_RULE)) {
      report.untrustedInScope.total++;
      if (report.untrustedInScope.images.length < SCAN_FINDINGS_LISTED) report.untrustedInScope.images.push(identify(object));
    }
    // Counted as the controller counts them (its gauge, its reports): every violation, fail or warn.
    // Only a fail makes the scan exit 1.
    if (judged.length === 0) continue;
    report.withViolations++;
    if (judged.some((v) => v.result === 'fail')) report.failing++;
    report.findingsTotal++;
    for (const rule of new Set(judged.map((v) => v.rule))) byRule.set(rule, (byRule.get(rule) ?? 0) + 1);
    if (report.findings.length < SCAN_FINDINGS_LISTED) {
      report.findings.push({ ...identify(object), violations: judged.map((v) => ({ rule: v.rule, result: v.result, path: v.path, detail: v.detail })) });
    }
  }
  report.byRule = Object.fromEntries([...byRule.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  return report;
}

/** An Image's name and reference, as the report lists it. */
function identify(image: Record<string, unknown>): { name: string; reference?: string } {
  const metadata = image.metadata as { name?: unknown } | undefined;
  return { name: typeof metadata?.name === 'string' ? metadata.name : '(unnamed)', ...(typeof image.dockerImageReference === 'string' ? { reference: image.dockerImageReference } : {}) };
}

/** How to reach a cluster. */
export interface ClusterOptions {
  /** A kubeconfig file; the default chain (KUBECONFIG, ~/.kube/config, in-cluster) when absent. */
  kubeconfig?: string;
  context?: string;
  /** The environment the kubeconfig is found through (KUBECONFIG, HOME, in-cluster variables). */
  env?: NodeJS.ProcessEnv;
  /** Images per page (the list's `limit`). */
  pageSize: number;
}

type Client = typeof K8s;

/** One page of an Image list, and the resourceVersion the whole list is consistent at. */
export interface ImagePage {
  items: unknown[];
  resourceVersion: string;
}

/**
 * Lists `image.openshift.io/v1` images page by page (limit/continue). Every page of one list is read
 * at the first page's resourceVersion, so the last page's resourceVersion is where a watch resumes.
 */
export async function* imagePages(api: InstanceType<Client['CustomObjectsApi']>, pageSize: number): AsyncGenerator<ImagePage> {
  let token: string | undefined;
  do {
    const page = (await api.listClusterCustomObject({
      group: IMAGE_GROUP,
      version: IMAGE_VERSION,
      plural: 'images',
      limit: pageSize,
      ...(token ? { _continue: token } : {}),
    })) as { items?: unknown[]; metadata?: { continue?: string; resourceVersion?: string } };
    yield { items: page.items ?? [], resourceVersion: page.metadata?.resourceVersion ?? '' };
    token = page.metadata?.continue || undefined;
  } while (token);
}

/** Lists `image.openshift.io/v1` images page by page (limit/continue), yielding each Image. */
export async function* imagesFromCluster(options: ClusterOptions): AsyncGenerator<unknown> {
  // Loaded only here: the other commands do not pay for the client's import.
  const k8s = await import('@kubernetes/client-node');
  const api = loadKubeConfig(k8s, options, options.env === undefined ? undefined : { env: options.env }).makeApiClient(k8s.CustomObjectsApi);
  for await (const page of imagePages(api, options.pageSize)) yield* page.items;
}
