/**
 * Which cluster the commands that talk to one (audit scan, controller) reach, found as kubectl finds
 * it: `--kubeconfig`, else the files of KUBECONFIG, else ~/.kube/config, else the in-cluster service
 * account. Unlike the client library's loadFromDefault, nothing is guessed: with none of these there is
 * no cluster (the library falls back to http://localhost:8080 without a word), and a kubeconfig that
 * is empty, not YAML or without a current cluster is named with what is wrong with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type * as K8s from '@kubernetes/client-node';

type Client = typeof K8s;
type KubeConfig = InstanceType<Client['KubeConfig']>;

/** Where the service account's token is mounted in a pod (the library reads it from there too). */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** A cluster cannot be reached as configured: the message says why and what to do. */
export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

/** What loadKubeConfig reads besides the flags: the environment, and whether a path exists. */
export interface KubeConfigEnv {
  env: NodeJS.ProcessEnv;
  exists?: (path: string) => boolean;
}

/** The client configuration kubectl would use, or a KubeConfigError saying why there is none. */
export function loadKubeConfig(k8s: Client, options: { kubeconfig?: string; context?: string }, where: KubeConfigEnv = { env: process.env }): KubeConfig {
  const { env } = where;
  const exists = where.exists ?? existsSync;
  const config = new k8s.KubeConfig();
  const files = options.kubeconfig ? [options.kubeconfig] : (env.KUBECONFIG ?? '').split(delimiter).filter((file) => file !== '');
  if (files.length === 0 && env.HOME && exists(join(env.HOME, '.kube', 'config'))) files.push(join(env.HOME, '.kube', 'config'));
  if (files.length > 0) {
    for (const [i, file] of files.entries()) {
      const one = i === 0 ? config : new k8s.KubeConfig();
      loadFile(one, file);
      if (i > 0) config.mergeConfig(one);
    }
  } else if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && exists(SERVICE_ACCOUNT_TOKEN)) {
    config.loadFromCluster();
  } else {
    throw new KubeConfigError(
      'no cluster is configured: no --kubeconfig, KUBECONFIG is not set, there is no ~/.kube/config, and this is not a pod with a service account (kubectl would not know where to go either)',
    );
  }
  const source = files.length > 0 ? `the kubeconfig ${files.join(delimiter)}` : 'the in-cluster configuration';
  if (options.context) {
    if (config.getContextObject(options.context) == null) {
      throw new KubeConfigError(`${source} has no context ${JSON.stringify(options.context)} (contexts: ${config.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    config.setCurrentContext(options.context);
  }
  const context = config.getCurrentContext();
  if (!context) throw new KubeConfigError(`${source} names no current-context: pass --context NAME (contexts: ${config.getContexts().map((c) => c.name).join(', ') || 'none'})`);
  const cluster = config.getCurrentCluster();
  if (cluster == null || !cluster.server) throw new KubeConfigError(`${source}: the context ${JSON.stringify(context)} names no cluster with a server`);
  return config;
}

/** Loads one kubeconfig file, naming the file in every failure. */
function loadFile(config: KubeConfig, file: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KubeConfigError(`cannot read the kubeconfig ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`);
  }
  if (text.trim() === '') throw new KubeConfigError(`the kubeconfig ${file} is empty: no cluster is configured there`);
  try {
    config.loadFromFile(file);
  } catch (error) {
    // The library's own message (a YAML error, or a TypeError from a document that is not a mapping).
    throw new KubeConfigError(`the kubeconfig ${file} is not a kubeconfig: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200)}`);
  }
}
