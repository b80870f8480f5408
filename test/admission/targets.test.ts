/** The table of review targets: where each resource carries its Image, read the same by every layer. */
import { describe, expect, it } from 'vitest';
import { imageNameIn, imagesIn, REVIEWED_RESOURCES, reviewedTarget, signatureIn, targetOf } from '../../src/admission/targets.js';

const image = { metadata: { name: 'sha256:abc' } };

describe('review targets', () => {
  it('names the resources the webhook judges, and only those', () => {
    expect(REVIEWED_RESOURCES).toEqual(['images', 'imagestreammappings', 'imagesignatures']);
    expect(reviewedTarget('imagesignatures')?.judged).toEqual(['CREATE']);
    expect(reviewedTarget('imagestreamimports')).toBeUndefined();
    expect(reviewedTarget('pods')).toBeUndefined();
    expect(targetOf('imagesignatures')?.kind).toBe('ImageSignature');
    expect(targetOf('__proto__')).toBeUndefined();
  });

  it.each([
    { name: 'an Image is its own object', resource: 'images', object: image, want: [{ image, at: [] }] },
    { name: "a mapping's Image is at image", resource: 'imagestreammappings', object: { image }, want: [{ image, at: ['image'] }] },
    { name: 'a mapping without an Image still has the place for one', resource: 'imagestreammappings', object: {}, want: [{ image: undefined, at: ['image'] }] },
    {
      name: "an import's Images are in its status, one per entry",
      resource: 'imagestreamimports',
      object: { status: { images: [{ image }, { status: 'Failure' }] } },
      want: [
        { image, at: ['status', 'images', 0, 'image'] },
        { image: undefined, at: ['status', 'images', 1, 'image'] },
      ],
    },
    { name: 'an import without a status list has no place for Images', resource: 'imagestreamimports', object: { status: {} }, want: undefined },
    { name: 'a signature carries no Image', resource: 'imagesignatures', object: image, want: undefined },
  ])('$name', ({ resource, object, want }) => {
    expect(imagesIn(targetOf(resource)!, object)).toEqual(want);
  });

  it("reads the Image's name from the object written, never from an answer", () => {
    expect(imageNameIn(targetOf('images')!, image)).toBe('sha256:abc');
    expect(imageNameIn(targetOf('imagestreammappings')!, { metadata: { name: 'mapping' }, image })).toBe('sha256:abc');
    expect(imageNameIn(targetOf('imagestreammappings')!, { image: { metadata: { name: 7 } } })).toBeUndefined();
    expect(imageNameIn(targetOf('imagestreamimports')!, { status: { images: [{ image }] } })).toBeUndefined();
  });

  it('a lone signature is the object itself; resources that carry Images carry no lone signature', () => {
    const signature = { metadata: { name: 'sha256:abc@0123' }, type: 'atomic', content: 'AA==' };
    expect(signatureIn(targetOf('imagesignatures')!, signature)).toBe(signature);
    expect(signatureIn(targetOf('images')!, image)).toBeUndefined();
    expect(signatureIn(targetOf('imagestreammappings')!, { image })).toBeUndefined();
  });
});
