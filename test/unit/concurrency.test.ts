import { describe, expect, it } from 'vitest';
import { chunk, mapWithConcurrency } from '#lib/util/concurrency.ts';

describe('mapWithConcurrency', () => {
  it('keeps input order and never runs more than the limit at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapWithConcurrency([5, 1, 4, 2, 3], 2, async (value) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, value));
      inFlight--;
      return value * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('starts no new call after one fails', async () => {
    const started: number[] = [];
    const run = mapWithConcurrency([0, 1, 2, 3, 4, 5], 2, async (value) => {
      started.push(value);
      if (value === 1) throw new Error('store down');
      await new Promise((resolve) => setTimeout(resolve, 5));
      return value;
    });
    await expect(run).rejects.toThrow('store down');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(started).toEqual([0, 1]);
  });
});

describe('chunk', () => {
  it('splits into pieces of at most the size', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});
