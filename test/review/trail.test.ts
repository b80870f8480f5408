/**
 * The trail round-trips: the decision line and the audit annotations a real app writes are read back
 * by the audit's readers, with nothing lost or renamed between writer and reader.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/admission/policy.js';
import { loadDecisionLog } from '../../src/audit/decision-log.js';
import { classify, readEvent } from '../../src/audit/events.js';
import { buildApp } from '../../src/http/app.js';
import { BROKEN_PATHS, BROKEN_RULES, brokenImage, MUTATING } from '../audit/audit-log.js';
import { tempDir } from '../audit/helpers.js';
import { admissionReview } from '../fixtures/index.js';

const policy: Policy = { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set() };

/** Answers `body` at /mutate with a logger like the server's, and returns the reply and every log line. */
async function answer(body: unknown) {
  const lines: string[] = [];
  const app = buildApp({ policy, logger: { level: 'info', stream: { write: (line: string) => lines.push(line) } } });
  const response = await app.inject({ method: 'POST', url: '/mutate?timeout=10s', payload: body as object });
  await app.close();
  return { reply: response.json() as { response: { auditAnnotations: Record<string, string> } }, lines };
}

describe('the trail', () => {
  it('a decision line the app wrote is read back whole by the decision log reader', async () => {
    const body = admissionReview({ operation: 'CREATE', object: brokenImage('trail') });
    const { lines } = await answer(body);
    const written = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'decision')!;
    expect(written).toBeDefined();

    const path = join(tempDir(), 'webhook.log');
    // With a line that is not a decision, as a real log has.
    writeFileSync(path, `{"level":30,"msg":"image-admission-webhook serving"}\n${lines.join('')}`);
    const log = await loadDecisionLog({ path });
    expect(log.skipped).toBe(1);
    const read = log.decisions.get(body.request.uid);
    expect(read).toEqual({ decisionId: written.decisionId, decision: written.decision, violations: written.violations });
    expect(read).toMatchObject({ decisionId: body.request.uid, decision: 'denied' });
    expect(read!.violations.map((v) => [v.rule, v.path])).toEqual(BROKEN_RULES.map((rule, i) => [rule, BROKEN_PATHS[i]]));
  });

  it('the audit annotations of an answer are read back by the audit event classifier', async () => {
    const body = admissionReview({ operation: 'CREATE', object: brokenImage('trail') });
    const { reply } = await answer(body);
    // The API server stores each annotation as `<webhook name>/<key>`.
    const annotations = Object.fromEntries(Object.entries(reply.response.auditAnnotations).map(([key, value]) => [`${MUTATING}/${key}`, value]));
    const read = readEvent({
      kind: 'Event',
      stage: 'ResponseComplete',
      verb: 'create',
      requestURI: '/apis/image.openshift.io/v1/images',
      objectRef: { apiGroup: 'image.openshift.io', apiVersion: 'v1', resource: 'images', name: body.request.name },
      responseStatus: { code: 422 },
      annotations,
    });
    expect(read.kind).toBe('write');
    const classified = classify((read as Extract<typeof read, { kind: 'write' }>).event, [MUTATING]);
    expect(classified).toMatchObject({ outcome: 'denied', decisionIds: [body.request.uid] });
    expect(classified.annotatedRules).toEqual(BROKEN_RULES);
  });
});
