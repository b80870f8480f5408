/**
 * The review thread answers large bodies exactly as the main thread answers small ones, and a thread
 * that dies fails only the reviews it held: the next large review gets a fresh thread.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/admission/policy.js';
import { answerBody, type BodyResult } from '../../src/review/answer.js';
import { ReviewThread } from '../../src/review/thread.js';
import { admissionReview, anImage, hugeAdmissionReview } from '../fixtures/index.js';
import { untrustedRealSignature } from '../fixtures/signatures.js';
import { fixtures } from '../signature/helpers.js';

const policy: Policy = { mode: 'warn', exemptUsers: new Set(['migrator']), exemptGroups: new Set(), disabledRules: new Set(['reference-digest']) };
const thread = new ReviewThread(policy);
afterAll(() => thread.close());

/** The answer without its timing, which differs between any two runs. */
function comparable(answer: BodyResult): unknown {
  return answer.kind === 'answered' ? { ...answer, record: { ...answer.record, seconds: 0 } } : answer;
}

const brokenImage = () => {
  const image = anImage();
  image.dockerImageLayers![0]!.size = -1;
  return image;
};

const bodies: [string, Buffer][] = [
  ['a valid CREATE', Buffer.from(JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage() })))],
  ['a CREATE with a violation (warn mode)', Buffer.from(JSON.stringify(admissionReview({ operation: 'CREATE', object: brokenImage() })))],
  ['the 6 MiB UPDATE', Buffer.from(JSON.stringify(hugeAdmissionReview({ uid: 'huge-on-thread' })))],
  ['not JSON', Buffer.from('{"kind":')],
  ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
  ['not a review', Buffer.from('{"kind":"Pod"}')],
];

describe('the review thread', () => {
  it.each(bodies)('answers %s as the main thread does', async (_name, body) => {
    const inline = await answerBody(body, 'mutate', policy);
    // The thread takes the bytes: hand it a copy so the inline answer above stays comparable.
    const threaded = await thread.answer(Buffer.from(body), 'mutate');
    expect(comparable(threaded)).toEqual(comparable(inline));
  });

  it('answers a body that is a view into a shared buffer without taking the buffer', async () => {
    const review = Buffer.from(JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage() })));
    const slab = Buffer.concat([Buffer.from('prefix'), review, Buffer.from('suffix')]);
    const view = slab.subarray(6, 6 + review.length);
    const answer = await thread.answer(view, 'validate');
    expect(answer.kind).toBe('answered');
    expect(slab.subarray(0, 6).toString()).toBe('prefix');
  });

  it('fails the reviews of a thread that dies, and starts a fresh one for the next', async () => {
    const losses: string[] = [];
    const doomed = new ReviewThread(policy, (why) => losses.push(why));
    const body = Buffer.from(JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage() })));
    expect((await doomed.answer(Buffer.from(body), 'validate')).kind).toBe('answered');
    const worker = (doomed as unknown as { worker: { terminate(): Promise<number> } }).worker;
    // A huge body keeps the thread busy for tens of milliseconds: it is still working when stopped.
    const held = doomed.answer(Buffer.from(JSON.stringify(hugeAdmissionReview())), 'validate');
    await worker.terminate();
    const lost = await held;
    expect(lost).toMatchObject({ kind: 'failed', error: { message: expect.stringMatching(/review thread exited/) } });
    expect((await doomed.answer(Buffer.from(body), 'validate')).kind).toBe('answered');
    await doomed.close();
    expect((await doomed.answer(Buffer.from(body), 'validate')).kind).toBe('failed');
    // One death, reported once to the log.
    expect(losses).toEqual([expect.stringMatching(/review thread exited/)]);
  });

  // Node reports a crash as 'error' and, later, 'exit'; a review that arrives in between goes to a
  // fresh worker and must not be failed by the old one's exit.
  it('keeps the replacement worker s reviews when the dead worker s exit arrives late', async () => {
    const losses: string[] = [];
    const replaced = new ReviewThread(policy, (why) => losses.push(why));
    replaced.warm();
    const first = (replaced as unknown as { worker: { postMessage(message: unknown): void; once(event: string, listener: () => void): void } }).worker;
    const body = Buffer.from(JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage() })));
    const afterCrash = new Promise<BodyResult>((resolve) => {
      first.once('error', () => resolve(replaced.answer(Buffer.from(body), 'validate')));
    });
    // A message the worker cannot destructure makes its handler throw: an uncaught error in the thread.
    first.postMessage(null);
    expect((await afterCrash).kind).toBe('answered');
    expect(losses).toEqual([expect.stringMatching(/review thread failed/)]);
    await replaced.close();
  });

  it('answers failed, and does not throw, when the body cannot be handed over', async () => {
    const body = Buffer.from(JSON.stringify(admissionReview({ operation: 'CREATE', object: anImage() })));
    const owned = Buffer.from(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    structuredClone(owned.buffer, { transfer: [owned.buffer] });
    expect(await thread.answer(owned, 'validate')).toMatchObject({ kind: 'failed', error: { message: expect.stringMatching(/could not be handed/) } });
    expect((await thread.answer(Buffer.from(body), 'validate')).kind).toBe('answered');
  });
});

describe('the review thread and the verification metric', () => {
  it('reports the verifications it performed, by outcome, with its answers; a cached verdict is not counted again', async () => {
    const counted: [string, number][] = [];
    const keyed = new ReviewThread(policy, undefined, (outcome, count) => counted.push([outcome, count]));
    try {
      keyed.setKeys(fixtures.trustedKeys.map((name) => ({ name, bytes: readFileSync(join(fixtures.dir, name)) })));
      const image = anImage();
      const imageName = String(image.metadata?.name);
      image.signatures = ['rsa-valid', 'untrusted-key'].map((fixture) => {
        const { metadata, type, content } = untrustedRealSignature(imageName, { fixture });
        return { metadata, type, content };
      });
      const body = JSON.stringify(admissionReview({ operation: 'CREATE', object: image }));
      const first = await keyed.answer(Buffer.from(body), 'mutate');
      expect(first.kind).toBe('answered');
      expect(counted.sort()).toEqual([
        ['UntrustedKey', 1],
        ['Verified', 1],
      ]);
      // The same contents again: the thread's cache answers, nothing more is counted.
      await keyed.answer(Buffer.from(body), 'validate');
      expect(counted).toHaveLength(2);
    } finally {
      await keyed.close();
    }
  });
});
