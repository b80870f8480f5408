/**
 * `audit scan` and the controller agree (issue 17, point 7): given the same Images and the same rule
 * settings, from flags or from the variables serve and the controller read (DISABLE_RULES,
 * RULE_ACTIONS), the scan's byRule and withViolations are the controller's gauge
 * (image_admission_images_in_violation{rule}) and its count of Images in violation, warn rules
 * included; only a `fail` violation makes the scan exit 1.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeStoredImage, type StoredImageOptions } from '../../src/audit/existing.js';
import type { ScanReport } from '../../src/audit/scan.js';
import { run } from '../../src/cli/audit.js';
import { readControllerFlags } from '../../src/cli/controller.js';
import { toFinding } from '../../src/controller/report.js';
import { VerdictStore } from '../../src/controller/verdicts.js';
import { SignatureVerifier } from '../../src/signature/index.js';
import { anImage } from '../fixtures/index.js';
import { brokenImage } from './audit-log.js';
import { captureIo, tempDir } from './helpers.js';

const IMAGES = [anImage(), brokenImage('agree/1'), brokenImage('agree/2')];

async function scan(args: string[], env: NodeJS.ProcessEnv) {
  const file = join(tempDir(), 'images.json');
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: IMAGES }));
  const { io, out } = captureIo();
  io.env = env;
  const code = await run(['scan', file, '--json', ...args], io);
  return { code, report: JSON.parse(out()) as ScanReport };
}

/** What the controller's store holds after judging IMAGES with the settings its flags read from `env`. */
async function controllerCounts(env: NodeJS.ProcessEnv) {
  const flags = readControllerFlags([], () => 'ns', env);
  if (flags === 'help' || 'errors' in flags) throw new Error(JSON.stringify(flags));
  const judge: StoredImageOptions = flags.config.judge;
  const store = new VerdictStore();
  const verifier = new SignatureVerifier();
  for (const image of IMAGES) store.set(image.metadata!.name!, undefined, toFinding((await judgeStoredImage(image, judge, verifier)).violations));
  return { byRule: Object.fromEntries(store.counts()), inViolation: store.size };
}

describe('audit scan counts as the controller does', () => {
  it.each([
    { name: 'every rule as the catalogue has it', env: {} },
    { name: 'RULE_ACTIONS turning a denying rule into a warning', env: { RULE_ACTIONS: 'signature-type=warn' } },
    { name: 'every rule of the broken Images a warning', env: { RULE_ACTIONS: 'signature-type=warn,signature-condition-status=warn,signature-verified=warn' } },
    { name: 'DISABLE_RULES leaving one out', env: { DISABLE_RULES: 'signature-verified' } },
  ])('$name', async ({ env }) => {
    const controller = await controllerCounts(env);
    const { code, report } = await scan([], env);
    expect(report.byRule).toEqual(controller.byRule);
    expect(report.withViolations).toBe(controller.inViolation);
    // Exit 1 only for a violation of a rule that denies.
    const failing = report.findings.filter((f) => f.violations.some((v) => v.result === 'fail')).length;
    expect(report.failing).toBe(failing);
    expect(code).toBe(failing > 0 ? 1 : 0);
  });

  it('reads DISABLE_RULES and RULE_ACTIONS as serve and the controller do; a flag wins, an empty variable is none', async () => {
    const all = (await scan([], {})).report;
    expect(all.byRule['signature-verified']).toBe(2);
    expect((await scan([], { DISABLE_RULES: 'signature-verified' })).report.byRule).not.toHaveProperty('signature-verified');
    expect((await scan([], { DISABLE_RULES: '' })).report.byRule).toEqual(all.byRule);
    expect((await scan(['--disable-rules', 'signature-type'], { DISABLE_RULES: 'signature-verified' })).report.byRule).toMatchObject({ 'signature-verified': 2 });
    const warned = (await scan([], { RULE_ACTIONS: 'signature-verified=warn' })).report;
    expect(warned.findings[0]!.violations.filter((v) => v.rule === 'signature-verified').every((v) => v.result === 'warn')).toBe(true);
    expect((await scan(['--rule-actions', 'signature-verified=deny'], { RULE_ACTIONS: 'signature-verified=warn' })).report.findings[0]!.violations.every((v) => v.result === 'fail')).toBe(true);
  });
});
