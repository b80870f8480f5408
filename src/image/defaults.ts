/** Defaulting (docs/rules.md §7): the only field the webhook fills in. */
import { isObject } from './json.js';
import type { Image } from './types.js';

/** The version OpenShift assumes when an Image names none. */
export const DEFAULT_METADATA_VERSION = '1.0';

/**
 * Returns `image` with `dockerImageMetadataVersion` defaulted: a shallow copy when something
 * changed, `image` itself when nothing did. Never changes its input; idempotent.
 */
export function withDefaults<T extends Image>(image: T): T {
  if (!isObject(image)) return image;
  const version = image.dockerImageMetadataVersion;
  // null is how a Go client may send an absent string: it is defaulted like one.
  if (version !== undefined && version !== null && version !== '') return image;
  return { ...image, dockerImageMetadataVersion: DEFAULT_METADATA_VERSION };
}
