/**
 * Where a review body is answered: inline on the main thread, or on the review thread. By expected
 * work, not only by size: parsing and judging cost grows with the number of JSON values as much as
 * with bytes, and a body under 1 MiB can hold hundreds of thousands of them (`[{},{},...]`), which
 * took seconds of the main thread while every probe and other review waited.
 *
 * The estimate counts commas: every element or member after the first of each array or object brings
 * one, and what commas miss (a value alone in its container) is bounded by the nesting limit. Commas
 * inside strings are counted too, which only ever sends a body to the thread that could have stayed.
 * The count uses Buffer.indexOf (memchr) and stops at the threshold, far cheaper than a byte loop in
 * JavaScript (figures: docs/performance.md, "Figures the code relies on").
 */
import { OFFLOAD_BYTES } from './thread.js';

/**
 * Bodies under this size are answered inline without a look: they hold at most about 8,000 values,
 * which the rules judge in milliseconds whatever their shape. Typical reviews are a few KiB.
 */
export const SCAN_FROM_BYTES = 16 * 1024;

/**
 * Bodies with at least this many commas go to the review thread. Real reviews carry hundreds (tens of
 * layers and labels, plus the commas of the manifest and config strings); a few thousand values take
 * milliseconds to judge inline.
 */
export const OFFLOAD_VALUES = 5_000;

const COMMA = 0x2c;

/** The number of commas in `body`, counting no further than `limit`. */
export function countValues(body: Buffer, limit: number): number {
  let count = 0;
  for (let at = body.indexOf(COMMA); at !== -1; at = body.indexOf(COMMA, at + 1)) {
    if (++count >= limit) return count;
  }
  return count;
}

/** Whether `body` should be answered on the review thread rather than inline. */
export function answersOnThread(body: Buffer): boolean {
  if (body.length >= OFFLOAD_BYTES) return true;
  if (body.length < SCAN_FROM_BYTES) return false;
  return countValues(body, OFFLOAD_VALUES) >= OFFLOAD_VALUES;
}
