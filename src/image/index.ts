/** The Image rules' one import surface. Pure functions over plain objects: no I/O, no HTTP. */
export { enforcementOf, isRuleOff, judgeCreate, judgeSignatureCreate, judgeUpdate, type JudgeOptions, type ImageVerdict } from './judge.js';
export { withDefaults, DEFAULT_METADATA_VERSION } from './defaults.js';
export { validateImage, isManifestList, type ValidateOptions } from './validate.js';
export { validateContent, type ContentOptions } from './content.js';
export { validateImageUpdate, type AdmissionPhase } from './validate-update.js';
export { ratchet } from './ratchet.js';
export { RULES, RULE_ACTIONS, parseRuleFlags, ruleById, type Enforcement, type Rule, type RuleAction, type RuleFlag, type RuleId, type RuleOptions } from './rules.js';
export {
  type FieldError,
  type FieldPath,
  type FieldErrorType,
  bounded,
  MAX_DETAIL_CHARS,
  causeReason,
  errorBody,
  formatError,
  formatPath,
  withPathPrefix,
} from './field-error.js';
export type { Image, ImageLayer, ImageSignature } from './types.js';
