/**
 * The discovery retry loop: however often it is asked to run during an outage (each resync), one loop
 * tries, at its own growing pace; a stop leaves no timer behind. Counts tries, on fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { retryLoop } from '../../src/controller/retry.js';

describe('retryLoop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs one loop however often it is triggered during an outage, and never waits for it', async () => {
    let tries = 0;
    let failing = true;
    const errors: number[] = [];
    const stop = new AbortController();
    const trigger = retryLoop(
      async () => {
        tries++;
        if (failing) throw new Error('discovery: 503');
      },
      { signal: stop.signal, onError: (_e, retryIn) => errors.push(retryIn) },
    );
    // Triggered at 0 s, then by a resync tick each second: one loop tries at 0 s, 2 s, 6 s.
    expect(trigger()).toBeUndefined();
    for (let second = 1; second <= 7; second++) {
      await vi.advanceTimersByTimeAsync(1_000);
      trigger();
    }
    expect(tries).toBe(3);
    expect(errors).toEqual([2_000, 4_000, 8_000]);

    // It answers again: the loop's next try (at 14 s) succeeds and it ends; a later trigger runs once.
    failing = false;
    await vi.advanceTimersByTimeAsync(7_000);
    expect(tries).toBe(4);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(tries).toBe(4);
    trigger();
    await vi.advanceTimersByTimeAsync(0);
    expect(tries).toBe(5);
    stop.abort();
  });

  it('a stop ends the loop and its wait: no timer stays, no try follows', async () => {
    let tries = 0;
    const stop = new AbortController();
    const trigger = retryLoop(
      async () => {
        tries++;
        throw new Error('down');
      },
      { signal: stop.signal, onError: () => {}, maxDelayMs: 60_000 },
    );
    trigger();
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    stop.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
    trigger();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(tries).toBe(1);
  });
});
