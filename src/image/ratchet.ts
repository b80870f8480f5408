/**
 * Ratcheting (docs/rules.md §5): on UPDATE, a create-rule violation at a path whose value the write did
 * not change was there before this webhook; it is reported as a warning, not a denial.
 */
import type { FieldError, FieldPath } from './field-error.js';
import { deepEqual, valueAt } from './json.js';
import { signatureName } from './validate-update.js';

/** Which errors of one update were inherited from the old object, and which paths it left alone. */
export interface Ratchet {
  /** Whether `error` was already there: its path and every path it depends on are unchanged. */
  isInherited(error: FieldError): boolean;
  /** Whether the value at `path` of the new object is the one at the corresponding path of the old. */
  isUnchanged(path: FieldPath): boolean;
}

/**
 * The ratchet of replacing `prev` with `next`. Each question costs the size of the values compared:
 * old signatures are found by name through a Map built once, not by a search per error.
 */
export function ratchetOf(next: unknown, prev: unknown): Ratchet {
  let previousSignatures: Map<string, number> | undefined;
  const previousIndex = (name: string): number | undefined => {
    if (previousSignatures === undefined) {
      previousSignatures = new Map();
      const signatures = valueAt(prev, ['signatures']);
      if (Array.isArray(signatures)) {
        signatures.forEach((signature, i) => {
          const key = signatureName(signature);
          // The first of two signatures of one name is the one a search would have found.
          if (key !== undefined && !previousSignatures!.has(key)) previousSignatures!.set(key, i);
        });
      }
    }
    return previousSignatures.get(name);
  };

  /**
   * Translates a path of `next` into `prev`: signatures are matched by metadata.name (a write may add or
   * remove signatures, shifting positions); other array elements by index.
   */
  const correspondingPath = (path: FieldPath): FieldPath | undefined => {
    if (path[0] !== 'signatures' || typeof path[1] !== 'number') return path;
    const name = signatureName(valueAt(next, path.slice(0, 2)));
    if (name === undefined) return undefined;
    const index = previousIndex(name);
    return index === undefined ? undefined : ['signatures', index, ...path.slice(2)];
  };

  const isUnchanged = (path: FieldPath): boolean => {
    const previousPath = correspondingPath(path);
    if (previousPath === undefined) return false;
    const after = valueAt(next, path);
    const before = valueAt(prev, previousPath);
    if (after === undefined && before === undefined) {
      // A missing value is unchanged only if the element that should hold it existed before.
      return previousPath.length <= 1 || valueAt(prev, previousPath.slice(0, -1)) !== undefined;
    }
    return deepEqual(after, before);
  };

  return {
    isInherited: (error) => isUnchanged(error.path) && (error.dependsOn ?? []).every(isUnchanged),
    isUnchanged,
  };
}

/** Splits create-rule violations of an update into those the write introduced and those it inherited. */
export function ratchet(errors: readonly FieldError[], next: unknown, prev: unknown): { introduced: FieldError[]; inherited: FieldError[] } {
  const { isInherited } = ratchetOf(next, prev);
  const introduced: FieldError[] = [];
  const inherited: FieldError[] = [];
  for (const error of errors) (isInherited(error) ? inherited : introduced).push(error);
  return { introduced, inherited };
}
