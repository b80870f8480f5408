import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BODY_LIMIT } from '../../src/review/json-body.js';
import { readBody } from '../../src/http/body-reader.js';
import { bodyBudgetBytes, MemoryBudget, RESERVED_BYTES, SMALL_BODY_BYTES, SMALL_RESERVE_BYTES } from '../../src/http/memory-budget.js';

const MiB = 1024 * 1024;

describe('MemoryBudget', () => {
  it('takes bytes while they fit and gives them back', () => {
    const budget = new MemoryBudget(100 * MiB);
    expect(budget.take(60 * MiB, true)).toBe(true);
    expect(budget.take(60 * MiB, true)).toBe(false);
    expect(budget.held).toBe(60 * MiB);
    budget.give(60 * MiB);
    expect(budget.take(60 * MiB, true)).toBe(true);
    expect(budget.peak).toBe(60 * MiB);
  });

  it('keeps the last bytes for small bodies: large ones held on purpose cannot refuse typical reviews', () => {
    const budget = new MemoryBudget(10 * BODY_LIMIT);
    let large = 0;
    while (budget.take(BODY_LIMIT, true)) large++;
    expect(large * BODY_LIMIT).toBeLessThanOrEqual(10 * BODY_LIMIT - SMALL_RESERVE_BYTES);
    let small = 0;
    while (budget.take(SMALL_BODY_BYTES, false)) small++;
    // A typical review is well under 64 KiB: at least 8 MiB of them still fit.
    expect(small * SMALL_BODY_BYTES).toBeGreaterThanOrEqual(SMALL_RESERVE_BYTES);
    expect(budget.peak).toBeLessThanOrEqual(budget.capacityBytes);
  });

  it('derives the body budget from the memory limit, never below one body at the limit', () => {
    const reserved = Object.values(RESERVED_BYTES).reduce((a, b) => a + b, 0);
    expect(bodyBudgetBytes(512 * MiB, BODY_LIMIT)).toBe(512 * MiB - reserved);
    expect(bodyBudgetBytes(1024 * MiB, BODY_LIMIT) - bodyBudgetBytes(512 * MiB, BODY_LIMIT)).toBe(512 * MiB);
    expect(bodyBudgetBytes(128 * MiB, BODY_LIMIT)).toBe(BODY_LIMIT);
  });
});

describe('readBody with a budget', () => {
  it('takes a declared length before reading a byte, and refuses with 429 when it does not fit', async () => {
    const taken: [number, boolean][] = [];
    let read = 0;
    const source = new Readable({
      read() {
        read++;
        this.push(null);
      },
    });
    await expect(readBody(source, String(2 * MiB), BODY_LIMIT, (bytes, large) => (taken.push([bytes, large]), false))).rejects.toMatchObject({
      statusCode: 429,
      reasonClass: 'overloaded',
    });
    expect(taken).toEqual([[2 * MiB, true]]);
    expect(read).toBe(0);
  });

  it('takes a body without Content-Length chunk by chunk and stops at the first refusal', async () => {
    let taken = 0;
    const chunks = Array.from({ length: 10 }, () => Buffer.alloc(1000, 0x20));
    const reading = readBody(Readable.from(chunks), undefined, BODY_LIMIT, (bytes) => {
      if (taken + bytes > 3500) return false;
      taken += bytes;
      return true;
    });
    await expect(reading).rejects.toMatchObject({ statusCode: 429 });
    expect(taken).toBe(3000);
  });

  it('counts a small declared body as small', async () => {
    const seen: boolean[] = [];
    await readBody(Readable.from([Buffer.from('{}')]), '2', BODY_LIMIT, (_bytes, large) => (seen.push(large), true));
    expect(seen).toEqual([false]);
  });
});
