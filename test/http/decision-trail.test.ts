/**
 * The trail a review leaves: audit annotations the API server can store, and one decision log line
 * that says who did what and why, without ever copying signature contents, manifests or configs.
 */
import type { ImageSignature } from '../../src/image/index.js';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/admission/policy.js';
import { buildApp } from '../../src/http/app.js';
import type { Image } from '../../src/image/types.js';
import { admissionReview, buildSingleArchImage, imageStreamMappingReview, REGISTRY_USER, notOpenPGPConditions } from '../fixtures/index.js';

const SIGNATURE_MARKER = Buffer.from('SIGNATURE-CONTENT-MARKER-7f3a9c').toString('base64');
const MANIFEST_MARKER = 'MANIFEST-CONTENT-MARKER-51c2e8';
const CONFIG_MARKER = 'CONFIG-CONTENT-MARKER-c09d44';

function policy(overrides: Partial<Policy> = {}): Policy {
  return { mode: 'enforce', exemptUsers: new Set(), exemptGroups: new Set(), ...overrides };
}

/**
 * A content-consistent Image whose signature content, manifest (an OCI annotation) and config (a
 * label) each carry a recognisable marker; the invalid one breaks two signature rules.
 */
function markedImage(valid: boolean): Image {
  const built = buildSingleArchImage({
    format: 'oci',
    seed: 'trail',
    repository: 'quay.io/example/trail',
    architecture: 'amd64',
    os: 'linux',
    created: '2024-05-06T12:00:00.000000000Z',
    config: { Cmd: ['/app'], Labels: { note: CONFIG_MARKER } },
    steps: [{ createdBy: 'COPY app /app # buildkit', size: 7_361 }],
    manifestAnnotations: { note: MANIFEST_MARKER },
  });
  // The marker is not an OpenPGP message: stored with the conditions verification derives for it.
  const signature: ImageSignature = { metadata: { name: `${built.digest}@${'7'.repeat(32)}` }, type: 'atomic', content: SIGNATURE_MARKER, conditions: notOpenPGPConditions() };
  const image = { ...built.image, signatures: [signature] };
  if (!image.dockerImageManifest!.includes(MANIFEST_MARKER) || !image.dockerImageConfig!.includes(CONFIG_MARKER)) throw new Error('markers missing');
  if (!valid) {
    delete image.signatures[0]!.type;
    image.signatures[0]!.conditions![1]!.status = 'Maybe';
  }
  return image;
}

async function review(p: Policy, body: unknown, endpoint = 'validate') {
  const lines: string[] = [];
  const app = buildApp({ policy: p, logger: { level: 'info', stream: { write: (line: string) => lines.push(line) } } });
  const response = await app.inject({ method: 'POST', url: `/${endpoint}?timeout=10s`, payload: body as object });
  await app.close();
  const decisions = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'decision');
  return { reply: response.json() as { response: { auditAnnotations?: Record<string, string> } }, decisions, raw: lines.join('') };
}

const invalid = () => admissionReview({ operation: 'CREATE', object: markedImage(false) });
const valid = () => admissionReview({ operation: 'CREATE', object: markedImage(true) });

const cases = [
  { decision: 'allowed', policy: policy(), body: valid },
  { decision: 'denied', policy: policy(), body: invalid },
  { decision: 'warned', policy: policy({ mode: 'warn' }), body: invalid },
  { decision: 'exempt', policy: policy({ exemptUsers: new Set([REGISTRY_USER.username]) }), body: invalid },
  { decision: 'dry-run', policy: policy({ mode: 'dry-run' }), body: invalid },
  {
    decision: 'warned',
    policy: policy(),
    // Only inherited violations: the pre-existing-violations key.
    body: () => {
      const old = markedImage(false);
      const next = structuredClone(old);
      next.metadata!.labels = { team: 'a' };
      return admissionReview({ operation: 'UPDATE', object: next, oldObject: old });
    },
  },
  {
    decision: 'denied',
    policy: policy(),
    body: () => admissionReview({ operation: 'CREATE', resource: { group: '', version: 'v1', resource: 'pods' }, object: { metadata: { name: 'p' } } }),
  },
  { decision: 'allowed', policy: policy(), body: () => imageStreamMappingReview({ image: markedImage(true) }) },
] as const;

describe('audit annotations', () => {
  it.each(cases.map((c, i) => ({ ...c, i })))('are keys the API server keeps, for decision $decision (case $i)', async ({ decision, policy: p, body }) => {
    for (const endpoint of ['mutate', 'validate']) {
      const { reply } = await review(p, body(), endpoint);
      const annotations = reply.response.auditAnnotations ?? {};
      expect(annotations.decision).toBe(decision);
      expect(Object.keys(annotations).length).toBeGreaterThanOrEqual(3);
      for (const key of Object.keys(annotations)) {
        expect(key.length).toBeLessThanOrEqual(63);
        expect(key).not.toContain('/');
        // A qualified name's name part: what the API server accepts after `<webhook name>/`.
        expect(key).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
      }
    }
  });

  it('carry the decision id, the mode and the violated rules', async () => {
    const body = invalid();
    const { reply } = await review(policy(), body);
    expect(reply.response.auditAnnotations).toEqual({
      decision: 'denied',
      'decision-id': body.request.uid,
      mode: 'enforce',
      // Without a type, verification derives Trusted=False (UnsupportedType): the written conditions disagree.
      violations: 'signature-type,signature-condition-status,signature-verified',
      'rule-actions': 'signature-type=deny,signature-condition-status=deny,signature-verified=deny',
    });
  });
});

describe('per-rule actions (--rule-actions), over the mode', () => {
  const TYPE = 'signatures[0].type: Required value';
  const STATUS = /^signatures\[0\]\.conditions\[1\]\.status: Unsupported value/;
  type Row = { name: string; p: Policy; decision: string; denied: string[]; warned: (string | RegExp)[]; actions: string };
  // The invalid Image also claims conditions verification does not derive: signature-verified, found
  // at /validate, goes through the same actions.
  const SIG = /^signatures\[0\]\.conditions: Invalid value/;
  const rows: Row[] = [
    {
      name: 'warn on one rule in enforce mode: the others still deny, this one only warns',
      p: policy({ ruleActions: new Map([['signature-type', 'warn']]) }),
      decision: 'denied',
      denied: ['signatures[0].conditions[1].status', 'signatures[0].conditions'],
      warned: [TYPE],
      actions: 'signature-type=warn,signature-condition-status=deny,signature-verified=deny',
    },
    {
      name: 'deny on one rule in warn mode: this one denies, the others only warn',
      p: policy({ mode: 'warn', ruleActions: new Map([['signature-type', 'deny']]) }),
      decision: 'denied',
      denied: ['signatures[0].type'],
      warned: [STATUS, SIG],
      actions: 'signature-type=deny,signature-condition-status=warn,signature-verified=warn',
    },
    {
      name: 'deny on one rule in dry-run mode: this one denies, the others are only recorded',
      p: policy({ mode: 'dry-run', ruleActions: new Map([['signature-type', 'deny']]) }),
      decision: 'denied',
      denied: ['signatures[0].type'],
      warned: [],
      actions: 'signature-type=deny,signature-condition-status=record,signature-verified=record',
    },
    {
      name: 'warn on every rule found in enforce mode: allowed, with every warning',
      p: policy({ ruleActions: new Map([['signature-type', 'warn'], ['signature-condition-status', 'warn'], ['signature-verified', 'warn']]) }),
      decision: 'warned',
      denied: [],
      warned: [TYPE, STATUS, SIG],
      actions: 'signature-type=warn,signature-condition-status=warn,signature-verified=warn',
    },
    {
      name: 'warn on signature-verified in enforce mode: the disagreeing conditions only warn',
      p: policy({ ruleActions: new Map([['signature-verified', 'warn']]) }),
      decision: 'denied',
      denied: ['signatures[0].type', 'signatures[0].conditions[1].status'],
      warned: [SIG],
      actions: 'signature-type=deny,signature-condition-status=deny,signature-verified=warn',
    },
    {
      name: 'off on one rule: it is not checked at all',
      p: policy({ ruleActions: new Map([['signature-type', 'off']]) }),
      decision: 'denied',
      denied: ['signatures[0].conditions[1].status', 'signatures[0].conditions'],
      warned: [],
      actions: 'signature-condition-status=deny,signature-verified=deny',
    },
    {
      name: 'off on signature-verified: signatures are not verified at all',
      p: policy({ ruleActions: new Map([['signature-verified', 'off']]) }),
      decision: 'denied',
      denied: ['signatures[0].type', 'signatures[0].conditions[1].status'],
      warned: [],
      actions: 'signature-type=deny,signature-condition-status=deny',
    },
    {
      name: 'deny on one rule for an exempt writer: warned, never denied',
      p: policy({ mode: 'warn', ruleActions: new Map([['signature-type', 'deny']]), exemptUsers: new Set([REGISTRY_USER.username]) }),
      decision: 'exempt',
      denied: [],
      warned: [`exempt: ${TYPE}`, /^exempt: signatures\[0\]\.conditions\[1\]\.status/, /^exempt: signatures\[0\]\.conditions: Invalid value/],
      actions: 'signature-type=warn,signature-condition-status=warn,signature-verified=warn',
    },
  ];

  it.each(rows)('$name', async ({ p, decision, denied, warned, actions }) => {
    const body = invalid();
    const { reply, decisions } = await review(p, body);
    const response = reply.response as { allowed: boolean; warnings?: string[]; status?: { details: { causes: { field: string }[] } }; auditAnnotations: Record<string, string> };
    expect(response.allowed).toBe(denied.length === 0);
    expect((response.status?.details.causes ?? []).map((c) => c.field)).toEqual(denied);
    expect(response.warnings ?? []).toHaveLength(warned.length);
    warned.forEach((w, i) => expect(response.warnings![i]).toMatch(w));
    expect(response.auditAnnotations.decision).toBe(decision);
    const sorted = (list: string) => list.split(',').sort();
    expect(sorted(response.auditAnnotations['rule-actions']!)).toEqual(sorted(actions));
    // The decision log says the same, per violation, whichever list it is in.
    const line = decisions[0]! as Record<string, { rule: string; action: string }[]>;
    const logged = [...line.violations!, ...line.preExisting!, ...line.advisories!].map((v) => `${v.rule}=${v.action}`);
    expect(logged.sort()).toEqual(sorted(actions));
  });
});

describe('the decision log line', () => {
  it('says when, which request, on what, by whom, what was decided and why, and how long it took', async () => {
    const body = invalid();
    const { decisions } = await review(policy(), body);
    expect(decisions).toHaveLength(1);
    const line = decisions[0]!;
    expect(typeof line.time).toBe('number');
    expect(line).toMatchObject({
      decisionId: body.request.uid,
      operation: 'CREATE',
      resource: 'images.image.openshift.io',
      name: body.request.name,
      imageName: body.request.name,
      user: REGISTRY_USER.username,
      groups: REGISTRY_USER.groups,
      decision: 'denied',
      mode: 'enforce',
    });
    expect(line.violations).toEqual([
      { rule: 'signature-type', path: 'signatures[0].type', type: 'Required', action: 'deny' },
      { rule: 'signature-condition-status', path: 'signatures[0].conditions[1].status', type: 'NotSupported', action: 'deny' },
      {
        rule: 'signature-verified',
        path: 'signatures[0].conditions',
        type: 'Invalid',
        detail: 'must be what verification derives: Trusted=False (UnsupportedType), ForImage=Unknown (NotVerified)',
        action: 'deny',
      },
    ]);
    expect(typeof line.latencyMs).toBe('number');
    expect(line.latencyMs as number).toBeGreaterThanOrEqual(0);
  });

  it('names the Image a mapping carries, not only the mapping', async () => {
    const image = markedImage(true);
    const { decisions } = await review(policy(), imageStreamMappingReview({ image, stream: 'app' }));
    expect(decisions[0]).toMatchObject({ name: 'app', imageName: image.metadata!.name, resource: 'imagestreammappings.image.openshift.io' });
  });

  it.each([
    { what: 'a denied review', p: policy(), body: invalid },
    { what: 'an allowed review', p: policy(), body: valid },
    { what: 'a warned review', p: policy({ mode: 'warn' }), body: invalid },
    { what: 'a mapping', p: policy(), body: () => imageStreamMappingReview({ image: markedImage(false) }) },
  ])('never holds signature contents, manifests or configs: $what', async ({ p, body }) => {
    const { raw, decisions } = await review(p, body());
    expect(decisions).toHaveLength(1);
    for (const marker of [SIGNATURE_MARKER, MANIFEST_MARKER, CONFIG_MARKER, 'SIGNATURE-CONTENT-MARKER']) expect(raw).not.toContain(marker);
  });
});
