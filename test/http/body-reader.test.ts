import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBody } from '../../src/http/body-reader.js';

/** A stream that yields `chunks` one by one, as a socket delivers a body. */
const stream = (...chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c)), { objectMode: false });

describe('readBody', () => {
  it('fills one buffer of the declared length, chunk by chunk', async () => {
    const body = await readBody(stream('{"a":', '"b"', '}'), '9', 100);
    expect(body.toString()).toBe('{"a":"b"}');
  });

  it('joins the chunks of a body sent without a length', async () => {
    expect((await readBody(stream('[1,', '2]'), undefined, 100)).toString()).toBe('[1,2]');
  });

  it('reads an empty body as empty', async () => {
    expect((await readBody(stream(), '0', 100)).length).toBe(0);
  });

  it('refuses a declared length over the limit without reading a byte', async () => {
    const source = new PassThrough();
    source.write('x');
    await expect(readBody(source, '101', 100)).rejects.toMatchObject({ statusCode: 413, reasonClass: 'too-large', message: 'Request body is too large' });
    expect(source.read()?.toString()).toBe('x');
  });

  it('stops reading an undeclared body once it passes the limit', async () => {
    await expect(readBody(stream('x'.repeat(60), 'x'.repeat(60)), undefined, 100)).rejects.toMatchObject({ statusCode: 413, reasonClass: 'too-large' });
  });

  it.each([
    ['a body shorter than its Content-Length', '20', /shorter than its Content-Length/],
    ['a body longer than its Content-Length', '3', /longer than its Content-Length/],
    ['a Content-Length that is not a byte count', '12abc', /is not a byte count/],
    ['a negative Content-Length', '-1', /is not a byte count/],
  ])('refuses %s with 400', async (_name, length, message) => {
    await expect(readBody(stream('{"a":1}'), length, 100)).rejects.toMatchObject({ statusCode: 400, reasonClass: 'other', message: expect.stringMatching(message) });
  });

  // A client that disconnects or times out mid-body is a bad request, not a bug to count as a 500.
  it('refuses a body whose stream fails midway with 400', async () => {
    const source = new PassThrough();
    const reading = readBody(source, '10', 100);
    source.write('{"a"');
    source.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    await expect(reading).rejects.toMatchObject({ statusCode: 400, reasonClass: 'other', message: 'request body not received whole: aborted' });
  });
});
