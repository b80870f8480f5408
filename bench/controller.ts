/**
 * Memory of the controller's judging under a burst of watch events (src/controller/judging.ts), in one
 * run: N signed Images of about 256 KiB each arrive while their signature verifications are held open
 * (a slow verifier, a CPU-starved pod), then are let go. Measured: the heap held at the peak of the
 * burst (after a forced GC), with the queue's cap (--max-held-images, 16) and without one (every
 * Image held, as the controller did before the cap), and the reads again the cap costs.
 *
 * Budget: with the cap, the peak grows by less than 25% from N/4 to N Images (it follows names, not
 * Images) and stays under 10% of the uncapped peak at N; every Image ends judged. Exits 1 when missed.
 *
 *   npm run bench:controller                   # N = 1,000
 *   CONTROLLER_BENCH_IMAGES=400 npm run bench:controller
 */
import { judgeStoredImage, waitsForVerification } from '../src/audit/existing.js';
import { JudgingQueue } from '../src/controller/judging.js';
import { SignatureVerifier } from '../src/signature/index.js';
import { anImage, untrustedRealSignature } from '../test/fixtures/index.js';

const PAD_BYTES = 256 * 1024;
const MAX_HELD = 16;
const images = Number(process.env.CONTROLLER_BENCH_IMAGES ?? '1000');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npm run bench:controller does)');

/** The text of one stored Image as the watch brings it: a real signature, and a large metadata field. */
function imageText(index: number): string {
  const image = anImage();
  image.metadata = { ...image.metadata, name: `bench-${index}` };
  image.signatures = [untrustedRealSignature(`bench-${index}`, { fixture: 'untrusted-key' })];
  (image as unknown as Record<string, unknown>).dockerImageMetadata = { padding: `${index}`.padEnd(PAD_BYTES, 'x') };
  return JSON.stringify(image);
}

function heapMiB(): number {
  gc!();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

interface Run {
  peakMiB: number;
  held: number;
  reads: number;
  judged: number;
}

/** One burst of `count` Images through a queue holding at most `maxHeld` whole. */
async function burst(count: number, maxHeld: number): Promise<Run> {
  const texts = new Map<string, string>();
  for (let i = 0; i < count; i++) texts.set(`bench-${i}`, imageText(i));
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  class HeldVerifier extends SignatureVerifier {
    override async verifyAll(contents: readonly string[]) {
      await gate;
      return super.verifyAll(contents);
    }
  }
  const verifier = new HeldVerifier();
  let reads = 0;
  let judged = 0;
  const queue = new JudgingQueue({
    maxHeld,
    waits: (object) => waitsForVerification(object, {}),
    judge: (object) => judgeStoredImage(object, {}, verifier),
    record: () => judged++,
    read: async (name) => {
      reads++;
      // As from the API server: a fresh parse of the stored text.
      return JSON.parse(texts.get(name)!) as unknown;
    },
    failed: (name, error) => {
      throw new Error(`${name}: ${String(error)}`);
    },
  });
  const before = heapMiB();
  // Each event parsed on its own, as the watch hands it over; only the text (the "API server") stays.
  for (const [name, text] of texts) queue.offer(name, JSON.parse(text) as unknown);
  const peakMiB = heapMiB() - before;
  const held = queue.held;
  open();
  await queue.idle();
  return { peakMiB, held, reads, judged };
}

const quarter = Math.round(images / 4);
const capped = await burst(images, MAX_HELD);
const cappedQuarter = await burst(quarter, MAX_HELD);
const uncapped = await burst(images, Number.POSITIVE_INFINITY);

const row = (label: string, run: Run) =>
  `${label.padEnd(34)} peak heap +${run.peakMiB.toFixed(1).padStart(7)} MiB   held ${String(run.held).padStart(5)}   read again ${String(run.reads).padStart(5)}   judged ${run.judged}`;
console.log(`controller judging, a burst of signed Images of ~${PAD_BYTES / 1024} KiB each, verifications held open:`);
console.log(row(`${quarter} Images, --max-held-images ${MAX_HELD}`, cappedQuarter));
console.log(row(`${images} Images, --max-held-images ${MAX_HELD}`, capped));
console.log(row(`${images} Images, no cap (before)`, uncapped));

const problems: string[] = [];
// Names are a few dozen bytes each: allow 1 MiB of slack for them and the collector's noise.
const growth = (capped.peakMiB - cappedQuarter.peakMiB) / Math.max(cappedQuarter.peakMiB, 1);
if (capped.peakMiB > cappedQuarter.peakMiB + 1 && growth > 0.25) problems.push(`with the cap, the peak grew ${(growth * 100).toFixed(0)}% from ${quarter} to ${images} Images (budget 25%)`);
const share = capped.peakMiB / uncapped.peakMiB;
if (share > 0.1) problems.push(`with the cap, the peak is ${(share * 100).toFixed(1)}% of the uncapped one (budget 10%)`);
for (const [label, run, count] of [['capped', capped, images], ['quarter', cappedQuarter, quarter], ['uncapped', uncapped, images]] as const) {
  if (run.judged !== count) problems.push(`${label}: ${run.judged} of ${count} Images judged`);
}
console.log(`capped/uncapped peak: ${share.toFixed(3)}; growth ${quarter} -> ${images} with the cap: ${(growth * 100).toFixed(0)}%`);
if (problems.length > 0) {
  for (const problem of problems) console.log(`FAIL ${problem}`);
  process.exit(1);
}
console.log('PASS every budget met');
