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

  it('answers --help', () => {
    expect(loadConfig(['--help'], {})).toEqual({ ok: 'help' });
  });
});
