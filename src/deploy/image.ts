/**
 * The container image the manifests deploy, kept in one git-ignored file that the base kustomization
 * reads (manifests/base/image.env, `IMAGE=REF`): `image-admission manifests --image REF` writes it after
 * checking the reference, so a typo fails here and not as pods that never pull.
 */
import { parseReference } from '../image/reference.js';

/** Where the base kustomization reads the image from, relative to the repository root. */
export const IMAGE_ENV_FILE = 'manifests/base/image.env';

/** The name the manifests use until the image is set; a reference equal to it would deploy nothing. */
const IMAGE_PLACEHOLDER = 'image-admission-webhook';

/** Checks `ref` as a pull spec for the webhook's image; throws with the reason. */
function checkImageReference(ref: string): void {
  // `--image "$UNSET"`: say so, rather than how an empty string fails to parse.
  if (ref.trim() === '') throw new Error('--image is empty: give the image you pushed, e.g. quay.io/ORG/image-admission-webhook:TAG');
  const parsed = parseReference(ref);
  if (!parsed.ok) throw new Error(`--image ${JSON.stringify(ref)} is not an image reference: ${parsed.message}`);
  if (parsed.reference.name === '') throw new Error(`--image ${JSON.stringify(ref)} names a registry but no repository`);
  if (ref === IMAGE_PLACEHOLDER) {
    throw new Error(`--image ${IMAGE_PLACEHOLDER} is the manifests' placeholder; give the image you pushed, e.g. quay.io/ORG/image-admission-webhook:TAG`);
  }
}

/** The image file's text: one `IMAGE=` line that kustomize's env-file reader takes as written. */
export function renderImageEnv(ref: string): string {
  checkImageReference(ref);
  return `# Written by \`image-admission manifests --image\`: the image every overlay deploys.\nIMAGE=${ref}\n`;
}
