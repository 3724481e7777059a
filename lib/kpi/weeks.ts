/**
 * ISO weeks in UTC (SPEC "KPIs"): a week runs from Monday 00:00 UTC to the next Monday 00:00 UTC and is
 * named `YYYY-Www` after the ISO year it belongs to (the year of its Thursday).
 */
const DAY_MS = 86_400_000;
const WEEK_PATTERN = /^(\d{4})-W(\d{2})$/;

export class InvalidWeekError extends Error {
  override name = 'InvalidWeekError';
}

export function isoWeekOf(epochMs: number): string {
  const date = new Date(epochMs);
  const weekday = (date.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - weekday + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * DAY_MS)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Monday 00:00 UTC of ISO week 1 of `year`: the Monday on or before 4 January. */
function weekOneStart(year: number): number {
  const january4 = Date.UTC(year, 0, 4);
  const weekday = (new Date(january4).getUTCDay() + 6) % 7;
  return january4 - weekday * DAY_MS;
}

export function weekBounds(week: string): { startMs: number; endMs: number } {
  const match = WEEK_PATTERN.exec(week);
  if (!match) throw new InvalidWeekError(`'${week}' is not an ISO week like 2026-W47`);
  const year = Number(match[1]);
  const number = Number(match[2]);
  const startMs = weekOneStart(year) + (number - 1) * 7 * DAY_MS;
  if (number < 1 || isoWeekOf(startMs) !== week) throw new InvalidWeekError(`${year} has no week ${number}`);
  return { startMs, endMs: startMs + 7 * DAY_MS };
}

export function shiftWeek(week: string, by: number): string {
  return isoWeekOf(weekBounds(week).startMs + by * 7 * DAY_MS);
}

/** The latest week that has fully ended at `nowMs`. */
export function lastCompleteWeek(nowMs: number): string {
  return shiftWeek(isoWeekOf(nowMs), -1);
}
