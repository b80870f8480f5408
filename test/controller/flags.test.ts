/** `image-admission controller`'s flags: controller-runtime's names, every problem reported at once. */
import { describe, expect, it } from 'vitest';
import { parseDuration, readControllerFlags } from '../../src/cli/controller.js';
import { parseBindAddress } from '../../src/controller/endpoints.js';

const noNamespace = () => undefined;

describe('readControllerFlags', () => {
  it('defaults: no leader election, metrics on :8080, probes on :8081, hourly resync', () => {
    const flags = readControllerFlags([], noNamespace);
    expect(flags).toMatchObject({
      config: { pageSize: 500, resyncPeriodMs: 3_600_000, writesPerSecond: 5, metricsAddress: { port: 8080 }, probeAddress: { port: 8081 } },
      logLevel: 'info',
    });
    expect(flags).not.toHaveProperty('config.leaderElection');
  });

  it('reads leader election with kube-controller-manager durations, the namespace from the pod when not given', () => {
    const flags = readControllerFlags(['--leader-elect', '--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '500ms'], () => 'ns');
    expect(flags).toMatchObject({ config: { leaderElection: { namespace: 'ns', name: 'image-admission-controller', leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 } } });
  });

  it('logs JSON by default and text with --log-format text; other formats are refused', () => {
    expect(readControllerFlags([], noNamespace)).toMatchObject({ logFormat: 'json' });
    expect(readControllerFlags(['--log-format', 'text'], noNamespace)).toMatchObject({ logFormat: 'text' });
    expect(readControllerFlags(['--log-format', 'xml'], noNamespace)).toEqual({ errors: ['--log-format must be json or text, got "xml"'] });
  });

  it('holds at most 16 watched Images whole by default; --max-held-images sets it, a whole number above 0', () => {
    expect(readControllerFlags([], noNamespace)).toMatchObject({ config: { maxHeldImages: 16 } });
    expect(readControllerFlags(['--max-held-images', '2'], noNamespace)).toMatchObject({ config: { maxHeldImages: 2 } });
    for (const bad of ['0', '1.5', 'many']) {
      expect(readControllerFlags(['--max-held-images', bad], noNamespace)).toEqual({ errors: [`--max-held-images must be a positive whole number, got ${JSON.stringify(bad)}`] });
    }
  });

  it('reads --expect-trusted-signature, else EXPECT_TRUSTED_SIGNATURE as serve does; a bad scope is a usage error', () => {
    const env = { EXPECT_TRUSTED_SIGNATURE: 'registry.example.com/prod' };
    expect(readControllerFlags([], noNamespace, env)).toMatchObject({ config: { judge: { expectTrustedSignature: ['registry.example.com/prod'] } } });
    expect(readControllerFlags(['--expect-trusted-signature', 'quay.io/team'], noNamespace, env)).toMatchObject({ config: { judge: { expectTrustedSignature: ['quay.io/team'] } } });
    expect(readControllerFlags([], noNamespace, { EXPECT_TRUSTED_SIGNATURE: '' })).not.toHaveProperty('config.judge.expectTrustedSignature');
    const bad = readControllerFlags(['--expect-trusted-signature', 'UPPER CASE/x'], noNamespace);
    expect(bad).toEqual({ errors: [expect.stringMatching(/^--expect-trusted-signature: /)] });
  });

  it('reports every bad flag at once', () => {
    const flags = readControllerFlags(
      ['--leader-elect', '--leader-elect-renew-deadline', '20s', '--page-size', '0', '--metrics-bind-address', 'nowhere', '--disable-rules', 'no-such-rule', '--log-level', 'loud'],
      noNamespace,
    );
    expect(flags).toEqual({
      errors: [
        '--disable-rules (DISABLE_RULES) names rules that do not exist: "no-such-rule"',
        '--log-level must be debug, info, warn, error or silent, got "loud"',
        '--page-size must be a positive whole number, got "0"',
        '--metrics-bind-address must be HOST:PORT, :PORT or 0, got "nowhere"',
        '--leader-elect needs --leader-elect-resource-namespace outside a pod',
        '--leader-elect-renew-deadline must be shorter than --leader-elect-lease-duration',
      ],
    });
  });

  it('reads the disabled rules and the key directory from the environment serve reads them from; a flag wins', () => {
    const env = { DISABLE_RULES: 'layer-size', TRUSTED_KEYS_DIR: '/etc/image-admission/keys' };
    expect(readControllerFlags([], noNamespace, env)).toMatchObject({ config: { judge: { disabledRules: new Set(['layer-size']) } }, trustedKeysDir: '/etc/image-admission/keys' });
    const flags = readControllerFlags(['--disable-rules', 'signature-verified', '--trusted-keys', '/keys'], noNamespace, env);
    expect(flags).toMatchObject({ config: { judge: { disabledRules: new Set(['signature-verified']) } }, trustedKeysDir: '/keys' });
    // Neither: every rule, and no key trusted.
    const none = readControllerFlags([], noNamespace, { DISABLE_RULES: '', TRUSTED_KEYS_DIR: '' });
    expect(none).toMatchObject({ config: { judge: {} } });
    expect(none).not.toHaveProperty('trustedKeysDir');
    expect(none).not.toHaveProperty('config.judge.disabledRules');
    expect(readControllerFlags([], noNamespace, { DISABLE_RULES: 'no-such-rule' })).toEqual({ errors: ['--disable-rules (DISABLE_RULES) names rules that do not exist: "no-such-rule"'] });
    // Per-rule actions too, as serve's RULE_ACTIONS.
    expect(readControllerFlags([], noNamespace, { RULE_ACTIONS: 'layer-size=warn' })).toMatchObject({ config: { judge: { ruleActions: new Map([['layer-size', 'warn']]) } } });
    expect(readControllerFlags(['--rule-actions', 'layer-size=off'], noNamespace, { RULE_ACTIONS: 'layer-size=warn' })).toMatchObject({ config: { judge: { ruleActions: new Map([['layer-size', 'off']]) } } });
  });

  it('takes a report write rate below one a second; a watch timeout only in whole seconds (the API server parses an integer)', () => {
    expect(readControllerFlags(['--report-writes-per-second', '0.5'], noNamespace)).toMatchObject({ config: { writesPerSecond: 0.5 } });
    expect(readControllerFlags(['--report-writes-per-second', '0'], noNamespace)).toEqual({ errors: ['--report-writes-per-second must be a positive number, got "0"'] });
    expect(readControllerFlags(['--watch-timeout-seconds', '30'], noNamespace)).toMatchObject({ config: { watchTimeoutSeconds: 30 } });
    for (const bad of ['1.5', '0', 'soon']) {
      expect(readControllerFlags(['--watch-timeout-seconds', bad], noNamespace)).toEqual({ errors: [`--watch-timeout-seconds must be a positive whole number, got ${JSON.stringify(bad)}`] });
    }
  });

  it('refuses unknown flags and arguments', () => {
    expect(readControllerFlags(['--leader-elec'], noNamespace)).toHaveProperty('errors');
    expect(readControllerFlags(['extra'], noNamespace)).toHaveProperty('errors');
  });
});

describe('parseDuration and parseBindAddress', () => {
  it.each([
    ['500ms', 500],
    ['15s', 15_000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
    ['15', undefined],
    ['1h30m', undefined],
    ['-1s', undefined],
  ])('%s -> %s', (text, want) => {
    expect(parseDuration(text)).toBe(want);
  });

  it.each([
    [':8080', { port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:9090', { host: '::1', port: 9090 }],
    ['0', 'off'],
  ])('%s', (text, want) => {
    expect(parseBindAddress(text)).toEqual(want);
  });

  it.each(['8080', ':99999', 'host:', ''])('%s is refused', (text) => {
    expect(parseBindAddress(text)).toEqual({ problem: expect.stringMatching(/^must be HOST:PORT, :PORT or 0, got /) });
  });

  it('0 turns the metrics and the probe endpoints off, as controller-runtime reads it', () => {
    expect(readControllerFlags(['--metrics-bind-address', '0', '--health-probe-bind-address', '0'], noNamespace)).toMatchObject({
      config: { metricsAddress: 'off', probeAddress: 'off' },
    });
  });
});
