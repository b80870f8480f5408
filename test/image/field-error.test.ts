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

describe('the rule an error names', () => {
  it('is a catalogue RuleId: a misspelt rule does not compile', () => {
    // @ts-expect-error 'layer-nam' is not a rule of src/image/rules.ts (npm run typecheck fails without this line's error)
    const misspelt = required('layer-nam', ['a']);
    expect(misspelt.rule).toBe('layer-nam');
    expect(required('layer-name', ['a']).rule).toBe('layer-name');
  });
});

describe('formatError words each error type as apimachinery does', () => {
  it.each([
    [required('layer-name', ['a']), 'a: Required value'],
    [required('layer-name', ['a'], 'why'), 'a: Required value: why'],
    [invalid('layer-name', ['a'], 'x"y', 'bad'), 'a: Invalid value: "x\\"y": bad'],
    [invalid('layer-name', ['a'], 5, 'bad'), 'a: Invalid value: 5: bad'],
    [invalidHidden('layer-name', ['a'], 'field is immutable'), 'a: Invalid value: field is immutable'],
    [forbidden('layer-name', ['a'], 'not here'), 'a: Forbidden: not here'],
    [notSupported('layer-name', ['a'], 'x', ['1.0', 'pre012']), 'a: Unsupported value: "x": supported values: "1.0", "pre012"'],
    [tooLong('layer-name', ['a'], 10), 'a: Too long: may not be more than 10 bytes'],
    [duplicate('layer-name', ['a'], 'x'), 'a: Duplicate value: "x"'],
  ])('%#', (error, want) => {
    expect(formatError(error)).toBe(want);
  });
});
