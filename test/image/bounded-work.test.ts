/**
 * Every rule's work is bounded by the findings' cap or linear in the Image, whatever its shape. Each
 * case builds the worst shape found for a rule and bounds the work in machine-independent units
 * (src/image/work.ts): errors ajv built, FieldErrors built, values compared. Timings are in
 * `node --import tsx bench/bounded.ts` and docs/performance.md, never here.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { FINDINGS_BUDGET, FINDINGS_LIMIT } from '../../src/image/findings.js';
import { formatPath, judgeCreate, judgeUpdate, type Image } from '../../src/image/index.js';
import { ANNOTATION_LAYERS_ORDER } from '../../src/image/types.js';
import { resetWork, work } from '../../src/image/work.js';
import { anImage } from '../fixtures/index.js';

beforeEach(resetWork);

const times = <T>(count: number, make: (i: number) => T): T[] => Array.from({ length: count }, (_, i) => make(i));
const hex = (i: number) => i.toString(16).padStart(64, '0');
const realLayer = (i: number) => ({ name: `sha256:${hex(i)}`, size: 1000 + i, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' });

/** The known-good Image without its manifest (so the layers are judged alone), with `layers`. */
function withLayers(layers: unknown[], overrides: Partial<Image> = {}): Image {
  return anImage({ dockerImageManifest: undefined, dockerImageLayers: layers as Image['dockerImageLayers'], ...overrides });
}

const signatureNamed = (image: Image, i: number, content?: string) => ({
  ...structuredClone(image.signatures![0]!),
  metadata: { name: `${image.metadata!.name}@${hex(i).slice(0, 32)}` },
  ...(content === undefined ? {} : { content }),
});

describe('a CREATE of 340,000 empty layers', () => {
  const image = withLayers(times(340_000, () => ({})));

  it('is denied with the cap of causes, having built a few hundred errors instead of a million', () => {
    const verdict = judgeCreate(image);
    expect(verdict.violations).toHaveLength(FINDINGS_LIMIT);
    expect(verdict.truncated).toBe(true);
    expect(formatPath(verdict.violations[0]!.path)).toBe('dockerImageLayers[0].name');
    // Three required fields per layer: about 34 layers fill the list of 100.
    expect(work.schemaErrors).toBeLessThanOrEqual(3 * FINDINGS_LIMIT);
    expect(work.fieldErrors).toBeLessThanOrEqual(3 * FINDINGS_LIMIT);
  });
});

describe('an UPDATE that keeps 340,000 empty layers (every error inherited)', () => {
  it('keeps the cap of inherited errors and skips the unchanged rest, comparing each layer once', () => {
    const prev = withLayers(times(340_000, () => ({})));
    const next = structuredClone(prev);
    next.metadata!.labels = { touched: 'yes' };
    const verdict = judgeUpdate(next, prev, 'validate');
    expect(verdict.violations).toEqual([]);
    expect(verdict.inherited).toHaveLength(FINDINGS_LIMIT);
    expect(work.schemaErrors).toBeLessThanOrEqual(3 * FINDINGS_LIMIT);
    expect(work.fieldErrors).toBeLessThanOrEqual(3 * FINDINGS_LIMIT);
    // The frozen-field comparison and one comparison per skipped layer: linear, small constant.
    expect(work.valuesCompared).toBeLessThanOrEqual(4 * 340_000);
  });

  it('still denies one new violation behind them', () => {
    const prev = withLayers(times(340_000, () => ({})));
    const next = structuredClone(prev);
    next.signatures!.push(signatureNamed(next, 1, 'not base64!'));
    const verdict = judgeUpdate(next, prev, 'validate');
    expect(verdict.violations.map((e) => formatPath(e.path))).toEqual(['signatures[1].content']);
    expect(work.schemaErrors).toBeLessThanOrEqual(3 * FINDINGS_LIMIT);
  });
});

describe('an UPDATE that changes 340,000 empty layers', () => {
  it('is denied for changing them, and stops looking after the budget of errors', () => {
    const prev = withLayers(times(340_000, () => ({})));
    const next = withLayers(times(340_000, () => ({ x: 1 })));
    const verdict = judgeUpdate(next, prev, 'mutate');
    expect(verdict.violations.map((e) => `${e.rule} ${formatPath(e.path)}`)).toContain('immutable-field dockerImageLayers');
    expect(verdict.truncated).toBe(true);
    expect(work.schemaErrors).toBeLessThanOrEqual(FINDINGS_BUDGET + 3);
    expect(work.fieldErrors).toBeLessThanOrEqual(FINDINGS_BUDGET + 20);
  });
});

describe('an UPDATE at /validate whose 12,300 layers are reversed under dockerLayersOrder: ascending', () => {
  const count = 12_300;
  const prev = withLayers(times(count, realLayer), { metadata: { ...anImage().metadata, annotations: { [ANNOTATION_LAYERS_ORDER]: 'descending' } } });
  const reordered = () => {
    const next = structuredClone(prev);
    next.dockerImageLayers!.reverse();
    next.metadata!.annotations = { [ANNOTATION_LAYERS_ORDER]: 'ascending' };
    return next;
  };

  it('is allowed (OpenShift reorders legacy layers) after a linear comparison', () => {
    const verdict = judgeUpdate(reordered(), prev, 'validate');
    expect(verdict.violations).toEqual([]);
    // Each layer is 4 values; both lists are keyed once. A search per layer compared ~10^8 values.
    expect(work.valuesCompared).toBeLessThanOrEqual(12 * 4 * count);
  });

  it('is denied when one layer also changed, after the same linear comparison', () => {
    const next = reordered();
    next.dockerImageLayers![count - 1] = { ...next.dockerImageLayers![count - 1]!, size: 1 };
    const verdict = judgeUpdate(next, prev, 'validate');
    expect(verdict.violations.map((e) => `${e.rule} ${formatPath(e.path)}`)).toEqual(['immutable-field dockerImageLayers']);
    expect(work.valuesCompared).toBeLessThanOrEqual(12 * 4 * count);
  });

  it('is denied when a layer is duplicated in place of another (a multiset, not a set)', () => {
    const next = reordered();
    next.dockerImageLayers![0] = structuredClone(next.dockerImageLayers![1]!);
    expect(judgeUpdate(next, prev, 'validate').violations.map((e) => e.rule)).toEqual(['immutable-field']);
  });
});

describe('ratcheting 20,000 signatures', () => {
  it('matches each by name through one index, not a search per error', () => {
    const count = 20_000;
    const prev = anImage();
    prev.signatures = times(count, (i) => signatureNamed(prev, i, 'not base64!'));
    const next = structuredClone(prev);
    // Reversed: every signature moves, so each is found by name; each still has its inherited error.
    next.signatures!.reverse();
    const verdict = judgeUpdate(next, prev, 'mutate');
    expect(verdict.violations).toEqual([]);
    expect(verdict.inherited).toHaveLength(FINDINGS_LIMIT);
    expect(work.fieldErrors).toBeLessThanOrEqual(3 * FINDINGS_LIMIT);
    // A signature is about 40 values; each is compared with its old self a bounded number of times.
    expect(work.valuesCompared).toBeLessThanOrEqual(6 * 40 * count);
  });
});

describe('collections whose every element is wrong stop at the cap', () => {
  const count = 200_000;
  const cases: { name: string; image: () => Image }[] = [
    { name: 'dockerImageSignatures that are not base64', image: () => anImage({ dockerImageSignatures: times(count, () => 'a') }) },
    { name: 'labels that are not strings', image: () => anImage({ metadata: { ...anImage().metadata, labels: Object.fromEntries(times(count, (i) => [`l${i}`, i])) as never } }) },
    {
      name: 'annotations on one signature',
      image: () => {
        const image = anImage();
        image.signatures![0]!.metadata!.annotations = Object.fromEntries(times(count, (i) => [`a${i}`, 'v']));
        return image;
      },
    },
    {
      name: 'conditions of one signature with a bad status',
      image: () => {
        const image = anImage();
        image.signatures![0]!.conditions = times(count, () => ({ type: 'Other', status: 'Maybe' }));
        return image;
      },
    },
    {
      name: 'manifest list entries with no platform',
      image: () => anImage({ dockerImageManifestMediaType: 'application/vnd.oci.image.index.v1+json', dockerImageManifest: undefined, dockerImageLayers: undefined, dockerImageManifests: times(count, () => ({ digest: 'x' })) }),
    },
  ];

  it.each(cases)('$name', ({ image }) => {
    const verdict = judgeCreate(image());
    expect(verdict.violations).toHaveLength(FINDINGS_LIMIT);
    expect(verdict.truncated).toBe(true);
    expect(work.schemaErrors).toBeLessThanOrEqual(3 * FINDINGS_LIMIT);
    expect(work.fieldErrors).toBeLessThanOrEqual(6 * FINDINGS_LIMIT);
  });
});

describe('layers that all contradict a manifest of as many layers', () => {
  it('are counted in both orders without building errors, and reported up to the cap', () => {
    const count = 50_000;
    const image = anImage();
    const manifest = JSON.parse(image.dockerImageManifest!) as { layers: unknown[] };
    manifest.layers = times(count, (i) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: i, digest: `sha256:${hex(i)}` }));
    image.dockerImageManifest = JSON.stringify(manifest);
    image.dockerImageLayers = times(count, (i) => realLayer(i + count));
    const verdict = judgeCreate(image);
    expect(verdict.violations.filter((e) => e.rule === 'layers-match-manifest').length).toBeGreaterThan(0);
    expect(verdict.violations.length).toBeLessThanOrEqual(FINDINGS_LIMIT);
    expect(work.fieldErrors).toBeLessThanOrEqual(3 * FINDINGS_LIMIT);
  });
});

describe('the cap never hides a violation behind a disabled rule', () => {
  it('denies the one enabled violation after 200,000 errors of a disabled rule', () => {
    const image = withLayers(times(200_000, () => ({ name: 'a', size: -1, mediaType: 'b' })), { dockerImageReference: 'Upper/Case' });
    const verdict = judgeCreate(image, { disabledRules: new Set(['layer-size']) });
    expect(verdict.violations.map((e) => e.rule)).toEqual(['reference-format']);
  });
});
