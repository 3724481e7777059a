import { describe, expect, it } from 'vitest';
import { collect, mergeByKey, take } from '#lib/util/async-iterables.ts';

/** A paged source that counts the pages it was asked for and whether it was closed. */
function pagedSource(pages: number[][]) {
  const seen = { pages: 0, closed: false };
  async function* items(): AsyncGenerator<number> {
    try {
      for (const page of pages) {
        seen.pages++;
        yield* page;
      }
    } finally {
      seen.closed = true;
    }
  }
  return { items: items(), seen };
}

describe('take', () => {
  it('stops after `count` items and closes the source, so no further page is read', async () => {
    const { items, seen } = pagedSource([[1, 2], [3, 4], [5]]);
    expect(await take(items, 3)).toEqual([1, 2, 3]);
    expect(seen).toEqual({ pages: 2, closed: true });
  });

  it('takes what there is when the source ends first, and nothing for a count of 0', async () => {
    expect(await take(pagedSource([[1], [2]]).items, 5)).toEqual([1, 2]);
    const { items, seen } = pagedSource([[1]]);
    expect(await take(items, 0)).toEqual([]);
    expect(seen.pages).toBe(0);
  });
});

describe('collect', () => {
  it('reads every page', async () => {
    expect(await collect(pagedSource([[1, 2], [], [3]]).items)).toEqual([1, 2, 3]);
  });
});

describe('mergeByKey', () => {
  const key = (n: number) => String(n).padStart(3, '0');

  it('merges streams that are each in key order into one in key order', async () => {
    const streams = [[1, 4, 9], [], [2, 3, 10], [5]].map((list) => pagedSource([list]).items);
    expect(await collect(mergeByKey(streams, key))).toEqual([1, 2, 3, 4, 5, 9, 10]);
  });

  it('reads a stream on only as its items are used, and closes every stream when stopped early', async () => {
    const a = pagedSource([
      [1, 2],
      [7, 8],
    ]);
    const b = pagedSource([[3], [4]]);
    expect(await take(mergeByKey([a.items, b.items], key), 3)).toEqual([1, 2, 3]);
    expect(a.seen).toEqual({ pages: 2, closed: true });
    expect(b.seen).toEqual({ pages: 1, closed: true });
  });
});
