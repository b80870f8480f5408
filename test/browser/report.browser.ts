/**
 * The HTML reports in a real browser: headless Chromium (Debian's /usr/bin/chromium) renders them,
 * and the screenshots must show charts, not a blank page. Not part of `npm test`: run with
 * `npm run test:browser` (scripts/ci-browser.sh installs Chromium when it is missing).
 * Screenshots are kept in .scratch/ for a person to look at.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { renderAuditHtml, renderScanHtml } from '../../src/audit/render-html.js';
import { reviewAuditLogs } from '../../src/audit/review.js';
import { scanImages } from '../../src/audit/scan.js';
import { anImage, schema2Image } from '../fixtures/index.js';
import { auditEvent, auditLines, brokenImage, MUTATING, VALIDATING } from '../audit/audit-log.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = join(process.cwd(), '.scratch');
const LONG_USER = 'system:serviceaccount:openshift-image-registry-migration-long-namespace:registry-migration-service-account-with-a-long-name';
const HOSTILE = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>';

const results: { name: string; error?: unknown }[] = [];
async function check(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
    results.push({ name });
    console.log(`  ✓ ${name}`);
  } catch (error) {
    results.push({ name, error });
    console.log(`  ✗ ${name}\n    ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** How many distinct colours (quantised) a PNG shows, and the share of its most common one. */
async function pixelStats(page: Page, png: Buffer): Promise<{ colors: number; dominant: number }> {
  // Runs in the page (this project's TypeScript has no DOM types, so the code is a string).
  const inPage = `(async (dataUrl) => {
    const image = new Image();
    image.src = dataUrl;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, image.width, image.height);
    const counts = new Map();
    for (let i = 0; i < data.length; i += 4) {
      const key = ((data[i] >> 4) << 8) | ((data[i + 1] >> 4) << 4) | (data[i + 2] >> 4);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return { colors: counts.size, dominant: Math.max(...counts.values()) / (data.length / 4) };
  })(${JSON.stringify(`data:image/png;base64,${png.toString('base64')}`)})`;
  return (await page.evaluate(inPage)) as { colors: number; dominant: number };
}

async function main(): Promise<number> {
  mkdirSync(OUT, { recursive: true });
  const dir = await mkdtemp(join(tmpdir(), 'report-browser-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const log = join(dir, 'audit.log');
    const hostile = auditEvent({ scenario: 'bypassed', level: 'Metadata', seed: 'hostile', time: '2024-06-03T11:40:00.000Z', user: { username: HOSTILE, groups: [] } });
    // A long user name and a long Image name must wrap inside their columns, never one letter a line.
    const long = auditEvent({ scenario: 'failed-open', level: 'Request', seed: 'long', time: '2024-06-03T10:10:00.000Z', user: { username: LONG_USER, groups: [] } });
    writeFileSync(log, `${[...auditLines({ perScenario: 4, noise: 2 }), JSON.stringify(hostile), JSON.stringify(long)].join('\n')}\n`);
    const report = await reviewAuditLogs({ inputs: [{ path: log }], webhookNames: [MUTATING, VALIDATING] });
    const auditHtml = join(dir, 'audit.html');
    writeFileSync(auditHtml, renderAuditHtml(report, new Date('2024-06-04T09:00:00Z')));
    const scanHtml = join(dir, 'scan.html');
    // With a trust scope and no trusted key, every Image in quay.io/example is listed as untrusted; one
    // of them carries a hostile name, which must stay text in that list as in the violations.
    const hostileImage = anImage();
    hostileImage.metadata = { ...hostileImage.metadata, name: HOSTILE };
    const scan = await scanImages([anImage(), schema2Image(), brokenImage('b/1'), brokenImage('b/2'), hostileImage], 'images.json', { expectTrustedSignature: ['quay.io/example'] });
    writeFileSync(scanHtml, renderScanHtml(scan, new Date('2024-06-04T09:00:00Z')));

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const requests: string[] = [];
    const consoleErrors: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });

    await check('the audit report renders its charts', async () => {
      await page.goto(pathToFileURL(auditHtml).href);
      assert.equal(await page.locator('svg.timeline').count(), 1, 'a timeline');
      const buckets = report.timeline.buckets.filter((b) => Object.values(b.counts).some((n) => n > 0)).length;
      const bars = await page.locator('svg.timeline rect').count();
      assert.ok(bars >= buckets, `a bar (or more) per bucket with writes: ${bars} rects for ${buckets} buckets`);
      assert.equal(await page.locator('svg.rules').count(), 2, 'denied by rule, and stored with violations by rule');
      assert.ok((await page.locator('svg.rules rect').count()) >= 4, 'a bar per rule in each');
      const box = await page.locator('svg.timeline').boundingBox();
      assert.ok(box && box.width > 600 && box.height > 150, `the timeline is drawn large enough: ${JSON.stringify(box)}`);
    });

    await check('the audit report fits 1280 px: nothing overflows, long names wrap inside their column', async () => {
      const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
      assert.ok(width <= 1280, `the page is ${width} px wide`);
      const table = await page.locator('table.entries').first().boundingBox();
      assert.ok(table && table.x + table.width <= 1280, `the findings table ends at ${table ? table.x + table.width : '?'} px`);
      const narrowest = (await page.evaluate(
        "Math.min(...[...document.querySelectorAll('table.entries code')].map((c) => c.getBoundingClientRect().width))",
      )) as number;
      assert.ok(narrowest >= 30, `every name in the findings table is at least 30 px wide (one letter a line is ~8 px): ${narrowest}`);
      const text = await page.locator('table.entries').first().innerText();
      assert.ok(text.includes(report.entries[0]!.auditID!), 'findings carry their auditID');
      assert.ok(text.indexOf('failed-open') < text.indexOf('bypassed'), 'failed-open listed before bypassed');
    });

    await check('the audit report shows hostile log strings as text, never as markup', async () => {
      assert.notEqual(await page.title(), 'pwned');
      assert.equal(await page.locator('script').count(), 0);
      assert.equal(await page.locator('main img').count(), 0);
      assert.ok((await page.locator('body').innerText()).includes('<script>document.title="pwned"</script>'));
    });

    await check('the audit report loads nothing but itself', async () => {
      assert.deepEqual(requests.filter((url) => !url.startsWith('file://')), []);
      assert.deepEqual(consoleErrors, []);
    });

    await check('the audit report screenshot is not blank: colours vary, no single colour covers the page', async () => {
      const png = await page.screenshot({ fullPage: true });
      writeFileSync(join(OUT, 'audit-report.png'), png);
      const first = await page.screenshot();
      writeFileSync(join(OUT, 'audit-report-top.png'), first);
      // The charts and tables below the findings, for a person to look at.
      const timeline = await page.locator('svg.timeline').boundingBox();
      if (timeline) writeFileSync(join(OUT, 'audit-report-charts.png'), await page.screenshot({ fullPage: true, clip: { x: 0, y: Math.max(0, timeline.y - 60), width: 1280, height: 1400 } }));
      const probe = await context.newPage();
      const stats = await pixelStats(probe, first);
      await probe.close();
      assert.ok(stats.colors >= 20, `at least 20 colours, got ${stats.colors}`);
      assert.ok(stats.dominant < 0.9, `the most common colour covers ${(stats.dominant * 100).toFixed(1)}% of the screen`);
    });

    await check('the scan report renders its bars and findings, and fits 1280 px', async () => {
      await page.goto(pathToFileURL(scanHtml).href);
      assert.equal(await page.locator('svg.rules').count(), 1);
      assert.ok((await page.locator('table.findings tbody tr').count()) >= 4, 'a row per violation');
      // A digest, a reference and a detail quoting a hostile name wrap inside their columns.
      const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
      assert.ok(width <= 1280, `the page is ${width} px wide`);
      const png = await page.screenshot({ fullPage: true });
      writeFileSync(join(OUT, 'scan-report.png'), png);
      const probe = await context.newPage();
      const stats = await pixelStats(probe, png);
      await probe.close();
      assert.ok(stats.colors >= 10 && stats.dominant < 0.95, JSON.stringify(stats));
    });

    await check('the scan report lists the Images in trust scopes without a trusted signature, as text, within 1280 px', async () => {
      const listed = scan.untrustedInScope?.images ?? [];
      assert.ok(listed.length >= 2, `the scan listed ${listed.length} untrusted Images in scope`);
      const section = page.locator('section.untrusted');
      assert.equal(await section.count(), 1, 'one section');
      assert.ok((await section.locator('h2').innerText()).endsWith(`: ${scan.untrustedInScope!.total}`), 'its heading carries the count');
      assert.equal(await section.locator('tbody tr').count(), listed.length, 'a row per listed Image');
      const text = await section.innerText();
      for (const image of listed) assert.ok(text.includes(image.name) && text.includes(image.reference ?? ''), `${image.name} is listed with its reference`);
      assert.notEqual(await page.title(), 'pwned');
      assert.equal(await page.locator('script').count(), 0);
      assert.equal(await page.locator('main img').count(), 0);
      const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
      assert.ok(width <= 1280, `the page is ${width} px wide`);
      assert.deepEqual(requests.filter((url) => !url.startsWith('file://')), []);
      assert.deepEqual(consoleErrors, []);
      const box = await section.boundingBox();
      if (box) writeFileSync(join(OUT, 'scan-report-untrusted.png'), await page.screenshot({ fullPage: true, clip: { x: 0, y: Math.max(0, box.y - 20), width: 1280, height: Math.min(900, box.height + 40) } }));
    });
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
  const failed = results.filter((r) => r.error !== undefined).length;
  console.log(`\nscreenshots in ${OUT}/\n${results.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
