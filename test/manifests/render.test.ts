import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCertificates } from '../../src/certs/files.js';
import { generateCertificates } from '../../src/certs/generate.js';
import { run } from '../../src/cli/manifests.js';
import {
  BASE_WEBHOOKS_FILE,
  caBundleOf,
  checkWebhookUrl,
  parseWebhookConfigurations,
  renderCaBundlePatch,
  renderWebhookConfigurations,
} from '../../src/deploy/render.js';
import { type K8sObject, memoryIo, parseYaml, readText, validateObject } from './helpers.js';

let dir: string;
let caPem: string;
let caFile: string;
let tlsFile: string;
let keyFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'manifests-cli-'));
  const pems = generateCertificates({ service: 'image-admission-webhook', namespace: 'image-admission' });
  await writeCertificates(dir, pems);
  caPem = pems.caCert;
  caFile = join(dir, 'ca.crt');
  tlsFile = join(dir, 'tls.crt');
  keyFile = join(dir, 'tls.key');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const baseDocs = () => parseWebhookConfigurations(readText(BASE_WEBHOOKS_FILE), BASE_WEBHOOKS_FILE);

function webhooksOf(objects: K8sObject[]): { kind: string; name: string; clientConfig: Record<string, unknown> }[] {
  return objects.flatMap((o) => (o.webhooks as { name: string; clientConfig: Record<string, unknown> }[]).map((w) => ({ kind: o.kind, ...w })));
}

describe('caBundleOf', () => {
  it('is the standard base64 of the CA file as given', () => {
    const bundle = caBundleOf(caPem);
    expect(bundle.base64).toBe(base64(caPem));
    expect(Buffer.from(bundle.base64, 'base64').toString('utf8')).toBe(caPem);
    expect(bundle.certificates).toHaveLength(1);
  });

  it('accepts a bundle of several CAs (e.g. across a CA rotation)', () => {
    const other = generateCertificates({ service: 's', namespace: 'n' }).caCert;
    expect(caBundleOf(caPem + other).certificates).toHaveLength(2);
  });

  it('refuses the serving certificate, a private key, and a file without certificates', () => {
    expect(() => caBundleOf(readText(tlsFile))).toThrow(/not a CA certificate; pass ca.crt, not the serving certificate tls.crt/);
    expect(() => caBundleOf(caPem + readText(keyFile))).toThrow(/private key/);
    expect(() => caBundleOf('hello\n')).toThrow(/no PEM certificate/);
    expect(() => caBundleOf('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toThrow(/cannot be parsed/);
  });
});

describe('renderWebhookConfigurations', () => {
  it('fills caBundle of every webhook, keeps everything else of the base, and validates', () => {
    const text = renderWebhookConfigurations(baseDocs(), { ca: caBundleOf(caPem) });
    const objects = parseYaml(text, 'rendered');
    const original = parseYaml(readText(BASE_WEBHOOKS_FILE), 'base');
    expect(objects.map((o) => o.kind)).toEqual(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
    for (const object of objects) validateObject(object);
    for (const webhook of webhooksOf(objects)) expect(webhook.clientConfig.caBundle).toBe(base64(caPem));
    // Without the caBundle, the rendered objects are exactly the base.
    const stripped = structuredClone(objects);
    for (const o of stripped) for (const w of o.webhooks) delete w.clientConfig.caBundle;
    expect(stripped).toEqual(original);
    // The base's explanations travel with the output, under a header naming the CA.
    expect(text).toMatch(/^# Rendered by `image-admission manifests`/);
    expect(text).toMatch(/^#\s+CN=image-admission-webhook development CA \(valid until /m);
    expect(text).toContain('timeoutSeconds: 5');
    expect(text).toMatch(/# The webhook answers in milliseconds/);
  });

  it('--namespace changes only the Service namespace', () => {
    const objects = parseYaml(renderWebhookConfigurations(baseDocs(), { ca: caBundleOf(caPem), namespace: 'webhooks' }), 'rendered');
    for (const webhook of webhooksOf(objects)) expect(webhook.clientConfig.service).toMatchObject({ namespace: 'webhooks', name: 'image-admission-webhook', port: 443 });
    expect(() => renderWebhookConfigurations(baseDocs(), { ca: caBundleOf(caPem), namespace: 'Bad_NS' })).toThrow(/not a DNS label/);
  });

  it('--url switches clientConfig to URL mode, with each webhook path appended', () => {
    const objects = parseYaml(renderWebhookConfigurations(baseDocs(), { ca: caBundleOf(caPem), url: 'https://127.0.0.1:9443' }), 'rendered');
    for (const object of objects) validateObject(object);
    expect(webhooksOf(objects).map((w) => w.clientConfig)).toEqual([
      { url: 'https://127.0.0.1:9443/mutate', caBundle: base64(caPem) },
      { url: 'https://127.0.0.1:9443/validate', caBundle: base64(caPem) },
    ]);
    const prefixed = parseYaml(renderWebhookConfigurations(baseDocs(), { ca: caBundleOf(caPem), url: 'https://host.example:8443/hooks/' }), 'r');
    expect(webhooksOf(prefixed)[0]!.clientConfig.url).toBe('https://host.example:8443/hooks/mutate');
  });

  it('refuses URLs the API server would refuse', () => {
    expect(() => checkWebhookUrl('http://127.0.0.1:8443')).toThrow(/https/);
    expect(() => checkWebhookUrl('https://user:pw@127.0.0.1:8443')).toThrow(/user name/);
    expect(() => checkWebhookUrl('https://127.0.0.1:8443/?a=1')).toThrow(/query/);
    expect(() => checkWebhookUrl('https://127.0.0.1:8443/#x')).toThrow(/fragment/);
    expect(() => checkWebhookUrl('127.0.0.1:8443')).toThrow();
  });

  it('refuses a file that is not webhook configurations', () => {
    expect(() => parseWebhookConfigurations('apiVersion: v1\nkind: Service\nmetadata: {name: x}\n')).toThrow(/not a webhook configuration/);
    expect(() => parseWebhookConfigurations('')).toThrow(/no YAML documents/);
  });
});

describe('renderCaBundlePatch', () => {
  it('holds only the names and caBundle of each webhook', () => {
    const objects = parseYaml(renderCaBundlePatch(baseDocs(), caBundleOf(caPem)), 'patch');
    expect(objects).toEqual([
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: 'image-admission-webhook' },
        webhooks: [{ name: 'mutate.images.image-admission.io', clientConfig: { caBundle: base64(caPem) } }],
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'image-admission-webhook' },
        webhooks: [{ name: 'validate.images.image-admission.io', clientConfig: { caBundle: base64(caPem) } }],
      },
    ]);
  });
});

describe('image-admission manifests', () => {
  it('writes complete configurations to standard output', async () => {
    const io = memoryIo();
    expect(await run(['--ca', caFile], io)).toBe(0);
    const objects = parseYaml(io.out(), 'stdout');
    expect(objects).toHaveLength(2);
    for (const webhook of webhooksOf(objects)) expect(webhook.clientConfig.caBundle).toBe(base64(caPem));
  });

  it('writes the self-signed overlay patch to --out', async () => {
    const out = join(dir, 'webhook-ca-bundle.yaml');
    const io = memoryIo();
    expect(await run(['--ca', caFile, '--overlay', 'self-signed', '--out', out], io), io.err()).toBe(0);
    expect(io.out()).toBe(`wrote ${out}\n`);
    expect((await stat(out)).mode & 0o777).toBe(0o644);
    const objects = parseYaml(await readFile(out, 'utf8'), out);
    expect(webhooksOf(objects).map((w) => w.clientConfig)).toEqual([{ caBundle: base64(caPem) }, { caBundle: base64(caPem) }]);
  });

  it('writes URL-mode configurations with --url', async () => {
    const out = join(dir, 'local.yaml');
    const io = memoryIo();
    expect(await run(['--ca', caFile, '--url', 'https://127.0.0.1:8443', '--out', out], io), io.err()).toBe(0);
    expect(webhooksOf(parseYaml(await readFile(out, 'utf8'), out)).map((w) => w.clientConfig.url)).toEqual([
      'https://127.0.0.1:8443/mutate',
      'https://127.0.0.1:8443/validate',
    ]);
  });

  it.each([
    [[], /--ca FILE is required/],
    [['--ca', 'x', '--overlay', 'openshift'], /needs no rendering: OpenShift's service CA/],
    [['--ca', 'x', '--overlay', 'cert-manager'], /needs no rendering: cert-manager's CA injector/],
    [['--ca', 'x', '--overlay', 'nope'], /--overlay must be self-signed/],
    [['--ca', 'x', '--overlay', 'self-signed', '--url', 'https://h:1'], /--url and --namespace apply to complete configurations/],
    [['--ca', 'x', '--url', 'https://h:1', '--namespace', 'n'], /exclude each other/],
    [['--ca', 'x', '--url', 'http://h:1'], /https/],
    [['--ca', 'x', '--namespace', 'UPPER'], /not a DNS label/],
    [['--ca', 'x', '--bogus'], /Unknown option/],
  ])('exits 2 with a reason on bad flags: %j', async (argv, message) => {
    const io = memoryIo();
    expect(await run(argv as string[], io)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err()).toContain("Run 'image-admission manifests --help' for usage.");
    expect(io.out()).toBe('');
  });

  it('exits 1 when the CA cannot be read or is not a CA, and writes nothing', async () => {
    const out = join(dir, 'never.yaml');
    for (const [ca, message] of [
      [join(dir, 'missing.crt'), /cannot read --ca .*ENOENT/],
      [tlsFile, /not a CA certificate/],
    ] as const) {
      const io = memoryIo();
      expect(await run(['--ca', ca, '--out', out], io)).toBe(1);
      expect(io.err()).toMatch(message);
      await expect(stat(out)).rejects.toThrow();
    }
  });

  it('exits 1 with a hint when the output folder does not exist', async () => {
    const io = memoryIo();
    expect(await run(['--ca', caFile, '--out', join(dir, 'no/such/dir/x.yaml')], io)).toBe(1);
    expect(io.err()).toMatch(/cannot write .*ENOENT/);
  });

  it('--image writes the one-line image file the base kustomization reads', async () => {
    const out = join(dir, 'image.env');
    const io = memoryIo();
    expect(await run(['--image', 'quay.io/example/webhook@sha256:' + 'a'.repeat(64), '--out', out], io), io.err()).toBe(0);
    expect(await readFile(out, 'utf8')).toMatch(/^IMAGE=quay\.io\/example\/webhook@sha256:a{64}$/m);
  });

  it.each([
    ['Quay.io/Example/Webhook:1', /not an image reference: repository name must be lowercase/],
    ['quay.io/example/webhook:', /not an image reference: invalid reference format/],
    ['', /--image is empty: give the image you pushed/],
    ['  ', /--image is empty: give the image you pushed/],
    ['image-admission-webhook', /placeholder/],
  ])('--image %j is refused with exit 2, writing nothing', async (ref, message) => {
    const out = join(dir, 'refused.env');
    const io = memoryIo();
    expect(await run(['--image', ref, '--out', out], io)).toBe(2);
    expect(io.err()).toMatch(message);
    await expect(stat(out)).rejects.toThrow();
  });

  it('--image goes alone: with --ca it says to run two commands', async () => {
    const io = memoryIo();
    expect(await run(['--image', 'quay.io/example/webhook:1', '--ca', caFile], io)).toBe(2);
    expect(io.err()).toMatch(/--image writes only manifests\/base\/image.env: run it on its own, and --ca in a second command/);
  });

  it('prints its usage with --help', async () => {
    const io = memoryIo();
    expect(await run(['--help'], io)).toBe(0);
    expect(io.out()).toContain('--overlay self-signed');
  });
});

describe('schema validation is not vacuous', () => {
  it('rejects a webhook configuration with a wrong enum and a wrong type', () => {
    const [mutating] = parseYaml(renderWebhookConfigurations(baseDocs(), { ca: caBundleOf(caPem) }), 'r');
    const broken = structuredClone(mutating!);
    broken.webhooks[0].failurePolicy = 'fail';
    expect(() => validateObject(broken)).toThrow(/failurePolicy/);
    const broken2 = structuredClone(mutating!);
    broken2.webhooks[0].timeoutSeconds = '5';
    expect(() => validateObject(broken2)).toThrow(/timeoutSeconds/);
    const unknown = { ...mutating!, kind: 'Widget' };
    expect(() => validateObject(unknown)).toThrow(/no schema known/);
  });
});
