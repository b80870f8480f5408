/**
 * Which cluster `audit scan` and the controller reach: as kubectl finds it, and a clear error naming
 * the problem when there is none (never the client library's internals, never a silent localhost:8080).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeConfigError, loadKubeConfig } from '../../src/audit/kubeconfig.js';
import { run } from '../../src/cli/audit.js';
import { captureIo, tempDir } from './helpers.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: dev
  cluster: {server: "https://dev.example:6443"}
- name: prod
  cluster: {server: "https://prod.example:6443"}
users:
- name: me
  user: {token: not-a-real-token}
contexts:
- name: dev
  context: {cluster: dev, user: me}
- name: prod
  context: {cluster: prod, user: me}
current-context: dev
`;

function file(content: string, name = 'kubeconfig'): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return path;
}

/** An environment with nothing configured: no KUBECONFIG, a HOME without .kube, not in a pod. */
const nowhere = () => ({ env: { HOME: tempDir() }, exists: () => false });

describe('loadKubeConfig', () => {
  it('reads --kubeconfig, its current context, or --context', () => {
    const path = file(KUBECONFIG);
    expect(loadKubeConfig(k8s, { kubeconfig: path }, nowhere()).getCurrentCluster()?.server).toBe('https://dev.example:6443');
    expect(loadKubeConfig(k8s, { kubeconfig: path, context: 'prod' }, nowhere()).getCurrentCluster()?.server).toBe('https://prod.example:6443');
  });

  it('reads KUBECONFIG, else ~/.kube/config', () => {
    const path = file(KUBECONFIG);
    expect(loadKubeConfig(k8s, {}, { env: { KUBECONFIG: path } }).getCurrentCluster()?.server).toBe('https://dev.example:6443');
    const home = tempDir();
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), KUBECONFIG.replace('current-context: dev', 'current-context: prod'));
    expect(loadKubeConfig(k8s, {}, { env: { HOME: home } }).getCurrentCluster()?.server).toBe('https://prod.example:6443');
  });

  it('uses the service account in a pod', () => {
    const inPod = { env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, exists: (p: string) => p.endsWith('serviceaccount/token') };
    // The library reads the host from process.env itself: that the in-cluster configuration was chosen is checked here.
    expect(loadKubeConfig(k8s, {}, inPod).getCurrentCluster()?.name).toBe('inCluster');
  });

  it.each([
    { what: 'nothing configured (no silent http://localhost:8080)', options: {}, where: nowhere, want: /^no cluster is configured: no --kubeconfig, KUBECONFIG is not set, there is no ~\/.kube\/config, and this is not a pod/ },
    { what: 'an empty kubeconfig', options: () => ({ kubeconfig: file('') }), where: nowhere, want: /^the kubeconfig \S+ is empty: no cluster is configured there$/ },
    { what: 'a kubeconfig that is not one', options: () => ({ kubeconfig: file('just some words\n') }), where: nowhere, want: /^the kubeconfig \S+ (is not a kubeconfig|names no current-context)/ },
    { what: 'a missing file', options: () => ({ kubeconfig: join(tempDir(), 'nope') }), where: nowhere, want: /^cannot read the kubeconfig \S+: no such file$/ },
    { what: 'no current-context', options: () => ({ kubeconfig: file(KUBECONFIG.replace('current-context: dev\n', '')) }), where: nowhere, want: /names no current-context: pass --context NAME \(contexts: dev, prod\)$/ },
    { what: 'an unknown --context', options: () => ({ kubeconfig: file(KUBECONFIG), context: 'staging' }), where: nowhere, want: /has no context "staging" \(contexts: dev, prod\)$/ },
    { what: 'an empty KUBECONFIG file', options: {}, where: () => ({ env: { KUBECONFIG: file('') } }), want: /is empty/ },
  ])('$what: a KubeConfigError naming the problem', ({ options, where, want }) => {
    const opts = typeof options === 'function' ? options() : options;
    let error: unknown;
    try {
      loadKubeConfig(k8s, opts, where());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KubeConfigError);
    expect((error as Error).message).toMatch(want);
  });
});

describe('audit scan without a usable kubeconfig', () => {
  it.each([
    { what: 'an empty kubeconfig file', env: () => ({ KUBECONFIG: file('') }), want: 'is empty: no cluster is configured there' },
    { what: 'no kubeconfig at all', env: () => ({ HOME: tempDir() }), want: 'no cluster is configured' },
  ])('$what: exit 2 and a clear error, never the library internals', async ({ env, want }) => {
    const { io, err } = captureIo();
    io.env = env();
    const code = await run(['scan'], io);
    expect(code).toBe(2);
    expect(err()).toContain(want);
    expect(err()).not.toContain('Cannot read properties');
  });
});
