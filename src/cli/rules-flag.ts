/** The `--disable-rules` flag of the commands that run the rules outside the server (audit, check). */
import { type JudgeOptions, parseRuleList } from '../image/index.js';
import type { Flag } from './args.js';

/** The flag, for a command's spec. */
export const DISABLE_RULES_FLAG = { type: 'string', value: 'IDS', help: "comma-separated rule ids to leave out, as the server's --disable-rules" } as const satisfies Flag;

/** The rules to leave out, or the usage problem: the same catalogue check as the server's flag. */
export function readDisableRules(value: unknown): JudgeOptions | string {
  if (value === undefined) return {};
  const parsed = parseRuleList(String(value));
  if (!parsed.ok) return `--disable-rules names rules that do not exist: ${parsed.unknown.map((id) => JSON.stringify(id)).join(', ')}`;
  return { disabledRules: parsed.rules };
}
