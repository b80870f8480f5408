/**
 * `image-admission manifests`: writes the webhook configurations with a CA bundle filled in, so that
 * self-signed certificates need no hand editing of YAML.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  BASE_WEBHOOKS_FILE,
  SELF_SIGNED_CA_BUNDLE_PATCH,
  caBundleOf,
  checkNamespace,
  checkWebhookUrl,
  parseWebhookConfigurations,
  renderCaBundlePatch,
  renderWebhookConfigurations,
} from '../deploy/render.js';
import { IMAGE_ENV_FILE, renderImageEnv } from '../deploy/image.js';
import { type CommandSpec, readCommand, usageError } from './args.js';
import type { CommandIo } from './io.js';

const SPEC = {
  name: 'manifests',
  synopsis: '--image REF [--out FILE] | --ca FILE [flags]',
  description: `--image: sets the container image every overlay deploys, in ${IMAGE_ENV_FILE} (relative to the
current directory, unless --out is given), after checking that REF is a valid image reference.
Until that file exists, rendering or applying an overlay fails and nothing is applied.

--ca: writes the MutatingWebhookConfiguration and ValidatingWebhookConfiguration of manifests/base with
clientConfig.caBundle set to the base64 of the CA file, for clusters where nothing injects the CA.`,
  flags: {
    image: { type: 'string', value: 'REF', help: "the webhook's container image, e.g. quay.io/ORG/image-admission-webhook:0.1.0" },
    ca: { type: 'string', value: 'FILE', help: 'PEM CA certificate that signed the serving certificate (e.g. certs/ca.crt); required unless --image is given' },
    overlay: {
      type: 'string',
      value: 'self-signed',
      help: `write the self-signed overlay's patch (${SELF_SIGNED_CA_BUNDLE_PATCH},\nrelative to the current directory, unless --out is given) instead of\ncomplete webhook configurations`,
    },
    out: { type: 'string', value: 'FILE', help: 'write to FILE instead of standard output ("-" for standard output)' },
    url: {
      type: 'string',
      value: 'URL',
      help: 'call the webhook at https://HOST:PORT (paths /mutate and /validate appended)\ninstead of through the Service, e.g. a webhook beside a local API server',
    },
    namespace: { type: 'string', value: 'NS', help: "namespace of the webhook's Service (default: image-admission)" },
  },
  positionals: 'none',
  footer: `The openshift and cert-manager overlays need no CA: OpenShift's service CA and cert-manager's CA
injector fill in caBundle themselves.`,
} as const satisfies CommandSpec;

const INJECTED: Record<string, string> = {
  openshift: "OpenShift's service CA injects the CA bundle (annotation service.beta.openshift.io/inject-cabundle)",
  'cert-manager': "cert-manager's CA injector injects the CA bundle (annotation cert-manager.io/inject-ca-from)",
};

/** Runs the `manifests` subcommand; 0 on success, 1 when the CA or the output fails, 2 on bad flags. */
export async function run(argv: string[], io: CommandIo): Promise<number> {
  const command = readCommand(SPEC, argv, io);
  if ('exit' in command) return command.exit;
  const { values } = command;

  if (values.image !== undefined) return writeImage(values, io);

  const problems: string[] = [];
  if (values.ca === undefined || values.ca === '') problems.push('--image REF or --ca FILE is required (the image to deploy, or the CA certificate, e.g. certs/ca.crt)');
  if (values.overlay !== undefined && values.overlay !== 'self-signed') {
    const injected = INJECTED[values.overlay];
    problems.push(
      injected
        ? `--overlay ${values.overlay} needs no rendering: ${injected}; apply it with kubectl apply -k manifests/overlays/${values.overlay}`
        : `--overlay must be self-signed, got ${JSON.stringify(values.overlay)}`,
    );
  }
  if (values.overlay !== undefined && (values.url !== undefined || values.namespace !== undefined)) {
    problems.push('--overlay writes only the CA bundle patch: --url and --namespace apply to complete configurations (leave out --overlay)');
  }
  if (values.url !== undefined && values.namespace !== undefined) problems.push('--url and --namespace exclude each other: a URL names no Service');
  for (const check of [
    () => values.url !== undefined && checkWebhookUrl(values.url),
    () => values.namespace !== undefined && checkNamespace(values.namespace),
  ]) {
    try {
      check();
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) return usageError(io, SPEC.name, ...problems);

  let caPem: string;
  try {
    caPem = await readFile(values.ca!, 'utf8');
  } catch (error) {
    io.stderr.write(`image-admission manifests: cannot read --ca ${values.ca}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
    return 1;
  }
  let ca;
  try {
    ca = caBundleOf(caPem);
  } catch (error) {
    io.stderr.write(`image-admission manifests: --ca ${values.ca}: ${(error as Error).message}\n`);
    return 1;
  }
  let text: string;
  try {
    const docs = parseWebhookConfigurations(await readFile(BASE_WEBHOOKS_FILE, 'utf8'), BASE_WEBHOOKS_FILE);
    text =
      values.overlay === 'self-signed'
        ? renderCaBundlePatch(docs, ca)
        : renderWebhookConfigurations(docs, { ca, namespace: values.namespace, url: values.url });
  } catch (error) {
    io.stderr.write(`image-admission manifests: ${(error as Error).message}\n`);
    return 1;
  }

  return writeOut(io, text, values.out ?? (values.overlay === 'self-signed' ? SELF_SIGNED_CA_BUNDLE_PATCH : '-'), values.out === undefined);
}

/** `--image REF`: the image file, alone (it is a different file from the CA bundle's). */
async function writeImage(values: { image?: string; ca?: string; overlay?: string; url?: string; namespace?: string; out?: string }, io: CommandIo): Promise<number> {
  const others = (['ca', 'overlay', 'url', 'namespace'] as const).filter((flag) => values[flag] !== undefined);
  if (others.length > 0) {
    return usageError(io, SPEC.name, `--image writes only ${IMAGE_ENV_FILE}: run it on its own, and --${others[0]} in a second command`);
  }
  let text: string;
  try {
    text = renderImageEnv(values.image!);
  } catch (error) {
    return usageError(io, SPEC.name, (error as Error).message);
  }
  return writeOut(io, text, values.out ?? IMAGE_ENV_FILE, values.out === undefined);
}

/** Writes `text` to `out` ("-": standard output); a default path is relative to the repository root. */
async function writeOut(io: CommandIo, text: string, out: string, defaultPath: boolean): Promise<number> {
  if (out === '-') {
    io.stdout.write(text);
    return 0;
  }
  try {
    if (!(await stat(dirname(out))).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await writeFile(out, text, { mode: 0o644 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const hint = defaultPath ? ' (run from the repository root, or pass --out)' : '';
    io.stderr.write(`image-admission manifests: cannot write ${out}: ${code}${hint}\n`);
    return 1;
  }
  io.stdout.write(`wrote ${out}\n`);
  return 0;
}
