/** The controller's asynchronous judgements: an overtaken or deleted Image's verdict is never recorded. */
import { describe, expect, it } from 'vitest';
import { LatestJudgements } from '../../src/controller/latest.js';

describe('LatestJudgements', () => {
  it('lets only the latest judgement of an Image record, whatever order they finish in', () => {
    const latest = new LatestJudgements();
    const older = latest.begin('a');
    const newer = latest.begin('a');
    const other = latest.begin('b');
    // The newer version's verification finished first: it records; the older one, finishing later, must not.
    expect(latest.current('a', newer)).toBe(true);
    latest.end('a', newer);
    expect(latest.current('a', older)).toBe(false);
    latest.end('a', older);
    expect(latest.current('b', other)).toBe(true);
    latest.end('b', other);
    // Nothing in flight: nothing held.
    expect(latest.inFlight).toBe(0);
  });

  it('lets no judgement in flight record after the Image was deleted', () => {
    const latest = new LatestJudgements();
    const ticket = latest.begin('a');
    latest.withdraw('a');
    expect(latest.current('a', ticket)).toBe(false);
    // A version created again after the deletion is judged afresh.
    const again = latest.begin('a');
    expect(latest.current('a', again)).toBe(true);
    latest.end('a', ticket);
    expect(latest.current('a', again)).toBe(true);
  });

  it('holds only the names being judged (memory bounded by judgements in flight, not by Images)', () => {
    const latest = new LatestJudgements();
    for (let i = 0; i < 1000; i++) latest.end(`image-${i}`, latest.begin(`image-${i}`));
    expect(latest.inFlight).toBe(0);
    latest.begin('x');
    latest.begin('x');
    expect(latest.inFlight).toBe(1);
  });
});
