import { Html, type HtmlValue, html } from '#lib/presentation/html.ts';
import { htmlDocument } from '#lib/presentation/page.ts';
import type { PeriodHeader, PeriodKind } from '#lib/reports/common.ts';

/**
 * The governance reports' page and its building blocks. A report is self-contained HTML: inline CSS,
 * inline SVG, no scripts and no external assets, so it opens from S3, an email attachment or a file share
 * and shows the same everywhere.
 */

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

/** A report's whole document: its header (title, what it covers, when it was generated), body and footer. */
export function reportPage(options: {
  title: string;
  subtitle: string;
  generatedAt: string;
  body: Html;
}): string {
  return htmlDocument({
    title: options.title,
    style: STYLE,
    generator: 'agent-ledger governance reports',
    body: html`<main>
<header class="report">
<h1>${options.title}</h1>
<p class="meta">${options.subtitle} · generated ${options.generatedAt}</p>
</header>
${options.body}
<footer>Agent Ledger governance report. The JSON file next to this one holds the same figures for dashboards and tools.</footer>
</main>`,
  });
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

/** A count of violations: red when there are any. */
export const violationCell = (count: number): Html | string =>
  count > 0 ? badge(String(count), 'bad') : '0';

/** The note a report opens with: the period it covers, in UTC, and what else the reader should know first. */
export const periodNote = (name: string, start: string, end: string, more: HtmlValue) =>
  note(html`${name}: ${start} to ${end} (UTC). ${more}`);

/** The opening note of a monthly or quarterly report: complete, or to date (and up to when). */
export function periodToDateNote<K extends PeriodKind>(
  kind: K,
  header: PeriodHeader<K>,
  more?: HtmlValue,
): Html {
  const name: string = header[kind];
  const start: string = header[`${kind}Start` as const];
  const end: string = header[`${kind}End` as const];
  const toDate = `${kind[0]?.toUpperCase()}${kind.slice(1)} to date`;
  return periodNote(
    name,
    start,
    end,
    html`${header.complete ? `The ${kind} is complete.` : html`${toDate}: figures up to ${header.asOf} (written by the run for ${header.week}).`}${more !== undefined && html` ${more}`}`,
  );
}
