import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_WEBHOOK_NAMES } from '../../src/audit/events.js';

describe('audit review reads the annotations of the webhooks the manifests deploy', () => {
  it('defaults to the webhook names of manifests/base/webhooks.yaml', () => {
    const text = readFileSync(new URL('../../manifests/base/webhooks.yaml', import.meta.url), 'utf8');
    const names = parseAllDocuments(text).flatMap((doc) => (doc.toJS() as { webhooks: { name: string }[] }).webhooks.map((w) => w.name));
    expect([...DEFAULT_WEBHOOK_NAMES].sort()).toEqual(names.sort());
  });
});
