/**
 * How every figure reads, wherever it is shown: the governance reports, the local dashboard and the CLI
 * print through these, so a cost, a rate or a duration looks the same in all three.
 */

/** What a figure without a value shows (no units to divide by, no record, no price). */
export const NO_VALUE = '—';

type Figure = number | null | undefined;

/** `1,234` */
export const formatCount = (value: Figure): string =>
  value === null || value === undefined ? NO_VALUE : value.toLocaleString('en-US');

/** `40.0%` (a fraction: 0.4 is 40%) */
export const formatRate = (value: Figure): string =>
  value === null || value === undefined ? NO_VALUE : `${(value * 100).toFixed(1)}%`;

/** `$3.0080`: four decimals, so a cost per unit of a fraction of a cent still shows; two from $100 up. */
export const formatUsd = (value: Figure): string =>
  value === null || value === undefined ? NO_VALUE : `$${value.toFixed(Math.abs(value) >= 100 ? 2 : 4)}`;

/** `850 ms`, `12.5 s` (a drill's time to effect) */
export const formatMs = (value: Figure): string =>
  value === null || value === undefined
    ? NO_VALUE
    : value < 10_000
      ? `${value} ms`
      : `${(value / 1000).toFixed(1)} s`;

/**
 * A duration in the unit that keeps it short and exact enough: `45 s`, `2.5 min`, `1.5 h`, `3.0 d`
 * (spaced unit symbols, `min` rather than an `m` that reads as metres).
 */
export function formatSeconds(value: Figure): string {
  if (value === null || value === undefined) return NO_VALUE;
  const abs = Math.abs(value);
  if (abs < 120) return `${Math.round(value)} s`;
  if (abs < 7200) return `${(value / 60).toFixed(1)} min`;
  if (abs < 172_800) return `${(value / 3600).toFixed(1)} h`;
  return `${(value / 86_400).toFixed(1)} d`;
}

/** The sign a change is written with: a true minus sign, and ± for no change. */
export const signOf = (change: number): string => (change > 0 ? '+' : change < 0 ? '−' : '±');

/** A change of a rate in percentage points: `+5.0 pp` for 0.40 → 0.45. */
export const formatPointChange = (change: Figure): string =>
  change === null || change === undefined
    ? NO_VALUE
    : `${signOf(change)}${Math.abs(change * 100).toFixed(1)} pp`;

/** An axis label: at most three significant digits (`$0.025`, `$12.5`). */
export const formatUsdShort = (value: number): string => `$${Number(value.toPrecision(3))}`;

/** An axis label of a rate: `12.5%`, `100%`. */
export const formatRateShort = (value: number): string => `${Number((value * 100).toPrecision(3))}%`;

/** `2026-11-24 10:19 UTC` */
export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return NO_VALUE;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `Mon, 16 Nov 2026` (UTC) */
export const formatDay = (iso: string): string => new Date(iso).toUTCString().slice(0, 16);

/** `W47` for `2026-W47`: under a chart or a table's column, where the year is said once. */
export const formatShortWeek = (week: string): string => week.slice(5);
