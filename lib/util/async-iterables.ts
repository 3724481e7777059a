/** Every item of an async iterable, in order (Node 20 has no `Array.fromAsync`). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const item of items) collected.push(item);
  return collected;
}

/** The first `count` items; the iterable is closed after them, so a paged read asks for no more pages. */
export async function take<T>(items: AsyncIterable<T>, count: number): Promise<T[]> {
  const taken: T[] = [];
  if (count <= 0) return taken;
  for await (const item of items) {
    taken.push(item);
    if (taken.length >= count) break;
  }
  return taken;
}

/**
 * Streams that are each in `key` order, as one stream in `key` order. Every stream's first item is awaited
 * together; after that a stream is read on only when its item has been used. Closing the merged stream
 * closes them all.
 */
export async function* mergeByKey<T>(
  streams: readonly AsyncIterator<T>[],
  key: (item: T) => string,
): AsyncGenerator<T> {
  const heads = await Promise.all(streams.map((stream) => stream.next()));
  try {
    for (;;) {
      let next = -1;
      let nextKey = '';
      for (const [i, head] of heads.entries()) {
        if (head.done) continue;
        const headKey = key(head.value);
        if (next < 0 || headKey < nextKey) {
          next = i;
          nextKey = headKey;
        }
      }
      const stream = streams[next];
      const head = heads[next];
      if (!stream || !head || head.done) return;
      yield head.value;
      heads[next] = await stream.next();
    }
  } finally {
    await Promise.all(streams.map((stream) => stream.return?.()));
  }
}
