/**
 * The controller's judging queue: however many watch events arrive while signatures are being
 * verified, at most `maxHeld` Images are held whole; the rest are kept by name and read again, once
 * each, and every Image still ends with the verdict of its latest version.
 */
import { describe, expect, it } from 'vitest';
import { JudgingQueue } from '../../src/controller/judging.js';

interface FakeImage {
  name: string;
  version: number;
  signed: boolean;
}

/** A queue over fake Images whose signature verifications finish only when the test says so. */
function harness(maxHeld: number, stored = new Map<string, FakeImage>()) {
  const pending: (() => void)[] = [];
  const recorded = new Map<string, number>();
  const reads: string[] = [];
  const failures: string[] = [];
  let mostHeld = 0;
  let judgements = 0;
  const queue: JudgingQueue<number> = new JudgingQueue<number>({
    maxHeld,
    waits: (object) => (object as FakeImage).signed,
    judge: (object) => {
      judgements++;
      const image = object as FakeImage;
      if (!image.signed) return image.version;
      return new Promise<number>((resolve) => pending.push(() => resolve(image.version)));
    },
    record: (name, version) => recorded.set(name, version),
    read: (name) => {
      reads.push(name);
      return Promise.resolve(stored.get(name));
    },
    failed: (name) => failures.push(name),
    load: (held) => {
      mostHeld = Math.max(mostHeld, held);
    },
  });
  /** Lets every verification started so far finish, and the reads they make room for, until none is left. */
  const settle = async () => {
    for (let round = 0; round < 10_000; round++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (pending.length === 0 && queue.held === 0) return;
      for (const finish of pending.splice(0)) finish();
    }
    throw new Error('the queue did not settle');
  };
  const offer = (image: FakeImage) => {
    stored.set(image.name, image);
    queue.offer(image.name, image);
  };
  return {
    queue,
    stored,
    recorded,
    reads,
    failures,
    settle,
    offer,
    get mostHeld() {
      return mostHeld;
    },
    get judgements() {
      return judgements;
    },
  };
}

describe('JudgingQueue', () => {
  it('holds at most maxHeld Images during a burst of 1,000 signed ones, reads each other one again once, and judges all', async () => {
    const h = harness(4);
    for (let i = 0; i < 1_000; i++) h.offer({ name: `image-${i}`, version: 1, signed: true });
    expect(h.queue.held).toBe(4);
    expect(h.queue.deferred).toBe(996);
    expect(h.reads).toEqual([]);
    await h.settle();
    expect(h.mostHeld).toBe(4);
    expect(h.reads).toHaveLength(996);
    expect(new Set(h.reads).size).toBe(996);
    expect(h.recorded.size).toBe(1_000);
    expect(h.failures).toEqual([]);
    expect(h.queue.deferred).toBe(0);
    await h.queue.idle();
  });

  it('judges an Image with nothing to verify at once, never holding it, even when every place is taken', () => {
    const h = harness(1);
    h.offer({ name: 'signed', version: 1, signed: true });
    for (let i = 0; i < 100; i++) h.offer({ name: `plain-${i}`, version: 1, signed: false });
    expect(h.recorded.size).toBe(100);
    expect(h.queue.held).toBe(1);
    expect(h.queue.deferred).toBe(0);
    expect(h.reads).toEqual([]);
  });

  it('keeps one name for many events of one Image, and records the version read, the latest', async () => {
    const h = harness(1);
    h.offer({ name: 'busy', version: 1, signed: true });
    for (let version = 1; version <= 50; version++) h.offer({ name: 'other', version, signed: true });
    expect(h.queue.deferred).toBe(1);
    await h.settle();
    expect(h.reads).toEqual(['other']);
    expect(h.recorded.get('other')).toBe(50);
  });

  it('a newer event of a name kept waiting is taken whole when there is room, and not read again', async () => {
    const h = harness(1);
    h.offer({ name: 'a', version: 1, signed: true });
    h.offer({ name: 'b', version: 1, signed: true });
    expect(h.queue.deferred).toBe(1);
    // 'a' finishes: 'b' is read again. A plain newer 'b' arriving first is judged at once instead.
    h.offer({ name: 'b', version: 2, signed: false });
    expect(h.queue.deferred).toBe(0);
    await h.settle();
    expect(h.reads).toEqual([]);
    expect(h.recorded.get('b')).toBe(2);
  });

  it('records nothing for an Image deleted while it waited, was read, or was verified', async () => {
    const h = harness(1);
    h.offer({ name: 'holder', version: 1, signed: true });
    h.offer({ name: 'waiting', version: 1, signed: true });
    h.queue.forget('waiting');
    h.stored.delete('waiting');
    expect(h.queue.deferred).toBe(0);
    // Deleted during its verification: the verdict arrives, and is dropped.
    h.queue.forget('holder');
    await h.settle();
    expect(h.reads).toEqual([]);
    expect(h.recorded.size).toBe(0);

    // Gone by the time it is read: nothing to judge.
    h.offer({ name: 'holder2', version: 1, signed: true });
    h.offer({ name: 'gone', version: 1, signed: true });
    h.stored.delete('gone');
    await h.settle();
    expect(h.reads).toEqual(['gone']);
    expect([...h.recorded.keys()]).toEqual(['holder2']);
  });

  it("an older version's verdict finishing after a newer one's is not recorded", async () => {
    const h = harness(2);
    h.offer({ name: 'a', version: 1, signed: true });
    h.offer({ name: 'a', version: 2, signed: false });
    expect(h.recorded.get('a')).toBe(2);
    await h.settle();
    expect(h.recorded.get('a')).toBe(2);
  });

  it('a listed page is judged whole, not counted against maxHeld, and satisfies a name kept waiting', async () => {
    const h = harness(1);
    h.offer({ name: 'holder', version: 1, signed: true });
    h.offer({ name: 'kept', version: 1, signed: true });
    const page = Array.from({ length: 20 }, (_, i) => ({ name: i === 0 ? 'kept' : `listed-${i}`, version: 2, signed: true }));
    const done = h.queue.judgeAll(page.map((image) => ({ name: image.name, object: image })));
    expect(h.queue.deferred).toBe(0);
    expect(h.queue.held).toBe(1);
    await h.settle();
    await done;
    expect(h.reads).toEqual([]);
    expect(h.recorded.get('kept')).toBe(2);
    expect(h.recorded.size).toBe(21);
  });

  it('a failed judgement is reported and frees its place; a failed read is reported, waits again behind a pause, and is read again', async () => {
    const stored = new Map<string, FakeImage>();
    const failures: string[] = [];
    const recorded: string[] = [];
    const reads: string[] = [];
    let unreadable = 2;
    const queue = new JudgingQueue<string>({
      maxHeld: 1,
      waits: () => true,
      judge: (object) => ((object as FakeImage).name === 'broken' ? Promise.reject(new Error('bug')) : Promise.resolve('ok')),
      record: (name) => recorded.push(name),
      read: (name) => {
        reads.push(name);
        // The API server fails the first two reads of this one (a 503, say).
        if (name === 'unreadable' && unreadable-- > 0) return Promise.reject(new Error('503'));
        return Promise.resolve(stored.get(name));
      },
      failed: (name) => failures.push(name),
      readPause: { initialMs: 5, maxMs: 20 },
    });
    for (const name of ['broken', 'unreadable', 'fine']) {
      stored.set(name, { name, version: 1, signed: true });
      queue.offer(name, stored.get(name));
    }
    await queue.idle();
    expect(failures).toEqual(['broken', 'unreadable', 'unreadable']);
    expect(recorded.sort()).toEqual(['fine', 'unreadable']);
    // Each failed read is followed by one more read of the same name, no more.
    expect(reads.filter((name) => name === 'unreadable')).toHaveLength(3);
    expect(queue.held).toBe(0);
  });

  it('a read failing for an Image deleted meanwhile is not tried again', async () => {
    const failures: string[] = [];
    const reads: string[] = [];
    const queue: JudgingQueue<string> = new JudgingQueue<string>({
      maxHeld: 1,
      waits: () => true,
      judge: () => Promise.resolve('ok'),
      record: () => {},
      read: (name) => {
        reads.push(name);
        queue.forget(name);
        return Promise.reject(new Error('503'));
      },
      failed: (name) => failures.push(name),
      readPause: { initialMs: 1, maxMs: 1 },
    });
    queue.offer('holder', { name: 'holder', version: 1, signed: true });
    queue.offer('gone', { name: 'gone', version: 1, signed: true });
    await queue.idle();
    expect(reads).toEqual(['gone']);
    expect(queue.deferred).toBe(0);
  });

  it('after stop, starts nothing more and forgets the names kept', async () => {
    const h = harness(1);
    h.offer({ name: 'a', version: 1, signed: true });
    h.offer({ name: 'b', version: 1, signed: true });
    h.queue.stop();
    h.offer({ name: 'c', version: 1, signed: true });
    expect(h.queue.deferred).toBe(0);
    await h.settle();
    expect(h.reads).toEqual([]);
    expect(h.judgements).toBe(1);
  });
});
