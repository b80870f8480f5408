/**
 * The one table of resources that carry an Image: for each, where the Image sits in its object and
 * which operations the webhook judges. Admission, the decision log, the metrics and the audit read it,
 * so "where is the Image in this resource" is answered here and nowhere else.
 */
import type { FieldPath } from '../image/index.js';
import type { Operation } from './types.js';

/** The API group of Images and of every resource that carries one. */
export const IMAGE_GROUP = 'image.openshift.io';
/** The version of that group the webhook reviews. */
export const IMAGE_VERSION = 'v1';

/** The resources of the group whose writes carry Images or their signatures. */
export const TARGET_RESOURCES = ['images', 'imagestreammappings', 'imagestreamimports', 'imagesignatures'] as const;
export type TargetResource = (typeof TARGET_RESOURCES)[number];

/** A step of an Image's path: a field name, or `*` for every item of a list. */
type Step = string;

/** One row of the table. */
export interface ReviewTarget {
  readonly resource: TargetResource;
  /** The kind the API server names in its errors about this resource. */
  readonly kind: string;
  /** The operations the webhook judges; the others are allowed untouched. Empty: never sent to it. */
  readonly judged: readonly Operation[];
  /**
   * Which object holds the Images: the one written (`request`), the one the API server answered
   * (`response`: an import writes Images without sending them through the webhook), or none.
   */
  readonly carrier: 'request' | 'response' | 'none';
  /** Where the Images are in that object: `[]` when it is the Image itself. */
  readonly imagePath: readonly Step[];
  /**
   * Where the one signature a write of this resource carries sits in the object written (`[]`: it is
   * the signature itself), judged with the signature rules instead of the Image rules; absent for
   * resources that carry Images.
   */
  readonly signaturePath?: readonly Step[];
}

const TABLE: Record<TargetResource, ReviewTarget> = {
  images: { resource: 'images', kind: 'Image', judged: ['CREATE', 'UPDATE'], carrier: 'request', imagePath: [] },
  imagestreammappings: { resource: 'imagestreammappings', kind: 'ImageStreamMapping', judged: ['CREATE'], carrier: 'request', imagePath: ['image'] },
  imagestreamimports: { resource: 'imagestreamimports', kind: 'ImageStreamImport', judged: [], carrier: 'response', imagePath: ['status', 'images', '*', 'image'] },
  // A lone signature (named `<imageName>@<signatureName>`) is not an Image: it carries no Image and is
  // judged with the rules of a signature inside one (openshift-apiserver then appends it to the Image).
  imagesignatures: { resource: 'imagesignatures', kind: 'ImageSignature', judged: ['CREATE'], carrier: 'none', imagePath: [], signaturePath: [] },
};

/** The row of `resource`, or undefined for a resource that carries no Image. */
export function targetOf(resource: string): ReviewTarget | undefined {
  return Object.hasOwn(TABLE, resource) ? TABLE[resource as TargetResource] : undefined;
}

/** The resources the webhook is configured for: those with an operation it judges. */
export const REVIEWED_RESOURCES: readonly TargetResource[] = TARGET_RESOURCES.filter((r) => TABLE[r].judged.length > 0);

/** The row of a resource the webhook judges, or undefined. */
export function reviewedTarget(resource: string): ReviewTarget | undefined {
  const target = targetOf(resource);
  return target !== undefined && target.judged.length > 0 ? target : undefined;
}

/** A value found at an Image path, with its concrete path (list indexes filled in). */
export interface LocatedImage {
  image: unknown;
  at: FieldPath;
}

/**
 * What sits at the target's Image path in `object`: one entry per place an Image belongs, its value
 * possibly missing or not an object (the rules then report that at its path). Undefined when the
 * object has no such place: a list step met something that is not a list, or the resource carries no Image.
 */
export function imagesIn(target: ReviewTarget, object: unknown): LocatedImage[] | undefined {
  if (target.carrier === 'none') return undefined;
  let found: LocatedImage[] = [{ image: object, at: [] }];
  for (const step of target.imagePath) {
    const next: LocatedImage[] = [];
    for (const { image, at } of found) {
      if (step !== '*') next.push({ image: isObject(image) ? image[step] : undefined, at: [...at, step] });
      else if (Array.isArray(image)) image.forEach((item: unknown, i) => next.push({ image: item, at: [...at, i] }));
      else return undefined;
    }
    found = next;
  }
  return found;
}

/** The signature a write to `target` carries (the object itself for imagesignatures), or undefined. */
export function signatureIn(target: ReviewTarget, object: unknown): unknown {
  if (target.signaturePath === undefined) return undefined;
  let found: unknown = object;
  for (const step of target.signaturePath) found = isObject(found) ? found[step] : undefined;
  return found;
}

/** The name of the Image the object written to `target` carries (the first one's), if it is a string. */
export function imageNameIn(target: ReviewTarget, object: unknown): string | undefined {
  if (target.carrier !== 'request') return undefined;
  const first = imagesIn(target, object)?.[0]?.image;
  const name = isObject(first) && isObject(first.metadata) ? first.metadata.name : undefined;
  return typeof name === 'string' ? name : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
