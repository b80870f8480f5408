/**
 * The reports the controller writes, checked against the OpenAPI schemas of the report CRDs
 * (test/crds/, written from the published APIs), with pruning made strict: a field the CRD does not
 * declare would be dropped by the API server, so here it fails the check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { judgeExisting, judgeStoredImage } from '../../src/audit/existing.js';
import { SignatureVerifier } from '../../src/signature/index.js';
import { verdictKey } from '../../src/controller/verdicts.js';
import {
  buildReport,
  contentKey,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  MAX_RESULTS,
  OPEN_REPORTS,
  POLICY_REPORTS,
  policyOf,
  REPORT_APIS,
  REPORT_SOURCE,
  reportName,
  type ReportApi,
  toFinding,
} from '../../src/controller/report.js';
import { brokenImage, BROKEN_PATHS, BROKEN_RULES } from '../audit/audit-log.js';
import { anImage } from '../fixtures/index.js';

const CRDS = join(import.meta.dirname, '../crds');
const CRD_FILES: Record<string, string> = {
  [OPEN_REPORTS.kind]: 'openreports.io_clusterreports.yaml',
  [POLICY_REPORTS.kind]: 'wgpolicyk8s.io_clusterpolicyreports.yaml',
};

type Schema = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed CRD, read by path
type Crd = Record<string, any>;

/** The CRD's schema as JSON Schema: Kubernetes extensions dropped, undeclared fields rejected (pruning). */
function strict(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-') || key === 'format' || key === 'description') continue;
    if (key === 'properties') out[key] = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, strict(v)]));
    else if (key === 'items' || key === 'additionalProperties') out[key] = typeof value === 'object' ? strict(value as Schema) : value;
    else out[key] = value;
  }
  // metadata is `type: object` without properties: the API server checks it itself.
  if (out.type === 'object' && out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function crd(api: ReportApi): { crd: Crd; validate: ValidateFunction } {
  const object = parse(readFileSync(join(CRDS, CRD_FILES[api.kind]!), 'utf8')) as Crd;
  const version = object.spec.versions.find((v: { name: string }) => v.name === api.version);
  const validate = new Ajv({ allErrors: true, strict: false }).compile(strict(version.schema.openAPIV3Schema));
  return { crd: object, validate };
}

const NOW = new Date('2026-12-06T03:04:05.678Z');

describe.each(REPORT_APIS.map((api) => [api.kind, api] as const))('%s', (_kind, api) => {
  const { crd: definition, validate } = crd(api);

  it('the test CRD is the published group, version, kind, plural and scope', () => {
    expect(definition.spec.group).toBe(api.group);
    expect(definition.spec.names).toMatchObject({ kind: api.kind, plural: api.plural });
    expect(definition.spec.scope).toBe('Cluster');
    expect(definition.metadata.name).toBe(`${api.plural}.${api.group}`);
  });

  it('a report for an Image in violation matches the schema, with one result per violation', () => {
    const image = brokenImage('report/1');
    const verdict = judgeExisting(image);
    const report = buildReport(api, { name: image.metadata!.name!, uid: 'u-1' }, toFinding(verdict.violations)!, NOW);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report).toMatchObject({ apiVersion: `${api.group}/${api.version}`, kind: api.kind, summary: { pass: 0, fail: 2, warn: 0, error: 0, skip: 0 } });
    expect(report.metadata.labels).toEqual({ [MANAGED_BY_LABEL]: MANAGED_BY });
    expect(report.scope).toEqual({ apiVersion: 'image.openshift.io/v1', kind: 'Image', name: image.metadata!.name, uid: 'u-1' });
    expect(report.results.map((r) => [r.rule, r.properties.field, r.result, r.source])).toEqual(
      BROKEN_RULES.map((rule, i) => [rule, BROKEN_PATHS[i], 'fail', REPORT_SOURCE]),
    );
    expect(report.results[1]!.message).toBe('signatures[0].conditions[1].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"');
    expect(report.results[0]!.timestamp).toEqual({ seconds: Math.floor(NOW.getTime() / 1000), nanos: 678_000_000 });
    expect(report.results[0]!.resources).toEqual([report.scope]);
  });

  it('warn-only rules are reported as warn, counted apart from failures', () => {
    const image = anImage();
    image.dockerImageReference = `quay.io/example/app@sha256:${'0'.repeat(64)}`;
    const verdict = judgeExisting(image);
    expect(verdict.violations.map((v) => [v.rule, v.result])).toEqual([['reference-digest', 'warn']]);
    const report = buildReport(api, { name: image.metadata!.name! }, toFinding(verdict.violations)!, NOW);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.summary).toMatchObject({ fail: 0, warn: 1 });
    expect(report.results.map((r) => r.result)).toEqual(['warn']);
    expect(report.scope).not.toHaveProperty('uid');
  });

  it('a stored Image in an --expect-trusted-signature scope without a trusted signature is a warn result', async () => {
    const image = anImage();
    const scoped = await judgeStoredImage(image, { expectTrustedSignature: [image.dockerImageReference!.split('@')[0]!] }, new SignatureVerifier());
    expect(scoped.violations.map((v) => [v.rule, v.result, v.path])).toEqual([['trusted-signature-expected', 'warn', 'signatures']]);
    const report = buildReport(api, { name: image.metadata!.name! }, toFinding(scoped.violations)!, NOW);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.summary).toMatchObject({ fail: 0, warn: 1 });
    // Out of scope, or with no scope at all: nothing to report.
    expect((await judgeStoredImage(image, { expectTrustedSignature: ['registry.example.com/other'] }, new SignatureVerifier())).violations).toEqual([]);
    expect(toFinding((await judgeStoredImage(image, {}, new SignatureVerifier())).violations)).toBeUndefined();
  });

  it(`holds at most ${MAX_RESULTS} results, and its summary still counts every violation`, () => {
    // The rules themselves stop collecting at some point; the report must stay bounded whatever they give.
    const one = judgeExisting(brokenImage('report/cap')).violations[0]!;
    const violations = Array.from({ length: MAX_RESULTS + 20 }, (_, i) => ({ ...one, path: `signatures[${i}].type`, result: i % 2 ? ('warn' as const) : ('fail' as const) }));
    const report = buildReport(api, { name: 'x' }, toFinding(violations)!, NOW);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.results).toHaveLength(MAX_RESULTS);
    expect(report.summary).toMatchObject({ fail: (MAX_RESULTS + 20) / 2, warn: (MAX_RESULTS + 20) / 2 });
    expect(report.results.map((r) => r.properties.field)).toEqual(Array.from({ length: MAX_RESULTS }, (_, i) => `signatures[${i}].type`));
  });

  it('a field the CRD does not declare fails the check (the pruning the API server would do)', () => {
    const report = buildReport(api, { name: 'x' }, toFinding(judgeExisting(brokenImage('report/2')).violations)!, NOW);
    expect(validate({ ...report, extra: 1 })).toBe(false);
    expect(validate({ ...report, results: [{ ...report.results[0], severity: 'urgent' }] })).toBe(false);
    expect(validate({ ...report, results: [{ ...report.results[0], result: 'denied' }] })).toBe(false);
  });
});

describe('the two formats', () => {
  const violations = toFinding(judgeExisting(brokenImage('report/3')).violations)!;

  it('openreports carries its source and the contract of what it holds; wgpolicyk8s v1alpha2 has neither field', () => {
    const open = buildReport(OPEN_REPORTS, { name: 'x' }, violations, NOW);
    expect(open.source).toBe(REPORT_SOURCE);
    expect(open.configuration).toEqual({ limits: { maxResults: MAX_RESULTS, statusFilter: ['fail', 'warn'] } });
    const policy = buildReport(POLICY_REPORTS, { name: 'x' }, violations, NOW);
    expect(policy).not.toHaveProperty('source');
    expect(policy).not.toHaveProperty('configuration');
  });

  it('openreports is preferred', () => {
    expect(REPORT_APIS[0]).toBe(OPEN_REPORTS);
  });
});

describe('contentKey', () => {
  const image = brokenImage('report/4');
  const all = judgeExisting(image).violations;
  const violations = toFinding(all)!;
  const report = buildReport(OPEN_REPORTS, { name: 'x', uid: 'u' }, violations, NOW);

  it('is the same for the same content written at another time, or read back with sorted keys', () => {
    const later = buildReport(OPEN_REPORTS, { name: 'x', uid: 'u' }, violations, new Date(NOW.getTime() + 3_600_000));
    expect(contentKey(later)).toBe(contentKey(report));
    const sorted = JSON.parse(JSON.stringify(report, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? 1 : -1))) : v)));
    const stored = { ...sorted, metadata: { ...sorted.metadata, resourceVersion: '42', uid: 'r', creationTimestamp: 'now', managedFields: [] } };
    expect(contentKey(stored)).toBe(contentKey(report));
  });

  it('changes when a violation, the Image, or the format changes', () => {
    const keys = [
      contentKey(report),
      contentKey(buildReport(OPEN_REPORTS, { name: 'x', uid: 'u' }, toFinding(all.slice(1))!, NOW)),
      contentKey(buildReport(OPEN_REPORTS, { name: 'x', uid: 'other' }, violations, NOW)),
      contentKey(buildReport(POLICY_REPORTS, { name: 'x', uid: 'u' }, violations, NOW)),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('the keys the controller holds per Image in violation', () => {
  it('are 64-character digests, however large the finding: the finding is not held again as a key', () => {
    const all = judgeExisting(brokenImage('report/5')).violations;
    const large = toFinding(Array.from({ length: 50 }, () => all).flat())!;
    const report = buildReport(OPEN_REPORTS, { name: 'x', uid: 'u' }, large, NOW);
    expect(JSON.stringify(large).length).toBeGreaterThan(10_000);
    expect(contentKey(report)).toMatch(/^[0-9a-f]{64}$/);
    expect(verdictKey('u', large)).toMatch(/^[0-9a-f]{64}$/);
    // Still a key of the content: equal content, equal key; another uid, another key.
    expect(verdictKey('u', structuredClone(large))).toBe(verdictKey('u', large));
    expect(verdictKey('v', large)).not.toBe(verdictKey('u', large));
  });
});

describe('reportName', () => {
  const hex = 'ab'.repeat(32);

  it.each([
    { name: `sha256:${hex}`, want: `image-sha256-${hex}` },
    { name: `sha256.${hex}`, want: `image.sha256.${hex}` },
    { name: 'my-image', want: 'image.my-image' },
  ])('$name -> $want', ({ name, want }) => {
    expect(reportName(name)).toBe(want);
  });

  it('maps names that are no DNS subdomain to a hash, and keeps the three forms apart', () => {
    const names = [`sha256:${hex}`, `sha256.${hex}`, `sha256-${hex}`, 'Upper', 'upper', 'a:b', 'a.b', 'a-b', 'x'.repeat(250), `sha256:${hex.toUpperCase()}`];
    const reports = names.map(reportName);
    expect(new Set(reports).size).toBe(names.length);
    for (const r of reports) expect(r).toMatch(/^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
    expect(reportName('Upper')).toMatch(/^image-[0-9a-f]{32}$/);
  });
});

describe('policyOf', () => {
  it('names the catalogue section a rule belongs to', () => {
    expect(policyOf('signature-type')).toBe('image-shape');
    expect(policyOf('reference-format')).toBe('image-create-rules');
    expect(policyOf('manifest-digest')).toBe('image-content-addressing');
    expect(policyOf('no-such-rule')).toBe('image-rules');
  });
});
