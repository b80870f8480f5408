import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../src/image/index.js';
import { anImage } from '../fixtures/index.js';

describe('withDefaults', () => {
  it.each([
    ['absent', undefined, '1.0'],
    ['empty', '', '1.0'],
    ['already 1.0', '1.0', '1.0'],
    ['pre012', 'pre012', 'pre012'],
  ])('sets dockerImageMetadataVersion when %s', (_name, version, want) => {
    expect(withDefaults(anImage({ dockerImageMetadataVersion: version })).dockerImageMetadataVersion).toBe(want);
  });

  it('never changes its input', () => {
    const image = anImage({ dockerImageMetadataVersion: undefined });
    const copy = structuredClone(image);
    withDefaults(image);
    expect(image).toEqual(copy);
  });

  it('is idempotent', () => {
    const once = withDefaults(anImage({ dockerImageMetadataVersion: '' }));
    expect(withDefaults(once)).toBe(once);
  });

  it('returns the same object when nothing changes, so no patch is computed', () => {
    const image = anImage();
    expect(withDefaults(image)).toBe(image);
  });

  it('changes nothing but the metadata version', () => {
    const image = anImage({ dockerImageMetadataVersion: undefined });
    const { dockerImageMetadataVersion, ...rest } = withDefaults(image);
    expect(dockerImageMetadataVersion).toBe('1.0');
    expect(rest).toEqual(image);
  });
});
