/**
 * Content addressing (issue #7): an Image's name, manifest, config, layers and list entries must
 * agree. OpenShift names an Image by its manifest's digest but never checks it on create; these rules
 * do, without ever rejecting what registries and OpenShift themselves write (docs/content-addressing.md).
 *
 * Each contradiction is reported at the field that carries the wrong value once the name is taken as
 * the truth: the name is immutable and pins the manifest, the manifest pins the config and the layers.
 * So a manifest that does not hash to the name is reported at `dockerImageManifest` (not
 * `metadata.name`), and layers that differ from the manifest at `dockerImageLayers[i]`. On UPDATE,
 * ratcheting compares the value at that path: a write that sets a wrong manifest (a "repair") is denied,
 * an untouched old contradiction only warns.
 *
 * Cost: the manifest is parsed once and hashed once; the config is hashed once, measured by
 * Buffer.byteLength, and parsed only to check that it is JSON (and not at all when `config-json` is
 * disabled). No value is re-serialised. Each of these facts is kept by the exact text it comes from
 * (content-cache.ts), so the /validate review of a write reuses its /mutate review's work.
 */
import { factOf } from './content-cache.js';
import { type DigestAlgorithm, digestAlgorithm, digestOf } from './digest.js';
import { type FieldError, invalid, invalidHidden } from './field-error.js';
import type { RuleId } from './rules.js';
import { Findings } from './findings.js';
import { arrayOrEmpty, isObject, valueAt } from './json.js';
import { parseReference } from './reference.js';
import { ANNOTATION_LAYERS_ORDER } from './types.js';

/** What the content rules need from the configuration. */
export interface ContentOptions {
  /** Rule identifiers whose checks are skipped (their errors would be dropped anyway). */
  readonly disabledRules?: ReadonlySet<RuleId>;
}

const SCHEMA2 = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
const SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** What a manifest is, as far as these rules care. */
type ManifestKind = 'image' | 'list' | 'schema1' | 'other';

/** The manifest's text and, when it is a JSON object, its parsed form: parsed once per review. */
interface Manifest {
  readonly text: string;
  readonly json: Record<string, unknown> | undefined;
  readonly kind: ManifestKind;
}

/** Returns the content-addressing violations of `image`, each at the field that carries it (at most FINDINGS_LIMIT). */
export function validateContent(image: Record<string, unknown>, options: ContentOptions = {}): FieldError[] {
  const findings = new Findings();
  collectContentErrors(image, findings, options);
  return findings.violations;
}

/** Adds the content-addressing violations of `image` to `findings`, until they are done. */
export function collectContentErrors(image: Record<string, unknown>, findings: Findings, options: ContentOptions = {}): void {
  const enabled = (rule: RuleId) => !options.disabledRules?.has(rule);
  const add = (errors: readonly FieldError[]) => {
    for (const error of errors) if (enabled(error.rule)) findings.add(error);
  };
  if (enabled('reference-digest')) add(checkReferenceDigest(image));

  const config = typeof image.dockerImageConfig === 'string' && image.dockerImageConfig !== '' ? image.dockerImageConfig : undefined;
  if (config !== undefined && enabled('config-json') && !factOf(config, 'json', isJson)) {
    add([invalidHidden('config-json', ['dockerImageConfig'], 'must be valid JSON')]);
  }

  const text = image.dockerImageManifest;
  if (typeof text !== 'string' || text === '') return;
  const manifest = readManifest(text, image.dockerImageManifestMediaType);
  if (manifest.json === undefined) {
    // A manifest that is not a JSON object has no digest, media type or layers worth comparing.
    add([invalidHidden('manifest-json', ['dockerImageManifest'], 'must be a valid JSON object')]);
    return;
  }
  if (enabled('manifest-digest')) add(checkManifestDigest(image, manifest));
  if (enabled('manifest-media-type')) add(checkMediaType(image, manifest));
  if (manifest.kind === 'image') {
    if (config !== undefined && (enabled('config-digest') || enabled('config-size'))) add(checkConfig(config, manifest.json, enabled));
    if (enabled('layers-match-manifest')) checkLayers(image, manifest.json, findings);
  }
  if (manifest.kind === 'list' && enabled('manifest-list-match')) checkListEntries(image, manifest.json, findings);
}

/** Whether the Image's manifest hashes to its name, with the same digest rules as `manifest-digest`. */
export function manifestMatchesName(image: Record<string, unknown>): boolean {
  const text = image.dockerImageManifest;
  if (typeof text !== 'string' || text === '') return false;
  const manifest = readManifest(text, image.dockerImageManifestMediaType);
  return manifest.json !== undefined && checkManifestDigest(image, manifest).length === 0;
}

/** Whether the Image's config hashes to the config digest its manifest names (the config repair). */
export function configMatchesManifest(image: Record<string, unknown>): boolean {
  const config = image.dockerImageConfig;
  const text = image.dockerImageManifest;
  if (typeof config !== 'string' || config === '' || typeof text !== 'string' || text === '') return false;
  const manifest = readManifest(text, image.dockerImageManifestMediaType);
  if (manifest.json === undefined || manifest.kind !== 'image') return false;
  const descriptor = isObject(manifest.json.config) ? manifest.json.config : {};
  return digestAlgorithm(descriptor.digest) !== undefined && checkConfig(config, manifest.json, (rule) => rule === 'config-digest').length === 0;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function readManifest(text: string, recordedMediaType: unknown): Manifest {
  const json = factOf(text, 'object', parseObject, true);
  return json === undefined ? { text, json, kind: 'other' } : { text, json, kind: manifestKind(json, recordedMediaType) };
}

/** The JSON object `text` holds, or undefined. Shared through the cache: never changed by a rule. */
function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The digest of `text` with `algorithm`, kept with the text. */
function digestOfText(text: string, algorithm: DigestAlgorithm): string {
  return factOf(text, `digest:${algorithm}`, (t) => digestOf(t, algorithm));
}

function manifestKind(json: Record<string, unknown>, recordedMediaType: unknown): ManifestKind {
  const mediaType = json.mediaType;
  if (json.schemaVersion === 1 || recordedMediaType === SCHEMA1_SIGNED) return 'schema1';
  if (mediaType === SCHEMA2 || mediaType === OCI_MANIFEST) return 'image';
  if (mediaType === DOCKER_LIST || mediaType === OCI_INDEX) return 'list';
  // OCI made mediaType optional at first: recognise a mediaType-less schema 2 document by its fields.
  if (mediaType === undefined && json.schemaVersion === 2) {
    if (isObject(json.config)) return 'image';
    if (Array.isArray(json.manifests)) return 'list';
  }
  return 'other';
}

/** A signed schema 1 manifest: prettyjws, or schemaVersion 1 carrying a `signatures` block. */
function isSignedSchema1(json: Record<string, unknown>, recordedMediaType: unknown): boolean {
  return recordedMediaType === SCHEMA1_SIGNED || (json.schemaVersion === 1 && Object.hasOwn(json, 'signatures'));
}

function checkManifestDigest(image: Record<string, unknown>, manifest: Manifest): FieldError[] {
  const name = isObject(image.metadata) ? image.metadata.name : undefined;
  // Without a name (generateName) there is nothing to compare; name-required reports a missing one.
  if (typeof name !== 'string' || name === '') return [];
  // A name that is not a digest of a known algorithm cannot equal any digest; compare with sha256,
  // the algorithm registries use, so the message shows what the name should be.
  const digest = digestOfManifest(manifest, image.dockerImageManifestMediaType, digestAlgorithm(name) ?? 'sha256');
  if (digest.problem !== undefined) {
    return [invalidHidden('manifest-digest', ['dockerImageManifest'], `cannot compute the digest of the signed schema 1 manifest: ${digest.problem}`)];
  }
  return digest.digest === name
    ? []
    : [invalidHidden('manifest-digest', ['dockerImageManifest'], `the manifest's digest is ${digest.digest}, but metadata.name is ${JSON.stringify(name)}`)];
}

/**
 * The digest of the Image's manifest as `manifest-digest` computes it (schema 1: of its canonical
 * payload), with `algorithm`; undefined without a manifest or when it cannot be computed.
 */
export function manifestDigestOf(image: Record<string, unknown>, algorithm: DigestAlgorithm = 'sha256'): string | undefined {
  const text = image.dockerImageManifest;
  if (typeof text !== 'string' || text === '') return undefined;
  return digestOfManifest(readManifest(text, image.dockerImageManifestMediaType), image.dockerImageManifestMediaType, algorithm).digest;
}

function digestOfManifest(manifest: Manifest, recordedMediaType: unknown, algorithm: DigestAlgorithm): { digest: string; problem?: undefined } | { digest?: undefined; problem: string } {
  if (manifest.json !== undefined && isSignedSchema1(manifest.json, recordedMediaType)) {
    const json = manifest.json;
    return factOf(manifest.text, `schema1:${algorithm}`, (text) => {
      const bytes = schema1CanonicalPayload(text, json);
      return typeof bytes === 'string' ? { problem: bytes } : { digest: digestOf(bytes, algorithm) };
    });
  }
  return { digest: digestOfText(manifest.text, algorithm) };
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Strict base64url without padding, as libtrust's joseBase64UrlDecode accepts it; undefined if malformed. */
function decodeBase64url(text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || !BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64url');
}

/**
 * The canonical payload of a signed schema 1 manifest, whose sha256 is its digest: the bytes before
 * the signatures block plus the tail the signer cut off, `bytes[0:formatLength] + formatTail`, read
 * from the JWS protected headers (docker/libtrust ParsePrettySignature; distribution's
 * schema1.SignedManifest.Canonical). Every signature must agree on both. Returns a problem as a string.
 */
function schema1CanonicalPayload(text: string, json: Record<string, unknown>): Uint8Array | string {
  const signatures = json.signatures;
  if (!Array.isArray(signatures) || signatures.length === 0) return 'it has no signatures';
  let formatLength: number | undefined;
  let formatTail: Buffer | undefined;
  for (const [i, signature] of signatures.entries()) {
    const protectedBytes = isObject(signature) ? decodeBase64url(signature.protected) : undefined;
    if (protectedBytes === undefined) return `signature ${i} has no valid base64url protected header`;
    let header: unknown;
    try {
      header = JSON.parse(protectedBytes.toString('utf8'));
    } catch {
      return `the protected header of signature ${i} is not JSON`;
    }
    if (!isObject(header) || typeof header.formatLength !== 'number' || header.formatLength < 0) {
      return `the protected header of signature ${i} has no valid formatLength`;
    }
    const tail = decodeBase64url(header.formatTail);
    if (tail === undefined) return `the protected header of signature ${i} has no valid formatTail`;
    // Go reads the number as a float64 and truncates it to an int.
    const length = Math.trunc(header.formatLength);
    if (formatLength === undefined || formatTail === undefined) {
      formatLength = length;
      formatTail = tail;
    } else if (formatLength !== length || !formatTail.equals(tail)) {
      return `signature ${i} disagrees with signature 0 on the format of the payload`;
    }
  }
  // formatLength counts UTF-8 bytes, not UTF-16 code units: slice the bytes, never the string.
  const bytes = Buffer.from(text, 'utf8');
  if (formatLength === undefined || formatTail === undefined || formatLength > bytes.length) return 'its formatLength is beyond the end of the manifest';
  return Buffer.concat([bytes.subarray(0, formatLength), formatTail]);
}

/** The media types a manifest may be recorded under, or undefined when it does not say. */
function acceptedMediaTypes(manifest: Manifest): readonly string[] | undefined {
  const json = manifest.json!;
  if (typeof json.mediaType === 'string' && json.mediaType !== '') return [json.mediaType];
  if (json.schemaVersion === 1) return [SCHEMA1, SCHEMA1_SIGNED];
  if (json.schemaVersion === 2) {
    // Docker schema 2 is the default; an early OCI manifest or index may carry no mediaType either.
    if (manifest.kind === 'list') return [OCI_INDEX, DOCKER_LIST];
    return [SCHEMA2, OCI_MANIFEST];
  }
  return undefined;
}

function checkMediaType(image: Record<string, unknown>, manifest: Manifest): FieldError[] {
  const recorded = image.dockerImageManifestMediaType;
  if (typeof recorded !== 'string' || recorded === '') return [];
  const accepted = acceptedMediaTypes(manifest);
  if (accepted === undefined || accepted.includes(recorded)) return [];
  return [invalid('manifest-media-type', ['dockerImageManifestMediaType'], recorded, `the manifest's media type is ${accepted.map((t) => JSON.stringify(t)).join(' or ')}`)];
}

function checkConfig(config: string, manifest: Record<string, unknown>, enabled: (rule: RuleId) => boolean): FieldError[] {
  const descriptor = isObject(manifest.config) ? manifest.config : {};
  const errors: FieldError[] = [];
  const algorithm = digestAlgorithm(descriptor.digest);
  // A config digest of an unknown algorithm cannot be checked here; a registry would have refused it.
  if (enabled('config-digest') && algorithm !== undefined) {
    const digest = digestOfText(config, algorithm);
    if (digest !== descriptor.digest) {
      errors.push(invalidHidden('config-digest', ['dockerImageConfig'], `the config's digest is ${digest}, but the manifest's config.digest is ${String(descriptor.digest)}`));
    }
  }
  if (enabled('config-size') && typeof descriptor.size === 'number') {
    const size = factOf(config, 'bytes', (text) => Buffer.byteLength(text, 'utf8'));
    if (size !== descriptor.size) {
      errors.push(invalidHidden('config-size', ['dockerImageConfig'], `the config is ${size} bytes, but the manifest's config.size is ${descriptor.size}`));
    }
  }
  return errors;
}

/** One layer as the manifest describes it and as dockerImageLayers records it. */
interface LayerFacts {
  readonly name: unknown;
  readonly size: unknown;
  readonly mediaType: unknown;
}

function checkLayers(image: Record<string, unknown>, manifest: Record<string, unknown>, findings: Findings): void {
  const recorded = image.dockerImageLayers;
  // Absent layers are layers-required's business (or an omitted empty list); a wrong type the schema's.
  if (!Array.isArray(recorded)) return;
  const expected: LayerFacts[] = arrayOrEmpty(manifest.layers).map((layer) =>
    isObject(layer) ? { name: layer.digest, size: layer.size, mediaType: layer.mediaType } : { name: undefined, size: undefined, mediaType: undefined },
  );
  if (recorded.length !== expected.length) {
    findings.add(invalidHidden('layers-match-manifest', ['dockerImageLayers'], `the manifest has ${expected.length} layers, dockerImageLayers has ${recorded.length}`));
    return;
  }
  // Count first, build errors only for the order that is reported: counting allocates nothing.
  const forward = layerMismatches(recorded, expected, false);
  if (forward === 0) return;
  // OpenShift once stored layers newest first; an Image that does not say it is ascending may still be.
  const order = valueAt(image.metadata, ['annotations', ANNOTATION_LAYERS_ORDER]);
  const descending = (order === undefined || order === 'descending') && layerMismatches(recorded, expected, true) < forward;
  layerMismatches(recorded, expected, descending, findings);
}

/**
 * Counts the layers' disagreements with the manifest's (read backwards when `descending`); with
 * `findings`, also reports each, until the findings are done.
 */
function layerMismatches(recorded: unknown[], expected: LayerFacts[], descending: boolean, findings?: Findings): number {
  const order = descending ? ' (in descending order)' : '';
  let count = 0;
  for (let i = 0; i < recorded.length; i++) {
    const layer = recorded[i];
    if (!isObject(layer)) continue; // the schema reports it
    const want = expected[descending ? expected.length - 1 - i : i]!;
    const nameDiffers = layer.name !== want.name;
    const sizeDiffers = layer.size !== want.size;
    // A manifest layer without a media type (never seen in practice) cannot contradict one.
    const mediaTypeDiffers = want.mediaType !== undefined && layer.mediaType !== want.mediaType;
    count += Number(nameDiffers) + Number(sizeDiffers) + Number(mediaTypeDiffers);
    if (findings === undefined || !(nameDiffers || sizeDiffers || mediaTypeDiffers)) continue;
    if (findings.done) break;
    const path = ['dockerImageLayers', i];
    if (!findings.wants(path)) continue;
    if (nameDiffers) findings.add(invalid('layers-match-manifest', [...path, 'name'], layer.name, `the manifest's layer ${i}${order} is ${String(want.name)}`));
    if (sizeDiffers) findings.add(invalid('layers-match-manifest', [...path, 'size'], layer.size, `the manifest's layer ${i}${order} is ${String(want.size)} bytes`));
    if (mediaTypeDiffers) {
      findings.add(invalid('layers-match-manifest', [...path, 'mediaType'], layer.mediaType, `the manifest's layer ${i}${order} has media type ${String(want.mediaType)}`));
    }
  }
  return count;
}

/** The fields of a manifest list entry, each with the Image field that records it. */
const ENTRY_FIELDS: readonly { field: string; from: (entry: Record<string, unknown>) => unknown }[] = [
  { field: 'digest', from: (e) => e.digest },
  { field: 'mediaType', from: (e) => e.mediaType },
  { field: 'manifestSize', from: (e) => e.size },
  { field: 'architecture', from: (e) => valueAt(e, ['platform', 'architecture']) },
  { field: 'os', from: (e) => valueAt(e, ['platform', 'os']) },
  { field: 'variant', from: (e) => valueAt(e, ['platform', 'variant']) },
];

function checkListEntries(image: Record<string, unknown>, manifest: Record<string, unknown>, findings: Findings): void {
  const recorded = image.dockerImageManifests;
  if (!Array.isArray(recorded) || recorded.length === 0) return;
  const expected = arrayOrEmpty(manifest.manifests);
  if (recorded.length !== expected.length) {
    findings.add(invalidHidden('manifest-list-match', ['dockerImageManifests'], `the manifest list has ${expected.length} entries, dockerImageManifests has ${recorded.length}`));
    return;
  }
  for (let i = 0; i < recorded.length; i++) {
    const entry = recorded[i];
    if (!isObject(entry)) continue; // the schema reports it
    if (findings.done) return;
    if (!findings.wants(['dockerImageManifests', i])) continue;
    const want = expected[i];
    const source = isObject(want) ? want : {};
    for (const { field, from } of ENTRY_FIELDS) {
      // Go writes an absent platform field as "": the two are one value.
      const have = emptyAsUndefined(entry[field]);
      const should = emptyAsUndefined(from(source));
      if (have !== should) {
        findings.add(invalid('manifest-list-match', ['dockerImageManifests', i, field], entry[field] ?? '', `the manifest list's entry ${i} has ${should === undefined ? 'none' : JSON.stringify(should)}`));
      }
    }
  }
}

function checkReferenceDigest(image: Record<string, unknown>): FieldError[] {
  const reference = image.dockerImageReference;
  const name = isObject(image.metadata) ? image.metadata.name : undefined;
  if (typeof reference !== 'string' || typeof name !== 'string' || name === '') return [];
  const parsed = parseReference(reference);
  const digest = parsed.ok ? parsed.reference.digest : undefined;
  if (digest === undefined || digest === name) return [];
  // Only a warning: a mirror may serve the same content under another manifest digest.
  return [invalid('reference-digest', ['dockerImageReference'], reference, `its digest differs from metadata.name ${JSON.stringify(name)}`)];
}


function emptyAsUndefined(value: unknown): unknown {
  return value === '' || value === null ? undefined : value;
}
