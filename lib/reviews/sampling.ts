import { createHash } from 'node:crypto';

/**
 * Review sampling (SPEC: 5–10% of completed units). A unit's place in [0, 1) comes from a hash of its
 * workflow and unit IDs: uniform (unbiased: nothing about the unit's content or timing moves it),
 * deterministic (a retried or re-sent completion is sampled or not exactly as before), and independent
 * per workflow.
 */
export function samplePosition(workflowId: string, unitId: string): number {
  const digest = createHash('sha256').update(`review-sample\u0000${workflowId}\u0000${unitId}`).digest();
  // 53 bits: the full precision of a double.
  return (digest.readUInt32BE(0) * 2 ** 21 + (digest.readUInt32BE(4) >>> 11)) / 2 ** 53;
}

export function isSampledForReview(workflowId: string, unitId: string, rate: number): boolean {
  return samplePosition(workflowId, unitId) < rate;
}
