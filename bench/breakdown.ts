/**
 * Where a review's time goes inside the process, without HTTP or TLS: JSON.parse of the body alone
 * (what the floor does) against the webhook's whole path from bytes to serialized answer, with every
 * rule on and with the content-addressing rules off. Same bodies as `npm run bench`, in a loop on one
 * thread, so the figures are steadier than the bench's but flatter: caches stay warm here.
 *
 * usage: node --import tsx bench/breakdown.ts [typical|large|huge ...]
 */
import process from 'node:process';
import type { Endpoint } from '../src/admission/handle.js';
import type { Policy } from '../src/admission/policy.js';
import type { RuleId } from '../src/image/index.js';
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

/** Mean CPU microseconds per call of `run` over the bodies, after a warm-up. */
function measure(bodies: Buffer[], minimumMs: number, run: (body: Buffer) => unknown): number {
  for (let i = 0; i < Math.max(200, bodies.length * 5); i++) run(bodies[i % bodies.length]!);
  let calls = 0;
  const start = process.cpuUsage();
  let spent = 0;
  while (spent < minimumMs * 1000) {
    for (const body of bodies) run(body);
    calls += bodies.length;
    const used = process.cpuUsage(start);
    spent = used.user + used.system;
  }
  return spent / calls;
}

const selected = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['typical', 'large', 'huge']) as WorkloadName[];
for (const name of selected) {
  const workload = WORKLOADS[name]();
  const bodies: Buffer[] = workload.requests.map((request, i) => Buffer.concat([request.prefix, Buffer.from(`breakdown-${i}`), request.suffix]));
  const endpoint = (i: number): Endpoint => (workload.requests[i]!.path === '/mutate' ? 'mutate' : 'validate');
  const endpoints = new Map<Buffer, Endpoint>(bodies.map((body, i) => [body, endpoint(i)]));
  const all = policy();
  const noContent = policy(CONTENT_RULES);
  const ms = name === 'huge' ? 3000 : 1500;
  const parse = measure(bodies, ms, (body) => JSON.parse(body.toString('utf8')));
  const whole = measure(bodies, ms, (body) => answerBody(body, endpoints.get(body)!, all));
  const withoutContent = measure(bodies, ms, (body) => answerBody(body, endpoints.get(body)!, noContent));
  const unit = name === 'huge' ? 1000 : 1;
  const show = (us: number) => `${(us / unit).toFixed(1)} ${name === 'huge' ? 'ms' : 'µs'}`;
  console.log(
    `${name.padEnd(8)} JSON.parse ${show(parse)} | whole path ${show(whole)} (${(whole / parse).toFixed(2)}x) | content rules off ${show(withoutContent)} (${(withoutContent / parse).toFixed(2)}x)`,
  );
}
