/**
 * The bench's workloads stay true to the server: building one checks every request's expectation
 * (and that of a salted copy) against the server's path in process, and throws on the first that
 * disagrees. A rule change that changes answers must change the workloads with it, or `npm run bench`
 * counts thousands of right answers as wrong (as it did when /mutate began deriving signatures).
 */
import { describe, expect, it } from 'vitest';
import { answerBody } from '../../src/review/answer.js';
import { checkAnswer, WORKLOADS, type WorkloadName } from '../../bench/workloads.js';

const POLICY = { mode: 'enforce', exemptUsers: new Set<string>(), exemptGroups: new Set<string>() } as const;

describe('bench workloads', () => {
  it.each<WorkloadName>(['typical', 'large', 'huge'])('%s: every expectation is what the server path answers', async (name) => {
    const workload = await WORKLOADS[name]();
    expect(workload.requests.length).toBeGreaterThan(0);
    // Fresh content really is fresh: two sendings of one request differ, and each is judged as expected.
    const request = workload.requests.find((r) => r.label.includes('sign') && r.path === '/mutate') ?? workload.requests[0]!;
    const first = request.fresh('uid-1', 1);
    const second = request.fresh('uid-1', 2);
    expect(first.equals(second)).toBe(false);
    for (const body of [first, second]) {
      const answer = await answerBody(body, request.path === '/mutate' ? 'mutate' : 'validate', POLICY);
      expect(answer.kind).toBe('answered');
      if (answer.kind !== 'answered') return;
      expect(checkAnswer(JSON.parse(answer.reply), 'uid-1', request.apiVersion, request.expect)).toBeUndefined();
      // The checker still counts a wrong answer: the same reply against the opposite expectation.
      expect(checkAnswer(JSON.parse(answer.reply), 'uid-1', request.apiVersion, { ...request.expect, allowed: !request.expect.allowed })).toMatch(/allowed=/);
      expect(checkAnswer(JSON.parse(answer.reply), 'uid-1', request.apiVersion, { ...request.expect, patched: !request.expect.patched })).toMatch(/patch/);
    }
  }, 120_000);

  it('adds signatures as a writer does: /mutate derives them (a patch), /validate sees them derived', async () => {
    const { requests } = await WORKLOADS.large();
    const sign = requests.filter((r) => r.label === 'update-sign');
    expect(sign.map((r) => [r.path, r.expect.patched])).toEqual([
      ['/mutate', true],
      ['/validate', false],
    ]);
  }, 120_000);
});
