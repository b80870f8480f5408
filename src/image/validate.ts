/**
 * The create rules (docs/rules.md §2 and §3): validateImage(image) returns every violation at once.
 * The shape comes from the JSON Schema (schema.ts); the rules here are those a schema cannot say.
 */
import { type ContentOptions, collectContentErrors } from './content.js';
import { type FieldError, type FieldPath, forbidden, invalid, invalidHidden, required, tooLong } from './field-error.js';
import { Findings } from './findings.js';
import { arrayOrEmpty, isNonEmptyString, isObject, isStandardBase64 } from './json.js';
import { digestAlgorithm } from './digest.js';
import { parseReference } from './reference.js';
import { collectShapeErrors, collectSignatureShapeErrors } from './schema.js';
import { ANNOTATION_MANAGED_SIGNATURE, MANIFEST_LIST_MEDIA_TYPES } from './types.js';

/** Options of the create rules: rules to skip (see judge.ts for how disabled rules are dropped). */
export type ValidateOptions = ContentOptions;

/** Returns the create-rule violations of `image`, each at its own path (at most FINDINGS_LIMIT of them). */
export function validateImage(image: unknown, options: ValidateOptions = {}): FieldError[] {
  const findings = new Findings();
  collectImageErrors(image, findings, options);
  return findings.violations;
}

/**
 * Adds every create-rule violation of `image` to `findings`, until they are done. Each rule that walks a
 * collection asks the findings before each element, so the work is bounded by the cap, not the Image.
 */
export function collectImageErrors(image: unknown, findings: Findings, options: ValidateOptions = {}): void {
  if (image === undefined || image === null) return findings.add(required('object-shape', []));
  if (!isObject(image)) return findings.add(invalid('object-shape', [], image, 'must be an object'));
  collectShapeErrors(image, findings);
  findings.addAll(validateName(image));
  findings.addAll(validateLayersPresence(image));
  findings.addAll(validateReference(image));
  eachElement(image.dockerImageSignatures, ['dockerImageSignatures'], findings, (blob, path) => {
    if (typeof blob === 'string' && !isStandardBase64(blob)) findings.add(invalidHidden('docker-signatures-base64', path, 'must be standard base64'));
  });
  eachElement(image.signatures, ['signatures'], findings, (signature, path) => validateSignature(signature, path, findings));
  eachElement(image.dockerImageManifests, ['dockerImageManifests'], findings, (entry, path) => findings.addAll(validateManifestEntry(entry, path)));
  collectContentErrors(image, findings, options);
}

/** Calls `check` on each element of an array that the findings still want looked at. */
function eachElement(list: unknown, at: FieldPath, findings: Findings, check: (element: unknown, path: FieldPath) => void): void {
  const elements = arrayOrEmpty(list);
  for (let i = 0; i < elements.length; i++) {
    if (findings.done) return;
    const path = [...at, i];
    if (findings.wants(path)) check(elements[i], path);
  }
}

/** The rules OpenShift applies to names of path segments (apimachinery's path.ValidatePathSegmentName). */
function pathSegmentNameProblems(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const problems: string[] = [];
  if (name.includes('/')) problems.push("may not contain '/'");
  if (name.includes('%')) problems.push("may not contain '%'");
  return problems;
}

/**
 * The longest name accepted: Kubernetes' limit for object names (a DNS subdomain, 253 bytes).
 * Images are named by digest (`sha256:` and 64 hex digits, 71 characters; sha512 135), so nothing
 * real comes near it; without it a 1 MB name was echoed into every message about the Image.
 */
const MAX_NAME_LENGTH = 253;

function validateName(image: Record<string, unknown>): FieldError[] {
  const metadata = isObject(image.metadata) ? image.metadata : {};
  const name = metadata.name;
  if (name !== undefined && name !== null && typeof name !== 'string') return []; // the schema reports the type
  if (!isNonEmptyString(name)) {
    return isNonEmptyString(metadata.generateName) ? [] : [required('name-required', ['metadata', 'name'], 'name or generateName is required')];
  }
  // Bytes, as the API server counts them; a name longer in UTF-16 units is longer in bytes too.
  if (name.length > MAX_NAME_LENGTH || new TextEncoder().encode(name).length > MAX_NAME_LENGTH) {
    return [tooLong('name-format', ['metadata', 'name'], MAX_NAME_LENGTH)];
  }
  return pathSegmentNameProblems(name).map((problem) => invalid('name-format', ['metadata', 'name'], name, problem));
}

/** A manifest list (or OCI index) has no layers of its own. */
export function isManifestList(image: Record<string, unknown>): boolean {
  const entries = image.dockerImageManifests;
  if (Array.isArray(entries) && entries.length > 0) return true;
  return MANIFEST_LIST_MEDIA_TYPES.includes(String(image.dockerImageManifestMediaType));
}

function validateLayersPresence(image: Record<string, unknown>): FieldError[] {
  const layers = image.dockerImageLayers;
  if (isManifestList(image)) {
    return Array.isArray(layers) && layers.length > 0
      ? [forbidden('layers-on-manifest-list', ['dockerImageLayers'], 'dockerImageLayers should not be set when dockerImageManifests is set')]
      : [];
  }
  // null counts as absent; any other wrong type is reported by the schema.
  return layers === undefined || layers === null ? [required('layers-required', ['dockerImageLayers'])] : [];
}

function validateReference(image: Record<string, unknown>): FieldError[] {
  const reference = image.dockerImageReference;
  if (reference === undefined || reference === null || reference === '') return [required('reference-format', ['dockerImageReference'])];
  if (typeof reference !== 'string') return []; // the schema reports the type
  const parsed = parseReference(reference);
  return parsed.ok ? [] : [invalid('reference-format', ['dockerImageReference'], reference, parsed.message)];
}

/**
 * Adds every violation of a lone ImageSignature object (what `imagesignatures` CREATE writes) to
 * `findings`: the rules of a signature inside an Image, at paths from the object's root.
 */
export function collectSignatureErrors(signatureObject: unknown, findings: Findings): void {
  if (signatureObject === undefined || signatureObject === null) return findings.add(required('object-shape', []));
  if (!isObject(signatureObject)) return findings.add(invalid('object-shape', [], signatureObject, 'must be an object'));
  collectSignatureShapeErrors(signatureObject, findings);
  validateSignature(signatureObject, [], findings);
}

const UNVERIFIED_FIELDS = ['imageIdentity', 'signedClaims', 'issuedBy', 'issuedTo'] as const;

function validateSignature(signature: unknown, path: FieldPath, findings: Findings): void {
  if (!isObject(signature)) return; // the schema reports the type
  // Contents are opaque signatures: never echoed back, only judged.
  if (typeof signature.content === 'string' && signature.content !== '' && !isStandardBase64(signature.content)) {
    findings.add(invalidHidden('signature-content', [...path, 'content'], 'must be standard base64'));
  }
  validateSignatureMetadata(signature.metadata, [...path, 'metadata'], findings);
  const errors: FieldError[] = [];

  const conditions = arrayOrEmpty(signature.conditions).filter(isObject);
  const trusted = latestCondition(conditions, 'Trusted');
  const forImage = latestCondition(conditions, 'ForImage');
  if (trusted && !forImage) errors.push(required('signature-trust-conditions', [...path, 'conditions'], 'missing ForImage condition'));
  if (forImage && !trusted) errors.push(required('signature-trust-conditions', [...path, 'conditions'], 'missing Trusted condition'));

  // OpenShift fills these from the verified signature; with no trust verdict they cannot be true.
  if (!trusted || trusted.status === 'Unknown') {
    for (const field of UNVERIFIED_FIELDS) {
      if (isUnverifiedFieldSet(signature, field)) {
        const error = invalid('signature-unverified-fields', [...path, field], signature[field], 'must be unset for unknown signature state');
        errors.push({ ...error, dependsOn: [[...path, 'conditions']] });
      }
    }
  }
  findings.addAll(errors);
}

/** Go's notion of "set" for each field: a non-empty string or map, a non-nil struct pointer. */
function isUnverifiedFieldSet(signature: Record<string, unknown>, field: (typeof UNVERIFIED_FIELDS)[number]): boolean {
  const value = signature[field];
  if (field === 'signedClaims') return isObject(value) && hasKeys(value);
  return value !== undefined && value !== null && value !== '';
}

/** The condition of `type` with the latest lastProbeTime (the last listed wins a tie, as in OpenShift). */
function latestCondition(conditions: Record<string, unknown>[], type: string): Record<string, unknown> | undefined {
  let latest: Record<string, unknown> | undefined;
  for (const condition of conditions) {
    if (condition.type !== type) continue;
    if (!latest || probeTime(condition) >= probeTime(latest)) latest = condition;
  }
  return latest;
}

function probeTime(condition: Record<string, unknown>): number {
  const time = typeof condition.lastProbeTime === 'string' ? Date.parse(condition.lastProbeTime) : NaN;
  return Number.isNaN(time) ? -Infinity : time;
}

function validateSignatureMetadata(metadata: unknown, path: FieldPath, findings: Findings): void {
  if (!isObject(metadata)) return findings.add(invalid('signature-name', [...path, 'name'], '', 'name must be of format <imageName>@<signatureName>'));
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  const nameProblems = [...signatureNameProblems(name), ...(name === '' ? [] : pathSegmentNameProblems(name))];
  for (const problem of nameProblems) findings.add(invalid('signature-name', [...path, 'name'], name, problem));

  if (isObject(metadata.labels) && hasKeys(metadata.labels)) {
    findings.add(forbidden('signature-metadata', [...path, 'labels'], 'signature labels cannot be set'));
  }
  if (isObject(metadata.annotations)) {
    for (const key of Object.keys(metadata.annotations)) {
      if (key === ANNOTATION_MANAGED_SIGNATURE) continue;
      if (findings.done) return;
      findings.add(forbidden('signature-metadata', [...path, 'annotations', key], `signature annotations cannot be set, except ${ANNOTATION_MANAGED_SIGNATURE}`));
    }
  }
  if (isNonEmptyString(metadata.namespace)) {
    findings.add(forbidden('signature-metadata', [...path, 'namespace'], 'not allowed on this type'));
  }
}

function hasKeys(record: Record<string, unknown>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}

/** OpenShift's SplitImageSignatureName: exactly one "@" with a non-empty part on each side. */
function signatureNameProblems(name: string): string[] {
  const parts = name.split('@');
  if (parts.length !== 2) return ['name must be of format <imageName>@<signatureName>: expected exactly one "@"'];
  if (parts[0] === '' || parts[1] === '') return ['name must be of format <imageName>@<signatureName>: both parts must be non-empty'];
  return [];
}

// RFC 6838 type/subtype, restricted-name characters, optional parameters ignored.
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function validateManifestEntry(entry: unknown, path: FieldPath): FieldError[] {
  if (!isObject(entry)) return [];
  const errors: FieldError[] = [];
  if (entry.digest === undefined || entry.digest === null || entry.digest === '') errors.push(required('manifest-list-entry', [...path, 'digest']));
  else if (digestAlgorithm(entry.digest) === undefined) {
    errors.push(invalid('manifest-list-entry', [...path, 'digest'], entry.digest, 'invalid digest: must be sha256, sha384 or sha512 followed by ":" and lower-case hex of its length'));
  }
  const mediaType = typeof entry.mediaType === 'string' ? entry.mediaType.split(';')[0]!.trim() : '';
  if (!MEDIA_TYPE.test(mediaType)) {
    errors.push(invalid('manifest-list-entry', [...path, 'mediaType'], entry.mediaType ?? '', 'invalid media type'));
  }
  if (!isNonEmptyString(entry.architecture)) errors.push(required('manifest-list-entry', [...path, 'architecture']));
  if (!isNonEmptyString(entry.os)) errors.push(required('manifest-list-entry', [...path, 'os']));
  if (typeof entry.manifestSize === 'number' && entry.manifestSize < 0) {
    errors.push(invalid('manifest-list-entry', [...path, 'manifestSize'], entry.manifestSize, 'manifest size cannot be negative'));
  }
  return errors;
}
