/**
 * Nothing a client sends is echoed at its own size: megabyte uids, names, values, map keys, users and
 * group lists against the answer, the warnings and the decision log line. The bound asserted is on
 * bytes written, each case built at 1 MB (or 100,000 entries).
 */
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/admission/policy.js';
import { buildApp } from '../../src/http/app.js';
import { admissionReview, anImage } from '../fixtures/index.js';

const MB = 1024 * 1024;
const HUGE = 'x'.repeat(MB);
/** What any answer or log line may take, whatever the input: two orders of magnitude under 1 MB. */
const ANSWER_BYTES = 64 * 1024;
const LOG_LINE_BYTES = 16 * 1024;

const policy = (mode: Policy['mode'] = 'enforce'): Policy => ({ mode, exemptUsers: new Set(), exemptGroups: new Set() });

/** The parts of an answer these tests read. */
interface Reply {
  reason?: string;
  response: { allowed: boolean; warnings: string[]; status: { details: { causes: unknown[] } } };
}

async function review(body: unknown, mode: Policy['mode'] = 'enforce') {
  const lines: string[] = [];
  const app = buildApp({ policy: policy(mode), logger: { level: 'info', stream: { write: (line: string) => lines.push(line) } } });
  const response = await app.inject({ method: 'POST', url: '/validate', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  await app.close();
  return { status: response.statusCode, text: response.body, json: response.json() as Reply, lines };
}

function expectBounded(result: { text: string; lines: string[] }): void {
  expect(Buffer.byteLength(result.text)).toBeLessThan(ANSWER_BYTES);
  expect(result.lines.length).toBeGreaterThan(0);
  for (const line of result.lines) expect(Buffer.byteLength(line)).toBeLessThan(LOG_LINE_BYTES);
}

describe('echo bounds', () => {
  it('refuses a 1 MB uid with a 400 that does not repeat it', async () => {
    const result = await review(admissionReview({ operation: 'CREATE', object: anImage(), uid: HUGE }));
    expect(result.status).toBe(400);
    expect(result.json.reason).toBe(`request.uid must be at most 128 characters, got ${MB}`);
    expectBounded(result);
  });

  it('denies a 1 MB metadata.name with a TooLong field error, naming the Image only in part', async () => {
    const image = anImage({ metadata: { name: HUGE } });
    const result = await review(admissionReview({ operation: 'CREATE', object: image }));
    expect(result.status).toBe(200);
    expect(result.json.response.allowed).toBe(false);
    expect(result.json.response.status.details.causes).toContainEqual({
      reason: 'FieldValueTooLong',
      message: 'Too long: may not be more than 253 bytes',
      field: 'metadata.name',
    });
    expectBounded(result);
  });

  it.each([
    ['a 1 MB invalid dockerImageReference', () => anImage({ dockerImageReference: HUGE })],
    ['a label with a 1 MB key on a signature', () => {
      const image = anImage();
      return { ...image, signatures: [{ metadata: { name: `${image.metadata!.name}@x`, labels: { [HUGE]: 'v' } }, type: 'atomic', content: 'AA==' }] };
    }],
  ])('denies %s without echoing it', async (_name, image) => {
    const result = await review(admissionReview({ operation: 'CREATE', object: image() as never }));
    expect(result.json.response.allowed).toBe(false);
    expectBounded(result);
  });

  it('warns (warn mode) about 1 MB values within the warnings limit', async () => {
    const result = await review(admissionReview({ operation: 'CREATE', object: anImage({ dockerImageReference: HUGE }) }), 'warn');
    expect(result.json.response.allowed).toBe(true);
    expect(result.json.response.warnings.length).toBeGreaterThan(0);
    expectBounded(result);
  });

  it('logs a 1 MB user, namespace and name, and 100,000 groups, in one bounded decision line', async () => {
    const body = admissionReview({
      operation: 'CREATE',
      object: anImage(),
      namespace: HUGE,
      name: HUGE,
      userInfo: { username: HUGE, groups: Array.from({ length: 100_000 }, (_, i) => `group-${i}`) },
    });
    const result = await review(body);
    expect(result.json.response.allowed).toBe(true);
    expectBounded(result);
    const decision = result.lines.map((line) => JSON.parse(line) as { msg: string; groups: string[] }).find((entry) => entry.msg === 'decision')!;
    expect(decision.groups).toHaveLength(21);
    expect(decision.groups.at(-1)).toBe('and 99980 more');
  });

  it('answers a review of a 1 MB resource name (misrouted) without echoing it', async () => {
    const body = admissionReview({ operation: 'CREATE', object: anImage() });
    body.request.resource = { group: 'image.openshift.io', version: 'v1', resource: HUGE };
    const result = await review(body);
    expect(result.json.response.allowed).toBe(false);
    expectBounded(result);
  });
});
