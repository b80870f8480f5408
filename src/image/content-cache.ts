/**
 * What the content rules compute from one exact text (a manifest or a config: its parse, its digests,
 * its byte length), kept for the next review of the same text. The API server sends every write to
 * /mutate and then to /validate, so the second review of each write finds the first one's work here.
 *
 * A text is found by comparing whole strings, so no hash has to be trusted and a colliding text can
 * never be taken for another; facts are pure functions of the text, so a hit gives the answer a miss
 * would have. Cached parsed values are shared between reviews: the rules only read them.
 *
 * Why not a Map keyed by the text itself: each review's strings are new objects, and V8 hashes a new
 * string in full before a lookup (about as long as its SHA-256: docs/performance.md), or, past 16,383
 * characters, by its length alone, so that every text of one length lands in one bucket and is compared in turn:
 * rebuilt images' configs often have one length. So texts are grouped by a short sample (length, head,
 * tail and 32 characters spread over the middle), found by comparing the whole text within the group,
 * and a group holds at most GROUP_SIZE texts: texts crafted to share a sample can cost at most that many
 * comparisons, each at most the text's length, and can only push each other out.
 *
 * Bounded by entries and by an estimate of the memory held (two bytes per character for the string,
 * four when its parse is kept too, as for a manifest), least recently used out first.
 *
 * Only texts of CACHE_FROM_CHARS characters or more are kept across reviews. Whatever the cache keeps
 * outlives the young generation, so V8 copies it and promotes it to the old one, and every scavenge
 * pays for it: with the manifests and configs of typical Images (1-6 KB) kept, scavenging took about
 * twice as long per review, more than parsing and hashing them again cost (docs/performance.md,
 * "Issue 14, speed"). A text of that size and more lives outside the young generation, and its parse
 * and digest take milliseconds: those are worth keeping. Smaller texts are still computed once per
 * review (the last two texts asked about are remembered).
 */

/**
 * The most texts kept (per thread: the review thread has its own). Every kept text is at least
 * CACHE_FROM_CHARS long, so the byte bound below holds at most 64 of the shortest; a write's /validate
 * review follows its /mutate review within moments, so a short memory suffices.
 */
export const CONTENT_CACHE_ENTRIES = 32;

/** Texts shorter than this are not kept from one review to the next (see above). */
export const CACHE_FROM_CHARS = 64 * 1024;

/** The most memory the kept texts and their facts are estimated to hold, in bytes (per thread). */
export const CONTENT_CACHE_BYTES = 8 * 2 ** 20;

const GROUP_SIZE = 4;
const EDGE = 32;
const SPREAD = 16;

/** The facts known about one text, each computed at most once while the text is kept. */
class TextFacts {
  private readonly known = new Map<string, unknown>();

  /** The fact named `name`, computed by `compute` the first time it is asked for. */
  get<T>(name: string, compute: () => T): T {
    if (this.known.has(name)) {
      contentCacheStats.hits++;
      return this.known.get(name) as T;
    }
    contentCacheStats.misses++;
    const value = compute();
    this.known.set(name, value);
    return value;
  }
}

interface Entry {
  readonly text: string;
  readonly sample: string;
  readonly facts: TextFacts;
  readonly weight: number;
}

const groups = new Map<string, Entry[]>();
// Least recently used first: a Set iterates in insertion order, and a hit re-inserts its entry.
const recency = new Set<Entry>();
let held = 0;

/** Counters of the cache (facts found and computed), for tests and `bench/breakdown.ts`. */
export const contentCacheStats = { hits: 0, misses: 0 };

/** A short string that equal texts share: length, head, tail and characters spread over the middle. */
function sampleOf(text: string): string {
  const n = text.length;
  if (n <= 2 * EDGE + SPREAD) return text;
  let mix = 0;
  const step = Math.floor((n - 2 * EDGE) / SPREAD);
  for (let i = EDGE; i < n - EDGE; i += step) mix = (Math.imul(mix, 31) + text.charCodeAt(i)) | 0;
  return `${n}:${mix}:${text.slice(0, EDGE)}${text.slice(n - EDGE)}`;
}

function forget(entry: Entry): void {
  recency.delete(entry);
  held -= entry.weight;
  const group = groups.get(entry.sample)!;
  group.splice(group.indexOf(entry), 1);
  if (group.length === 0) groups.delete(entry.sample);
}

/**
 * The facts of `text`: those a review of the same text already computed, or a fresh record, kept for
 * the next review when the text is long enough (CACHE_FROM_CHARS). `keepsParse`: a fact will hold the
 * text's parse (counted in the memory estimate).
 */
function factsOf(text: string, keepsParse = false): TextFacts {
  // One review asks about its manifest and its config several times: the last two answers first.
  if (text === last[0].text) return last[0].facts;
  if (text === last[1].text) return last[1].facts;
  const facts = text.length < CACHE_FROM_CHARS ? new TextFacts() : lookUp(text, keepsParse);
  last[1] = last[0];
  last[0] = { text, facts };
  return facts;
}

let last: [{ text: string | undefined; facts: TextFacts }, { text: string | undefined; facts: TextFacts }] = [
  { text: undefined, facts: new TextFacts() },
  { text: undefined, facts: new TextFacts() },
];

function lookUp(text: string, keepsParse: boolean): TextFacts {
  const sample = sampleOf(text);
  const group = groups.get(sample);
  if (group !== undefined) {
    for (const entry of group) {
      if (entry.text !== text) continue;
      recency.delete(entry);
      recency.add(entry);
      return entry.facts;
    }
  }
  const facts = new TextFacts();
  const weight = text.length * (keepsParse ? 4 : 2);
  if (weight > CONTENT_CACHE_BYTES) return facts;
  if (group !== undefined && group.length >= GROUP_SIZE) forget(group[0]!);
  const entry: Entry = { text, sample, facts, weight };
  const members = groups.get(sample);
  if (members === undefined) groups.set(sample, [entry]);
  else members.push(entry);
  recency.add(entry);
  held += weight;
  while (recency.size > CONTENT_CACHE_ENTRIES || held > CONTENT_CACHE_BYTES) forget(recency.values().next().value!);
  return facts;
}

/** The fact named `name` of `text` (see factsOf). */
export function factOf<T>(text: string, name: string, compute: (text: string) => T, keepsParse = false): T {
  return factsOf(text, keepsParse).get(name, () => compute(text));
}

/** Forgets every text (tests). */
export function clearContentCache(): void {
  last = [
    { text: undefined, facts: new TextFacts() },
    { text: undefined, facts: new TextFacts() },
  ];
  groups.clear();
  recency.clear();
  held = 0;
  contentCacheStats.hits = 0;
  contentCacheStats.misses = 0;
}

/** How many texts are kept and the memory they are estimated to hold. */
export function contentCacheSize(): { entries: number; bytes: number } {
  return { entries: recency.size, bytes: held };
}
