/**
 * Judging Image manifests before they are applied, through the admission code the server runs: each
 * Image becomes the request the API server would send for creating it (or, given the Image it
 * replaces, for updating it), answered as the webhook answers it; the denial is printed as kubectl
 * prints a 422 Invalid error.
 */
import { type Endpoint, handleReview } from '../admission/handle.js';
import type { Policy } from '../admission/policy.js';
import { IMAGE_GROUP, IMAGE_VERSION } from '../admission/targets.js';
import type { AdmissionRequest, Status } from '../admission/types.js';

/**
 * The webhook whose answer check gives: a write meets the mutating webhook first, exactly as it was
 * sent. The validating webhook sees it only after the API server filled in fields a file lacks.
 */
const CHECKED_AT: Endpoint = 'mutate';

/** The verdict on one Image of one file. */
export interface CheckResult {
  file: string;
  name: string;
  valid: boolean;
  /** What kubectl would print for the webhook's denial (ends with a newline). */
  message?: string;
  /** Admission warnings kubectl would print as `Warning: ...`. */
  warnings: string[];
}

/** Checks `image` as a create, or as an update of `old`, under `policy`. */
export function checkImage(file: string, image: Record<string, unknown>, old: unknown, policy: Policy): CheckResult {
  const name = nameOf(image);
  const request: AdmissionRequest = {
    uid: 'image-admission-check',
    operation: old === undefined ? 'CREATE' : 'UPDATE',
    resource: { group: IMAGE_GROUP, version: IMAGE_VERSION, resource: 'images' },
    ...(name === '' ? {} : { name }),
    userInfo: {},
    object: image,
    oldObject: old ?? null,
    dryRun: false,
  };
  const { response } = handleReview('admission.k8s.io/v1', request, CHECKED_AT, policy).reply;
  const warnings = response.warnings ?? [];
  if (response.allowed) return { file, name, valid: true, warnings };
  return { file, name, valid: false, message: kubectlInvalidMessage(response.status!), warnings };
}

/**
 * What kubectl prints for a 422 Invalid StatusError (kubectl's cmd/util checkErr with
 * statusCausesToAggrError and MultilineError): `The Kind "name" is invalid: field: message` for one
 * cause; for several, the prefix on its own line (with its trailing space) and `* field: message`
 * per distinct cause.
 */
export function kubectlInvalidMessage(status: Pick<Status, 'message' | 'details'>): string {
  const details = status.details;
  let text = 'The request is invalid';
  if (!details) return `${status.message ? `${text}: ${status.message}` : text}\n`;
  const causes = [...new Set(details.causes.map((c) => `${c.field}: ${c.message}`))];
  if (details.kind || details.name) text = `The ${details.kind} ${JSON.stringify(details.name)} is invalid`;
  else if (status.message && causes.length === 0) text += `: ${status.message}`;
  if (causes.length === 0) return `${text}\n`;
  if (causes.length === 1) return `${text}: ${causes[0]}\n`;
  return `${text}: \n${causes.map((c) => `* ${c}\n`).join('')}`;
}

function nameOf(image: Record<string, unknown>): string {
  const name = (image.metadata as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : '';
}
