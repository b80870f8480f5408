/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`, or `BENCH_CPU_PROF=1 npm run bench`): the functions
 * with the most self time, and self time per package or source file.
 *
 * usage: node bench/prof-top.mjs FILE.cpuprofile [TOP=25]
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/prof-top.mjs FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idle = [...selfUs].filter(([id]) => nodes.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
const busy = total - idle;

function where(frame) {
  const url = frame.url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return url;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  return url.replace(/^.*?\/(dist|src|bench)\//, '$1/');
}

const byFunction = new Map();
const byPlace = new Map();
for (const [id, us] of selfUs) {
  const frame = nodes.get(id).callFrame;
  if (frame.functionName === '(idle)') continue;
  const place = where(frame);
  const key = `${frame.functionName || '(anonymous)'}  ${place}:${frame.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byPlace.set(place, (byPlace.get(place) ?? 0) + us);
}
// Inclusive time: a sample counts for every distinct function on its stack.
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map();
for (const [id, us] of selfUs) {
  if (nodes.get(id).callFrame.functionName === '(idle)') continue;
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const frame = nodes.get(at).callFrame;
    const key = `${frame.functionName || '(anonymous)'}  ${where(frame)}:${frame.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
const line = (us, label) => `${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${label}`;
process.stdout.write(`${file}\nbusy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled\n\nself time by function:\n`);
for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${line(us, key)}\n`);
process.stdout.write('\ntotal time (self and callees) by function, project code only:\n');
for (const [key, us] of [...inclusive].filter(([k]) => / {2}(dist|src)\//.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${line(us, key)}\n`);
process.stdout.write('\nself time by package or file:\n');
for (const [key, us] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${line(us, key)}\n`);
