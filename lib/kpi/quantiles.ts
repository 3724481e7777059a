/**
 * Quantile by linear interpolation between closest ranks: numpy's default, DuckDB's `quantile_cont`,
 * Excel's `PERCENTILE.INC`. `sorted` must be ascending; undefined for an empty list.
 */
export function quantileCont(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const h = (sorted.length - 1) * p;
  const lower = Math.floor(h);
  const upper = Math.ceil(h);
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  return a + (h - lower) * (b - a);
}
