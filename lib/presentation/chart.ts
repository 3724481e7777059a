import { formatRate, formatRateShort, formatUsd, formatUsdShort } from '#lib/presentation/format.ts';
import { type Html, html } from '#lib/presentation/html.ts';

/**
 * The line chart of the reports and the dashboard: inline SVG drawn on the server, styled by its own
 * attributes (a report opens from a file share, so it cannot lean on a page's style sheet), no script.
 */

export interface ChartPoint {
  /** The full label, in the description and on hover (`2026-W07`). */
  readonly label: string;
  /** The short label under the axis (`W07`); the full label when absent. */
  readonly axisLabel?: string;
  /** null: no value for this point; drawn as a gap, never as zero. */
  readonly value: number | null;
  /** What a hover over a gap says ("no KPI record", "no units"); "no data" when absent. */
  readonly gapReason?: string;
  /** The point the page is about (its week), drawn larger. */
  readonly highlight?: boolean;
}

/** How a chart writes its values (as the page writes them elsewhere) and its axis (short). */
export interface ChartScale {
  readonly format: (value: number) => string;
  readonly axis: (value: number) => string;
  /** The axis top never goes above this (a rate stops at 100%). */
  readonly cap?: number;
}

export const USD_SCALE: ChartScale = { format: formatUsd, axis: formatUsdShort };
export const RATE_SCALE: ChartScale = { format: formatRate, axis: formatRateShort, cap: 1 };

export interface ChartSize {
  readonly width: number;
  readonly height: number;
}

/** A chart with the width of a report's column. */
export const WIDE_CHART: ChartSize = { width: 560, height: 190 };
/** A chart for a grid of narrow cells (the dashboard's). */
export const COMPACT_CHART: ChartSize = { width: 360, height: 150 };

const MARGIN = { left: 48, right: 14, top: 12, bottom: 26 };
/** Axis labels closer than this (in the chart's units) are thinned out, the last one always kept. */
const MIN_LABEL_SPACING = 26;
const COLOURS = { line: '#2557a7', grid: '#e3e7ee', gap: '#b8bfca', text: '#5b6575', faint: '#9aa3b0' };

/**
 * The top of a tidy axis: the smallest of 1, 2, 2.5 or 5 × 10ⁿ at or above `value` (1 when there is
 * nothing to show). 2.5 keeps a maximum just above 2 from wasting half the plot, as 5 would.
 */
export function niceCeiling(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

const fixed = (value: number) => Number(value.toFixed(1));

/**
 * An inline SVG line chart over evenly spaced points (weeks). Consecutive values are joined; a point
 * without a value breaks the line and is marked by a dashed vertical rule, so a missing week never reads
 * as zero. The axis runs from 0 to a nice ceiling over the values, capped by the scale.
 */
export function lineChart(options: {
  title: string;
  points: readonly ChartPoint[];
  scale: ChartScale;
  size?: ChartSize;
  /** Shown across an empty plot. */
  emptyText?: string;
}): Html {
  const { points, scale, title } = options;
  const { width, height } = options.size ?? WIDE_CHART;
  const values = points.map((point) => point.value).filter((value): value is number => value !== null);
  const top = Math.min(scale.cap ?? Number.POSITIVE_INFINITY, niceCeiling(Math.max(0, ...values)));
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const baseline = MARGIN.top + plotHeight;
  const step = points.length > 1 ? plotWidth / (points.length - 1) : 0;
  const x = (i: number) => fixed(MARGIN.left + (points.length > 1 ? i * step : plotWidth / 2));
  const y = (value: number) => fixed(baseline - (plotHeight * Math.min(Math.max(value, 0), top)) / top);

  let path = '';
  let drawing = false;
  points.forEach((point, i) => {
    if (point.value === null) {
      drawing = false;
      return;
    }
    path += `${drawing ? 'L' : 'M'}${x(i)} ${y(point.value)} `;
    drawing = true;
  });

  const labelEvery = step > 0 ? Math.max(1, Math.ceil(MIN_LABEL_SPACING / step)) : 1;
  const labelled = (i: number) => i === points.length - 1 || (points.length - 1 - i) % labelEvery === 0;
  const missing = points.filter((point) => point.value === null).length;
  const description = `${title}, ${points[0]?.label ?? ''} to ${points.at(-1)?.label ?? ''}: ${
    values.length === 0
      ? 'no data'
      : points
          .flatMap((point) => (point.value === null ? [] : [`${point.label} ${scale.format(point.value)}`]))
          .join(', ')
  }${missing > 0 ? `; no data for ${missing} week${missing === 1 ? '' : 's'}` : ''}`;

  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${description}" xmlns="http://www.w3.org/2000/svg">
<title>${title}</title>
${[0, top / 2, top].map(
  (
    tick,
  ) => html`<line class="grid" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y(tick)}" y2="${y(tick)}" stroke="${COLOURS.grid}"/>
<text x="${MARGIN.left - 6}" y="${y(tick) + 4}" font-size="11" text-anchor="end" fill="${COLOURS.text}">${scale.axis(tick)}</text>
`,
)}${points.map((point, i) =>
  point.value === null
    ? html`<line class="gap" x1="${x(i)}" x2="${x(i)}" y1="${MARGIN.top}" y2="${baseline}" stroke="${COLOURS.gap}" stroke-dasharray="3 3"><title>${point.label}: ${point.gapReason ?? 'no data'}</title></line>
`
    : '',
)}${path && html`<path class="line" d="${path.trim()}" fill="none" stroke="${COLOURS.line}" stroke-width="2"/>\n`}${points.map(
  (point, i) =>
    point.value !== null &&
    html`<circle class="point" cx="${x(i)}" cy="${y(point.value)}" r="${point.highlight ? 4.5 : 3}" fill="${COLOURS.line}"><title>${point.label}: ${scale.format(point.value)}</title></circle>
`,
)}${points.map(
  (point, i) =>
    labelled(i) &&
    html`<text x="${x(i)}" y="${height - 8}" font-size="10" text-anchor="middle" fill="${point.value === null ? COLOURS.faint : COLOURS.text}">${point.axisLabel ?? point.label}</text>
`,
)}${
  values.length === 0 &&
  html`<text x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top + plotHeight / 2}" font-size="11" text-anchor="middle" fill="${COLOURS.text}">${options.emptyText ?? 'no data'}</text>
`
}</svg>`;
}
