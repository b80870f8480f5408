/**
 * Property-based: random mutations of realistic Images never make a review throw, always give a
 * well-formed answer, and the same input always gives the same decision.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handleReview } from '../../src/admission/handle.js';
import { parseReview } from '../../src/admission/parse-review.js';
import type { Policy } from '../../src/admission/policy.js';
import { admissionReview, anImage, largeSignedImage, manifestListImage, ociImage, ociIndexImage, schema1Image, schema2Image } from '../fixtures/index.js';

const FIXTURES = [anImage, schema2Image, ociImage, largeSignedImage, manifestListImage, ociIndexImage, schema1Image].map((make) => JSON.stringify(make()));
const policy: Policy = { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set() };

type Path = (string | number)[];

/** Every path to a value inside `value`, the root excluded. */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (typeof value !== 'object' || value === null) return out;
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key];
    out.push(path);
    pathsOf(child, path, out);
  }
  return out;
}

type Mutation = { pick: number; action: 'delete' | 'replace' | 'add'; value: unknown; key: string };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  action: fc.constantFrom('delete', 'replace', 'add'),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.string(),
    fc.constantFrom(null, -1, 0, 2 ** 53, 1.5, '', 'sha256:', '__proto__', 'True', [], {}),
  ),
  key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'size', 'name', 'metadata')),
});

/** Applies mutations to a copy of the fixture; keys are set as own data properties, never via a setter. */
function mutate(json: string, mutations: Mutation[]): Record<string, unknown> {
  const image = JSON.parse(json) as Record<string, unknown>;
  for (const m of mutations) {
    const paths = pathsOf(image);
    if (paths.length === 0) break;
    const path = paths[m.pick % paths.length]!;
    let parent: Record<string | number, unknown> = image;
    for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (m.action === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (m.action === 'replace') {
      Object.defineProperty(parent, last, { value: structuredClone(m.value), enumerable: true, writable: true, configurable: true });
    } else {
      const target = parent[last];
      if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
        Object.defineProperty(target, m.key, { value: structuredClone(m.value), enumerable: true, writable: true, configurable: true });
      }
    }
  }
  // Through JSON text, as the webhook receives it.
  return JSON.parse(JSON.stringify(image)) as Record<string, unknown>;
}

const scenario = fc.record({
  fixture: fc.nat({ max: FIXTURES.length - 1 }),
  mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
  operation: fc.constantFrom('CREATE', 'UPDATE'),
  endpoint: fc.constantFrom('mutate', 'validate') as fc.Arbitrary<'mutate' | 'validate'>,
});

function answer(body: string, endpoint: 'mutate' | 'validate') {
  const parsed = parseReview(JSON.parse(body));
  if (!parsed.ok) throw new Error(`fixture review did not parse: ${parsed.problem}`);
  return handleReview(parsed.apiVersion, parsed.request, endpoint, policy).reply;
}

describe('random mutations of valid Images', () => {
  it('never throw, answer well-formed, and decide the same way every time', () => {
    fc.assert(
      fc.property(scenario, ({ fixture, mutations, operation, endpoint }) => {
        const original = JSON.parse(FIXTURES[fixture]!) as Record<string, unknown>;
        const object = mutate(FIXTURES[fixture]!, mutations);
        const review = admissionReview(operation === 'CREATE' ? { operation, object } : { operation, object, oldObject: original });
        const body = JSON.stringify(review);

        const reply = answer(body, endpoint);
        expect(reply.kind).toBe('AdmissionReview');
        expect(reply.response.uid).toBe(review.request.uid);
        expect(typeof reply.response.allowed).toBe('boolean');
        if (!reply.response.allowed) {
          const status = reply.response.status!;
          expect(status.code).toBe(422);
          expect(status.reason).toBe('Invalid');
          expect(status.message).not.toBe('');
          const causes = status.details?.causes ?? [];
          expect(causes.length).toBeGreaterThan(0);
          for (const cause of causes) {
            expect(cause.field).not.toBe('');
            expect(cause.message).not.toBe('');
          }
          expect(reply.response).not.toHaveProperty('patch');
        }
        if (endpoint === 'validate') expect(reply.response).not.toHaveProperty('patch');

        const again = answer(body, endpoint);
        expect(again.response.allowed).toBe(reply.response.allowed);
        expect(again.response.status).toEqual(reply.response.status);
        expect(again.response.patch).toEqual(reply.response.patch);
      }),
      { numRuns: 300 },
    );
  });

  it('never change the object they judge', () => {
    fc.assert(
      fc.property(scenario, ({ fixture, mutations, endpoint }) => {
        const object = mutate(FIXTURES[fixture]!, mutations);
        const before = JSON.stringify(object);
        const parsed = parseReview(admissionReview({ operation: 'CREATE', object }));
        if (!parsed.ok) throw new Error(parsed.problem);
        handleReview(parsed.apiVersion, parsed.request, endpoint, policy);
        expect(JSON.stringify(object)).toBe(before);
      }),
      { numRuns: 100 },
    );
  });
});
