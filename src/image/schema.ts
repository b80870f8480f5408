/**
 * The Image's shape as a JSON Schema, compiled once. ajv's errors are turned into FieldErrors here
 * and nowhere else. Each property names the catalogue rule it belongs to with `x-rule`; a property
 * without one falls under `object-shape`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type FieldError, type FieldPath, invalid, notSupported, required } from './field-error.js';
import type { Findings } from './findings.js';
import { isObject, valueAt } from './json.js';
import { isRuleId, type RuleId } from './rules.js';
import { work } from './work.js';

// RFC 3339 as Kubernetes serialises metav1.Time; checked by a pattern so no format plugin is needed.
const RFC3339 = '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$';

const str = { type: 'string' };
const nonEmpty = (rule: RuleId) => ({ type: 'string', minLength: 1, 'x-rule': rule });
const time = { type: ['string', 'null'], pattern: RFC3339 };
// Go decodes JSON null as an absent map, pointer or string, so null is accepted wherever absence is.
const stringMap = { type: ['object', 'null'], additionalProperties: { type: 'string' } };
const nullableStr = { type: ['string', 'null'] };

const objectMeta = {
  type: 'object',
  properties: {
    name: str,
    generateName: str,
    namespace: str,
    labels: stringMap,
    annotations: stringMap,
  },
};

const layer = {
  type: 'object',
  required: ['name', 'size', 'mediaType'],
  properties: {
    name: nonEmpty('layer-name'),
    // Above 2^53-1 a JSON number is no longer held exactly, so two sizes could compare equal.
    size: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, 'x-rule': 'layer-size' },
    mediaType: nonEmpty('layer-media-type'),
  },
};

const condition = {
  type: 'object',
  required: ['type', 'status'],
  properties: {
    type: nonEmpty('signature-condition-type'),
    status: { type: 'string', enum: ['True', 'False', 'Unknown'], 'x-rule': 'signature-condition-status' },
    lastProbeTime: time,
    lastTransitionTime: time,
    reason: str,
    message: str,
  },
};

const signature = {
  type: 'object',
  required: ['type', 'content'],
  properties: {
    apiVersion: str,
    kind: str,
    metadata: objectMeta,
    type: nonEmpty('signature-type'),
    content: nonEmpty('signature-content'),
    conditions: { type: ['array', 'null'], items: condition },
    imageIdentity: str,
    signedClaims: stringMap,
    created: time,
    issuedBy: { type: ['object', 'null'], properties: { organization: str, commonName: str } },
    issuedTo: {
      type: ['object', 'null'],
      required: ['publicKeyID'],
      properties: { organization: str, commonName: str, publicKeyID: nonEmpty('signature-public-key-id') },
    },
  },
};

const manifestEntry = {
  type: 'object',
  properties: {
    digest: str,
    mediaType: str,
    manifestSize: { type: 'integer' },
    architecture: str,
    os: str,
    variant: str,
  },
};

/** The JSON Schema of an Image as this webhook judges it (unknown fields are ignored, as the API server ignores them). */
const IMAGE_SCHEMA = {
  type: 'object',
  properties: {
    apiVersion: str,
    kind: str,
    metadata: objectMeta,
    dockerImageReference: nullableStr,
    dockerImageMetadata: { type: ['object', 'null'] },
    dockerImageMetadataVersion: { type: ['string', 'null'], enum: ['', '1.0', 'pre012', null], 'x-rule': 'metadata-version' },
    dockerImageManifest: str,
    // null counts as absent; whether it is required is decided in validate.ts (manifest lists have none).
    dockerImageLayers: { type: ['array', 'null'], items: layer },
    signatures: { type: ['array', 'null'], items: signature },
    dockerImageSignatures: { type: ['array', 'null'], items: str },
    dockerImageManifestMediaType: str,
    dockerImageConfig: str,
    dockerImageManifests: { type: ['array', 'null'], items: manifestEntry },
  },
};

// Nothing that changes the data: no defaults, coercion or removal.
const AJV_OPTIONS = { strict: true, verbose: true, useDefaults: false, coerceTypes: false, removeAdditional: false } as const;

function newAjv(allErrors: boolean): Ajv {
  const ajv = new Ajv({ ...AJV_OPTIONS, allErrors });
  ajv.addKeyword({ keyword: 'x-rule', schemaType: 'string' });
  return ajv;
}

// Most writes are valid: one pass that stops at the first error says so without building any error.
const isValidShape = newAjv(false).compile(IMAGE_SCHEMA);

/**
 * The schema cut at its collections (`items`, and `additionalProperties` of the string maps), so that
 * collecting every error is bounded: ajv with `allErrors` has no cap, and 340,000 empty layers made it
 * build about a million errors. Each part validates one value without descending into its collections,
 * so one call yields at most a few errors per property of the schema; the elements of a collection are
 * validated one by one, and the walk stops when the findings are full.
 */
interface Part {
  readonly validate: ValidateFunction;
  readonly collections: readonly Collection[];
}

interface Collection {
  /** Where the collection is, from the value the part validates. */
  readonly at: readonly string[];
  readonly each: 'item' | 'value';
  readonly part: Part;
}

type SchemaNode = Record<string, unknown>;

const collecting = newAjv(true);

function partOf(schema: SchemaNode): Part {
  const collections: Collection[] = [];
  return { validate: collecting.compile(withoutCollections(schema, [], collections)), collections };
}

function withoutCollections(schema: SchemaNode, at: string[], collections: Collection[]): SchemaNode {
  const { items, additionalProperties, properties, ...rest } = schema;
  const flat: SchemaNode = { ...rest };
  if (items !== undefined) collections.push({ at, each: 'item', part: partOf(items as SchemaNode) });
  if (typeof additionalProperties === 'object' && additionalProperties !== null) {
    collections.push({ at, each: 'value', part: partOf(additionalProperties as SchemaNode) });
  } else if (additionalProperties !== undefined) {
    flat.additionalProperties = additionalProperties;
  }
  if (properties !== undefined) {
    flat.properties = Object.fromEntries(
      Object.entries(properties as Record<string, SchemaNode>).map(([key, property]) => [key, withoutCollections(property, [...at, key], collections)]),
    );
  }
  return flat;
}

const imagePart = partOf(IMAGE_SCHEMA);
// An ImageSignature object (image.openshift.io/v1 imagesignatures) is one of an Image's signatures.
const isValidSignatureShape = newAjv(false).compile(signature);
const signaturePart = partOf(signature);

/** Adds the shape violations of a lone ImageSignature object to `findings`, at paths from its root. */
export function collectSignatureShapeErrors(signatureObject: unknown, findings: Findings): void {
  if (isValidSignatureShape(signatureObject)) return;
  walk(signaturePart, signatureObject, [], findings);
}

/** Adds the Image's shape violations to `findings`, looking no further once they are done. */
export function collectShapeErrors(image: unknown, findings: Findings): void {
  if (isValidShape(image)) return;
  walk(imagePart, image, [], findings);
}

function walk(part: Part, data: unknown, path: FieldPath, findings: Findings): void {
  if (!part.validate(data)) {
    const errors = part.validate.errors ?? [];
    work.schemaErrors += errors.length;
    // A value of the wrong type also fails its enum or length; one error per field says it all.
    const wrongType = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
    for (const error of errors) {
      if (error.keyword === 'type' || !wrongType.has(error.instancePath)) findings.add(toFieldError(error, data, path));
    }
  }
  for (const { at, each, part: element } of part.collections) {
    const collection = valueAt(data, at);
    if (each === 'item') {
      if (!Array.isArray(collection)) continue;
      for (let i = 0; i < collection.length; i++) {
        const elementPath = [...path, ...at, i];
        if (findings.done) return;
        if (findings.wants(elementPath)) walk(element, collection[i], elementPath, findings);
      }
    } else {
      if (!isObject(collection)) continue;
      for (const key of Object.keys(collection)) {
        const elementPath = [...path, ...at, key];
        if (findings.done) return;
        if (findings.wants(elementPath)) walk(element, collection[key], elementPath, findings);
      }
    }
  }
}

/** RFC 6901 JSON Pointer → path segments; array indexes become numbers. */
function pointerToPath(pointer: string, data: unknown): (string | number)[] {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment = Array.isArray(node) ? Number(key) : key;
    path.push(segment);
    node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[segment] : undefined;
  }
  return path;
}

function ruleOf(schema: unknown): RuleId {
  const rule = (schema as Record<string, unknown> | undefined)?.['x-rule'];
  return typeof rule === 'string' && isRuleId(rule) ? rule : 'object-shape';
}

const JSON_TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  object: 'an object',
  array: 'an array',
  boolean: 'a boolean',
  null: 'null',
};

function describeType(type: unknown): string {
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => JSON_TYPE_NAMES[String(t)] ?? String(t)).join(' or ');
}

/** ajv's error about a value at `base` (its instancePath is relative to that value) as a FieldError. */
function toFieldError(error: ErrorObject, value: unknown, base: FieldPath): FieldError {
  const path: FieldPath = [...base, ...pointerToPath(error.instancePath, value)];
  switch (error.keyword) {
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      const properties = (error.parentSchema as { properties?: Record<string, unknown> }).properties;
      return required(ruleOf(properties?.[missing]), [...path, missing]);
    }
    case 'minLength':
      // An empty required string is "Required value", as the API server reports it.
      return required(ruleOf(error.parentSchema), path);
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.filter((v) => v !== null).map(String);
      return notSupported(ruleOf(error.parentSchema), path, error.data, allowed);
    }
    case 'type':
      return invalid(ruleOf(error.parentSchema), path, error.data, `must be ${describeType(error.schema)}`);
    case 'minimum':
      return invalid(ruleOf(error.parentSchema), path, error.data, 'must be greater than or equal to 0');
    case 'maximum':
      return invalid(
        ruleOf(error.parentSchema),
        path,
        error.data,
        `must be at most ${Number.MAX_SAFE_INTEGER}: larger sizes cannot be held exactly in a JSON number`,
      );
    case 'pattern':
      return invalid(ruleOf(error.parentSchema), path, error.data, 'must be an RFC 3339 time');
    default:
      return invalid(ruleOf(error.parentSchema), path, error.data, error.message ?? 'is invalid');
  }
}
