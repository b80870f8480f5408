/**
 * `audit scan --expect-trusted-signature`: stored Images in scope none of whose signatures verifies as
 * Trusted=True and ForImage=True (real signatures, the fixtures' keys) are listed, as the webhook warns
 * about them; they do not fail the scan, as the webhook never denies them.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderScanHtml } from '../../src/audit/render-html.js';
import { scanImages, type ScanReport } from '../../src/audit/scan.js';
import { run } from '../../src/cli/audit.js';
import type { Image } from '../../src/image/types.js';
import { SignatureVerifier } from '../../src/signature/verifier.js';
import { anImage } from '../fixtures/index.js';
import { untrustedRealSignature } from '../fixtures/signatures.js';
import { fixtures, trustedKeysOf } from '../signature/helpers.js';
import { captureIo, tempDir } from './helpers.js';

/** The known-good Image (quay.io/example/hello) named `name`, with the named real signatures as a registry import stores them. */
function stored(name: string, ...fixtureNames: string[]): Image {
  const image = anImage();
  const imageName = String(image.metadata?.name);
  image.signatures = fixtureNames.map((fixture) => {
    const { metadata, type, content } = untrustedRealSignature(imageName, { fixture });
    return { metadata, type, content };
  });
  image.metadata = { ...image.metadata, annotations: { 'example.com/label': name } };
  return image;
}

const list = (...images: Image[]) => ({ apiVersion: 'v1', kind: 'List', items: images });

/** The HTML report's section of Images in scope without a trusted signature, or undefined. */
const untrustedSectionOf = (page: string) => /<section class="untrusted">[\s\S]*?<\/section>/.exec(page)?.[0];

describe('audit scan --expect-trusted-signature', () => {
  it('lists the Images in scope without a trusted signature, and only those', async () => {
    const verifier = new SignatureVerifier(await trustedKeysOf(fixtures));
    const images = [stored('signed', 'rsa-valid'), stored('untrusted', 'untrusted-key'), stored('unsigned')];
    const report = await scanImages(images, 'images.json', { expectTrustedSignature: ['quay.io/example'] }, verifier);
    expect(report.untrustedInScope?.total).toBe(2);
    expect(report.untrustedInScope?.images).toEqual([
      { name: images[1]!.metadata!.name, reference: images[1]!.dockerImageReference },
      { name: images[2]!.metadata!.name, reference: images[2]!.dockerImageReference },
    ]);
    // Out of scope: nothing listed; without scopes: no such section at all.
    expect((await scanImages(images, 'images.json', { expectTrustedSignature: ['quay.io/other'] }, verifier)).untrustedInScope).toEqual({ total: 0, images: [] });
    expect((await scanImages(images, 'images.json', {}, verifier)).untrustedInScope).toBeUndefined();
  });

  it('prints them from the command line, with the keys given, and does not fail the scan for them', async () => {
    const keys = tempDir();
    for (const file of fixtures.trustedKeys) copyFileSync(join(fixtures.dir, file), join(keys, file));
    const path = join(tempDir(), 'images.json');
    // One Image only, signed by an untrusted key, with the signature-verified rule off: its only finding is the expectation.
    writeFileSync(path, JSON.stringify(list(stored('untrusted', 'untrusted-key'))));
    const { io, out, err } = captureIo();
    const code = await run(['scan', path, '--trusted-keys', keys, '--expect-trusted-signature', 'quay.io/example', '--disable-rules', 'signature-verified'], io);
    expect(err()).toBe('');
    expect(code).toBe(0);
    expect(out()).toContain('Images in --expect-trusted-signature scopes without a trusted signature (a warning): 1\n  sha256:');
    const json = captureIo();
    await run(['scan', path, '--trusted-keys', keys, '--expect-trusted-signature', 'quay.io/example', '--json'], json.io);
    expect((JSON.parse(json.out()) as { untrustedInScope: { total: number } }).untrustedInScope.total).toBe(1);
  });

  it('lists them in the HTML report too, from the scan report the text and JSON print', async () => {
    const keys = tempDir();
    for (const file of fixtures.trustedKeys) copyFileSync(join(fixtures.dir, file), join(keys, file));
    const dir = tempDir();
    const path = join(dir, 'images.json');
    writeFileSync(path, JSON.stringify(list(stored('signed', 'rsa-valid'), stored('untrusted', 'untrusted-key'), stored('unsigned'))));
    const args = ['scan', path, '--trusted-keys', keys, '--expect-trusted-signature', 'quay.io/example'];
    const json = captureIo();
    await run([...args, '--json'], json.io);
    const { untrustedInScope } = JSON.parse(json.out()) as ScanReport;
    expect(untrustedInScope?.total).toBe(2);

    const html = join(dir, 'scan.html');
    const { io, err } = captureIo();
    await run([...args, '--html', html], io);
    expect(err()).toBe('');
    const section = untrustedSectionOf(readFileSync(html, 'utf8'));
    expect(section).toContain('without a trusted signature (a warning): 2</h2>');
    // A row per Image the scan listed, each with its name and reference.
    const rows = [...(section ?? '').matchAll(/<tr><td><code>([^<]*)<\/code><\/td><td><code>([^<]*)<\/code><\/td><\/tr>/g)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(untrustedInScope!.images.map((image) => [image.name, image.reference]));
    expect(readFileSync(html, 'utf8')).toContain('<b>2</b><span>in trust scopes, not trusted</span>');

    // Without scopes the report has no such section; with scopes and nothing untrusted it says so.
    await run(['scan', path, '--trusted-keys', keys, '--html', html], captureIo().io);
    expect(untrustedSectionOf(readFileSync(html, 'utf8'))).toBeUndefined();
    await run(['scan', path, '--trusted-keys', keys, '--expect-trusted-signature', 'quay.io/other', '--html', html], captureIo().io);
    expect(untrustedSectionOf(readFileSync(html, 'utf8'))).toContain('(a warning): 0</h2>');
  });

  it('escapes what the cluster says in that list, and says when the scan listed fewer than it counted', () => {
    const hostile = '<img src=x onerror=alert(1)><script>alert(1)</script>';
    const report: ScanReport = {
      kind: 'ImageScan',
      source: 'images.json',
      images: 1500,
      withViolations: 0,
      failing: 0,
      skipped: 0,
      byRule: {},
      findings: [],
      findingsTotal: 0,
      untrustedInScope: { total: 1500, images: [{ name: hostile, reference: `quay.io/example/${hostile}` }, { name: 'sha256:plain' }] },
    };
    const section = untrustedSectionOf(renderScanHtml(report))!;
    expect(section).not.toMatch(/<img|<script/);
    expect(section).toContain('<code>&#60;img src=x onerror=alert(1)&#62;&#60;script&#62;alert(1)&#60;/script&#62;</code>');
    expect(section).toContain('<code>sha256:plain</code></td><td><span class="note">(none)</span>');
    expect(section).toContain('Only the first 2 of 1500 Images are listed.');
    // The violations list says so too.
    const finding = { name: 'sha256:broken', violations: [{ rule: 'layer-size', result: 'fail' as const, path: 'dockerImageLayers[0].size', detail: 'Invalid value: -1' }] };
    expect(renderScanHtml({ ...report, withViolations: 1200, failing: 1200, findings: [finding], findingsTotal: 1200 })).toContain('Only the first 1 of 1200 Images with violations are listed.');
  });

  it('refuses a scope that is not a repository prefix', async () => {
    const { io, err } = captureIo();
    expect(await run(['scan', '-', '--expect-trusted-signature', 'quay.io/example:latest'], io)).toBe(2);
    expect(err()).toContain('--expect-trusted-signature: "quay.io/example:latest" names a tag or digest');
  });
});
