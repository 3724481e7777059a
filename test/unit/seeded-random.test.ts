import { describe, expect, it } from 'vitest';
import { createRng } from '#lib/util/seeded-random.ts';

describe('createRng', () => {
  it('gives the same sequence for the same seed, and another for another seed', () => {
    // Prepare / Act
    const first = Array.from({ length: 5 }, createRng(42).next);
    const again = createRng(42);
    const other = createRng(43);
    // Assess
    expect(Array.from({ length: 5 }, again.next)).toEqual(first);
    expect(Array.from({ length: 5 }, other.next)).not.toEqual(first);
    for (const value of first) expect(value >= 0 && value < 1).toBe(true);
  });

  it('keeps int within its bounds, both included, and reaches both', () => {
    const rng = createRng(7);
    const seen = new Set(Array.from({ length: 500 }, () => rng.int(1, 3)));
    expect([...seen].sort()).toEqual([1, 2, 3]);
  });

  it('never picks a zero-weight entry', () => {
    const rng = createRng(9);
    const picks = new Set(
      Array.from({ length: 200 }, () =>
        rng.weighted([
          ['a', 1],
          ['never', 0],
          ['b', 2],
        ] as const),
      ),
    );
    expect(picks.has('never')).toBe(false);
    expect(picks.size).toBe(2);
  });
});
