/**
 * `image-admission controller`: the in-cluster audit. Parses flags (named as controller-runtime and
 * kube-controller-manager name theirs), loads the kubeconfig as kubectl does, runs until SIGTERM or
 * SIGINT; SIGHUP judges every Image again. Exit 0 after a clean stop, 1 when leadership was lost or
 * the controller could not start (a bind address in use; the Deployment restarts the pod, as
 * controller-runtime's managers exit), 2 on usage errors.
 */
import { readFileSync } from 'node:fs';
import { loadKubeConfig } from '../audit/kubeconfig.js';
import { LOG_FORMATS, type LogFormat } from '../log-format.js';
import { type BindAddress, parseBindAddress } from '../controller/endpoints.js';
import { createLogger, errorText, type Level } from '../controller/log.js';
import { type ControllerConfig, startController } from '../controller/run.js';
import type { CommandIo } from './io.js';
import { type CommandSpec, helpText, parseCommand, usageError } from './args.js';
import { EXPECT_TRUSTED_SIGNATURE_FLAG, readExpectTrustedSignature } from './expect-flag.js';
import { readRuleFlagsOrEnv, RULE_FLAGS_OR_ENV } from './rules-flag.js';
import { readTrustedKeysDir, TRUSTED_KEYS_ENV, TRUSTED_KEYS_FLAG, trustedKeysDirOf } from './trusted-keys-flag.js';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

const SPEC = {
  name: 'controller',
  synopsis: '[flags]',
  description: `Keeps every stored Image judged by the webhook's rules and reports those in violation as
openreports.io ClusterReports, else wgpolicyk8s.io ClusterPolicyReports, else only in metrics and logs
(docs/controller.md). Durations (D) are written 500ms, 15s, 5m or 1h.`,
  flags: {
    kubeconfig: { type: 'string', value: 'FILE', help: 'kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)' },
    context: { type: 'string', value: 'NAME', help: 'kubeconfig context' },
    'leader-elect': { type: 'boolean', help: 'elect one active replica through a Lease (default off)' },
    'leader-elect-resource-name': { type: 'string', value: 'NAME', help: 'the Lease (default image-admission-controller)' },
    'leader-elect-resource-namespace': { type: 'string', value: 'NS', help: "its namespace (default: the pod's own namespace)" },
    'leader-elect-lease-duration': { type: 'string', value: 'D', help: 'how long a Lease holds without renewal (default 15s)' },
    'leader-elect-renew-deadline': { type: 'string', value: 'D', help: 'how long a leader tries to renew before it gives up (default 10s)' },
    'leader-elect-retry-period': { type: 'string', value: 'D', help: 'how often to try to acquire or renew (default 2s)' },
    'metrics-bind-address': { type: 'string', value: 'ADDR', help: '/metrics on HOST:PORT, :PORT, or 0 for off (default :8080)' },
    'health-probe-bind-address': { type: 'string', value: 'ADDR', help: '/healthz and /readyz, likewise (default :8081)' },
    'resync-period': { type: 'string', value: 'D', help: 'judge every Image again this often (default 1h)' },
    'page-size': { type: 'string', value: 'N', help: 'Images per list request (default 500)' },
    'max-held-images': {
      type: 'string',
      value: 'N',
      help: 'most Images from the watch held whole while their signatures are verified; past that only\nthe name is kept and the Image read again (default 16)',
    },
    'report-writes-per-second': { type: 'string', value: 'N', help: 'most report writes a second; 0.5 is one each 2 s (default 5)' },
    'log-level': { type: 'string', value: 'LEVEL', help: 'debug, info, warn, error or silent (default info)' },
    'log-format': { type: 'string', value: 'FORMAT', help: 'json (one object a line, the default) or text (for a terminal)' },
    ...RULE_FLAGS_OR_ENV,
    'rule-actions': { ...RULE_FLAGS_OR_ENV['rule-actions'], help: `${RULE_FLAGS_OR_ENV['rule-actions'].help};\nwarn rules are reported as warn results, off rules not at all` },
    'trusted-keys': TRUSTED_KEYS_FLAG,
    'expect-trusted-signature': EXPECT_TRUSTED_SIGNATURE_FLAG,
    'watch-timeout-seconds': { type: 'string', value: 'N', help: 'a fixed server-side watch timeout, whole seconds (default: random, 5 to 10 minutes)' },
  },
  positionals: 'none',
  footer: `Exit status: 0 after a clean stop (SIGTERM, SIGINT); 1 when leadership was lost or the controller
could not start (a --metrics-bind-address or --health-probe-bind-address in use); 2 usage errors
(and a --trusted-keys directory that cannot be read). A flag wins over its environment variable.
SIGHUP judges every Image again; so does a change in the --trusted-keys directory.`,
} as const satisfies CommandSpec;

type ControllerFlags = (typeof SPEC)['flags'];
/** The flags that take a value: every one but --leader-elect. */
type ValueFlag = { [K in keyof ControllerFlags]: ControllerFlags[K]['type'] extends 'string' ? K : never }[keyof ControllerFlags];

/** Parses 500ms, 15s, 5m, 1h (Go-style, one unit) into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!match) return undefined;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

/** The controller's configuration from its flags, or every problem with them. */
export function readControllerFlags(
  argv: string[],
  readNamespace: () => string | undefined,
  env: NodeJS.ProcessEnv = {},
): { config: ControllerConfig; kubeconfig?: string; context?: string; trustedKeysDir?: string; logLevel: Level | 'silent'; logFormat: LogFormat } | { errors: string[] } | 'help' {
  const parsed = parseCommand(SPEC, argv);
  if (parsed.kind === 'help') return 'help';
  if (parsed.kind === 'usage-error') return { errors: [parsed.problem] };
  const { values } = parsed;
  const errors: string[] = [];
  const textOf = (flag: ValueFlag, fallback: string): string => values[flag] ?? fallback;
  const duration = (flag: ValueFlag, fallback: string, min: number): number => {
    const text = textOf(flag, fallback);
    const ms = parseDuration(text);
    if (ms === undefined || ms < min) errors.push(`--${flag} must be a duration of at least ${min} ms (like 15s), got ${JSON.stringify(text)}`);
    return ms ?? 0;
  };
  // Counts and the watch's timeoutSeconds (an integer query parameter to the API server) are whole
  // numbers; only a rate may be a fraction.
  const WHOLE: readonly ValueFlag[] = ['page-size', 'max-held-images', 'watch-timeout-seconds'];
  const count = (flag: ValueFlag, fallback: string): number => {
    const text = textOf(flag, fallback);
    const n = Number(text);
    const whole = WHOLE.includes(flag);
    if (!Number.isFinite(n) || n <= 0 || (whole && !Number.isInteger(n))) errors.push(`--${flag} must be a positive ${whole ? 'whole ' : ''}number, got ${JSON.stringify(text)}`);
    return n;
  };
  const address = (flag: ValueFlag, fallback: string): BindAddress => {
    const parsed = parseBindAddress(textOf(flag, fallback));
    if (typeof parsed === 'object' && 'problem' in parsed) {
      errors.push(`--${flag} ${parsed.problem}`);
      return 'off';
    }
    return parsed;
  };
  // A flag wins over its variable; an empty variable is none (as serve reads them).
  const rules = readRuleFlagsOrEnv(values, env);
  const trustedKeysDir = trustedKeysDirOf(values['trusted-keys'], env);
  if (typeof rules === 'string') errors.push(rules);
  const scopes = readExpectTrustedSignature(values['expect-trusted-signature'], env);
  if (typeof scopes === 'string') errors.push(scopes);
  const logLevel = textOf('log-level', 'info');
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) errors.push(`--log-level must be debug, info, warn, error or silent, got ${JSON.stringify(logLevel)}`);
  const logFormat = textOf('log-format', 'json');
  if (!LOG_FORMATS.includes(logFormat as LogFormat)) errors.push(`--log-format must be ${LOG_FORMATS.join(' or ')}, got ${JSON.stringify(logFormat)}`);

  const config: ControllerConfig = {
    judge: { ...(typeof rules === 'string' ? {} : rules), ...(typeof scopes === 'string' ? {} : scopes) },
    pageSize: count('page-size', '500'),
    maxHeldImages: count('max-held-images', '16'),
    resyncPeriodMs: duration('resync-period', '1h', 1_000),
    writesPerSecond: count('report-writes-per-second', '5'),
    metricsAddress: address('metrics-bind-address', ':8080'),
    probeAddress: address('health-probe-bind-address', ':8081'),
  };
  if (values['watch-timeout-seconds'] !== undefined) config.watchTimeoutSeconds = count('watch-timeout-seconds', '300');
  if (values['leader-elect']) {
    const namespace = values['leader-elect-resource-namespace'] ?? readNamespace();
    if (!namespace) errors.push('--leader-elect needs --leader-elect-resource-namespace outside a pod');
    const leaseDurationMs = duration('leader-elect-lease-duration', '15s', 1_000);
    const renewDeadlineMs = duration('leader-elect-renew-deadline', '10s', 500);
    const retryPeriodMs = duration('leader-elect-retry-period', '2s', 100);
    // client-go's own checks: a leader must give up before its Lease can be taken from it.
    if (renewDeadlineMs >= leaseDurationMs) errors.push('--leader-elect-renew-deadline must be shorter than --leader-elect-lease-duration');
    if (retryPeriodMs >= renewDeadlineMs) errors.push('--leader-elect-retry-period must be shorter than --leader-elect-renew-deadline');
    config.leaderElection = { namespace: namespace ?? '', name: textOf('leader-elect-resource-name', 'image-admission-controller'), leaseDurationMs, renewDeadlineMs, retryPeriodMs };
  }
  if (errors.length > 0) return { errors };
  return {
    config,
    ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }),
    ...(values.context === undefined ? {} : { context: values.context }),
    ...(trustedKeysDir === undefined ? {} : { trustedKeysDir }),
    logLevel: logLevel as Level | 'silent',
    logFormat: logFormat as LogFormat,
  };
}

function podNamespace(): string | undefined {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Runs the controller until a signal, or until leadership is lost. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const flags = readControllerFlags(argv, podNamespace, io.env);
  if (flags === 'help') {
    io.stdout.write(helpText(SPEC));
    return 0;
  }
  if ('errors' in flags) return usageError(io, SPEC.name, ...flags.errors);
  const log = createLogger(io.stdout, flags.logLevel, flags.logFormat);
  const k8s = await import('@kubernetes/client-node');
  let kubeconfig;
  try {
    kubeconfig = loadKubeConfig(k8s, { ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) }, { env: io.env });
  } catch (error) {
    io.stderr.write(`image-admission controller: ${errorText(error)}\n`);
    return 2;
  }
  if (flags.trustedKeysDir !== undefined) {
    try {
      // Read before starting: a directory that cannot be read must not silently trust nothing.
      flags.config.trustedKeys = { dir: flags.trustedKeysDir, initial: await readTrustedKeysDir(flags.trustedKeysDir) };
    } catch (error) {
      io.stderr.write(`image-admission controller: ${errorText(error)} (--trusted-keys or ${TRUSTED_KEYS_ENV})\n`);
      return 2;
    }
  }
  let controller;
  try {
    controller = await startController(flags.config, kubeconfig, log);
  } catch (error) {
    // An address in use: nothing was started that still runs, so the process exits (and the pod restarts).
    io.stderr.write(`image-admission controller: could not start: ${errorText(error)}\n`);
    return 1;
  }
  log.info('controller started', {
    metrics: controller.endpoints.metricsPort ?? 'off',
    probes: controller.endpoints.probePort ?? 'off',
    leaderElection: flags.config.leaderElection ? `${flags.config.leaderElection.namespace}/${flags.config.leaderElection.name}` : 'off',
  });
  const onHup = () => {
    log.info('SIGHUP: judging every Image again');
    void controller.rescan();
  };
  process.on('SIGHUP', onHup);
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const outcome = await Promise.race([controller.done, signalled]);
  process.off('SIGHUP', onHup);
  if (outcome === 'lost') {
    await controller.stop().catch(() => {});
    return 1;
  }
  log.info('stopping', { signal: outcome });
  await controller.stop();
  log.info('stopped');
  return 0;
}
