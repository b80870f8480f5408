/**
 * The rule flags of the commands that run the rules outside the server (audit, check, review, rules,
 * controller): `--disable-rules` and `--rule-actions`, read by the server's own parser (parseRuleFlags),
 * from the flag or else from the variable serve reads, so that a shell holding the deployment's
 * settings judges as the deployment does.
 */
import { parseRuleFlags, type RuleFlag, type RuleOptions } from '../image/index.js';
import type { Flag } from './args.js';

/** The variables serve reads its rule settings from (src/config.ts); the manifests set them from one ConfigMap. */
const DISABLE_RULES_ENV = 'DISABLE_RULES';
const RULE_ACTIONS_ENV = 'RULE_ACTIONS';

const ENV_OF: Readonly<Record<RuleFlag, string>> = { 'disable-rules': DISABLE_RULES_ENV, 'rule-actions': RULE_ACTIONS_ENV };

/** The flags alone: --disable-rules for the command that does not read the variables (audit review). */
export const DISABLE_RULES_FLAG = { type: 'string', value: 'IDS', help: "comma-separated rule ids to leave out, as the server's --disable-rules" } as const satisfies Flag;
const RULE_ACTIONS_FLAG = {
  type: 'string',
  value: 'RULE=ACTION,...',
  help: "per-rule deny|warn|off over the catalogue's, as the server's --rule-actions",
} as const satisfies Flag;

/** The flags of a command that reads them with readRuleFlagsOrEnv: their help names the variables. */
export const RULE_FLAGS_OR_ENV = {
  'disable-rules': { ...DISABLE_RULES_FLAG, help: `${DISABLE_RULES_FLAG.help}\n(env ${DISABLE_RULES_ENV}, as serve reads it; the flag wins)` },
  'rule-actions': { ...RULE_ACTIONS_FLAG, help: `${RULE_ACTIONS_FLAG.help}\n(env ${RULE_ACTIONS_ENV}, as serve reads it; the flag wins)` },
} as const satisfies Record<RuleFlag, Flag>;

/** The rule flags given to a command, as RuleOptions, or every usage problem in one message. */
export function readRuleFlags(values: { 'disable-rules'?: string; 'rule-actions'?: string }): RuleOptions | string {
  const parsed = parseRuleFlags(values);
  return parsed.ok ? parsed.options : parsed.problems.join('; ');
}

/**
 * The rule flags, else the variables serve reads (an empty variable is none; a flag wins): for the
 * commands that must judge as the deployed webhook does (audit scan, check, controller, review,
 * rules). A problem names flag and variable as serve's do: `--disable-rules (DISABLE_RULES) ...`.
 */
export function readRuleFlagsOrEnv(values: { 'disable-rules'?: string; 'rule-actions'?: string }, env: NodeJS.ProcessEnv): RuleOptions | string {
  const fromEnv = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const disable = values['disable-rules'] ?? fromEnv(DISABLE_RULES_ENV);
  const actions = values['rule-actions'] ?? fromEnv(RULE_ACTIONS_ENV);
  const parsed = parseRuleFlags(
    { ...(disable === undefined ? {} : { 'disable-rules': disable }), ...(actions === undefined ? {} : { 'rule-actions': actions }) },
    (flag) => `--${flag} (${ENV_OF[flag]})`,
  );
  return parsed.ok ? parsed.options : parsed.problems.join('; ');
}
