/**
 * The update rules (docs/rules.md §4): an Image is immutable. validateImageUpdate(next, prev, phase)
 * compares the fields that make an Image what it is and reports each change at its own path.
 */
import { type FieldError, type FieldPath, invalid, invalidHidden } from './field-error.js';
import { configMatchesManifest, manifestMatchesName } from './content.js';
import { FINDINGS_LIMIT } from './findings.js';
import { arrayOrEmpty, canonicalJson, deepEqual, isObject, valueAt } from './json.js';
import { ANNOTATION_LAYERS_ORDER, ANNOTATION_MANIFEST_BLOB_STORED } from './types.js';

/**
 * The admission phase a review belongs to. Mutating admission sees the write as sent and is strict; on
 * OpenShift validating admission sees it after the server re-derived metadata and reordered legacy
 * layers, and tolerates that. The server takes each phase at the route of its name (`/mutate`,
 * `/validate`), and the trail records it as `endpoint`.
 */
export type AdmissionPhase = 'mutate' | 'validate';

const IMMUTABLE = 'field is immutable';

type Normalize = (value: unknown) => unknown;
// The API server omits empty values, so absent, null and empty are one value.
const emptyString: Normalize = (v) => (v === undefined || v === null ? '' : v);
const emptyArray: Normalize = (v) => (v === undefined || v === null ? [] : v);
const emptyObject: Normalize = (v) => (v === undefined || v === null ? {} : v);
const metadataVersion: Normalize = (v) => (v === undefined || v === null || v === '' ? '1.0' : v);

/** The fields that may not change, each with how its "empty" values are normalised before comparing. */
const FROZEN_FIELDS: readonly { path: FieldPath; normalize: Normalize; showValue: boolean }[] = [
  { path: ['metadata', 'name'], normalize: emptyString, showValue: true },
  { path: ['dockerImageReference'], normalize: emptyString, showValue: true },
  { path: ['dockerImageMetadata'], normalize: emptyObject, showValue: false },
  { path: ['dockerImageMetadataVersion'], normalize: metadataVersion, showValue: true },
  { path: ['dockerImageLayers'], normalize: emptyArray, showValue: false },
  { path: ['dockerImageManifest'], normalize: emptyString, showValue: false },
  { path: ['dockerImageConfig'], normalize: emptyString, showValue: false },
  { path: ['dockerImageManifestMediaType'], normalize: emptyString, showValue: true },
  { path: ['dockerImageManifests'], normalize: emptyArray, showValue: false },
  { path: ['dockerImageSignatures'], normalize: emptyArray, showValue: false },
];

/** Returns every change `next` makes to what the Image `prev` is, each at its own path. */
export function validateImageUpdate(next: unknown, prev: unknown, phase: AdmissionPhase): FieldError[] {
  if (!isObject(next) || !isObject(prev)) return [];
  const errors: FieldError[] = [];
  for (const { path, normalize, showValue } of FROZEN_FIELDS) {
    const after = normalize(valueAt(next, path));
    const before = normalize(valueAt(prev, path));
    if (deepEqual(after, before) || isAllowedTransition(path[0] as string, next, prev, phase)) continue;
    errors.push(showValue ? invalid('immutable-field', path, after, IMMUTABLE) : invalidHidden('immutable-field', path, IMMUTABLE));
  }
  errors.push(...validateSignatureUpdates(next, prev));
  return errors;
}

/** The changes OpenShift itself makes to a stored Image without changing what it is. */
function isAllowedTransition(field: string, next: Record<string, unknown>, prev: Record<string, unknown>, phase: AdmissionPhase): boolean {
  switch (field) {
    case 'dockerImageManifest':
      return isManifestRepair(next, prev) || isManifestBlobStoredClear(next, 'dockerImageManifest');
    case 'dockerImageConfig':
      return isConfigRepair(next, prev) || isManifestBlobStoredClear(next, 'dockerImageConfig');
    case 'dockerImageLayers':
      return phase === 'validate' && isServerLayerReorder(next, prev);
    case 'dockerImageMetadata':
      return phase === 'validate' && isServerMetadataFill(next.dockerImageMetadata, prev.dockerImageMetadata);
    default:
      return false;
  }
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** A manifest set from empty to one whose digest is the Image's name (schema 1 and sha512 names included). */
function isManifestRepair(next: Record<string, unknown>, prev: Record<string, unknown>): boolean {
  return isEmpty(prev.dockerImageManifest) && manifestMatchesName(next);
}

/** A config set from empty to one whose digest the (new) manifest names. */
function isConfigRepair(next: Record<string, unknown>, prev: Record<string, unknown>): boolean {
  return isEmpty(prev.dockerImageConfig) && configMatchesManifest(next);
}

/** The registry took over storing the manifest: the copy on the Image is cleared, nothing else. */
function isManifestBlobStoredClear(next: Record<string, unknown>, field: string): boolean {
  return isEmpty(next[field]) && valueAt(next, ['metadata', 'annotations', ANNOTATION_MANIFEST_BLOB_STORED]) === 'true';
}

/** OpenShift reorders legacy descending layers to ascending and says so in an annotation. */
function isServerLayerReorder(next: Record<string, unknown>, prev: Record<string, unknown>): boolean {
  const orderAfter = valueAt(next, ['metadata', 'annotations', ANNOTATION_LAYERS_ORDER]);
  const orderBefore = valueAt(prev, ['metadata', 'annotations', ANNOTATION_LAYERS_ORDER]);
  if (orderAfter !== 'ascending' || orderBefore === 'ascending') return false;
  const after = arrayOrEmpty(next.dockerImageLayers);
  const before = arrayOrEmpty(prev.dockerImageLayers);
  return after.length === before.length && sameMultiset(after, before);
}

/**
 * Whether `a` and `b` hold the same values as often, in any order. Linear: each value's canonical JSON is
 * counted in a Map (a search of the rest for each value was quadratic: seconds for some thousands of
 * reversed layers, docs/performance.md, "Hostile shapes").
 */
function sameMultiset(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  const counts = new Map<string, number>();
  for (const item of b) {
    const key = canonicalJson(item);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const item of a) {
    const key = canonicalJson(item);
    const left = counts.get(key);
    if (left === undefined || left === 0) return false;
    counts.set(key, left - 1);
  }
  return true;
}

/** OpenShift re-derives image metadata: keys may be filled in, none that existed may change. */
function isServerMetadataFill(next: unknown, prev: unknown): boolean {
  const after = isObject(next) ? next : {};
  const before = isObject(prev) ? prev : {};
  if (next !== undefined && next !== null && !isObject(next)) return false;
  return Object.keys(before).every((key) => Object.hasOwn(after, key) && deepEqual(after[key], before[key]));
}

/** Signatures are matched by name: one that keeps its name keeps its type and content. */
function validateSignatureUpdates(next: Record<string, unknown>, prev: Record<string, unknown>): FieldError[] {
  const previous = new Map<string, Record<string, unknown>>();
  for (const signature of arrayOrEmpty(prev.signatures)) {
    const name = signatureName(signature);
    if (name !== undefined) previous.set(name, signature as Record<string, unknown>);
  }
  const errors: FieldError[] = [];
  const signatures = arrayOrEmpty(next.signatures);
  // Every one of these errors denies the write: past the cap, the answer could show no more.
  for (let i = 0; i < signatures.length && errors.length < FINDINGS_LIMIT; i++) {
    const signature = signatures[i];
    const name = signatureName(signature);
    const before = name === undefined ? undefined : previous.get(name);
    if (!before || !isObject(signature)) continue;
    if (!deepEqual(signature.type, before.type)) errors.push(invalid('signature-immutable', ['signatures', i, 'type'], signature.type ?? '', IMMUTABLE));
    if (!deepEqual(signature.content, before.content)) errors.push(invalidHidden('signature-immutable', ['signatures', i, 'content'], IMMUTABLE));
  }
  return errors;
}

/** The name of a signature, which is how signatures are matched across an update. */
export function signatureName(signature: unknown): string | undefined {
  if (!isObject(signature) || !isObject(signature.metadata)) return undefined;
  const name = signature.metadata.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
