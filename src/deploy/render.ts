/**
 * Renders the webhook configurations of `manifests/base/webhooks.yaml` with a CA bundle, for clusters
 * where nothing injects one (self-signed certificates, a local API server). The base file stays the
 * single definition of the webhooks: this module only fills in `clientConfig` and keeps its comments.
 */
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Document, isMap, isSeq, parseAllDocuments, type ToStringOptions } from 'yaml';

/** The webhook configurations every overlay starts from (from src/deploy or dist/deploy alike). */
export const BASE_WEBHOOKS_FILE = fileURLToPath(new URL('../../manifests/base/webhooks.yaml', import.meta.url));

/** Where the self-signed overlay expects its CA bundle patch, relative to the repository root. */
export const SELF_SIGNED_CA_BUNDLE_PATCH = 'manifests/overlays/self-signed/webhook-ca-bundle.yaml';

const WEBHOOK_KINDS = new Set(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
const ADMISSION_API_VERSION = 'admissionregistration.k8s.io/v1';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const YAML_OUTPUT: ToStringOptions = { flowCollectionPadding: false, lineWidth: 0 };

/** A CA bundle checked for use as a webhook's `caBundle`. */
export interface CaBundle {
  /** Standard base64 of the PEM file as given: the value of `clientConfig.caBundle`. */
  base64: string;
  /** The certificates in it, for messages. */
  certificates: X509Certificate[];
}

/**
 * Checks that `pem` holds only CA certificates (at least one) and returns its base64. A serving
 * certificate (`tls.crt`) or a private key passed by mistake is refused with a message that says so.
 */
export function caBundleOf(pem: string): CaBundle {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new Error('the CA file contains a private key: pass the CA certificate (ca.crt), never a key');
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('the CA file holds no PEM certificate');
  const certificates = blocks.map((block, i) => {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (error) {
      throw new Error(`certificate ${i + 1} of the CA file cannot be parsed: ${(error as Error).message}`);
    }
    if (!cert.ca) {
      throw new Error(
        `certificate ${i + 1} of the CA file (${cert.subject.replace(/\n/g, ', ')}) is not a CA certificate; ` +
          'pass ca.crt, not the serving certificate tls.crt',
      );
    }
    return cert;
  });
  return { base64: Buffer.from(pem, 'utf8').toString('base64'), certificates };
}

/** Options of `renderWebhookConfigurations`. */
export interface RenderOptions {
  ca: CaBundle;
  /** Namespace of the Service the API server calls; default: as in the base file. */
  namespace?: string;
  /**
   * `https://HOST[:PORT][/prefix]`: call the webhook at this address (the Service's path appended)
   * instead of through the Service, e.g. a webhook on the host of a local API server.
   */
  url?: string;
}

/** Checks a `--url` value the way the API server will: https, no user, query or fragment. */
export function checkWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--url ${JSON.stringify(text)} is not a URL; expected https://HOST:PORT`);
  }
  if (url.protocol !== 'https:') throw new Error(`--url must use https, got ${JSON.stringify(url.protocol)}`);
  if (url.username !== '' || url.password !== '') throw new Error('--url must not contain a user name or password');
  if (url.search !== '' || text.includes('?')) throw new Error('--url must not contain a query');
  if (url.hash !== '' || text.includes('#')) throw new Error('--url must not contain a fragment');
  return url;
}

/** Checks a namespace name: a DNS label of at most 63 characters. */
export function checkNamespace(name: string): void {
  if (name.length > 63 || !DNS_LABEL.test(name)) {
    throw new Error(`namespace ${JSON.stringify(name)} is not a DNS label (lower-case letters, digits and '-', at most 63)`);
  }
}

/**
 * Parses the webhook configurations file; fails unless every document is a Mutating- or
 * ValidatingWebhookConfiguration of admissionregistration.k8s.io/v1 with at least one webhook.
 */
export function parseWebhookConfigurations(text: string, source = 'webhooks.yaml'): Document.Parsed[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new Error(`${source}: no YAML documents`);
  const found = docs.filter((doc) => doc.contents !== null);
  if (found.length === 0) throw new Error(`${source}: no YAML documents`);
  for (const [i, doc] of found.entries()) {
    if (doc.errors.length > 0) throw new Error(`${source}: document ${i + 1}: ${doc.errors[0]!.message}`);
    const kind = doc.get('kind');
    if (typeof kind !== 'string' || !WEBHOOK_KINDS.has(kind) || doc.get('apiVersion') !== ADMISSION_API_VERSION) {
      throw new Error(`${source}: document ${i + 1} is not a webhook configuration of ${ADMISSION_API_VERSION}`);
    }
    const webhooks = doc.get('webhooks');
    if (!isSeq(webhooks) || webhooks.items.length === 0) throw new Error(`${source}: ${kind} has no webhooks`);
  }
  return found;
}

/**
 * Fills each webhook's `clientConfig` of the parsed documents: `caBundle` always, the Service's
 * namespace when asked, or a URL in place of the Service. Returns the YAML text, comments kept.
 */
export function renderWebhookConfigurations(docs: readonly Document.Parsed[], opts: RenderOptions): string {
  if (opts.namespace !== undefined) checkNamespace(opts.namespace);
  const base = opts.url === undefined ? undefined : checkWebhookUrl(opts.url);
  const out = docs.map((original) => {
    const doc = original.clone();
    const webhooks = doc.get('webhooks');
    if (!isSeq(webhooks)) throw new Error('a webhook configuration has no webhooks');
    webhooks.items.forEach((_item, i) => {
      const at = (...path: (string | number)[]) => ['webhooks', i, 'clientConfig', ...path];
      const name = String(doc.getIn(['webhooks', i, 'name']));
      if (!isMap(doc.getIn(at()))) throw new Error(`webhook ${name} has no clientConfig`);
      if (base !== undefined) {
        const path = doc.getIn(at('service', 'path'));
        const prefix = base.pathname.replace(/\/+$/, '');
        doc.deleteIn(at('service'));
        doc.setIn(at('url'), `${base.origin}${prefix}${typeof path === 'string' ? path : ''}`);
      } else if (opts.namespace !== undefined) {
        if (!isMap(doc.getIn(at('service')))) throw new Error(`webhook ${name} has no clientConfig.service`);
        doc.setIn(at('service', 'namespace'), opts.namespace);
      }
      doc.setIn(at('caBundle'), opts.ca.base64);
    });
    return doc;
  });
  return joinDocuments(out, header(opts.ca, 'manifests/base/webhooks.yaml'));
}

/**
 * The self-signed overlay's patch: for each webhook of each configuration, only its name and
 * `clientConfig.caBundle`. Kustomize merges it into the base by webhook name, so the patch never
 * repeats (and never goes stale against) the rest of the base.
 */
export function renderCaBundlePatch(docs: readonly Document.Parsed[], ca: CaBundle): string {
  const out = docs.map((doc) => {
    const webhooks = doc.get('webhooks');
    const names = isSeq(webhooks) ? webhooks.items.map((_item, i) => String(doc.getIn(['webhooks', i, 'name']))) : [];
    return new Document({
      apiVersion: doc.get('apiVersion'),
      kind: doc.get('kind'),
      metadata: { name: doc.getIn(['metadata', 'name']) },
      webhooks: names.map((name) => ({ name, clientConfig: { caBundle: ca.base64 } })),
    });
  });
  return joinDocuments(
    out,
    `${header(ca, 'manifests/base/webhooks.yaml')}\n# A kustomize patch of the self-signed overlay, merged into the base by webhook name.`,
  );
}

function header(ca: CaBundle, from: string): string {
  const described = ca.certificates
    .map((cert) => `#   ${cert.subject.replace(/\n/g, ', ')} (valid until ${new Date(cert.validTo).toISOString()}, SHA-256 ${cert.fingerprint256})`)
    .join('\n');
  return `# Rendered by \`image-admission manifests\` from ${from}; do not edit: render again instead.\n# caBundle is the base64 of the CA file:\n${described}`;
}

function joinDocuments(docs: readonly Document[], headerComment: string): string {
  const texts = docs.map((doc, i) => {
    if (doc.directives) doc.directives.docStart = null;
    if (i === 0) doc.commentBefore = doc.commentBefore ? `${commentText(headerComment)}\n\n${doc.commentBefore}` : commentText(headerComment);
    return doc.toString(YAML_OUTPUT);
  });
  return texts.join('---\n');
}

// The yaml package prefixes each line of a comment with '#': give it the text without the marks.
function commentText(comment: string): string {
  return comment
    .split('\n')
    .map((line) => line.replace(/^#/, ''))
    .join('\n');
}
