import { describe, expect, it } from 'vitest';
import { duplicate, forbidden, formatError, formatPath, invalid, invalidHidden, notSupported, required, tooLong } from '../../src/image/field-error.js';

describe('formatPath renders paths as the API server does', () => {
  it.each<[(string | number)[], string]>([
    [['dockerImageLayers', 2, 'size'], 'dockerImageLayers[2].size'],
    [['signatures', 0, 'metadata', 'name'], 'signatures[0].metadata.name'],
    [['metadata', 'annotations', 'image.openshift.io/managed-signature'], 'metadata.annotations[image.openshift.io/managed-signature]'],
    [['metadata', 'labels', 'team'], 'metadata.labels[team]'],
    [['image', 'dockerImageLayers'], 'image.dockerImageLayers'],
    [[], '<root>'],
  ])('%j → %s', (path, want) => {
    expect(formatPath(path)).toBe(want);
  });
});

describe('formatError words each error type as apimachinery does', () => {
  it.each([
    [required('r', ['a']), 'a: Required value'],
    [required('r', ['a'], 'why'), 'a: Required value: why'],
    [invalid('r', ['a'], 'x"y', 'bad'), 'a: Invalid value: "x\\"y": bad'],
    [invalid('r', ['a'], 5, 'bad'), 'a: Invalid value: 5: bad'],
    [invalidHidden('r', ['a'], 'field is immutable'), 'a: Invalid value: field is immutable'],
    [forbidden('r', ['a'], 'not here'), 'a: Forbidden: not here'],
    [notSupported('r', ['a'], 'x', ['1.0', 'pre012']), 'a: Unsupported value: "x": supported values: "1.0", "pre012"'],
    [tooLong('r', ['a'], 10), 'a: Too long: may not be more than 10 bytes'],
    [duplicate('r', ['a'], 'x'), 'a: Duplicate value: "x"'],
  ])('%#', (error, want) => {
    expect(formatError(error)).toBe(want);
  });
});
