/**
 * Self-contained HTML for governance reports: inline CSS, inline SVG, no scripts and no external assets,
 * so a report opens from S3, an email attachment or a file share and shows the same everywhere.
 *
 * Escaping is the default: `html` escapes every interpolated string, so text from the ledger (categories,
 * reasons, tool names, who flipped a switch) can never become markup. Only `Html` values, built by `html`
 * itself, are inserted as they are. The page also carries a Content-Security-Policy that forbids scripts,
 * as a second line of defence.
 */

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] as string);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  // `false`, `null` and `undefined` render nothing, so `${condition && html`…`}` works.
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** A template whose interpolations are escaped (strings, numbers) or inserted as built (`Html`, arrays of them). */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

// ---- number formats (shared by the renderers) ----

export const formatCount = (value: number | null) => (value === null ? '—' : value.toLocaleString('en-US'));
export const formatRate = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(1)}%`);
export const formatUsd = (value: number | null) =>
  value === null ? '—' : `$${value.toFixed(Math.abs(value) >= 100 ? 2 : 4)}`;
export const formatMs = (value: number | null) =>
  value === null ? '—' : value < 10_000 ? `${value} ms` : `${(value / 1000).toFixed(1)} s`;

export function formatSeconds(value: number | null): string {
  if (value === null) return '—';
  const abs = Math.abs(value);
  if (abs < 120) return `${Math.round(value)} s`;
  if (abs < 7200) return `${(value / 60).toFixed(1)} min`;
  if (abs < 172_800) return `${(value / 3600).toFixed(1)} h`;
  return `${(value / 86_400).toFixed(1)} d`;
}

// ---- the page ----

const STYLE = `
:root{color-scheme:light;--ink:#1d2430;--muted:#5b6575;--line:#d8dde5;--soft:#f4f6f9;--accent:#2557a7;--bad:#b3261e;--good:#1e7b3a;--warn:#8a5a00}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:#fff}
main{max-width:1080px;margin:0 auto;padding:24px}
header.report{border-bottom:3px solid var(--accent);margin-bottom:16px;padding-bottom:8px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
p.meta,.muted{color:var(--muted)}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.better{color:var(--good)}.worse{color:var(--bad)}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;border:1px solid var(--line);background:var(--soft)}
.badge.bad{color:#fff;background:var(--bad);border-color:var(--bad)}
.badge.good{color:#fff;background:var(--good);border-color:var(--good)}
.badge.warn{color:#fff;background:var(--warn);border-color:var(--warn)}
.note{background:var(--soft);border-left:4px solid var(--accent);padding:8px 12px;margin:8px 0}
.note.bad{border-left-color:var(--bad)}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0;flex:1 1 480px}
figcaption{font-weight:600;margin-bottom:2px}
svg.chart{width:100%;height:auto;background:#fff;border:1px solid var(--line)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
pre{background:var(--soft);padding:8px 12px;overflow-x:auto;white-space:pre-wrap}
td.blank{height:2em}
footer{margin-top:32px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:8px}
@media print{main{max-width:none}h2{break-after:avoid}figure,table{break-inside:avoid}}
`;

/** A complete document. Scripts are forbidden by its CSP; styles are inline and images are data only. */
export function page(options: { title: string; subtitle: string; generatedAt: string; body: Html }): string {
  return `<!doctype html>\n${
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="agent-ledger governance reports">
<title>${options.title}</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
<main>
<header class="report">
<h1>${options.title}</h1>
<p class="meta">${options.subtitle} · generated ${options.generatedAt}</p>
</header>
${options.body}
<footer>Agent Ledger governance report. The JSON file next to this one holds the same figures for dashboards and tools.</footer>
</main>
</body>
</html>
`.value
  }`;
}

/** A table; cells are escaped unless they are `Html`. `numeric` columns are right-aligned. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly HtmlValue[])[],
  numeric: readonly number[] = [],
): Html {
  const cls = (i: number) => (numeric.includes(i) ? ' class="num"' : '');
  return html`<table>
<thead><tr>${headers.map((header, i) => html`<th${new Html(cls(i))}>${header}</th>`)}</tr></thead>
<tbody>
${rows.map((row) => html`<tr>${row.map((cell, i) => html`<td${new Html(cls(i))}>${cell}</td>`)}</tr>\n`)}</tbody>
</table>`;
}

export const note = (content: HtmlValue, tone: 'info' | 'bad' = 'info') =>
  html`<p class="${tone === 'bad' ? 'note bad' : 'note'}">${content}</p>`;

export const badge = (text: string, tone: 'neutral' | 'good' | 'bad' | 'warn' = 'neutral') =>
  html`<span class="${tone === 'neutral' ? 'badge' : `badge ${tone}`}">${text}</span>`;

// ---- the line chart ----

export interface ChartPoint {
  /** The full label, shown on hover (`2026-W07`). */
  readonly label: string;
  /** The short label under the axis (`W07`); the full label when absent. */
  readonly axisLabel?: string;
  /** null: no value that week; drawn as a gap, never as zero. */
  readonly value: number | null;
  /** What a hover shows for a gap ("no KPI record", "no units"). */
  readonly gapReason?: string;
}

const WIDTH = 560;
const HEIGHT = 190;
const MARGIN = { left: 64, right: 16, top: 14, bottom: 34 };

/** The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `value`, for a tidy axis. */
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
 * An inline SVG line chart over evenly spaced weeks. Consecutive values are joined; a week without a value
 * breaks the line and is marked by a dashed vertical rule, so a missing week never reads as zero.
 */
export function lineChart(options: {
  title: string;
  points: readonly ChartPoint[];
  format: (value: number) => string;
  /** The axis top for rates (1 = 100%); otherwise a tidy ceiling over the values. */
  maxValue?: number;
}): Html {
  const { points, format } = options;
  const values = points.map((point) => point.value).filter((value): value is number => value !== null);
  const top = options.maxValue ?? niceCeiling(Math.max(0, ...values));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const step = points.length > 1 ? plotWidth / (points.length - 1) : 0;
  const x = (i: number) => fixed(MARGIN.left + (points.length > 1 ? i * step : plotWidth / 2));
  const y = (value: number) => fixed(MARGIN.top + plotHeight * (1 - Math.min(Math.max(value, 0), top) / top));

  const segments: string[][] = [];
  let current: string[] = [];
  points.forEach((point, i) => {
    if (point.value === null) {
      if (current.length > 0) segments.push(current);
      current = [];
    } else {
      current.push(`${x(i)},${y(point.value)}`);
    }
  });
  if (current.length > 0) segments.push(current);

  const ticks = [0, top / 2, top];
  const description = `${options.title}: ${points
    .map((point) => `${point.label} ${point.value === null ? 'no data' : format(point.value)}`)
    .join(', ')}`;
  return html`<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${description}" xmlns="http://www.w3.org/2000/svg">
<title>${options.title}</title>
${ticks.map(
  (
    tick,
  ) => html`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(tick)}" y2="${y(tick)}" stroke="#e3e7ee"/>
<text x="${MARGIN.left - 6}" y="${y(tick) + 4}" font-size="11" text-anchor="end" fill="#5b6575">${format(tick)}</text>
`,
)}
${points.map((point, i) =>
  point.value === null
    ? html`<line x1="${x(i)}" x2="${x(i)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#b8bfca" stroke-dasharray="3 3"><title>${point.label}: ${point.gapReason ?? 'no data'}</title></line>
`
    : '',
)}
${segments.map(
  (segment) =>
    html`<polyline fill="none" stroke="#2557a7" stroke-width="2" points="${segment.join(' ')}"/>
`,
)}
${points.map((point, i) =>
  point.value === null
    ? ''
    : html`<circle cx="${x(i)}" cy="${y(point.value)}" r="3" fill="#2557a7"><title>${point.label}: ${format(point.value)}</title></circle>
`,
)}
${points.map(
  (point, i) =>
    html`<text x="${x(i)}" y="${HEIGHT - 12}" font-size="10" text-anchor="middle" fill="${point.value === null ? '#9aa3b0' : '#5b6575'}">${point.axisLabel ?? point.label}</text>
`,
)}</svg>`;
}
