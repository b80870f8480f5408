/**
 * The server's configuration, read once from flags and environment (flags win) and validated with
 * every bad value reported at once. Nothing else reads process.env.
 */
import { parseArgs } from 'node:util';
import { MODES, type Mode, type Policy } from './admission/policy.js';
import type { ServerLimits } from './http/limits.js';
import { DEFAULT_TLS_POLICY, parseCipherSuites, TLS_VERSIONS, type TlsPolicy, type TlsVersionName } from './http/tls-policy.js';
import { parseRuleFlags } from './image/index.js';
import { LOG_FORMATS, type LogFormat } from './log-format.js';
import { parseRepositoryScopes } from './signature/index.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where the serving certificate is read when no path is given; `serve` generates it there if missing. */
export const DEFAULT_CERT_DIR = 'certs';
const DEFAULT_TLS_CERT = `${DEFAULT_CERT_DIR}/tls.crt`;
const DEFAULT_TLS_KEY = `${DEFAULT_CERT_DIR}/tls.key`;

/** The validated configuration of `image-admission serve`. */
export interface Config {
  host: string;
  port: number;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** True when neither certificate path was given: only then may development certificates be generated. */
  tlsDefaultPaths: boolean;
  policy: Policy;
  logLevel: LogLevel;
  /** json (one object a line, the default) or text (for a terminal); json when omitted. */
  logFormat?: LogFormat;
  /** PEM bundle of CAs that sign client certificates; when set, reviews need a verified client certificate. */
  clientCaFile?: string;
  /** Directory of trusted signing keys; none trusted when absent. */
  trustedKeysDir?: string;
  /** Omitted (wholly or in part) by callers that build a Config by hand (tests): DEFAULT_LIMITS fill in. */
  limits?: Partial<ServerLimits>;
  /** TLS versions and TLS 1.2 suites; DEFAULT_TLS_POLICY when omitted. */
  tls?: TlsPolicy;
  /**
   * Where /healthz and /readyz are served over plain HTTP, apart from the webhook port, so that a
   * flood on the webhook port cannot starve the kubelet's probes; `null` serves them on the webhook
   * port only. Omitted by callers that build a Config by hand (tests): null.
   */
  healthProbe?: { host: string; port: number } | null;
  /** Omitted by callers that build a Config by hand (tests): DEFAULT_SHUTDOWN applies. */
  shutdown?: ShutdownTimes;
}

/** The manifests' default; taken when neither MEMORY_LIMIT nor a cgroup limit says otherwise. */
const DEFAULT_MEMORY_LIMIT = '512Mi';
export const DEFAULT_SHUTDOWN: ShutdownTimes = { drainMs: 5_000, timeoutMs: 10_000 };

/** The shutdown sequence on SIGTERM (see docs/operations.md for how it fits Kubernetes' grace period). */
export interface ShutdownTimes {
  /** Not ready but still serving, while the pod's endpoints are removed. */
  drainMs: number;
  /** After the drain: the most time in-flight reviews get before connections are cut. */
  timeoutMs: number;
}

interface Option {
  flag: string;
  env: string;
  help: string;
  fallback: string;
}

/** The flags of `serve`, each with its environment variable and default. */
export const SERVE_OPTIONS: readonly Option[] = [
  { flag: 'host', env: 'HOST', help: 'address to listen on', fallback: '0.0.0.0' },
  { flag: 'port', env: 'PORT', help: 'TCP port for HTTPS', fallback: '8443' },
  { flag: 'tls-cert', env: 'TLS_CERT_FILE', help: 'PEM serving certificate (reloaded when it changes)', fallback: DEFAULT_TLS_CERT },
  { flag: 'tls-key', env: 'TLS_KEY_FILE', help: 'PEM private key of the serving certificate', fallback: DEFAULT_TLS_KEY },
  { flag: 'mode', env: 'MODE', help: `enforcement mode: ${MODES.join(', ')}`, fallback: 'enforce' },
  { flag: 'exempt-users', env: 'EXEMPT_USERS', help: 'comma-separated user names whose writes are allowed with a warning', fallback: '' },
  { flag: 'exempt-groups', env: 'EXEMPT_GROUPS', help: 'comma-separated groups whose writes are allowed with a warning', fallback: '' },
  { flag: 'disable-rules', env: 'DISABLE_RULES', help: 'comma-separated rule ids to turn off (any rule of the catalogue)', fallback: '' },
  { flag: 'rule-actions', env: 'RULE_ACTIONS', help: 'RULE=deny|warn|off,...: per-rule actions over the mode (deny even in warn mode, warn even in enforce mode)', fallback: '' },
  { flag: 'log-level', env: 'LOG_LEVEL', help: `log level: ${LOG_LEVELS.join(', ')}`, fallback: 'info' },
  { flag: 'log-format', env: 'LOG_FORMAT', help: 'log format: json (one object a line, for log collectors) or text (for a terminal)', fallback: 'json' },
  { flag: 'client-ca', env: 'CLIENT_CA_FILE', help: 'PEM CA bundle: require reviews to come with a client certificate it signed (mTLS)', fallback: '' },
  {
    flag: 'trusted-keys',
    env: 'TRUSTED_KEYS_DIR',
    help: 'directory of OpenPGP public keys (armored or binary) trusted for image signatures, reloaded when it changes; without it no signature is trusted',
    fallback: '',
  },
  {
    flag: 'expect-trusted-signature',
    env: 'EXPECT_TRUSTED_SIGNATURE',
    help: 'comma-separated repository prefixes (quay.io/example, registry.example.com) whose Images should carry a trusted signature: those without one get a warning and an audit annotation, never a denial',
    fallback: '',
  },
  { flag: 'request-timeout-seconds', env: 'REQUEST_TIMEOUT_SECONDS', help: 'time a client has to send a whole request', fallback: '30' },
  { flag: 'headers-timeout-seconds', env: 'HEADERS_TIMEOUT_SECONDS', help: 'time a client has to send the request headers (and finish the TLS handshake)', fallback: '10' },
  { flag: 'max-connections', env: 'MAX_CONNECTIONS', help: 'open connections beyond this are refused', fallback: '1000' },
  {
    flag: 'max-connections-per-source',
    env: 'MAX_CONNECTIONS_PER_SOURCE',
    help: 'open connections from one source address beyond this are refused (at least one API server\'s concurrency)',
    fallback: '600',
  },
  {
    flag: 'memory-limit',
    env: 'MEMORY_LIMIT',
    help: `the container's memory limit (bytes, or with Ki/Mi/Gi); empty: the cgroup's limit, else ${DEFAULT_MEMORY_LIMIT}`,
    fallback: '',
  },
  { flag: 'health-probe-bind-address', env: 'HEALTH_PROBE_BIND_ADDRESS', help: 'plain-HTTP address of /healthz and /readyz ("0" turns it off)', fallback: ':8081' },
  { flag: 'tls-min-version', env: 'TLS_MIN_VERSION', help: `minimum TLS version: ${Object.keys(TLS_VERSIONS).join(', ')}`, fallback: DEFAULT_TLS_POLICY.minVersion },
  { flag: 'tls-cipher-suites', env: 'TLS_CIPHER_SUITES', help: 'comma-separated IANA names of the TLS 1.2 cipher suites (forward-secret AEAD only)', fallback: DEFAULT_TLS_POLICY.cipherSuites.join(',') },
  { flag: 'shutdown-drain-seconds', env: 'SHUTDOWN_DRAIN_SECONDS', help: 'after SIGTERM, keep serving (not ready) this long while endpoints are removed', fallback: '5' },
  { flag: 'shutdown-timeout-seconds', env: 'SHUTDOWN_TIMEOUT_SECONDS', help: 'after the drain, time in-flight reviews get before connections are cut', fallback: '10' },
];

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] } | { ok: 'help' };

/** Reads `serve`'s flags and environment into a Config, or lists every problem. */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cgroupMemoryLimit: () => number | undefined = () => undefined,
): ConfigResult {
  const errors: string[] = [];
  const options = Object.fromEntries([
    ...SERVE_OPTIONS.map((o) => [o.flag, { type: 'string' as const }]),
    ['help', { type: 'boolean' as const, short: 'h' }],
  ]);
  const { values, positionals, tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  if (values.help === true) return { ok: 'help' };
  for (const token of tokens) {
    if (token.kind === 'option' && !(token.name in options)) errors.push(`unknown flag --${token.name}`);
    if (token.kind === 'option' && token.name in options && token.name !== 'help' && token.value === undefined) {
      errors.push(`--${token.name} needs a value`);
    }
  }
  if (positionals.length > 0) errors.push(`unexpected argument ${JSON.stringify(positionals[0])}`);

  const given = (o: Option): string | undefined => {
    const flag = values[o.flag];
    if (typeof flag === 'string') return flag;
    const fromEnv = env[o.env];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const read = (flag: string): string => {
    const option = SERVE_OPTIONS.find((o) => o.flag === flag)!;
    return given(option) ?? option.fallback;
  };

  const port = Number(read('port'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) errors.push(`--port (PORT) must be an integer from 0 to 65535, got ${JSON.stringify(read('port'))}`);
  const mode = read('mode');
  if (!MODES.includes(mode as Mode)) errors.push(`--mode (MODE) must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  const logLevel = read('log-level');
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) errors.push(`--log-level (LOG_LEVEL) must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  const logFormat = read('log-format');
  if (!LOG_FORMATS.includes(logFormat as LogFormat)) errors.push(`--log-format (LOG_FORMAT) must be one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(logFormat)}`);
  const ruleFlags = parseRuleFlags({ 'disable-rules': read('disable-rules'), 'rule-actions': read('rule-actions') }, (flag) => `--${flag} (${SERVE_OPTIONS.find((o) => o.flag === flag)!.env})`);
  if (!ruleFlags.ok) errors.push(...ruleFlags.problems);
  const host = read('host');
  if (host.trim() === '') errors.push('--host (HOST) must not be empty');

  const seconds = (flag: string, env: string, min: number, max: number): number => {
    const text = read(flag);
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
      errors.push(`--${flag} (${env}) must be a number of seconds from ${min} to ${max}, got ${JSON.stringify(text)}`);
      return NaN;
    }
    return Math.round(value * 1000);
  };
  // Node refuses a request timeout shorter than the headers timeout; the API server waits at most 30 s.
  const requestTimeoutMs = seconds('request-timeout-seconds', 'REQUEST_TIMEOUT_SECONDS', 0.1, 300);
  const headersTimeoutMs = seconds('headers-timeout-seconds', 'HEADERS_TIMEOUT_SECONDS', 0.1, 300);
  if (headersTimeoutMs > requestTimeoutMs) errors.push('--headers-timeout-seconds must not exceed --request-timeout-seconds');
  const drainMs = seconds('shutdown-drain-seconds', 'SHUTDOWN_DRAIN_SECONDS', 0, 600);
  const shutdownTimeoutMs = seconds('shutdown-timeout-seconds', 'SHUTDOWN_TIMEOUT_SECONDS', 0.1, 600);
  const count = (flag: string, env: string): number => {
    const value = Number(read(flag));
    if (!Number.isInteger(value) || value < 1) errors.push(`--${flag} (${env}) must be a positive integer, got ${JSON.stringify(read(flag))}`);
    return value;
  };
  const maxConnections = count('max-connections', 'MAX_CONNECTIONS');
  const maxConnectionsPerSource = count('max-connections-per-source', 'MAX_CONNECTIONS_PER_SOURCE');
  const memoryText = read('memory-limit');
  const memoryLimitBytes = memoryText === '' ? (cgroupMemoryLimit() ?? parseQuantity(DEFAULT_MEMORY_LIMIT)!) : parseQuantity(memoryText);
  if (memoryLimitBytes === undefined || memoryLimitBytes < MIN_MEMORY_LIMIT) {
    errors.push(`--memory-limit (MEMORY_LIMIT) must be a byte count of at least 128Mi (as 402653184 or 384Mi), got ${JSON.stringify(memoryText)}`);
  }
  const healthText = read('health-probe-bind-address');
  const healthProbe = healthText === '0' ? null : parseBindAddress(healthText);
  if (healthProbe === undefined) {
    errors.push(`--health-probe-bind-address (HEALTH_PROBE_BIND_ADDRESS) must be [host]:port or "0", got ${JSON.stringify(healthText)}`);
  }
  const minVersion = read('tls-min-version');
  if (!Object.hasOwn(TLS_VERSIONS, minVersion)) {
    errors.push(`--tls-min-version (TLS_MIN_VERSION) must be one of ${Object.keys(TLS_VERSIONS).join(', ')}, got ${JSON.stringify(minVersion)}`);
  }
  const suites = parseCipherSuites(read('tls-cipher-suites'));
  if (!suites.ok) errors.push(`--tls-cipher-suites (TLS_CIPHER_SUITES) ${suites.problem}`);
  const clientCaFile = read('client-ca');
  const trustedKeysDir = read('trusted-keys');
  const scopes = parseRepositoryScopes(read('expect-trusted-signature'));
  if (!scopes.ok) for (const problem of scopes.problems) errors.push(`--expect-trusted-signature (EXPECT_TRUSTED_SIGNATURE): ${problem}`);

  const certOption = SERVE_OPTIONS.find((o) => o.flag === 'tls-cert')!;
  const keyOption = SERVE_OPTIONS.find((o) => o.flag === 'tls-key')!;
  const tlsDefaultPaths = given(certOption) === undefined && given(keyOption) === undefined;

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      host,
      port,
      tlsCertFile: read('tls-cert'),
      tlsKeyFile: read('tls-key'),
      tlsDefaultPaths,
      policy: {
        mode: mode as Mode,
        exemptUsers: commaSet(read('exempt-users')),
        exemptGroups: commaSet(read('exempt-groups')),
        ...(ruleFlags.ok ? ruleFlags.options : {}),
        ...(scopes.ok && scopes.scopes.length > 0 ? { expectTrustedSignature: scopes.scopes } : {}),
      },
      logLevel: logLevel as LogLevel,
      logFormat: logFormat as LogFormat,
      ...(clientCaFile === '' ? {} : { clientCaFile }),
      ...(trustedKeysDir === '' ? {} : { trustedKeysDir }),
      limits: { requestTimeoutMs, headersTimeoutMs, maxConnections, maxConnectionsPerSource, memoryLimitBytes: memoryLimitBytes! },
      tls: { minVersion: minVersion as TlsVersionName, cipherSuites: suites.ok ? suites.suites : [] },
      healthProbe: healthProbe ?? null,
      shutdown: { drainMs, timeoutMs: shutdownTimeoutMs },
    },
  };
}

/** Below this the idle process and one review at the body limit do not fit (docs/operations.md). */
const MIN_MEMORY_LIMIT = 128 * 1024 * 1024;

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** A Kubernetes memory quantity (`402653184`, `384Mi`, `1G`) in bytes, or undefined. */
function parseQuantity(text: string): number | undefined {
  const match = /^(\d+)(k|M|G|Ki|Mi|Gi)?$/.exec(text.trim());
  if (!match) return undefined;
  const bytes = Number(match[1]) * UNITS[match[2] ?? '']!;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `host:port`, `:port` (every address) or `[v6]:port`, as Go's net.Listen takes it; undefined if not one. */
function parseBindAddress(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: match[1] ?? (match[2] === '' ? '0.0.0.0' : match[2]!), port };
}

function commaSet(list: string): ReadonlySet<string> {
  return new Set(list.split(',').map((s) => s.trim()).filter((s) => s !== ''));
}
