/**
 * `image-admission audit review` on the audit log of a real kube-apiserver (v1.20.2): Images are
 * written with the webhook registered, unregistered, registered for mutation only, stopped under
 * `failurePolicy: Ignore` and under `Fail`, in warn mode, by an exempt user, by an impersonating
 * admin, with `--dry-run=server`, and in ways the API server itself refuses. Each write's audit ID is
 * read from kubectl's own trace of the request (`-v=8` prints the `Audit-Id` response header), and the
 * review's outcome for that audit ID is checked, write by write.
 *
 * Needs the cluster of scripts/apiserver/run.sh: run it with `npm run test:apiserver`. The other
 * files of the suite write to the same audit log; this one checks only its own writes and leaves no
 * webhook configuration behind.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { WriteOutcome } from '../../src/audit/events.js';
import type { Image } from '../../src/image/types.js';
import { anImage, schema2Image } from '../fixtures/index.js';
import {
  AUDIT_REVIEW_SUITE_PREFIX,
  EXEMPT_USER,
  forCrd,
  kubectl,
  MUTATING_WEBHOOK,
  ROOT,
  type Run,
  startWebhook,
  suiteEnvironment,
  unregisterWebhook,
  type User,
  VALIDATING_WEBHOOK,
  type Webhook,
  webhookConfigurations,
  type WebhookConfigurationKind,
} from './harness.js';

const env = suiteEnvironment();
let webhook: Webhook;

/** Every write of this file: its audit ID, and the outcome the review must give it. */
const writes: { auditID: string; want: WriteOutcome; what: string; run: Run }[] = [];

/** The audit ID of the last image write in kubectl's `-v=8` trace (its `Audit-Id` response header). */
function auditIdOf(trace: string): string | undefined {
  let writing = false;
  let id: string | undefined;
  for (const line of trace.split('\n')) {
    const request = /\] (GET|POST|PUT|PATCH|DELETE) (https:\S+)/.exec(line);
    if (request) writing = request[1] !== 'GET' && request[2]!.includes('/apis/image.openshift.io/');
    const header = /\]\s+Audit-Id: ([0-9a-f-]{36})/.exec(line);
    if (header && writing) id = header[1];
  }
  return id;
}

/** Runs a kubectl write traced at -v=8 and records its audit ID with the outcome it must get. */
function write(what: string, want: WriteOutcome, args: string[], options: { as?: User; input?: string } = {}): Run {
  const run = kubectl(env, ['-v=8', ...args], options);
  const auditID = auditIdOf(run.stderr);
  if (!auditID) throw new Error(`no Audit-Id in kubectl's trace of ${what}:\n${run.stderr.slice(-2000)}`);
  writes.push({ auditID, want, what, run });
  return run;
}

let serial = 0;
/** A valid Image (defaulting still to do: no dockerImageMetadataVersion) with a fresh name. */
function freshImage(label: string): Image {
  const image = forCrd(anImage());
  image.metadata = { name: `${AUDIT_REVIEW_SUITE_PREFIX}${label}-${++serial}-${process.pid}` };
  delete image.dockerImageMetadataVersion;
  return image;
}

/** An Image the rules refuse: an unparseable reference. */
function invalidImage(label: string): Image {
  const image = forCrd(schema2Image());
  image.metadata = { name: `${AUDIT_REVIEW_SUITE_PREFIX}${label}-${++serial}-${process.pid}` };
  image.dockerImageReference = 'quay.io/Example/app@sha256:zz';
  return image;
}

/** kubectl create of the object on standard input. */
const CREATE = ['create', '-f', '-'];

/** The webhook configurations, changed as asked: which kinds, and their failure policy. */
function configurations(kinds: WebhookConfigurationKind[], failurePolicy: 'Fail' | 'Ignore'): string {
  const docs = parseAllDocuments(webhookConfigurations(webhook.url, webhook.caFile)).map((d) => d.toJS() as { kind: string; webhooks: { failurePolicy: string }[] });
  return docs
    .filter((d) => (kinds as string[]).includes(d.kind))
    .map((d) => JSON.stringify({ ...d, webhooks: d.webhooks.map((w) => ({ ...w, failurePolicy })) }))
    .join('\n');
}

function register(kinds: WebhookConfigurationKind[], failurePolicy: 'Fail' | 'Ignore'): void {
  unregisterWebhook(env, (['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'] as const).filter((k) => !kinds.includes(k)));
  const applied = kubectl(env, ['apply', '-f', '-'], { input: configurations(kinds, failurePolicy) });
  expect(applied.code, applied.stderr).toBe(0);
}

/**
 * Waits until the API server acts on the configuration: `check` is given a server-side dry-run
 * create of a probe and the webhook endpoints that logged a decision about it.
 */
async function waitFor(what: string, check: (run: Run, endpoints: Set<string>) => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const probe = freshImage('probe');
    const run = kubectl(env, ['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(probe) });
    const endpoints = new Set(webhook.decisions().filter((d) => d.name === probe.metadata?.name).map((d) => String(d.endpoint)));
    if (check(run, endpoints)) return;
    if (Date.now() > deadline) throw new Error(`not in force after 60 s: ${what} (last probe: ${run.code} ${run.stderr})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const judgedBy = (...names: string[]) => (run: Run, endpoints: Set<string>) => run.code === 0 && names.every((n) => endpoints.has(n)) && endpoints.size === names.length;

beforeAll(async () => {
  webhook = await startWebhook(env);
});

afterAll(async () => {
  unregisterWebhook(env);
  await webhook?.stop();
});

describe('writes under every configuration', () => {
  it('registered: allowed, denied, exempt, updated, patched, impersonated, dry run, refused by the API server', async () => {
    register(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'], 'Fail');
    await waitFor('both webhooks registered', judgedBy('mutate', 'validate'));

    const valid = freshImage('allowed');
    expect(write('a valid create', 'allowed', CREATE, { as: 'jane', input: JSON.stringify(valid) }).code).toBe(0);
    const invalid = invalidImage('denied');
    expect(write('an invalid create', 'denied', CREATE, { as: 'jane', input: JSON.stringify(invalid) }).code).not.toBe(0);
    const exempt = invalidImage('exempt');
    expect(write('an exempt user’s invalid create', 'exempt', CREATE, { as: EXEMPT_USER, input: JSON.stringify(exempt) }).code).toBe(0);

    const stored = JSON.parse(kubectl(env, ['get', 'images.image.openshift.io', valid.metadata!.name!, '-o', 'json']).stdout) as Image;
    stored.metadata!.labels = { replaced: 'yes' };
    expect(write('an update', 'allowed', ['replace', '-f', '-'], { as: 'jane', input: JSON.stringify(stored) }).code).toBe(0);
    expect(write('a patch', 'allowed', ['label', 'images.image.openshift.io', valid.metadata!.name!, 'patched=yes'], { as: 'jane' }).code).toBe(0);

    const impersonated = freshImage('impersonated');
    expect(write('a create by admin as jane', 'allowed', [...CREATE, '--as', 'jane'], { as: 'admin', input: JSON.stringify(impersonated) }).code).toBe(0);

    const dryRun = freshImage('dry-run');
    expect(write('a server-side dry run', 'not-stored', [...CREATE, '--dry-run=server'], { as: 'jane', input: JSON.stringify(dryRun) }).code).toBe(0);

    expect(write('a create of an Image that exists', 'refused-elsewhere', CREATE, { as: 'jane', input: JSON.stringify(valid) }).code).not.toBe(0);
    const missing = freshImage('missing');
    expect(write('a replace of an Image that does not exist', 'not-stored', ['replace', '-f', '-'], { as: 'jane', input: JSON.stringify(missing) }).code).not.toBe(0);
  });

  it('in warn mode: warned', async () => {
    await webhook.restart('warn');
    const invalid = invalidImage('warned');
    expect(write('an invalid create in warn mode', 'warned', CREATE, { as: 'jane', input: JSON.stringify(invalid) }).code).toBe(0);
    await webhook.restart('enforce');
  });

  it('registered for mutation only: partial', async () => {
    register(['MutatingWebhookConfiguration'], 'Fail');
    await waitFor('only the mutating webhook registered', judgedBy('mutate'));
    const image = freshImage('partial');
    expect(write('a create judged by the mutating webhook only', 'partial', CREATE, { as: 'jane', input: JSON.stringify(image) }).code).toBe(0);
  });

  it('unregistered: bypassed', async () => {
    unregisterWebhook(env);
    await waitFor('no webhook registered', judgedBy());
    const invalid = invalidImage('bypassed');
    expect(write('an invalid create with no webhook registered', 'bypassed', CREATE, { as: 'jane', input: JSON.stringify(invalid) }).code).toBe(0);
  });

  it('stopped under failurePolicy Ignore: failed-open', async () => {
    register(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'], 'Ignore');
    await waitFor('both webhooks registered under Ignore', judgedBy('mutate', 'validate'));
    await webhook.stop();
    const invalid = invalidImage('failed-open');
    const run = write('an invalid create while the webhook is down, under Ignore', 'failed-open', CREATE, { as: 'jane', input: JSON.stringify(invalid) });
    expect(run.code, run.stderr.slice(-500)).toBe(0);
  });

  it('stopped under failurePolicy Fail: failed-closed', async () => {
    register(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'], 'Fail');
    await waitFor('both webhooks registered under Fail, webhook down', (run) => run.code !== 0 && run.stderr.includes('failed calling webhook'));
    const image = freshImage('failed-closed');
    const run = write('a valid create while the webhook is down, under Fail', 'failed-closed', CREATE, { as: 'jane', input: JSON.stringify(image) });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`failed calling webhook "${MUTATING_WEBHOOK}"`);
    await webhook.start('enforce');
  });
});

describe('audit review of that log', () => {
  type Entry = { auditID: string; outcome: WriteOutcome; user: string; impersonatedUser: string | null; dryRun: boolean; webhooks: Record<string, string>; violations: { rule: string }[] };
  let report: { outcomes: Record<WriteOutcome, number>; entries: Entry[]; problems: string[]; otherWebhooks: string[] };
  let status: number | null;

  beforeAll(() => {
    const review = spawnSync(process.execPath, ['dist/cli/main.js', 'audit', 'review', env.auditLog, '--json', '--list-all', '--max-entries', '0'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20 });
    status = review.status;
    report = JSON.parse(review.stdout) as typeof report;
  });

  it('can tell about every event of a real log, and exits 1: writes need attention', () => {
    expect(report.problems).toEqual([]);
    expect(status).toBe(1);
  });

  it("gives each write the outcome its configuration makes, found by its audit ID", () => {
    const byId = new Map(report.entries.map((e) => [e.auditID, e]));
    const got = writes.map((w) => ({ what: w.what, outcome: byId.get(w.auditID)?.outcome }));
    expect(got).toEqual(writes.map((w) => ({ what: w.what, outcome: w.want })));
  });

  it('shows the real actor of the impersonated write, and the webhooks of each', () => {
    const byId = new Map(report.entries.map((e) => [e.auditID, e]));
    const entry = (what: string) => byId.get(writes.find((w) => w.what === what)!.auditID)!;
    expect(entry('a create by admin as jane')).toMatchObject({ user: 'admin', impersonatedUser: 'jane' });
    expect(entry('a valid create')).toMatchObject({ user: 'jane', impersonatedUser: null, webhooks: { [MUTATING_WEBHOOK]: 'allowed', [VALIDATING_WEBHOOK]: 'allowed' } });
    expect(entry('a server-side dry run')).toMatchObject({ dryRun: true });
    expect(entry('a create judged by the mutating webhook only').webhooks).toEqual({ [MUTATING_WEBHOOK]: 'allowed', [VALIDATING_WEBHOOK]: 'not-called' });
    expect(entry('an invalid create with no webhook registered').webhooks).toEqual({ [MUTATING_WEBHOOK]: 'not-called', [VALIDATING_WEBHOOK]: 'not-called' });
    expect(entry('a valid create while the webhook is down, under Fail').webhooks[MUTATING_WEBHOOK]).toBe('failed-closed');
    // The log is at level Request: the bypassing write's object is re-checked with the rules.
    expect(entry('an invalid create with no webhook registered').violations.map((v) => v.rule)).toContain('reference-format');
  });
});
