import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMPACT_CHART, lineChart, niceCeiling, RATE_SCALE, USD_SCALE } from '#lib/presentation/chart.ts';
import {
  formatCount,
  formatDay,
  formatInstant,
  formatMs,
  formatPointChange,
  formatRate,
  formatRateShort,
  formatSeconds,
  formatShortWeek,
  formatUsd,
  formatUsdShort,
  NO_VALUE,
} from '#lib/presentation/format.ts';
import { escapeHtml, type HtmlValue, html } from '#lib/presentation/html.ts';
import { htmlDocument } from '#lib/presentation/page.ts';

describe('html: every interpolated value is escaped', () => {
  it('escapes text and attribute values, and passes html results through', () => {
    const reason = `<img src=x onerror="alert('x')"> & co`;
    expect(html`<p title="${reason}">${reason}</p>${html`<b>ok</b>`}`.value).toBe(
      '<p title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt; &amp; co">&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt; &amp; co</p><b>ok</b>',
    );
  });

  it('escapes in attributes and text alike, and in arrays', () => {
    expect(escapeHtml(`"'<>&`)).toBe('&quot;&#39;&lt;&gt;&amp;');
    expect(html`<p title="${'" onmouseover="x'}">${['<i>', html`<b>ok</b>`]}</p>`.value).toBe(
      '<p title="&quot; onmouseover=&quot;x">&lt;i&gt;<b>ok</b></p>',
    );
  });

  it('renders nothing for false, null and undefined, so a condition && html… shows only when true', () => {
    const shown = (condition: boolean) =>
      html`<p>${condition && html`<b>yes</b>`}${null}${undefined}</p>`.value;
    expect([shown(true), shown(false)]).toEqual(['<p><b>yes</b></p>', '<p></p>']);
    expect(html`${0}`.value).toBe('0');
    // A boolean is a condition, never content: `true` does not type-check, and renders nothing if forced.
    expect(html`${true as unknown as HtmlValue}`.value).toBe('');
  });

  it('never lets a string produce a tag or leave a quoted attribute (property)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const escaped = escapeHtml(text);
        expect(html`<span title="${text}">${text}</span>`.value).toBe(
          `<span title="${escaped}">${escaped}</span>`,
        );
        expect(escaped).not.toMatch(/[<>"']/);
        expect(escaped.replace(/&(amp|lt|gt|quot|#39);/g, '')).not.toContain('&');
      }),
    );
  });
});

describe('htmlDocument', () => {
  it('writes a whole page whose policy forbids scripts, with the title escaped', () => {
    const page = htmlDocument({
      title: 'A <b>title</b>',
      style: 'p{color:red}',
      body: html`<p>hi</p>`,
      generator: 'tests',
    });
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(page).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
    expect(page).toContain('<title>A &lt;b&gt;title&lt;/b&gt;</title>');
    expect(page).toContain('<meta name="generator" content="tests">');
    expect(page).toContain('<style>p{color:red}</style>');
    expect(page).toContain('<body>\n<p>hi</p>\n</body>');
    expect(htmlDocument({ title: 't', style: '', body: html`` })).not.toContain('generator');
  });
});

describe('formatters: one way to write each figure', () => {
  it('writes a missing figure as a dash, everywhere', () => {
    const formats = [formatCount, formatRate, formatUsd, formatMs, formatSeconds, formatPointChange];
    for (const format of formats) {
      expect([format(null), format(undefined)]).toEqual([NO_VALUE, NO_VALUE]);
    }
    expect(NO_VALUE).toBe('—');
  });

  it('writes money with four decimals below $100 and two from $100', () => {
    expect([formatUsd(3.008), formatUsd(0), formatUsd(99.99999), formatUsd(1234.5)]).toEqual([
      '$3.0080',
      '$0.0000',
      '$100.0000',
      '$1234.50',
    ]);
  });

  it('writes rates, counts, point changes and axis labels', () => {
    expect([formatRate(0.4), formatRate(0), formatRate(1)]).toEqual(['40.0%', '0.0%', '100.0%']);
    expect(formatCount(1234567)).toBe('1,234,567');
    expect([formatPointChange(0.05), formatPointChange(-0.125), formatPointChange(0)]).toEqual([
      '+5.0 pp',
      '−12.5 pp',
      '±0.0 pp',
    ]);
    expect([formatUsdShort(2.5), formatUsdShort(0.0125), formatRateShort(0.25), formatRateShort(1)]).toEqual([
      '$2.5',
      '$0.0125',
      '25%',
      '100%',
    ]);
  });

  it('writes durations in the unit that keeps them short: s, min, h, d', () => {
    expect([45, 119.6, 120, 150, 7199, 7200, 5400 * 2, 172_800, 259_200].map(formatSeconds)).toEqual([
      '45 s',
      '120 s',
      '2.0 min',
      '2.5 min',
      '120.0 min',
      '2.0 h',
      '3.0 h',
      '2.0 d',
      '3.0 d',
    ]);
    expect([850, 9_999, 12_500].map(formatMs)).toEqual(['850 ms', '9999 ms', '12.5 s']);
  });

  it('writes instants, days and weeks in UTC', () => {
    expect(formatInstant('2026-11-24T10:19:59.999+01:00')).toBe('2026-11-24 09:19 UTC');
    expect(formatInstant('not a time')).toBe('not a time');
    expect(formatDay('2026-11-16T00:00:00.000Z')).toBe('Mon, 16 Nov 2026');
    expect(formatShortWeek('2026-W07')).toBe('W07');
  });
});

describe('lineChart', () => {
  it('draws a gap as a break in the line, not a point at zero', () => {
    const svg = lineChart({
      title: 'cost',
      points: [
        { label: 'a', value: 1 },
        { label: 'b', value: 2 },
        { label: 'c', value: null, gapReason: 'no KPI record' },
        { label: 'd', value: 2 },
      ],
      scale: { format: String, axis: String },
    }).value;
    const path = /<path class="line" d="([^"]+)"/.exec(svg)?.[1] ?? '';
    expect(path.match(/M/g)).toHaveLength(2); // a–b, d
    expect(path.match(/L/g)).toHaveLength(1);
    expect(svg.match(/<circle/g)).toHaveLength(3);
    expect(svg.match(/class="gap"/g)).toHaveLength(1);
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('<title>c: no KPI record</title>');
    expect(svg).toContain('aria-label="cost, a to d: a 1, b 2, d 2; no data for 1 week"');
  });

  it('tops the axis at a nice ceiling over the values, a rate never above 100%', () => {
    const axisLabels = (svg: string) =>
      [...svg.matchAll(/text-anchor="end"[^>]*>([^<]+)</g)].map((m) => m[1]);
    const chart = (values: (number | null)[], scale = USD_SCALE) =>
      lineChart({
        title: 't',
        points: values.map((value, i) => ({ label: `w${i}`, value })),
        scale,
        size: COMPACT_CHART,
      }).value;
    expect(axisLabels(chart([0.5, 2.2]))).toEqual(['$0', '$1.25', '$2.5']);
    expect(axisLabels(chart([0.4, 0.12], RATE_SCALE))).toEqual(['0%', '25%', '50%']);
    expect(axisLabels(chart([0.9, 0.97], RATE_SCALE))).toEqual(['0%', '50%', '100%']);
    expect(axisLabels(chart([null, null]))).toEqual(['$0', '$0.5', '$1']);
    expect(chart([null, null])).toContain('>no data</text>');
    expect(chart([3])).toContain('cx="197"'); // one point: in the middle
  });

  it('highlights the point the page is about, and thins the axis labels when they would collide', () => {
    const points = Array.from({ length: 30 }, (_, i) => ({ label: `w${i}`, value: i, highlight: i === 29 }));
    const svg = lineChart({ title: 't', points, scale: USD_SCALE, size: COMPACT_CHART }).value;
    expect(svg.match(/r="4.5"/g)).toHaveLength(1);
    const labels = [...svg.matchAll(/text-anchor="middle"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(labels.at(-1)).toBe('w29');
    expect(labels.length).toBeLessThan(30);
    expect(labels.length).toBeGreaterThan(5);
  });

  it('niceCeiling: the smallest of 1, 2, 2.5, 5 × 10ⁿ at or above the value', () => {
    expect([0, -1, Number.NaN, 0.7, 1, 1.01, 2.2, 2.5, 3, 7, 0.012, 120].map(niceCeiling)).toEqual([
      1, 1, 1, 1, 1, 2, 2.5, 2.5, 5, 10, 0.02, 200,
    ]);
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e9, noNaN: true }), (value) => {
        const top = niceCeiling(value);
        expect(top).toBeGreaterThanOrEqual(value);
        expect(top).toBeLessThanOrEqual(value * 2.5 + 1e-12);
      }),
    );
  });
});
