/**
 * Where a review's time goes inside the process, without HTTP or TLS: JSON.parse of the body alone
 * (what the floor does) against the webhook's whole path from bytes to serialized answer, with every
 * rule on and with the content-addressing rules off. Same bodies as `npm run bench`, with fresh content
 * for every write as there (BENCH_CONTENT=replay replays the same bodies), in a loop on one thread, so
 * the figures are steadier than the bench's but flatter: CPU caches stay warmer here.
 *
 * usage: node --import tsx bench/breakdown.ts [typical|large|huge ...]
 */
import process from 'node:process';

import type { Policy } from '../src/admission/policy.js';
import type { AdmissionPhase, RuleId } from '../src/image/index.js';
import { answerBody } from '../src/review/answer.js';
import { WORKLOADS, type WorkloadName } from './workloads.js';

const CONTENT_RULES: RuleId[] = [
  'manifest-json',
  'config-json',
  'manifest-digest',
  'manifest-media-type',
  'config-digest',
  'config-size',
  'layers-match-manifest',
  'manifest-list-match',
  'reference-digest',
];

const policy = (disabled: RuleId[] = []): Policy => ({ mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set(), disabledRules: new Set(disabled) });

const replay = process.env.BENCH_CONTENT === 'replay';
let pass = 0;

/** Runs `run` on each body in turn, each call finished (awaited) before the next starts. */
async function each(bodies: Buffer[], run: (body: Buffer, i: number) => unknown): Promise<void> {
  for (let i = 0; i < bodies.length; i++) await run(bodies[i]!, i);
}

/**
 * Mean CPU microseconds per call of `run` over the bodies, after a warm-up; building the bodies is not
 * counted. Calls are awaited: the review path is async (signature verification), and work after an
 * await must be counted in the call it belongs to.
 */
async function measure(bodiesOf: (pass: number) => Buffer[], minimumMs: number, run: (body: Buffer, i: number) => unknown): Promise<number> {
  for (let warm = 0; warm < 5; warm++) await each(bodiesOf(pass++), run);
  let calls = 0;
  let spent = 0;
  while (spent < minimumMs * 1000) {
    const bodies = bodiesOf(pass++);
    const start = process.cpuUsage();
    await each(bodies, run);
    const used = process.cpuUsage(start);
    spent += used.user + used.system;
    calls += bodies.length;
  }
  return spent / calls;
}

const selected = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['typical', 'large', 'huge']) as WorkloadName[];
for (const name of selected) {
  const workload = await WORKLOADS[name]();
  const replayed = workload.requests.map((request, i) => Buffer.concat([request.prefix, Buffer.from(`breakdown-${i}`), request.suffix]));
  const bodies = (n: number): Buffer[] => (replay ? replayed : workload.requests.map((request, i) => request.fresh(`breakdown-${i}`, n)));
  const endpoint = (i: number): AdmissionPhase => (workload.requests[i]!.path === '/mutate' ? 'mutate' : 'validate');
  const all = policy();
  const noContent = policy(CONTENT_RULES);
  const ms = name === 'huge' ? 3000 : 1500;
  const parse = await measure(bodies, ms, (body) => JSON.parse(body.toString('utf8')));
  const whole = await measure(bodies, ms, (body, i) => answerBody(body, endpoint(i), all));
  const withoutContent = await measure(bodies, ms, (body, i) => answerBody(body, endpoint(i), noContent));
  const unit = name === 'huge' ? 1000 : 1;
  const show = (us: number) => `${(us / unit).toFixed(1)} ${name === 'huge' ? 'ms' : 'µs'}`;
  console.log(
    `${name.padEnd(8)} JSON.parse ${show(parse)} | whole path ${show(whole)} (${(whole / parse).toFixed(2)}x) | content rules off ${show(withoutContent)} (${(withoutContent / parse).toFixed(2)}x)`,
  );
}
