/**
 * Counts over time with a bucket size chosen after the fact to fit the log's span (a 20-minute
 * incident in minutes, a month in days), in bounded memory: counts are kept per minute, and folded
 * into hours and then days if a log spans too many minutes to keep.
 */

/** One bucket: its start (UTC, RFC 3339) and its counts. */
export interface TimelineBucket<C> {
  start: string;
  counts: C;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The granularities counts are kept at, finest first. */
const BASES = [MINUTE, HOUR, DAY];
/** Bucket sizes offered, smallest first. */
const SIZES: [number, string][] = [
  [MINUTE, '1m'],
  [5 * MINUTE, '5m'],
  [15 * MINUTE, '15m'],
  [30 * MINUTE, '30m'],
  [HOUR, '1h'],
  [3 * HOUR, '3h'],
  [6 * HOUR, '6h'],
  [12 * HOUR, '12h'],
  [DAY, '1d'],
  [7 * DAY, '7d'],
  [30 * DAY, '30d'],
];
/** At most this many cells are kept before folding into the next granularity. */
const MAX_CELLS = 5_000;
/** The chart shows at most about this many buckets. */
const TARGET_BUCKETS = 48;

export class Timeline<C extends Record<string, number>> {
  private base = 0;
  private cells = new Map<number, C>();
  /** Events without a readable time. */
  untimed = 0;

  private readonly scratch: C;

  constructor(private readonly zero: () => C) {
    this.scratch = zero();
  }

  /** The counts to add one event at `time` (RFC 3339) to; a scratch record when the time cannot be read. */
  add(time: string | undefined): C {
    const ms = time === undefined ? NaN : Date.parse(time);
    if (!Number.isFinite(ms)) {
      this.untimed++;
      return this.scratch;
    }
    const key = Math.floor(ms / BASES[this.base]!);
    let counts = this.cells.get(key);
    if (!counts) {
      this.cells.set(key, (counts = this.zero()));
      if (this.cells.size > MAX_CELLS && this.base < BASES.length - 1) {
        this.fold();
        return this.add(time);
      }
    }
    return counts;
  }

  private fold(): void {
    const from = BASES[this.base]!;
    this.base++;
    this.cells = regroup(this.cells, from, BASES[this.base]!, this.zero);
  }

  /** The buckets, every one from the first to the last (empty ones too), and the size chosen. */
  finish(): { bucketSize: string; buckets: TimelineBucket<C>[] } {
    if (this.cells.size === 0) return { bucketSize: '', buckets: [] };
    const base = BASES[this.base]!;
    let min = Infinity;
    let max = -Infinity;
    for (const key of this.cells.keys()) {
      if (key < min) min = key;
      if (key > max) max = key;
    }
    const span = (max - min + 1) * base;
    const usable = SIZES.filter(([size]) => size >= base && size % base === 0);
    const [size, label] = usable.find(([s]) => Math.ceil(span / s) + 1 <= TARGET_BUCKETS) ?? usable[usable.length - 1]!;
    const cells = regroup(this.cells, base, size, this.zero);
    const first = Math.floor((min * base) / size);
    const last = Math.floor((max * base) / size);
    const buckets: TimelineBucket<C>[] = [];
    for (let key = first; key <= last; key++) buckets.push({ start: new Date(key * size).toISOString(), counts: cells.get(key) ?? this.zero() });
    return { bucketSize: label, buckets };
  }
}

function regroup<C extends Record<string, number>>(cells: Map<number, C>, from: number, to: number, zero: () => C): Map<number, C> {
  const out = new Map<number, C>();
  for (const [key, counts] of cells) {
    const target = Math.floor((key * from) / to);
    let sum = out.get(target);
    if (!sum) out.set(target, (sum = zero()));
    for (const k of Object.keys(counts)) (sum as Record<string, number>)[k] = sum[k]! + counts[k]!;
  }
  return out;
}
