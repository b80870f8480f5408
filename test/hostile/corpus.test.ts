/**
 * Sends every hostile request of the corpus over verified TLS to a running server and checks its
 * answer; after each one, a valid review must still get the right answer on a kept-alive connection.
 */
import type { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, keepAliveAgent, send, startTestServer, type TestServer } from '../support/tls.js';
import { HOSTILE_CASES, type Want, validCreate } from './corpus.js';

let server: TestServer;
let agent: Agent;
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(async () => {
  server = await startTestServer();
  agent = keepAliveAgent(1);
});

afterAll(async () => {
  agent?.destroy();
  await server?.stop();
});

type Reply = {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; status?: { code: number; message: string; details?: { causes: { field: string; message: string }[] } } };
};

function expectAnswer(answer: Answer, want: Want, uid: string | undefined): void {
  if ('http' in want) {
    expect(answer.status).toBe(want.http);
    expect(answer.json).toMatchObject({ code: want.http });
    expect((answer.json as { reason: string }).reason).toMatch(want.reason);
    return;
  }
  expect(answer.status).toBe(200);
  const reply = answer.json as Reply;
  expect(reply.kind).toBe('AdmissionReview');
  if (uid !== undefined) expect(reply.response.uid).toBe(uid);
  expect(reply.response.allowed).toBe(want.allowed);
  if (want.allowed) return;
  expect(reply.response.status?.code).toBe(want.code);
  if (want.code !== 422) return;
  const causes = reply.response.status?.details?.causes ?? [];
  if (want.fields) expect([...new Set(causes.map((c) => c.field))]).toEqual(want.fields);
  if (want.causes !== undefined) expect(causes).toHaveLength(want.causes);
  if (want.message) expect(reply.response.status?.message).toMatch(want.message);
}

describe('the hostile-input corpus, over TLS', () => {
  it('has at least 60 cases, each named once', () => {
    expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(HOSTILE_CASES.map((c) => c.name)).size).toBe(HOSTILE_CASES.length);
  });

  it.each(HOSTILE_CASES.map((c) => [c.name, c] as const))('%s', async (_name, hostile) => {
    const body = hostile.body();
    const answer = await send(server.port, server.pems.caCert, hostile.path ?? '/validate?timeout=10s', body, {
      method: hostile.method ?? 'POST',
      ...(hostile.headers ? { headers: hostile.headers } : {}),
    });
    let uid: string | undefined;
    try {
      uid = (JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : (body ?? '')) as { request?: { uid?: string } }).request?.uid;
    } catch {
      uid = undefined;
    }
    expectAnswer(answer, hostile.want, typeof uid === 'string' ? uid : undefined);

    // The server still answers a valid review correctly, over a kept-alive connection.
    const valid = validCreate();
    const after = await send(server.port, server.pems.caCert, '/validate', JSON.stringify(valid), { agent });
    expectAnswer(after, { allowed: true }, valid.request.uid);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('leaves Object.prototype and Object unpolluted after the whole corpus', () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });

  it('counted every bad request by reason class and no internal error', async () => {
    const metrics = await send(server.port, server.pems.caCert, '/metrics', undefined, { method: 'GET' });
    expect(metrics.text).toMatch(/image_admission_bad_requests_total\{reason="too-deep"\} [1-9]/);
    expect(metrics.text).toMatch(/image_admission_bad_requests_total\{reason="invalid-utf8"\} [1-9]/);
    expect(metrics.text).toMatch(/image_admission_bad_requests_total\{reason="too-large"\} [1-9]/);
    expect(metrics.text).toMatch(/image_admission_internal_errors_total\{webhook="validate"\} 0/);
  });
});
