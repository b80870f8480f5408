import { describe, expect, it } from 'vitest';
import { formatPath, judgeUpdate } from '../../src/image/index.js';
import type { Image } from '../../src/image/types.js';
import { anImage, trustedSignature } from '../fixtures/index.js';

const paths = (errors: { path: readonly (string | number)[] }[]) => errors.map((e) => formatPath(e.path)).sort();

/** An Image stored before the webhook existed: its first signature lacks content. */
function legacyImage(): Image {
  const image = anImage({ dockerImageReference: 'quay.io/Legacy/app' });
  delete image.signatures![0]!.content;
  return image;
}

describe('ratcheting: violations the write did not introduce only warn', () => {
  it('lets labels change on an Image that already broke rules', () => {
    const prev = legacyImage();
    const next = structuredClone(prev);
    next.metadata!.labels = { reviewed: 'yes' };
    const verdict = judgeUpdate(next, prev, 'mutate');
    expect(verdict.violations).toEqual([]);
    expect(paths(verdict.inherited)).toEqual(['dockerImageReference', 'signatures[0].content']);
  });

  it('matches signatures by name, not position', () => {
    const prev = legacyImage();
    const next = structuredClone(prev);
    const added = { ...structuredClone(anImage().signatures![0]!), metadata: { name: `${prev.metadata!.name}@${'e'.repeat(32)}` } };
    next.signatures!.unshift(added);
    const verdict = judgeUpdate(next, prev, 'mutate');
    expect(verdict.violations).toEqual([]);
    expect(paths(verdict.inherited)).toContain('signatures[1].content');
  });

  it('denies a new signature that lacks content, even though an old one lacks it too', () => {
    const prev = legacyImage();
    const next = structuredClone(prev);
    const added = { ...structuredClone(prev.signatures![0]!), metadata: { name: `${prev.metadata!.name}@${'f'.repeat(32)}` } };
    next.signatures!.push(added);
    expect(paths(judgeUpdate(next, prev, 'mutate').violations)).toEqual(['signatures[1].content']);
  });

  it('denies a violation the write introduces next to inherited ones', () => {
    const prev = legacyImage();
    const next = structuredClone(prev);
    next.signatures![0]!.conditions![0]!.status = 'Maybe';
    const verdict = judgeUpdate(next, prev, 'validate');
    expect(paths(verdict.violations)).toEqual(['signatures[0].conditions[0].status']);
    expect(paths(verdict.inherited)).toEqual(['dockerImageReference', 'signatures[0].content']);
  });

  it('denies claims that the write made wrong by turning the trust of their signature to Unknown', () => {
    const prev = anImage();
    prev.signatures = [trustedSignature({ imageName: prev.metadata!.name!, seed: 'ratchet/signature', identity: 'quay.io/example/hello:latest' })];
    const next = structuredClone(prev);
    next.signatures![0]!.conditions!.find((c) => c.type === 'Trusted')!.status = 'Unknown';
    const verdict = judgeUpdate(next, prev, 'mutate');
    expect(paths(verdict.violations)).toEqual(['signatures[0].imageIdentity', 'signatures[0].issuedBy', 'signatures[0].issuedTo', 'signatures[0].signedClaims']);
    expect(verdict.inherited).toEqual([]);
  });

  it('treats a missing field as unchanged only when its holder existed before', () => {
    const prev = anImage({ dockerImageLayers: undefined });
    const next = structuredClone(prev);
    next.metadata!.labels = { a: 'b' };
    expect(paths(judgeUpdate(next, prev, 'mutate').inherited)).toEqual(['dockerImageLayers']);
  });
});
