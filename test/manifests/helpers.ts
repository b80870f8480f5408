/**
 * Shared by the manifests tests: reading YAML, rendering kustomizations with `kubectl kustomize`, and
 * validating objects against the Kubernetes (and cert-manager) OpenAPI schemas that the
 * kubernetes-models packages compile, never against hand-written schemas.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseAllDocuments } from 'yaml';
import type { CommandIo } from '../../src/cli/io.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MANIFESTS = join(ROOT, 'manifests');

/** A Kubernetes object as read from YAML. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> }; [key: string]: any };

type Model = new (data: never) => { validate(): void };

/** Every kind the manifests may contain, with the model whose schema validates it. */
const MODELS: Record<string, Model> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': MutatingWebhookConfiguration,
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': ValidatingWebhookConfiguration,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
  'cert-manager.io/v1/Issuer': Issuer,
  'cert-manager.io/v1/Certificate': Certificate,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** Validates an object against the schema of its apiVersion and kind; throws with the schema's errors. */
export function validateObject(object: K8sObject): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const model = MODELS[key];
  if (!model) throw new Error(`no schema known for ${key} (${object.metadata?.name}): add its model to test/manifests/helpers.ts`);
  try {
    new model(structuredClone(object) as never).validate();
  } catch (error) {
    throw new Error(`${key} ${object.metadata?.name} does not match the Kubernetes schema: ${(error as Error).message}`);
  }
}

/** Parses every document of a YAML text; fails on any YAML error or warning. */
export function parseYaml(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text)
    .filter((doc) => doc.contents !== null)
    .map((doc, i) => {
      const problems = [...doc.errors, ...doc.warnings];
      if (problems.length > 0) throw new Error(`${source} document ${i + 1}: ${problems[0]!.message}`);
      return doc.toJS({ maxAliasCount: 0 }) as K8sObject;
    });
}

/** Every .yaml/.yml file under a folder (git-ignored generated files are not in a fresh checkout). */
export function yamlFiles(dir: string, skip: (path: string) => boolean = () => false): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !skip(path))
    .sort();
}

export function isKustomization(path: string): boolean {
  return /(^|\/)kustomization\.ya?ml$/.test(path);
}

export function rel(path: string): string {
  return relative(ROOT, path);
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** The path of kubectl, or a clear failure: the overlays are rendered with `kubectl kustomize`. */
export function kubectl(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat('/usr/bin', '/usr/local/bin')) {
    if (dir === '') continue;
    const candidate = join(dir, 'kubectl');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(
    'kubectl was not found on PATH (nor in /usr/bin or /usr/local/bin). The manifests tests render every ' +
      'kustomize overlay with `kubectl kustomize` (offline, no cluster needed); install kubectl 1.27 or later.',
  );
}

/** Renders a kustomization directory with `kubectl kustomize` and parses the result. */
export function kustomize(dir: string): K8sObject[] {
  const text = execFileSync(kubectl(), ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseYaml(text, `kubectl kustomize ${dir}`).map(unwrapSecretData);
}

/** Renders a kustomization that must fail; returns what kubectl printed on stderr. */
export function kustomizeError(dir: string): string {
  try {
    execFileSync(kubectl(), ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    return String((error as { stderr?: string }).stderr);
  }
  throw new Error(`kubectl kustomize ${dir} succeeded; it was expected to fail`);
}

// kustomize wraps a generated Secret's base64 at 70 columns. The API server decodes it with Go's
// base64 decoder, which skips line breaks; the schema's `byte` format does not, so unwrap first.
function unwrapSecretData(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret' || typeof object.data !== 'object' || object.data === null) return object;
  const data = Object.fromEntries(Object.entries(object.data as Record<string, string>).map(([k, v]) => [k, v.replace(/[\r\n]/g, '')]));
  return { ...object, data };
}

export function find(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

/** A CommandIo whose outputs are collected as text. */
export function memoryIo(): CommandIo & { out: () => string; err: () => string } {
  const collect = () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    return { stream, text: () => chunks.join('') };
  };
  const stdout = collect();
  const stderr = collect();
  return { stdout: stdout.stream, stderr: stderr.stream, env: {}, out: stdout.text, err: stderr.text };
}
