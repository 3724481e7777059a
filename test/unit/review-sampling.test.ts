import { describe, expect, it } from 'vitest';
import { isSampledForReview, samplePosition } from '#lib/reviews/sampling.ts';

const ids = (n: number, prefix = 'ticket-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('review sampling', () => {
  it.each([0.05, 0.1])('samples %s of completed units, within 4 standard deviations', (rate) => {
    // Prepare: 20,000 units; the count sampled is binomial(n, rate).
    const n = 20_000;
    const sigma = Math.sqrt(n * rate * (1 - rate));

    // Act
    const sampled = ids(n).filter((unitId) => isSampledForReview('support-triage', unitId, rate)).length;

    // Assess
    expect(Math.abs(sampled - n * rate)).toBeLessThan(4 * sigma);
  });

  it('is deterministic: a retried or re-sent completion is sampled exactly as before', () => {
    const first = ids(2000).map((unitId) => isSampledForReview('code-review', unitId, 0.05));
    const again = ids(2000).map((unitId) => isSampledForReview('code-review', unitId, 0.05));
    expect(again).toEqual(first);
  });

  it('is unbiased: positions are uniform, whatever the shape of the IDs', () => {
    // Chi-square over 10 buckets (9 degrees of freedom): 27.88 is the 0.1% critical value.
    for (const prefix of ['ticket-', 'PR#', '2026-11-24/']) {
      const buckets = new Array(10).fill(0);
      for (const unitId of ids(10_000, prefix))
        buckets[Math.floor(samplePosition('support-triage', unitId) * 10)]++;
      const chiSquare = buckets.reduce((sum, observed) => sum + (observed - 1000) ** 2 / 1000, 0);
      expect(chiSquare, prefix).toBeLessThan(27.88);
    }
  });

  it('samples each workflow independently', () => {
    const a = ids(4000).filter((unitId) => isSampledForReview('support-triage', unitId, 0.1));
    const b = new Set(ids(4000).filter((unitId) => isSampledForReview('code-review', unitId, 0.1)));
    // Independent samples overlap in about rate × |a| units (40 here), not in all of them.
    expect(a.filter((unitId) => b.has(unitId)).length).toBeLessThan(100);
  });
});
