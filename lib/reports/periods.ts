import { shiftWeek, weekBounds } from '#lib/kpi/weeks.ts';

/**
 * The periods governance reports cover, all in UTC. A week belongs to the month and the quarter that
 * contain its Monday, so each week's run refreshes exactly one monthly and one quarterly report. A
 * monthly or quarterly report written for a week covers its period up to the end of that week (it is
 * "to date" until the run whose week ends on or after the period's end, which completes it).
 */

export interface Period {
  /** `YYYY-MM` or `YYYY-Qn`. */
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** The period up to the end of the run's week: what a report written for that week can know. */
export interface PeriodToDate extends Period {
  /** min(end of the period, end of the week). */
  readonly asOfMs: number;
  /** Whether the week reaches the period's end, so the report is final. */
  readonly complete: boolean;
}

const pad2 = (value: number) => String(value).padStart(2, '0');

/** The calendar month (`YYYY-MM`) containing the week's Monday. */
export function monthOfWeek(week: string): Period {
  const monday = new Date(weekBounds(week).startMs);
  const year = monday.getUTCFullYear();
  const month = monday.getUTCMonth();
  return {
    name: `${year}-${pad2(month + 1)}`,
    startMs: Date.UTC(year, month, 1),
    endMs: Date.UTC(year, month + 1, 1),
  };
}

/** The calendar quarter (`YYYY-Qn`) containing the week's Monday. */
export function quarterOfWeek(week: string): Period {
  const monday = new Date(weekBounds(week).startMs);
  const year = monday.getUTCFullYear();
  const quarter = Math.floor(monday.getUTCMonth() / 3);
  return {
    name: `${year}-Q${quarter + 1}`,
    startMs: Date.UTC(year, quarter * 3, 1),
    endMs: Date.UTC(year, quarter * 3 + 3, 1),
  };
}

export function toDate(period: Period, week: string): PeriodToDate {
  const { endMs: weekEndMs } = weekBounds(week);
  return { ...period, asOfMs: Math.min(period.endMs, weekEndMs), complete: weekEndMs >= period.endMs };
}

/** `count` consecutive weeks ending with `week`, oldest first. */
export function weeksEndingWith(week: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => shiftWeek(week, i - count + 1));
}
