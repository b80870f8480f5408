/**
 * The rules' worst shapes, timed in process: each attack of issue 14's table that the rules decide
 * (not the server's), as an AdmissionReview body, through parse, rules and serialised answer. Prints
 * CPU time, the findings kept, the answer's size, the growth of the heap, and the work counters of
 * src/image/work.ts. test/image/bounded-work.test.ts bounds the same work without timing it.
 *
 * usage: node --expose-gc --import tsx bench/bounded.ts [name-filter]
 */
import process from 'node:process';
import { handleReview } from '../src/admission/handle.js';
import { parseReview } from '../src/admission/parse-review.js';
import type { Policy } from '../src/admission/policy.js';
import { ANNOTATION_LAYERS_ORDER, type Image } from '../src/image/types.js';
import { admissionReview, anImage } from '../test/fixtures/index.js';

const POLICY: Policy = { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set() };
const times = <T>(count: number, make: (i: number) => T): T[] => Array.from({ length: count }, (_, i) => make(i));
const hex = (i: number) => i.toString(16).padStart(64, '0');
const bare = (layers: unknown[], overrides: Partial<Image> = {}) =>
  anImage({ dockerImageManifest: undefined, dockerImageLayers: layers as Image['dockerImageLayers'], ...overrides });

interface Attack {
  name: string;
  endpoint: 'mutate' | 'validate';
  body: () => string;
}

const reversedLayers = (): string => {
  const layers = times(12_300, (i) => ({ name: `sha256:${hex(i)}`, size: 1000 + i, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }));
  const oldObject = bare(layers, { metadata: { ...anImage().metadata, annotations: { [ANNOTATION_LAYERS_ORDER]: 'descending' } } });
  const object = structuredClone(oldObject);
  object.dockerImageLayers!.reverse();
  object.metadata!.annotations = { [ANNOTATION_LAYERS_ORDER]: 'ascending' };
  return JSON.stringify(admissionReview({ operation: 'UPDATE', object, oldObject }));
};

const ATTACKS: Attack[] = [
  { name: '340,000 {} layers, CREATE', endpoint: 'validate', body: () => JSON.stringify(admissionReview({ operation: 'CREATE', object: bare(times(340_000, () => ({}))) })) },
  {
    name: '340,000 {} layers kept, UPDATE',
    endpoint: 'validate',
    body: () => {
      const oldObject = bare(times(340_000, () => ({})));
      return JSON.stringify(admissionReview({ operation: 'UPDATE', object: { ...oldObject, metadata: { ...oldObject.metadata, labels: { a: 'b' } } }, oldObject }));
    },
  },
  { name: '12,300 reversed layers, UPDATE at /validate', endpoint: 'validate', body: reversedLayers },
  { name: '250,000 dockerImageSignatures "a", CREATE', endpoint: 'validate', body: () => JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage({ dockerImageSignatures: times(250_000, () => 'a') }) })) },
];

/** Work counters when this checkout has them (they came with the bounded rules). */
async function counters(): Promise<{ read: () => Record<string, number>; reset: () => void }> {
  try {
    const { work, resetWork } = (await import('../src/image/work.js')) as { work: Record<string, number>; resetWork: () => void };
    return { read: () => ({ ...work }), reset: resetWork };
  } catch {
    return { read: () => ({}), reset: () => {} };
  }
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const filter = process.argv[2];
const meter = await counters();
for (const attack of ATTACKS.filter((a) => filter === undefined || a.name.includes(filter))) {
  const body = attack.body();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  meter.reset();
  const start = process.cpuUsage();
  const parsed = parseReview(JSON.parse(body));
  if (!parsed.ok) throw new Error(`${attack.name}: ${parsed.problem}`);
  const { reply, result } = handleReview(parsed.apiVersion, parsed.request, attack.endpoint, POLICY);
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  const answer = JSON.stringify(reply);
  const used = process.cpuUsage(start);
  const found = `${result.violations.length} violations, ${result.inherited.length} inherited`;
  console.log(
    `${attack.name.padEnd(44)} body ${(body.length / 2 ** 20).toFixed(2)} MiB | ${((used.user + used.system) / 1000).toFixed(0)} ms CPU | ${result.decision}, ${found} | answer ${answer.length} B | heap +${((heapPeak - heapBefore) / 2 ** 20).toFixed(0)} MiB | ${JSON.stringify(meter.read())}`,
  );
}
