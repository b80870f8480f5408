import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has production defaults', () => {
    const result = loadConfig([], {});
    expect(result).toMatchObject({
      ok: true,
      config: { host: '0.0.0.0', port: 8443, tlsCertFile: 'certs/tls.crt', tlsKeyFile: 'certs/tls.key', tlsDefaultPaths: true, logLevel: 'info', policy: { mode: 'enforce' } },
    });
  });

  it('reads the environment, and flags win over it', () => {
    const result = loadConfig(['--port', '9443', '--mode=warn'], { PORT: '1234', MODE: 'dry-run', EXEMPT_USERS: 'a, b,', EXEMPT_GROUPS: 'ops', LOG_LEVEL: 'debug' });
    expect(result.ok).toBe(true);
    if (result.ok !== true) return;
    expect(result.config.port).toBe(9443);
    expect(result.config.policy.mode).toBe('warn');
    expect([...result.config.policy.exemptUsers]).toEqual(['a', 'b']);
    expect([...result.config.policy.exemptGroups]).toEqual(['ops']);
    expect(result.config.logLevel).toBe('debug');
  });

  it('never generates certificates for paths given explicitly', () => {
    const viaFlag = loadConfig(['--tls-cert', '/etc/tls/tls.crt'], {});
    const viaEnv = loadConfig([], { TLS_KEY_FILE: '/etc/tls/tls.key' });
    expect(viaFlag.ok === true && viaFlag.config.tlsDefaultPaths).toBe(false);
    expect(viaEnv.ok === true && viaEnv.config.tlsDefaultPaths).toBe(false);
  });

  it('reports every bad value at once', () => {
    const result = loadConfig(['--port', 'http', '--mode', 'strict', '--log-level=loud', '--colour', 'extra'], {});
    expect(result.ok).toBe(false);
    if (result.ok !== false) return;
    expect(result.errors).toHaveLength(5);
    expect(result.errors.join('\n')).toMatch(/--port.*"http"[\s\S]*--mode.*"strict"[\s\S]*--log-level.*"loud"/);
    expect(result.errors).toContain('unknown flag --colour');
    expect(result.errors).toContain('unexpected argument "extra"');
  });

  it('logs JSON by default, text with --log-format text or LOG_FORMAT=text, and refuses other formats', () => {
    const json = loadConfig([], {});
    expect(json.ok === true && json.config.logFormat).toBe('json');
    const text = loadConfig(['--log-format', 'text'], {});
    expect(text.ok === true && text.config.logFormat).toBe('text');
    const env = loadConfig([], { LOG_FORMAT: 'text' });
    expect(env.ok === true && env.config.logFormat).toBe('text');
    const bad = loadConfig(['--log-format', 'pretty'], {});
    expect(bad.ok === false && bad.errors).toEqual(['--log-format (LOG_FORMAT) must be one of json, text, got "pretty"']);
  });

  it('answers --help', () => {
    expect(loadConfig(['--help'], {})).toEqual({ ok: 'help' });
  });
});


const rules = (argv: string[], env: Record<string, string> = {}) => {
  const result = loadConfig(argv, env);
  if (result.ok !== true) throw new Error(`config failed: ${JSON.stringify(result)}`);
  return [...(result.config.policy.disabledRules ?? [])].sort();
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

describe('--rule-actions / RULE_ACTIONS', () => {
  const actions = (argv: string[], env: Record<string, string> = {}) => {
    const result = loadConfig(argv, env);
    if (!result.ok || result.ok === 'help') throw new Error(JSON.stringify(result));
    return Object.fromEntries(result.config.policy.ruleActions ?? []);
  };

  it.each<[string, string[], Record<string, string>, Record<string, string>]>([
    ['none by default', [], {}, {}],
    ['RULE=ACTION pairs, spaces allowed', ['--rule-actions', 'manifest-digest=warn, reference-digest=deny'], {}, { 'manifest-digest': 'warn', 'reference-digest': 'deny' }],
    ['the environment', [], { RULE_ACTIONS: 'layer-size=off' }, { 'layer-size': 'off' }],
    ['the flag over the environment', ['--rule-actions=layer-name=warn'], { RULE_ACTIONS: 'layer-size=off' }, { 'layer-name': 'warn' }],
  ])('%s', (_name, argv, env, want) => {
    expect(actions(argv, env)).toEqual(want);
  });

  it('reports every bad entry at once, with the other configuration errors', () => {
    const result = loadConfig(['--rule-actions', 'no-such-rule=warn,layer-size=block,layer-name,layer-size=warn,layer-size=deny', '--mode', 'x'], {});
    expect(result.ok).toBe(false);
    const errors = result.ok === false ? result.errors : [];
    expect(errors.filter((e) => e.startsWith('--rule-actions'))).toEqual([
      '--rule-actions (RULE_ACTIONS): "no-such-rule" is not a rule (image-admission rules lists them)',
      '--rule-actions (RULE_ACTIONS): layer-size="block": the action must be one of deny, warn, off',
      '--rule-actions (RULE_ACTIONS): "layer-name" is not RULE=ACTION',
      '--rule-actions (RULE_ACTIONS): layer-size is given twice',
    ]);
    expect(errors.join('\n')).toContain('--mode');
  });

  it('refuses a rule both disabled and given an action other than off', () => {
    const result = loadConfig(['--rule-actions', 'layer-size=deny', '--disable-rules', 'layer-size'], {});
    expect(result.ok === false ? result.errors : []).toEqual(['--rule-actions (RULE_ACTIONS) sets layer-size=deny but --disable-rules (DISABLE_RULES) turns it off: say one']);
  });
});

describe('--expect-trusted-signature / EXPECT_TRUSTED_SIGNATURE', () => {
  const scopes = (argv: string[], env: Record<string, string> = {}) => {
    const result = loadConfig(argv, env);
    if (!result.ok || result.ok === 'help') throw new Error(JSON.stringify(result));
    return result.config.policy.expectTrustedSignature;
  };

  it.each<[string, string[], Record<string, string>, string[] | undefined]>([
    ['none by default', [], {}, undefined],
    ['repository prefixes, normalised as identities are', ['--expect-trusted-signature', 'quay.io/example/, ubuntu,library/busybox'], {}, ['quay.io/example', 'docker.io/library/ubuntu', 'docker.io/library/busybox']],
    ['a bare registry host stays a host', ['--expect-trusted-signature=registry.example.com:5000,quay.io,index.docker.io'], {}, ['registry.example.com:5000', 'quay.io', 'docker.io']],
    ['the environment', [], { EXPECT_TRUSTED_SIGNATURE: 'quay.io/example' }, ['quay.io/example']],
    ['the flag over the environment', ['--expect-trusted-signature', 'quay.io/a'], { EXPECT_TRUSTED_SIGNATURE: 'quay.io/b' }, ['quay.io/a']],
  ])('%s', (_name, argv, env, want) => {
    expect(scopes(argv, env)).toEqual(want);
  });

  it('reports every entry that is not a repository prefix, with the other errors', () => {
    const result = loadConfig(['--expect-trusted-signature', 'quay.io/example:latest,Quay.io/UPPER/x,quay.io/ok', '--mode', 'x'], {});
    const errors = result.ok === false ? result.errors : [];
    expect(errors.filter((e) => e.startsWith('--expect-trusted-signature'))).toEqual([
      '--expect-trusted-signature (EXPECT_TRUSTED_SIGNATURE): "quay.io/example:latest" names a tag or digest; a scope is a repository prefix',
      '--expect-trusted-signature (EXPECT_TRUSTED_SIGNATURE): "Quay.io/UPPER/x" is not a repository prefix: repository name must be lowercase',
    ]);
    expect(errors.join('\n')).toContain('--mode');
  });

  it('its rule can be turned off or made to warn, but never to deny', () => {
    expect(loadConfig(['--rule-actions', 'trusted-signature-expected=off'], {}).ok).toBe(true);
    const result = loadConfig(['--rule-actions', 'trusted-signature-expected=deny'], {});
    expect(result.ok === false ? result.errors : []).toEqual([
      '--rule-actions (RULE_ACTIONS): trusted-signature-expected=deny: this rule only warns (a policy being rolled out, never a reason to refuse an Image)',
    ]);
  });
});

describe('loadConfig: operations settings', () => {
  it('has defaults that fit a 10 s preStop sleep and a 30 s grace period', () => {
    const result = loadConfig([], {});
    expect(result).toMatchObject({
      ok: true,
      config: {
        limits: { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, maxConnections: 1000, maxConnectionsPerSource: 600, memoryLimitBytes: 512 * 1024 * 1024 },
        shutdown: { drainMs: 5_000, timeoutMs: 10_000 },
        healthProbe: { host: '0.0.0.0', port: 8081 },
        tls: { minVersion: 'VersionTLS12' },
      },
    });
    expect(result.ok === true && result.config.clientCaFile).toBeUndefined();
  });

  it('takes the memory limit from the cgroup when MEMORY_LIMIT is not set, and from MEMORY_LIMIT over it', () => {
    const fromCgroup = loadConfig([], {}, () => 512 * 1024 * 1024);
    expect(fromCgroup.ok === true && fromCgroup.config.limits?.memoryLimitBytes).toBe(512 * 1024 * 1024);
    const fromEnv = loadConfig([], { MEMORY_LIMIT: '402653184' }, () => 512 * 1024 * 1024);
    expect(fromEnv.ok === true && fromEnv.config.limits?.memoryLimitBytes).toBe(384 * 1024 * 1024);
    const fromFlag = loadConfig(['--memory-limit', '1Gi'], {});
    expect(fromFlag.ok === true && fromFlag.config.limits?.memoryLimitBytes).toBe(1024 ** 3);
  });

  it.each([
    ['127.0.0.1:9090', { host: '127.0.0.1', port: 9090 }],
    [':8081', { host: '0.0.0.0', port: 8081 }],
    ['[::1]:8081', { host: '::1', port: 8081 }],
    ['0', null],
  ])('reads --health-probe-bind-address %s', (text, want) => {
    const result = loadConfig(['--health-probe-bind-address', text], {});
    expect(result.ok === true && result.config.healthProbe).toEqual(want);
  });

  it('reads every setting from flags and the environment', () => {
    const result = loadConfig(['--shutdown-drain-seconds', '2.5', '--client-ca', '/etc/ca.crt'], {
      SHUTDOWN_TIMEOUT_SECONDS: '20',
      REQUEST_TIMEOUT_SECONDS: '15',
      HEADERS_TIMEOUT_SECONDS: '5',
      MAX_CONNECTIONS: '64',
    });
    expect(result).toMatchObject({
      ok: true,
      config: { clientCaFile: '/etc/ca.crt', limits: { requestTimeoutMs: 15_000, headersTimeoutMs: 5_000, maxConnections: 64 }, shutdown: { drainMs: 2_500, timeoutMs: 20_000 } },
    });
  });

  it('reports every bad value at once', () => {
    const result = loadConfig(
      [
        ...['--shutdown-drain-seconds', '-1', '--max-connections', '0', '--headers-timeout-seconds', '60', '--request-timeout-seconds', 'x'],
        ...['--max-connections-per-source', '-3', '--memory-limit', '64Mi', '--health-probe-bind-address', 'localhost', '--tls-min-version', 'VersionTLS10'],
      ],
      {},
    );
    expect(result.ok).toBe(false);
    if (result.ok !== false) return;
    expect(result.errors).toEqual([
      '--request-timeout-seconds (REQUEST_TIMEOUT_SECONDS) must be a number of seconds from 0.1 to 300, got "x"',
      '--shutdown-drain-seconds (SHUTDOWN_DRAIN_SECONDS) must be a number of seconds from 0 to 600, got "-1"',
      '--max-connections (MAX_CONNECTIONS) must be a positive integer, got "0"',
      '--max-connections-per-source (MAX_CONNECTIONS_PER_SOURCE) must be a positive integer, got "-3"',
      '--memory-limit (MEMORY_LIMIT) must be a byte count of at least 128Mi (as 402653184 or 384Mi), got "64Mi"',
      '--health-probe-bind-address (HEALTH_PROBE_BIND_ADDRESS) must be [host]:port or "0", got "localhost"',
      '--tls-min-version (TLS_MIN_VERSION) must be one of VersionTLS12, VersionTLS13, got "VersionTLS10"',
    ]);
  });

  it('takes TLS 1.2 cipher suites by IANA name and refuses any that is not forward-secret AEAD', () => {
    const chosen = loadConfig(['--tls-cipher-suites', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'], {});
    expect(chosen.ok === true && chosen.config.tls?.cipherSuites).toEqual(['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256']);
    const weak = loadConfig([], { TLS_CIPHER_SUITES: 'TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' });
    expect(weak.ok).toBe(false);
    expect(weak.ok === false && weak.errors[0]).toMatch(
      /^--tls-cipher-suites \(TLS_CIPHER_SUITES\) names suites that are not forward-secret AEAD TLS 1.2 suites \(or not IANA names\): "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"; accepted: /,
    );
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    const result = loadConfig(['--headers-timeout-seconds', '40'], {});
    expect(result).toEqual({ ok: false, errors: ['--headers-timeout-seconds must not exceed --request-timeout-seconds'] });
  });
});
