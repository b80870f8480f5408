/**
 * The rule flags of the commands that run the rules outside the server (audit, check, review, rules,
 * controller): `--disable-rules` and `--rule-actions`, read by the server's own parser (parseRuleFlags).
 */
import { parseRuleFlags, type RuleOptions } from '../image/index.js';
import type { Flag } from './args.js';

/** The flags, for a command's spec. */
export const DISABLE_RULES_FLAG = { type: 'string', value: 'IDS', help: "comma-separated rule ids to leave out, as the server's --disable-rules" } as const satisfies Flag;
export const RULE_ACTIONS_FLAG = {
  type: 'string',
  value: 'RULE=ACTION,...',
  help: "per-rule deny|warn|off over the catalogue's, as the server's --rule-actions",
} as const satisfies Flag;

/** The rule flags given to a command, as RuleOptions, or every usage problem in one message. */
export function readRuleFlags(values: { 'disable-rules'?: string; 'rule-actions'?: string }): RuleOptions | string {
  const parsed = parseRuleFlags(values);
  return parsed.ok ? parsed.options : parsed.problems.join('; ');
}
