/**
 * `image-admission certs`: creates development certificates when missing, renews the serving
 * certificate when it nears expiry, or regenerates everything with --force. Prints paths, never keys.
 */
import { readFile } from 'node:fs/promises';
import { generateCertificates } from '../certs/generate.js';
import {
  certificatePaths,
  certificateExpiry,
  ensureDevelopmentCertificates,
  reissueForNames,
  renewServingCertificate,
  writeCertificates,
} from '../certs/files.js';
import { type CommandSpec, readCommand, usageError } from './args.js';
import type { CommandIo } from './io.js';

const SPEC = {
  name: 'certs',
  synopsis: '[flags]',
  description: `Creates a development CA and serving certificate (ca.crt, ca.key, tls.crt, tls.key) when missing,
and re-issues tls.crt/tls.key from the same CA when they expire soon or lack the names of --service
and --namespace (the CA is kept, so the webhook configurations' caBundle stays valid). --force
replaces the CA too.`,
  flags: {
    out: { type: 'string', value: 'DIR', help: 'folder for the files (default: certs)' },
    service: { type: 'string', value: 'NAME', help: 'Service name (default: image-admission-webhook)' },
    namespace: { type: 'string', value: 'NS', help: 'Service namespace (default: image-admission)' },
    days: { type: 'string', value: 'N', help: 'serving certificate lifetime in days (default: 365)' },
    'renew-within-days': { type: 'string', value: 'N', help: 'renew when the serving certificate expires within N days (default: 30)' },
    force: { type: 'boolean', help: 'regenerate the CA and the serving certificate' },
  },
  positionals: 'none',
} as const satisfies CommandSpec;

/** Runs the `certs` subcommand; exit code 0 on success, 2 on bad flags. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const command = readCommand(SPEC, argv, io);
  if ('exit' in command) return command.exit;
  const values = {
    out: command.values.out ?? 'certs',
    service: command.values.service ?? 'image-admission-webhook',
    namespace: command.values.namespace ?? 'image-admission',
    days: command.values.days ?? '365',
    'renew-within-days': command.values['renew-within-days'] ?? '30',
    force: command.values.force === true,
  };
  const days = parseCount(values.days, 1);
  const renewWithinDays = parseCount(values['renew-within-days'], 0);
  const problems = [
    days === undefined ? `--days must be a whole number of days ≥ 1, got ${JSON.stringify(values.days)}` : '',
    renewWithinDays === undefined
      ? `--renew-within-days must be a whole number ≥ 0, got ${JSON.stringify(values['renew-within-days'])}`
      : '',
    values.service === '' ? '--service must not be empty' : '',
    values.namespace === '' ? '--namespace must not be empty' : '',
  ].filter(Boolean);
  if (problems.length > 0 || days === undefined || renewWithinDays === undefined) return usageError(io, SPEC.name, ...problems);

  const dir = values.out;
  const names = { service: values.service, namespace: values.namespace, validityDays: days };
  const printWritten = (written: string[]): void => {
    for (const path of written) io.stdout.write(`wrote ${path}\n`);
  };

  if (values.force) {
    printWritten(await writeCertificates(dir, generateCertificates(names)));
    return 0;
  }
  const ensured = await ensureDevelopmentCertificates(dir, names);
  if (ensured.generated) {
    printWritten(ensured.written);
    return 0;
  }
  // A new Service or namespace: the same CA, a leaf for the new names.
  const reissue = await reissueForNames(dir, names);
  if (reissue.reissued) {
    io.stdout.write(`re-issued ${ensured.paths.cert} from the existing CA for ${reissue.missing.join(', ')} (the CA and its caBundle are unchanged)\n`);
    printWritten(reissue.written);
    await warnAboutCa(dir, renewWithinDays, io);
    return 0;
  }
  const renewal = await renewServingCertificate(dir, { renewWithinDays, validityDays: days });
  if (renewal.renewed) {
    printWritten(renewal.written);
  } else {
    io.stdout.write(`${ensured.paths.cert} is valid until ${renewal.notAfter.toISOString()}; nothing to do\n`);
  }
  await warnAboutCa(dir, renewWithinDays, io);
  return 0;
}

// Renewal and re-issue keep the CA; say so when it is about to expire.
async function warnAboutCa(dir: string, renewWithinDays: number, io: CommandIo): Promise<void> {
  const paths = certificatePaths(dir);
  try {
    const caExpiry = certificateExpiry(await readFile(paths.caCert, 'utf8'));
    if (caExpiry.getTime() - Date.now() <= renewWithinDays * 24 * 60 * 60 * 1000) {
      io.stderr.write(`warning: the CA ${paths.caCert} expires ${caExpiry.toISOString()}; run with --force to regenerate\n`);
    }
  } catch {
    // Warnings are best effort: the work above already succeeded.
  }
}

function parseCount(text: string, min: number): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= min ? n : undefined;
}
