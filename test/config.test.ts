import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

const rules = (argv: string[], env: Record<string, string> = {}) => {
  const result = loadConfig(argv, env);
  if (result.ok !== true) throw new Error(`config failed: ${JSON.stringify(result)}`);
  return [...result.config.policy.disabledRules].sort();
};

describe('--disable-rules / DISABLE_RULES', () => {
  it.each<[string, string[], Record<string, string>, string[]]>([
    ['no rule is disabled by default', [], {}, []],
    ['a comma-separated flag', ['--disable-rules', 'manifest-digest, config-size'], {}, ['config-size', 'manifest-digest']],
    ['the environment', [], { DISABLE_RULES: 'reference-digest' }, ['reference-digest']],
    ['the flag over the environment', ['--disable-rules=layers-match-manifest'], { DISABLE_RULES: 'reference-digest' }, ['layers-match-manifest']],
    ['any rule of the catalogue', ['--disable-rules', 'reference-format,immutable-field'], {}, ['immutable-field', 'reference-format']],
    ['empty entries ignored', ['--disable-rules', ',manifest-json,,'], {}, ['manifest-json']],
  ])('%s', (_name, argv, env, want) => {
    expect(rules(argv, env)).toEqual(want);
  });

  it('reports unknown rule ids together with the other configuration errors', () => {
    const result = loadConfig(['--disable-rules', 'manifest-digest,no-such-rule,Manifest-Digest', '--port', 'x'], {});
    expect(result.ok).toBe(false);
    const errors = result.ok === false ? result.errors : [];
    expect(errors).toHaveLength(2);
    expect(errors.join('\n')).toContain('--port');
    expect(errors.find((e) => e.includes('DISABLE_RULES'))).toBe('--disable-rules (DISABLE_RULES) names rules that do not exist: "no-such-rule", "Manifest-Digest"');
  });

  it('checks the environment variable the same way', () => {
    const result = loadConfig([], { DISABLE_RULES: 'nope' });
    expect(result.ok).toBe(false);
  });
});
