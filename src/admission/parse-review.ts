/**
 * Reads a request body as an AdmissionReview. Expected problems are values, not exceptions: a body
 * that is not a review is answered with HTTP 400 and the reason given here.
 */
import {
  ADMISSION_VERSIONS,
  type AdmissionRequest,
  type AdmissionVersion,
  OPERATIONS,
  type Operation,
  type UserInfo,
} from './types.js';

/** A review that can be answered, or why it cannot. */
export type ParsedReview =
  | { ok: true; apiVersion: AdmissionVersion; request: AdmissionRequest }
  | { ok: false; problem: string; uid?: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The longest uid accepted. The API server sends a UUID (36 characters); the uid is echoed in the
 * answer, the audit annotations and the decision log, so a longer one is refused rather than echoed.
 */
const MAX_UID_LENGTH = 128;

/** Checks that `body` is an AdmissionReview carrying a request this webhook can answer. */
export function parseReview(body: unknown): ParsedReview {
  if (!isObject(body)) return { ok: false, problem: 'body must be a JSON object (an AdmissionReview)' };
  const { apiVersion, kind, request } = body;
  if (kind !== 'AdmissionReview') return { ok: false, problem: `kind must be "AdmissionReview", got ${describe(kind)}` };
  if (!ADMISSION_VERSIONS.includes(apiVersion as AdmissionVersion)) {
    return { ok: false, problem: `apiVersion must be one of ${ADMISSION_VERSIONS.join(', ')}, got ${describe(apiVersion)}` };
  }
  if (!isObject(request)) return { ok: false, problem: 'request must be an object' };
  const uid = request.uid;
  if (typeof uid !== 'string' || uid === '') return { ok: false, problem: 'request.uid must be a non-empty string' };
  if (uid.length > MAX_UID_LENGTH) return { ok: false, problem: `request.uid must be at most ${MAX_UID_LENGTH} characters, got ${uid.length}` };

  const problems: string[] = [];
  const operation = request.operation;
  if (!OPERATIONS.includes(operation as Operation)) {
    problems.push(`request.operation must be one of ${OPERATIONS.join(', ')}, got ${describe(operation)}`);
  }
  const resource = request.resource;
  if (!isObject(resource) || typeof resource.resource !== 'string' || typeof resource.version !== 'string' || typeof resource.group !== 'string') {
    problems.push('request.resource must be an object with string group, version and resource');
  }
  const userInfo = request.userInfo ?? {};
  if (!isUserInfo(userInfo)) problems.push('request.userInfo must be an object with a string username and a list of string groups');
  for (const field of ['name', 'namespace', 'subResource'] as const) {
    if (request[field] !== undefined && typeof request[field] !== 'string') problems.push(`request.${field} must be a string`);
  }
  if (request.dryRun !== undefined && request.dryRun !== null && typeof request.dryRun !== 'boolean') problems.push('request.dryRun must be a boolean');
  if (operation === 'CREATE' || operation === 'UPDATE') {
    if (!isObject(request.object)) problems.push(`request.object must be an object for ${operation}`);
  }
  if (operation === 'UPDATE' && !isObject(request.oldObject)) problems.push('request.oldObject must be an object for UPDATE');
  if (problems.length > 0) return { ok: false, problem: problems.join('; '), uid };

  return {
    ok: true,
    apiVersion: apiVersion as AdmissionVersion,
    request: {
      uid,
      operation: operation as Operation,
      resource: resource as unknown as AdmissionRequest['resource'],
      ...(typeof request.subResource === 'string' ? { subResource: request.subResource } : {}),
      ...(typeof request.name === 'string' ? { name: request.name } : {}),
      ...(typeof request.namespace === 'string' ? { namespace: request.namespace } : {}),
      userInfo: userInfo as UserInfo,
      object: request.object,
      oldObject: request.oldObject,
      dryRun: request.dryRun === true,
    },
  };
}

function isUserInfo(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (value.username !== undefined && typeof value.username !== 'string') return false;
  const groups = value.groups;
  return groups === undefined || groups === null || (Array.isArray(groups) && groups.every((g) => typeof g === 'string'));
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
