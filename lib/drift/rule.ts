import type { KpiRecord } from '#lib/kpi/record.ts';

/** SPEC "Drift": pause when the defect rate rose by more than 25% week over week. */
export const DRIFT_FACTOR = 1.25;

export interface DriftDecision {
  readonly pause: boolean;
  readonly reason: string;
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;

/**
 * The drift rule on two weekly records of one workflow: pause when both weeks have at least
 * `minReviewed` reviewed units and defectRate(W) > 1.25 × defectRate(W−1). Pure; the reason carries the
 * figures so the rollback event and the notification explain themselves.
 */
export function evaluateDrift(
  current: KpiRecord | undefined,
  previous: KpiRecord | undefined,
  minReviewed: number,
): DriftDecision {
  if (!current || !previous) {
    return {
      pause: false,
      reason: `no KPI record for ${current ? 'the week before' : 'the week'}; run the KPI job first`,
    };
  }
  const figures = (record: KpiRecord) =>
    `${record.defectRate === null ? 'n/a' : percent(record.defectRate)} (${record.defectiveUnits} of ${record.reviewedUnits} reviewed) in ${record.week}`;
  if (current.reviewedUnits < minReviewed || previous.reviewedUnits < minReviewed) {
    return {
      pause: false,
      reason: `too few reviews to judge (need ${minReviewed} in each week): ${figures(current)} vs ${figures(previous)}`,
    };
  }
  const now = current.defectRate ?? 0;
  const before = previous.defectRate ?? 0;
  const threshold = DRIFT_FACTOR * before;
  if (now > threshold) {
    const change = before === 0 ? 'up from zero' : `up ${((now / before - 1) * 100).toFixed(0)}%`;
    return {
      pause: true,
      reason: `drift: defect rate ${figures(current)} vs ${figures(previous)}, ${change} (limit +25%)`,
    };
  }
  return { pause: false, reason: `within limits: ${figures(current)} vs ${figures(previous)}` };
}
