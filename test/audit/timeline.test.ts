/** Outcomes over time: the bucket size fits the log's span, and no count is lost when folding. */
import { describe, expect, it } from 'vitest';
import { Timeline } from '../../src/audit/timeline.js';

const zero = () => ({ n: 0 });

function timelineOf(times: number[]) {
  const timeline = new Timeline(zero);
  for (const ms of times) timeline.add(new Date(ms).toISOString()).n++;
  return timeline.finish();
}

const START = Date.parse('2024-06-03T08:00:00.000Z');
const MINUTE = 60_000;

describe('Timeline', () => {
  it.each([
    { span: '20 minutes', times: Array.from({ length: 40 }, (_, i) => START + i * 30_000), size: '1m' },
    { span: '3 hours', times: Array.from({ length: 100 }, (_, i) => START + i * 108_000), size: '5m' },
    { span: '3 days', times: Array.from({ length: 100 }, (_, i) => START + i * 43 * MINUTE), size: '3h' },
    { span: 'a year (folded to hours, then days)', times: Array.from({ length: 20_000 }, (_, i) => START + i * 26 * MINUTE), size: '30d' },
  ])('picks $size buckets for $span, every bucket from first to last, no count lost', ({ times, size }) => {
    const { bucketSize, buckets } = timelineOf(times);
    expect(bucketSize).toBe(size);
    expect(buckets.length).toBeLessThanOrEqual(48);
    expect(buckets.reduce((n, b) => n + b.counts.n, 0)).toBe(times.length);
    const starts = buckets.map((b) => Date.parse(b.start));
    for (let i = 1; i < starts.length; i++) expect(starts[i]).toBeGreaterThan(starts[i - 1]!);
  });

  it('counts events without a readable time apart', () => {
    const timeline = new Timeline(zero);
    timeline.add(undefined).n++;
    timeline.add('yesterday').n++;
    expect(timeline.untimed).toBe(2);
    expect(timeline.finish()).toEqual({ bucketSize: '', buckets: [] });
  });
});
