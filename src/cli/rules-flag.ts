/**
 * The rule flags of the commands that run the rules outside the server (audit, check, rules):
 * `--disable-rules` and `--rule-actions`, read with the same catalogue checks as the server's.
 */
import { type JudgeOptions, parseRuleActions, parseRuleList } from '../image/index.js';
import type { Flag } from './args.js';

/** The flags, for a command's spec. */
export const DISABLE_RULES_FLAG = { type: 'string', value: 'IDS', help: "comma-separated rule ids to leave out, as the server's --disable-rules" } as const satisfies Flag;
export const RULE_ACTIONS_FLAG = {
  type: 'string',
  value: 'RULE=ACTION,...',
  help: "per-rule deny|warn|off over the catalogue's, as the server's --rule-actions",
} as const satisfies Flag;

/** The rules to leave out, or the usage problem: the same catalogue check as the server's flag. */
export function readDisableRules(value: unknown): JudgeOptions | string {
  if (value === undefined) return {};
  const parsed = parseRuleList(String(value));
  if (!parsed.ok) return `--disable-rules names rules that do not exist: ${parsed.unknown.map((id) => JSON.stringify(id)).join(', ')}`;
  return { disabledRules: parsed.rules };
}

/** Both flags as JudgeOptions, or every usage problem in one message. */
export function readRuleFlags(values: { 'disable-rules'?: string; 'rule-actions'?: string }): JudgeOptions | string {
  const disabled = readDisableRules(values['disable-rules']);
  if (typeof disabled === 'string') return disabled;
  if (values['rule-actions'] === undefined) return disabled;
  const actions = parseRuleActions(values['rule-actions']);
  if (!actions.ok) return `--rule-actions: ${actions.problems.join('; ')}`;
  const clash = [...actions.actions].find(([id, action]) => action !== 'off' && disabled.disabledRules?.has(id));
  if (clash) return `--rule-actions sets ${clash[0]}=${clash[1]} but --disable-rules turns it off: say one`;
  return { ...disabled, ruleActions: actions.actions };
}
