/** The parts of the `admission.k8s.io` AdmissionReview that this webhook reads and writes. */

/** The two versions the API server may send; the answer uses the version received. */
export const ADMISSION_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;
export type AdmissionVersion = (typeof ADMISSION_VERSIONS)[number];

/** The operations Kubernetes defines for admission. */
export const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** An AdmissionRequest after parsing: the fields the webhook relies on are checked. */
export interface AdmissionRequest {
  uid: string;
  operation: Operation;
  resource: GroupVersionResource;
  subResource?: string;
  name?: string;
  namespace?: string;
  userInfo: UserInfo;
  object: unknown;
  oldObject: unknown;
  dryRun?: boolean;
}

/** A metav1.Status, as carried in a denial. */
export interface Status {
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  code: number;
  details?: {
    name: string;
    group: string;
    kind: string;
    causes: { reason: string; message: string; field: string }[];
  };
}

/** An AdmissionResponse. `allowed` is always present: a missing one counts as a denial. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: Status;
  patch?: string;
  patchType?: 'JSONPatch';
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** The reply sent back to the API server. */
export interface AdmissionReviewReply {
  apiVersion: AdmissionVersion;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}
