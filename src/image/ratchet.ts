/**
 * Ratcheting (rules.md §5): on UPDATE, a create-rule violation at a path whose value the write did
 * not change was there before this webhook; it is reported as a warning, not a denial.
 */
import type { FieldError, FieldPath } from './field-error.js';
import { deepEqual, isObject, valueAt } from './json.js';
import { signatureName } from './validate-update.js';

/** Splits create-rule violations of an update into those the write introduced and those it inherited. */
export function ratchet(errors: readonly FieldError[], next: unknown, prev: unknown): { introduced: FieldError[]; inherited: FieldError[] } {
  const introduced: FieldError[] = [];
  const inherited: FieldError[] = [];
  for (const error of errors) {
    const paths = [error.path, ...(error.dependsOn ?? [])];
    (paths.every((path) => isUnchanged(path, next, prev)) ? inherited : introduced).push(error);
  }
  return { introduced, inherited };
}

/** Whether the value at `path` of `next` is the same as at the corresponding path of `prev`. */
function isUnchanged(path: FieldPath, next: unknown, prev: unknown): boolean {
  const previousPath = correspondingPath(path, next, prev);
  if (previousPath === undefined) return false;
  const after = valueAt(next, path);
  const before = valueAt(prev, previousPath);
  if (after === undefined && before === undefined) {
    // A missing value is unchanged only if the element that should hold it existed before.
    return previousPath.length <= 1 || valueAt(prev, previousPath.slice(0, -1)) !== undefined;
  }
  return deepEqual(after, before);
}

/**
 * Translates a path of `next` into `prev`: signatures are matched by metadata.name (a write may add or
 * remove signatures, shifting positions); other array elements by index.
 */
function correspondingPath(path: FieldPath, next: unknown, prev: unknown): FieldPath | undefined {
  if (path[0] !== 'signatures' || typeof path[1] !== 'number') return path;
  const name = signatureName(valueAt(next, path.slice(0, 2)));
  if (name === undefined) return undefined;
  const previous = valueAt(prev, ['signatures']);
  if (!Array.isArray(previous)) return undefined;
  const index = previous.findIndex((signature) => isObject(signature) && signatureName(signature) === name);
  return index < 0 ? undefined : ['signatures', index, ...path.slice(2)];
}
