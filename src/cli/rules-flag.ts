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

/** The variables serve reads its rule settings from (src/config.ts); the manifests set them from one ConfigMap. */
export const DISABLE_RULES_ENV = 'DISABLE_RULES';
export const RULE_ACTIONS_ENV = 'RULE_ACTIONS';

/**
 * The rule flags, else the variables serve reads (an empty variable is none; a flag wins): for the
 * commands that must judge as the deployed webhook does (controller, audit scan).
 */
export function readRuleFlagsOrEnv(values: { 'disable-rules'?: string; 'rule-actions'?: string }, env: NodeJS.ProcessEnv): RuleOptions | string {
  const fromEnv = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const disable = values['disable-rules'] ?? fromEnv(DISABLE_RULES_ENV);
  const actions = values['rule-actions'] ?? fromEnv(RULE_ACTIONS_ENV);
  return readRuleFlags({ ...(disable === undefined ? {} : { 'disable-rules': disable }), ...(actions === undefined ? {} : { 'rule-actions': actions }) });
}
