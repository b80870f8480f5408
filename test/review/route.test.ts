import { describe, expect, it } from 'vitest';
import { answersOnThread, countValues, OFFLOAD_VALUES, SCAN_FROM_BYTES } from '../../src/review/route.js';
import { OFFLOAD_BYTES } from '../../src/review/thread.js';
import { admissionReview, anImage, largeSignedImage } from '../fixtures/index.js';

const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('answersOnThread', () => {
  it('sends a body under 1 MiB holding 340,000 empty layers to the review thread', () => {
    const image = anImage();
    const review = body(admissionReview({ operation: 'CREATE', object: { ...image, dockerImageLayers: Array.from({ length: 340_000 }, () => ({})) } }));
    expect(review.length).toBeLessThan(OFFLOAD_BYTES);
    expect(answersOnThread(review)).toBe(true);
  });

  it('keeps typical reviews inline, the large signed fixture included', () => {
    for (const object of [anImage(), largeSignedImage()]) expect(answersOnThread(body(admissionReview({ operation: 'CREATE', object })))).toBe(false);
  });

  it('keeps a body under the scan size inline without looking, and sends every body from 1 MiB', () => {
    expect(answersOnThread(Buffer.alloc(SCAN_FROM_BYTES - 1, 0x2c))).toBe(false);
    expect(answersOnThread(Buffer.alloc(OFFLOAD_BYTES, 0x20))).toBe(true);
  });

  it('keeps a large body of few values inline', () => {
    expect(answersOnThread(body({ a: 'x'.repeat(OFFLOAD_BYTES - 100) }))).toBe(false);
  });
});

describe('countValues', () => {
  it('counts commas and stops at the limit', () => {
    expect(countValues(Buffer.from('[1,2,3]'), 100)).toBe(2);
    expect(countValues(Buffer.alloc(1_000_000, 0x2c), OFFLOAD_VALUES)).toBe(OFFLOAD_VALUES);
  });
});
