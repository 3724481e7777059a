import { WeeklyKpis } from '#lib/kpi/compute.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { weekBounds } from '#lib/kpi/weeks.ts';
import type { PriceBook } from '#lib/pricing/price-table.ts';
import type { KpiRow } from './kpi-data.ts';

/**
 * An in-memory stand-in for the event index's two reads the KPI job makes (lib/kpi/job.ts): a workflow's
 * events in a time range (time order), and one unit's events (time order).
 */
export class KpiRowIndex {
  readonly #byWorkflow = new Map<string, KpiRow[]>();
  readonly #byUnit = new Map<string, KpiRow[]>();

  constructor(rows: readonly KpiRow[]) {
    const sorted = [...rows].sort(
      (a, b) => a.occurredAtMs - b.occurredAtMs || (a.event.eventId < b.event.eventId ? -1 : 1),
    );
    for (const row of sorted) {
      const { workflowId, unitId } = row.event;
      const list = this.#byWorkflow.get(workflowId);
      if (list) list.push(row);
      else this.#byWorkflow.set(workflowId, [row]);
      const key = `${workflowId}\u0000${unitId}`;
      const unit = this.#byUnit.get(key);
      if (unit) unit.push(row);
      else this.#byUnit.set(key, [row]);
    }
  }

  /** Events of the workflow with fromMs ≤ occurredAtMs < toMs, in time order. */
  range(workflowId: string, fromMs: number, toMs: number): KpiRow[] {
    const list = this.#byWorkflow.get(workflowId) ?? [];
    const lowerBound = (ms: number) => {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((list[mid] as KpiRow).occurredAtMs < ms) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    return list.slice(lowerBound(fromMs), lowerBound(toMs));
  }

  unit(workflowId: string, unitId: string): KpiRow[] {
    return this.#byUnit.get(`${workflowId}\u0000${unitId}`) ?? [];
  }
}

/**
 * Feeds `WeeklyKpis` as the KPI job does: the week's events through `addWeekEvent`, then each cohort unit's
 * whole history (in-week events included, which it skips) through `addUnitHistory`. The job reads the week
 * shard by shard (a fixed order, not time order); this feeds it in time order, and `reorder` lets a test
 * shuffle both feeds to show the order does not matter.
 */
export function computeLikeJob(
  index: KpiRowIndex,
  workflowId: string,
  week: string,
  prices: PriceBook,
  reorder: <T>(items: T[]) => T[] = (items) => items,
): KpiRecord {
  const { startMs, endMs } = weekBounds(week);
  const kpis = new WeeklyKpis(workflowId, week, prices);
  for (const row of reorder(index.range(workflowId, startMs, endMs))) kpis.addWeekEvent(row);
  for (const unitId of reorder(kpis.cohortUnitIds())) {
    for (const row of reorder(index.unit(workflowId, unitId))) kpis.addUnitHistory(row);
  }
  return kpis.finish();
}
