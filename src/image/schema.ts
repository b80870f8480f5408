/**
 * The Image's shape as a JSON Schema, compiled once. ajv's errors are turned into FieldErrors here
 * and nowhere else. Each property names the catalogue rule it belongs to with `x-rule`; a property
 * without one falls under `object-shape`.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { type FieldError, type FieldPath, invalid, notSupported, required } from './field-error.js';

// RFC 3339 as Kubernetes serialises metav1.Time; checked by a pattern so no format plugin is needed.
const RFC3339 = '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$';

const str = { type: 'string' };
const nonEmpty = (rule: string) => ({ type: 'string', minLength: 1, 'x-rule': rule });
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
export const IMAGE_SCHEMA = {
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

// allErrors: every violation at once. Nothing that changes the data: no defaults, coercion or removal.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, useDefaults: false, coerceTypes: false, removeAdditional: false });
ajv.addKeyword({ keyword: 'x-rule', schemaType: 'string' });
const validateShape = ajv.compile(IMAGE_SCHEMA);

/** Checks an Image's JSON shape and returns every violation as a FieldError. */
export function checkShape(image: unknown): FieldError[] {
  if (validateShape(image)) return [];
  const errors = validateShape.errors ?? [];
  // A value of the wrong type also fails its enum or length; one error per field says it all.
  const wrongType = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  return errors.filter((e) => e.keyword === 'type' || !wrongType.has(e.instancePath)).map((error) => toFieldError(error, image));
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

function ruleOf(schema: unknown): string {
  const rule = (schema as Record<string, unknown> | undefined)?.['x-rule'];
  return typeof rule === 'string' ? rule : 'object-shape';
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

function toFieldError(error: ErrorObject, root: unknown): FieldError {
  const path: FieldPath = pointerToPath(error.instancePath, root);
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
