/** `audit scan`: existing Images from kubectl output or from a cluster, listed page by page. */
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateCertificates } from '../../src/certs/generate.js';
import { scanImages, type ScanReport } from '../../src/audit/scan.js';
import { parseObjects } from '../../src/review/objects.js';
import { run } from '../../src/cli/audit.js';
import { anImage, manifestListImage, ociImage, schema2Image } from '../fixtures/index.js';
import { SIGNATURE_RULE } from '../../src/signature/index.js';
import { BROKEN_PATHS, BROKEN_RULES, brokenImage } from './audit-log.js';
import { captureIo, tempDir } from './helpers.js';

function images() {
  return [anImage(), schema2Image(), brokenImage('scan/1'), ociImage(), manifestListImage(), brokenImage('scan/2')];
}

/** The fields a writer claimed on brokenImage's signature that only verification may set. */
const CLAIMED_PATHS = ['conditions', 'imageIdentity', 'signedClaims', 'created', 'issuedBy', 'issuedTo'].map((field) => `signatures[0].${field}`);

async function scanCli(args: string[], stdin?: string) {
  const { io, out, err } = captureIo(stdin);
  const code = await run(['scan', ...args], io);
  return { code, out: out(), err: err() };
}

describe('audit scan from a file', () => {
  const list = { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: images() };

  it.each([
    { format: 'a List (kubectl get images -o json)', text: () => JSON.stringify(list, null, 4) },
    { format: 'one object per line', text: () => images().map((i) => JSON.stringify(i)).join('\n') },
    { format: 'concatenated JSON', text: () => images().map((i) => JSON.stringify(i, null, 2)).join('') },
    { format: 'YAML documents', text: () => images().map((i) => `---\n${JSON.stringify(i)}`).join('\n') },
  ])('reads $format', ({ text }) => {
    const objects = parseObjects(text()).flatMap((o) => ((o as { items?: unknown[] }).items ?? [o]));
    expect(objects).toHaveLength(6);
  });

  it('reports each violation by Image and path, and exits 1', async () => {
    const path = join(tempDir(), 'images.json');
    writeFileSync(path, JSON.stringify(list));
    const { code, out } = await scanCli([path, '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(out) as ScanReport;
    expect(report).toMatchObject({ images: 6, withViolations: 2, skipped: 0, byRule: Object.fromEntries(BROKEN_RULES.map((rule) => [rule, 2])) });
    expect(report.findings.map((f) => f.name)).toEqual([brokenImage('scan/1').metadata!.name, brokenImage('scan/2').metadata!.name]);
    // The broken signature also claims Trusted=True and a signer's fields on bytes nobody verified:
    // signature-verified, at each field, as the webhook's /validate denies it.
    expect(report.findings[0]!.violations.map((v) => v.path)).toEqual([...BROKEN_PATHS, ...CLAIMED_PATHS]);
    expect(report.byRule[SIGNATURE_RULE]).toBe(2);
    const text = await scanCli([path]);
    expect(text.out).toContain(`Image ${brokenImage('scan/1').metadata!.name}`);
    expect(text.out).toContain('signatures[0].conditions[1].status: Unsupported value: "Maybe"');
  });

  it('leaves out the rules named by --disable-rules', async () => {
    const path = join(tempDir(), 'images.json');
    writeFileSync(path, JSON.stringify(list));
    const { code, out } = await scanCli([path, '--json', '--disable-rules', [...BROKEN_RULES, SIGNATURE_RULE].join(',')]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ images: 6, withViolations: 0 });
  });

  it('exits 0 when every Image passes, skipping other kinds, and reads stdin', async () => {
    const input = [anImage(), { kind: 'ConfigMap', metadata: { name: 'x' } }].map((o) => JSON.stringify(o)).join('\n');
    const { code, out } = await scanCli(['-', '--json'], input);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ images: 1, withViolations: 0, skipped: 1 });
  });

  it('writes an HTML report', async () => {
    const path = join(tempDir(), 'images.json');
    writeFileSync(path, JSON.stringify(list));
    const html = join(tempDir(), 'scan.html');
    await scanCli([path, '--html', html]);
    const { readFile } = await import('node:fs/promises');
    const page = await readFile(html, 'utf8');
    expect(page).toContain('<svg class="chart rules"');
    expect(page).toContain(brokenImage('scan/2').metadata!.name);
  });

  it('exits 2 on a file that is not JSON or YAML objects', async () => {
    const path = join(tempDir(), 'bad.json');
    writeFileSync(path, '{"items": [');
    const { code, err } = await scanCli([path]);
    expect(code).toBe(2);
    expect(err).toContain('unterminated');
  });

  it.each([
    {
      what: 'an ImageStream list',
      name: 'streams.json',
      text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'image.openshift.io/v1', kind: 'ImageStream', metadata: { name: 'hello' } }] }),
      holds: 'holds no Image (it holds ImageStream "hello"; an Image has kind: Image)',
    },
    { what: 'an empty file', name: 'empty.json', text: '', holds: 'holds no Image (it holds no object)' },
    { what: 'package.json', name: 'package.json', text: JSON.stringify({ name: 'x', version: '1.0.0' }), holds: 'holds no Image (it holds an object without kind; an Image has kind: Image)' },
    { what: 'an empty kubectl list', name: 'none.json', text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [] }), holds: 'holds no Image (it holds no object)' },
  ])('exits 2 naming the file when it holds no Image ($what): the scan cannot tell, never a false all-clear', async ({ name, text, holds }) => {
    const path = join(tempDir(), name);
    writeFileSync(path, text);
    const { code, out, err } = await scanCli([path]);
    expect(code).toBe(2);
    expect(err).toBe(`image-admission audit: ${path}: ${holds}\n`);
    expect(out).toBe('');
    const fromStdin = await scanCli(['-'], text);
    expect(fromStdin.code).toBe(2);
    expect(fromStdin.err).toBe(`image-admission audit: <stdin>: ${holds}\n`);
  });

  it('exits 2 when one of several files holds no Image, naming only that one', async () => {
    const dir = tempDir();
    const images = join(dir, 'images.json');
    writeFileSync(images, JSON.stringify(list));
    const wrong = join(dir, 'wrong.yaml');
    writeFileSync(wrong, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n');
    const { code, err } = await scanCli([images, wrong, '--json']);
    expect(code).toBe(2);
    expect(err).toBe(`image-admission audit: ${wrong}: holds no Image (it holds ConfigMap "settings"; an Image has kind: Image)\n`);
  });
});

describe('audit scan of a cluster', () => {
  let server: Server | undefined;
  // One CA for the file: the client verifies the fake API server's certificate, as against a real one.
  const pems = generateCertificates({ service: 'kubernetes', namespace: 'default' });
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** A fake API server that serves the Images in pages of `limit`, recording each request. */
  async function fakeApiServer(all: unknown[]): Promise<{ url: string; requests: URL[]; auth: (string | undefined)[] }> {
    const requests: URL[] = [];
    const auth: (string | undefined)[] = [];
    server = createServer({ cert: pems.cert, key: pems.key }, (request: IncomingMessage, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      requests.push(url);
      auth.push(request.headers.authorization);
      if (url.pathname !== '/apis/image.openshift.io/v1/images') {
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 404 }));
        return;
      }
      const limit = Number(url.searchParams.get('limit') ?? all.length);
      const start = Number(url.searchParams.get('continue') ?? '0');
      const end = Math.min(all.length, start + limit);
      const body = { apiVersion: 'image.openshift.io/v1', kind: 'ImageList', metadata: { resourceVersion: '4711', ...(end < all.length ? { continue: String(end) } : {}) }, items: all.slice(start, end) };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    return { url: `https://127.0.0.1:${(server!.address() as AddressInfo).port}`, requests, auth };
  }

  function kubeconfig(server: string): string {
    const path = join(tempDir(), 'kubeconfig');
    writeFileSync(
      path,
      `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: ${server}
    certificate-authority-data: ${Buffer.from(pems.caCert).toString('base64')}
users:
- name: auditor
  user:
    token: sha256~fake-token
contexts:
- name: fake
  context: {cluster: fake, user: auditor}
current-context: fake
`,
    );
    return path;
  }

  it('lists images.image.openshift.io in pages (limit/continue) and checks every Image', async () => {
    const all = images();
    const api = await fakeApiServer(all);
    const { code, out, err } = await scanCli(['--kubeconfig', kubeconfig(api.url), '--page-size', '2', '--json']);
    // Without --trusted-keys the brokenImages' claimed Trusted=True is reported, and the scan says why.
    expect(err).toBe(`image-admission audit: no --trusted-keys: no signature is trusted, so stored Trusted=True conditions are ${SIGNATURE_RULE} violations (docs/signatures.md)\n`);
    expect(code).toBe(1);
    expect(api.requests.map((u) => [u.searchParams.get('limit'), u.searchParams.get('continue')])).toEqual([
      ['2', null],
      ['2', '2'],
      ['2', '4'],
    ]);
    expect(api.auth.every((a) => a === 'Bearer sha256~fake-token')).toBe(true);
    expect(JSON.parse(out)).toMatchObject({ images: 6, withViolations: 2 });
  });

  it('scans with the default kubeconfig chain too (KUBECONFIG), through the library function', async () => {
    const api = await fakeApiServer([anImage()]);
    const { imagesFromCluster } = await import('../../src/audit/scan.js');
    const report = await scanImages(imagesFromCluster({ kubeconfig: kubeconfig(api.url), pageSize: 500 }), 'cluster');
    expect(report).toMatchObject({ images: 1, withViolations: 0 });
  });

  it('exits 0 for a cluster that holds no Image: a true answer, unlike a file without one', async () => {
    const api = await fakeApiServer([]);
    const { code, out } = await scanCli(['--kubeconfig', kubeconfig(api.url), '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ images: 0, withViolations: 0, skipped: 0 });
  });

  it('exits 2 when the cluster cannot be reached', async () => {
    const api = await fakeApiServer([]);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const { code, err } = await scanCli(['--kubeconfig', kubeconfig(api.url)]);
    expect(code).toBe(2);
    expect(err).toMatch(/image-admission audit: .+/);
  });
});
