/**
 * The shapes of an `image.openshift.io/v1` Image, with the JSON field names of the API
 * (see ../shared/spec/image-v1.txt). Everything is optional because the rules must cope with
 * whatever a writer sends; the schema and the rules decide what is required.
 */

/** Kubernetes ObjectMeta, as far as the Image rules look at it. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** One layer of an image, as recorded by the registry. */
export interface ImageLayer {
  name?: string;
  size?: number;
  mediaType?: string;
}

/** One entry of a manifest list / OCI index. */
export interface ImageManifest {
  digest?: string;
  mediaType?: string;
  manifestSize?: number;
  architecture?: string;
  os?: string;
  variant?: string;
}

/** A condition on a signature, as the signature verifier records it. */
export interface SignatureCondition {
  type?: string;
  status?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string | null;
  reason?: string;
  message?: string;
}

/** A signature of an image, stored on the Image. */
export interface ImageSignature {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  type?: string;
  content?: string;
  conditions?: SignatureCondition[];
  imageIdentity?: string;
  signedClaims?: Record<string, string>;
  created?: string | null;
  issuedBy?: { organization?: string; commonName?: string };
  issuedTo?: { organization?: string; commonName?: string; publicKeyID?: string };
}

/** An `image.openshift.io/v1` Image. */
export interface Image {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  dockerImageReference?: string;
  dockerImageMetadata?: Record<string, unknown>;
  dockerImageMetadataVersion?: string;
  dockerImageManifest?: string;
  dockerImageLayers?: ImageLayer[] | null;
  signatures?: ImageSignature[] | null;
  dockerImageSignatures?: string[] | null;
  dockerImageManifestMediaType?: string;
  dockerImageConfig?: string;
  dockerImageManifests?: ImageManifest[] | null;
  [key: string]: unknown;
}

/** Media types of manifests that list other manifests and so carry no layers of their own. */
export const MANIFEST_LIST_MEDIA_TYPES: readonly string[] = [
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
];

/** Annotations OpenShift itself reads on Images. */
export const ANNOTATION_MANAGED_SIGNATURE = 'image.openshift.io/managed-signature';
export const ANNOTATION_MANIFEST_BLOB_STORED = 'image.openshift.io/manifestBlobStored';
export const ANNOTATION_LAYERS_ORDER = 'image.openshift.io/dockerLayersOrder';
