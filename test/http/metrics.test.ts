/** /metrics: the Prometheus text the webhook exposes, one registry per app. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/http/metrics.js';
import { generateCertificates } from '../../src/certs/generate.js';
import { certificateExpiry } from '../../src/certs/files.js';
import { admissionReview, anImage } from '../fixtures/index.js';

const policy = { mode: 'enforce' as const, exemptUsers: new Set<string>(), exemptGroups: new Set<string>() };
const apps = [buildApp({ policy }), buildApp({ policy })];
const [app, other] = apps as [ReturnType<typeof buildApp>, ReturnType<typeof buildApp>];
beforeAll(() => Promise.all(apps.map((a) => a.ready())));
afterAll(() => Promise.all(apps.map((a) => a.close())));

const scrape = async (target = app) => {
  const res = await target.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
  return res.body;
};
const value = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
};

describe('GET /metrics', () => {
  beforeAll(async () => {
    await app.inject({ method: 'POST', url: '/validate', payload: admissionReview({ operation: 'CREATE', object: anImage() }) });
    await app.inject({ method: 'POST', url: '/mutate', payload: admissionReview({ operation: 'CREATE', object: anImage({ dockerImageReference: 'Quay.io/Bad' }) }) });
    await app.inject({ method: 'POST', url: '/validate', payload: admissionReview({ operation: 'DELETE', oldObject: anImage() }) });
    await app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    await app.inject({ method: 'POST', url: '/validate', payload: { kind: 'AdmissionReview' } });
  });

  it('counts reviews by webhook, operation, resource and decision', async () => {
    const text = await scrape();
    expect(value(text, 'image_admission_reviews_total{webhook="validate",operation="CREATE",resource="images",decision="allowed"}')).toBe(1);
    expect(value(text, 'image_admission_reviews_total{webhook="mutate",operation="CREATE",resource="images",decision="denied"}')).toBe(1);
    expect(value(text, 'image_admission_reviews_total{webhook="validate",operation="DELETE",resource="images",decision="allowed"}')).toBe(1);
  });

  it('has a latency histogram that resolves sub-millisecond reviews', async () => {
    const text = await scrape();
    expect(text).toContain('image_admission_review_duration_seconds_bucket{le="0.0001",webhook="validate"}');
    expect(text).toContain('image_admission_review_duration_seconds_bucket{le="0.0005",webhook="validate"}');
    expect(value(text, 'image_admission_review_duration_seconds_count{webhook="validate"}')).toBe(2);
  });

  it('counts violations by rule, bad requests by reason and internal errors', async () => {
    const text = await scrape();
    expect(value(text, 'image_admission_violations_total{webhook="mutate",rule="reference-format",kind="violation"}')).toBe(1);
    expect(value(text, 'image_admission_bad_requests_total{reason="not-json"}')).toBe(1);
    expect(value(text, 'image_admission_bad_requests_total{reason="not-a-review"}')).toBe(1);
    expect(value(text, 'image_admission_bad_requests_total{reason="too-deep"}')).toBe(0);
    expect(value(text, 'image_admission_internal_errors_total{webhook="validate"}')).toBe(0);
    expect(value(text, 'image_admission_reviews_in_flight')).toBe(0);
  });

  it('exposes process and event-loop metrics', async () => {
    const text = await scrape();
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
  });

  it('says which version runs, on which Node.js: build_info, 1, with the package version', async () => {
    const text = await scrape();
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(value(text, `image_admission_build_info{version="${version}",node_version="${process.version}"}`)).toBe(1);
  });

  it('keeps one registry per app: another app counts only its own reviews', async () => {
    const text = await scrape(other);
    expect(text).not.toContain('image_admission_reviews_total{');
  });

  it('records the serving certificate expiry', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const { cert } = generateCertificates({ service: 's', namespace: 'n', validityDays: 30 });
    metrics.setServingCertificate(cert);
    const text = await metrics.registry.metrics();
    expect(value(text, 'image_admission_tls_certificate_expiry_timestamp_seconds')).toBe(certificateExpiry(cert).getTime() / 1000);
  });
});
