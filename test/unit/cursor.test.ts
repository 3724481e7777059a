import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '#lib/read/cursor.ts';

describe('cursors: one format for every paged route', () => {
  const anyPosition = () => true;

  it('reads back every cursor it writes, for the kind it was written for only', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256 }), (position) => {
        fc.pre(Buffer.from(position, 'utf8').toString('utf8') === position); // no lone surrogates
        const cursor = encodeCursor('reviews', position);
        expect(decodeCursor('reviews', cursor, anyPosition)).toBe(position);
        expect(decodeCursor('events', cursor, anyPosition)).toBeNull();
      }),
    );
  });

  it.each(['garbage', 'a', '', '%%%', 'cmV2aWV3czp4=', 'cmV2aWV3czp4 '])('refuses %j', (cursor) => {
    expect(decodeCursor('reviews', cursor, anyPosition)).toBeNull();
  });

  it('refuses a position of the wrong shape', () => {
    expect(
      decodeCursor('events', encodeCursor('events', 'not-a-key'), (p) => p.startsWith('2026')),
    ).toBeNull();
  });
});
