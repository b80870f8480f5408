/**
 * The deployment's rule settings in a shell: `review`, `check`, `rules` and `audit scan` read
 * DISABLE_RULES and RULE_ACTIONS as serve reads them (a flag wins, an empty variable is none), so that
 * every command judges an Image as the deployed webhook does, and a bad value names its source.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run as audit } from '../../src/cli/audit.js';
import { run as check } from '../../src/cli/check.js';
import type { CommandIo } from '../../src/cli/io.js';
import { run as review } from '../../src/cli/review.js';
import { run as rules } from '../../src/cli/rules.js';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { captureIo, tempDir } from '../audit/helpers.js';
import { admissionReview, anImage } from '../fixtures/index.js';

/** An Image with an empty layer name and a negative layer size: layer-name, layer-size and layers-match-manifest deny it. */
function badLayersImage() {
  const image = anImage();
  const layers = image.dockerImageLayers as { name: string; size: number }[];
  layers[0]!.name = '';
  layers[1]!.size = -1;
  return image;
}
const RULES = 'layer-name,layer-size,layers-match-manifest';

async function call(command: (argv: string[], io: CommandIo) => Promise<number>, argv: string[], env: NodeJS.ProcessEnv) {
  const { io, out, err } = captureIo();
  io.env = env;
  const code = await command(argv, io);
  return { code, out: out(), err: err() };
}

/** The files each command reads: the Image as a manifest, as kubectl's list, and in an AdmissionReview. */
function files() {
  const dir = tempDir();
  const image = badLayersImage();
  const paths = { manifest: join(dir, 'img.json'), list: join(dir, 'images.json'), review: join(dir, 'req.json') };
  writeFileSync(paths.manifest, JSON.stringify(image));
  writeFileSync(paths.list, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [image] }));
  writeFileSync(paths.review, JSON.stringify(admissionReview({ operation: 'CREATE', object: image })));
  return paths;
}

/** What serve, started with `args` in `env`, answers `body` at /validate. */
async function serverAnswer(args: string[], env: NodeJS.ProcessEnv, body: string) {
  const config = loadConfig(args, env);
  if (config.ok !== true) throw new Error(`serve refuses ${JSON.stringify({ args, env })}`);
  const app = buildApp({ policy: config.config.policy });
  const response = await app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: body });
  await app.close();
  return response.body;
}

describe('DISABLE_RULES and RULE_ACTIONS in every command that judges', () => {
  it.each([
    { name: 'nothing set: every rule denies', env: {}, args: [], denied: true, action: 'deny' },
    { name: 'empty variables are none', env: { DISABLE_RULES: '', RULE_ACTIONS: '' }, args: [], denied: true, action: 'deny' },
    { name: 'DISABLE_RULES turns the rules off', env: { DISABLE_RULES: RULES }, args: [], denied: false, action: 'off*' },
    { name: 'RULE_ACTIONS makes them warn', env: { RULE_ACTIONS: RULES.split(',').map((r) => `${r}=warn`).join(',') }, args: [], denied: false, action: 'warn*' },
    { name: 'the --disable-rules flag wins over DISABLE_RULES', env: { DISABLE_RULES: RULES }, args: ['--disable-rules', 'layer-size'], denied: true, action: 'deny' },
    { name: 'the --rule-actions flag wins over RULE_ACTIONS', env: { RULE_ACTIONS: 'layer-name=warn' }, args: ['--rule-actions', `${RULES.replaceAll(',', '=off,')}=off`], denied: false, action: 'off*' },
  ])('$name: check, review, audit scan and rules agree with serve', async ({ env, args, denied, action }) => {
    const paths = files();
    const want = denied ? 1 : 0;
    expect((await call(check, [paths.manifest, ...args], env)).code).toBe(want);
    expect((await call(audit, ['scan', paths.list, ...args], env)).code).toBe(want);
    const answered = await call(review, [paths.review, ...args], env);
    expect(answered.code).toBe(want);
    // Byte for byte what serve, started with the same flags in the same environment, answers.
    expect(answered.out).toBe(`${await serverAnswer(args, env, readFileSync(paths.review, 'utf8'))}\n`);
    expect(JSON.parse(answered.out)).toMatchObject({ response: { allowed: !denied } });
    const listed = await call(rules, args, env);
    expect(listed.code).toBe(0);
    expect(listed.out.split('\n').find((l) => l.startsWith('layer-name '))!.split(/\s+/)[1]).toBe(action);
  });

  it.each([
    { env: { DISABLE_RULES: 'nope' }, problem: '--disable-rules (DISABLE_RULES) names rules that do not exist: "nope"' },
    { env: { RULE_ACTIONS: 'layer-size=block' }, problem: '--rule-actions (RULE_ACTIONS): layer-size="block": the action must be one of deny, warn, off' },
    {
      env: { DISABLE_RULES: 'layer-size', RULE_ACTIONS: 'layer-size=warn' },
      problem: '--rule-actions (RULE_ACTIONS) sets layer-size=warn but --disable-rules (DISABLE_RULES) turns it off: say one',
    },
  ])('refuses a bad $env with exit 2 and the message serve prints', async ({ env, problem }) => {
    const served = loadConfig([], env);
    expect(served.ok === false ? served.errors : []).toContain(problem);
    const paths = files();
    for (const [command, argv] of [
      [check, [paths.manifest]],
      [review, [paths.review]],
      [rules, []],
      [audit, ['scan', paths.list]],
    ] as const) {
      const { code, err } = await call(command, [...argv], env);
      expect(code).toBe(2);
      expect(err).toContain(problem);
    }
  });

  it('names the variables in each command\'s --help', async () => {
    for (const [command, argv] of [
      [check, ['--help']],
      [review, ['--help']],
      [rules, ['--help']],
      [audit, ['scan', '--help']],
    ] as const) {
      const { code, out } = await call(command, [...argv], {});
      expect(code).toBe(0);
      expect(out).toContain('env DISABLE_RULES');
      expect(out).toContain('env RULE_ACTIONS');
    }
  });
});
