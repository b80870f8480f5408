/**
 * The verdict on an Image that is already stored: the create rules (shape, OpenShift's create rules,
 * content addressing, and whatever else `judgeCreate` judges, e.g. signatures when trusted keys are
 * configured), exactly as the webhook applies them to a create. `audit scan` and the in-cluster
 * controller both judge through this one function, so they agree Image for Image.
 */
import { errorBody, type FieldError, formatError, formatPath, judgeCreate, type JudgeOptions } from '../image/index.js';

/** One violation of a stored Image, ready to print or report. */
export interface ExistingViolation {
  rule: string;
  /** `fail` when the rule denies a create, `warn` when it only warns (rules.md: warn-only rules). */
  result: 'fail' | 'warn';
  /** The field path as the API server prints it, e.g. `dockerImageLayers[2].size`. */
  path: string;
  /** The message without its path, e.g. `Invalid value: -1: ...`. */
  detail: string;
  /** `path: detail`, the line kubectl would print for a denied create. */
  message: string;
}

/** The verdict on a stored Image: failing violations first, then warnings, each in rule order. */
export interface ExistingVerdict {
  violations: ExistingViolation[];
}

function toViolation(error: FieldError, result: ExistingViolation['result']): ExistingViolation {
  return { rule: error.rule, result, path: formatPath(error.path), detail: errorBody(error), message: formatError(error) };
}

/** Judges a stored Image as if it were created now. */
export function judgeExisting(image: unknown, options: JudgeOptions = {}): ExistingVerdict {
  const verdict = judgeCreate(image, options);
  return {
    violations: [...verdict.violations.map((e) => toViolation(e, 'fail')), ...verdict.advisories.map((e) => toViolation(e, 'warn'))],
  };
}
