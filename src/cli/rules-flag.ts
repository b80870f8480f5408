/** The `--disable-rules` flag of the commands that run the rules outside the server (audit, check). */
import { type JudgeOptions, parseRuleList } from '../image/index.js';

/** Usage line for the flag, aligned with the commands' own usage text. */
export const DISABLE_RULES_USAGE = '--disable-rules IDS      comma-separated rule ids to leave out, as the server\'s --disable-rules';

/** The rules to leave out, or the usage problem: the same catalogue check as the server's flag. */
export function readDisableRules(value: unknown): JudgeOptions | string {
  if (value === undefined) return {};
  const parsed = parseRuleList(String(value));
  if (!parsed.ok) return `--disable-rules names rules that do not exist: ${parsed.unknown.map((id) => JSON.stringify(id)).join(', ')}`;
  return { disabledRules: parsed.rules };
}
