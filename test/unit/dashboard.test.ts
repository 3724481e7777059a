import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { renderChart, renderOverview } from '#lib/console/overview/render.ts';
import {
  contentTypeFor,
  parseGovernanceIndex,
  RefusedReportKeyError,
  type ReportObject,
  type ReportsReader,
  readCostPerUnitListing,
  reportHref,
  reportKeyOf,
} from '#lib/console/overview/reports.ts';
import { type DashboardDependencies, type DashboardView, loadDashboard } from '#lib/console/overview/view.ts';
import type { AutonomyState } from '#lib/kill-switch/autonomy.ts';
import { readAutonomy } from '#lib/kill-switch/autonomy.ts';
import { WeeklyKpis } from '#lib/kpi/compute.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { lastCompleteWeek, shiftWeek } from '#lib/kpi/weeks.ts';
import { formatRate, formatUsd } from '#lib/presentation/format.ts';
import { html } from '#lib/presentation/html.ts';
import { PriceBook } from '#lib/pricing/price-table.ts';
import { defaultRegistry, demoWorkflows } from '#lib/registry/default-registry.ts';
import { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { kpiSummaryLine } from '../../cli/commands/jobs.ts';

const NOW = new Date('2026-11-24T10:00:00Z'); // a Tuesday of 2026-W48
const WEEK = lastCompleteWeek(NOW.getTime()); // 2026-W47

const record = (workflowId: string, week: string, overrides: Partial<KpiRecord> = {}): KpiRecord => ({
  ...new WeeklyKpis(workflowId, week, new PriceBook([])).finish(),
  throughput: 20,
  reviewedUnits: 20,
  defectiveUnits: 8,
  defectRate: 0.4,
  costPerUnitUsd: 3.008,
  ...overrides,
});

const allowed = (workflowId: string): AutonomyState => ({
  workflowId,
  autonomousAllowed: true,
  lane: 'autonomous',
  flagVersion: 'v1',
  reason: null,
  changedAt: null,
});

/** The reports bucket over a map: real behaviour, no network. */
class MapReports implements ReportsReader {
  constructor(readonly objects = new Map<string, string>()) {}
  async listKeys(prefix: string, max: number) {
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
    return { keys: keys.slice(0, max), truncated: keys.length > max };
  }
  async open(key: string): Promise<ReportObject | undefined> {
    const text = this.objects.get(key);
    if (text === undefined) return undefined;
    return { body: Readable.from([Buffer.from(text)]), contentType: undefined, contentLength: text.length };
  }
}

function deps(overrides: Partial<DashboardDependencies> = {}): DashboardDependencies {
  const records = new Map<string, KpiRecord>([
    [`support-triage#${WEEK}`, record('support-triage', WEEK)],
    [`code-review#${shiftWeek(WEEK, -3)}`, record('code-review', shiftWeek(WEEK, -3), { defectRate: 0.1 })],
  ]);
  return {
    registry: defaultRegistry,
    kpis: { getRecord: async (workflowId, week) => records.get(`${workflowId}#${week}`) },
    autonomy: async (workflowId) => allowed(workflowId),
    reports: new MapReports(),
    clock: () => NOW,
    timeoutMs: 200,
    ...overrides,
  };
}

describe('reportHref', () => {
  it('links a report key relative to the console base, each segment encoded, keeping `=` readable', () => {
    expect(reportHref('cost-per-unit/week=2026-W47/workflow=code-review/cost-per-unit.parquet')).toBe(
      'reports/cost-per-unit/week=2026-W47/workflow=code-review/cost-per-unit.parquet',
    );
    expect(reportHref('governance/a b/<x>?#.html')).toBe('reports/governance/a%20b/%3Cx%3E%3F%23.html');
  });
});

/** The Overview's body, as the console writes it into its layout. */
const renderDashboard = (view: DashboardView): string => renderOverview(view, html``).value;

describe('renderOverview', () => {
  it('shows each workflow: autonomy, the last complete week, 12 weeks with gaps, and unpriced warnings', async () => {
    // Prepare
    const view = await loadDashboard(
      deps({
        autonomy: async (workflowId) =>
          workflowId === 'code-review'
            ? {
                ...allowed(workflowId),
                autonomousAllowed: false,
                lane: 'hitl',
                reason: '<script>alert(1)</script> drift',
                changedAt: '2026-11-24T09:15:00.000Z',
              }
            : allowed(workflowId),
        kpis: {
          getRecord: async (workflowId, week) =>
            workflowId === 'support-triage' && (week === WEEK || week === shiftWeek(WEEK, -2))
              ? record(workflowId, week, {
                  unpriced: { models: ['openai/gpt-x'], tools: [], humanReview: false },
                })
              : undefined,
        },
      }),
    );

    // Act
    const page = renderDashboard(view);

    // Assess
    expect(page).not.toMatch(/<script/i);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt; drift');
    expect(page).toContain('data-autonomy="paused"');
    expect(page).toContain('2026-11-24 09:15 UTC');
    expect(page).toContain('<div class="value" data-kpi="costPerUnitUsd">$3.0080</div>');
    expect(page).toContain('<div class="value" data-kpi="defectRate">40.0%</div>');
    expect(page).toContain('model openai/gpt-x');
    expect(page).toContain(`No KPI record for ${WEEK} yet`);
    expect(page.match(/<td class="[^"]*" data-week="[^"]+">/g)).toHaveLength(2 * 4 * 12);
  });

  it("shows a lane its rollout phase has not opened, the lane agents use, and the week's rollout-phase violations", async () => {
    // Prepare: code-review in evals (hitl) and support-triage in baseline (shadow)
    const registry = WorkflowRegistry.parse(
      demoWorkflows.map((workflow) => ({
        ...workflow,
        rolloutPhase: workflow.workflowId === 'code-review' ? 'evals' : 'baseline',
      })),
    );
    const asked: [string, string][] = [];
    const view = await loadDashboard(
      deps({
        registry,
        // The handler's own gate, over flags that are on
        autonomy: (workflowId, rolloutPhase) =>
          readAutonomy(
            workflowId,
            { read: async () => ({ values: { [workflowId]: { enabled: true } }, version: 'v9' }) },
            undefined,
            rolloutPhase,
          ),
        rolloutPhaseViolations: async (workflowId, week) => {
          asked.push([workflowId, week]);
          return workflowId === 'code-review' ? 3 : 0;
        },
      }),
    );

    // Act
    const page = renderDashboard(view);

    // Assess
    expect(asked.sort()).toEqual([
      ['code-review', WEEK],
      ['support-triage', WEEK],
    ]);
    const section = (workflowId: string) =>
      page.slice(
        page.indexOf(`data-workflow="${workflowId}"`),
        page.indexOf('</section>', page.indexOf(`data-workflow="${workflowId}"`)),
      );
    expect(section('code-review')).toContain('data-autonomy="phase"');
    expect(section('code-review')).toContain('agents use the human-in-the-loop lane · flag version v9');
    expect(section('code-review')).toContain(
      'rollout phase &quot;evals&quot;: the autonomous lane opens in phase &quot;autonomous&quot; (workflow registry)',
    );
    expect(section('support-triage')).toContain('agents use the shadow lane (output not shipped)');
    expect(section('code-review')).toContain('data-testid="rollout-phase-violations"');
    expect(section('code-review')).toContain('/v1/workflows/code-review/events?violations=rollout-phase');
    expect(section('support-triage')).not.toContain('rollout-phase-violations');
  });

  it('breaks the chart line at a week without a record, so a gap never reads as zero', () => {
    const weeks = Array.from({ length: 12 }, (_, i) => {
      const week = shiftWeek(WEEK, i - 11);
      return { week, record: [0, 1, 5, 6, 11].includes(i) ? record('code-review', week) : undefined };
    });
    const svg = renderChart(
      'Defect rate',
      weeks,
      (r) => r.defectRate,
      { format: formatRate, axis: formatRate },
      WEEK,
      'x',
    ).value;
    const path = /<path class="line" d="([^"]+)"/.exec(svg)?.[1] ?? '';
    expect(path.match(/M/g)).toHaveLength(3); // weeks 0–1, 5–6, 11
    expect(path.match(/L/g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(5);
    expect(svg.match(/class="gap"/g)).toHaveLength(7);
    expect(svg).toContain('no data for 7 weeks');
  });

  it('formats money and rates as the CLI does', async () => {
    // Prepare: the week the page leads with, and one with no units
    const current = record('support-triage', WEEK, {
      auditCoverage: 0,
      cost: { modelUsd: 1000, toolUsd: 234.5, humanReviewUsd: 0, totalUsd: 1234.5 },
    });
    const empty = record('support-triage', WEEK, {
      throughput: 0,
      reviewedUnits: 0,
      costPerUnitUsd: null,
      defectRate: null,
    });

    // Act
    const page = renderDashboard(await loadDashboard(deps({ kpis: { getRecord: async () => current } })));
    const printed = [kpiSummaryLine(current), kpiSummaryLine(empty)];

    // Assess: one formatter for both
    expect([formatUsd(3.008), formatUsd(1234.5), formatUsd(null)]).toEqual(['$3.0080', '$1234.50', '—']);
    expect([formatRate(0.4), formatRate(0), formatRate(null)]).toEqual(['40.0%', '0.0%', '—']);
    expect(page).toContain('<div class="value" data-kpi="costPerUnitUsd">$3.0080</div>');
    expect(page).toContain('total $1234.50 over 20 units');
    expect(page).toContain('<div class="value" data-kpi="defectRate">40.0%</div>');
    expect(printed[0]).toBe(
      `support-triage ${WEEK}: throughput 20, cost/unit $3.0080 (total $1234.50), defect rate 40.0% of 20 reviewed, audit coverage 0.0%`,
    );
    expect(printed[1]).toContain(
      'cost/unit — (total $0.0000), defect rate — of 0 reviewed, audit coverage —',
    );
  });
});

describe('loadDashboard: a failing or slow store shows in its part of the page', () => {
  it('reports each failure in place and still renders the rest', async () => {
    // Prepare: the KPI store fails, the flags never answer, the reports bucket refuses
    const broken = deps({
      kpis: {
        getRecord: async () => {
          throw new Error('ResourceNotFoundException: table gone');
        },
      },
      autonomy: () => new Promise(() => {}),
      reports: {
        listKeys: async () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:3002');
        },
        open: async () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:3002');
        },
      },
    });

    // Act
    const started = Date.now();
    const view = await loadDashboard(broken);
    const page = renderDashboard(view);

    // Assess
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(view.workflows.map((w) => [w.weeks.ok, w.autonomy.ok])).toEqual([
      [false, false],
      [false, false],
    ]);
    expect(page).toContain('could not read the KPI store: Error: ResourceNotFoundException: table gone');
    expect(page).toContain('could not read the kill-switch flags: Error: no answer within 200 ms');
    expect(page).toContain('data-autonomy="unknown"');
    expect(page).toContain('could not read the reports bucket (governance reports)');
    expect(page).toContain('could not read the reports bucket (cost-per-unit reports)');
  });
});

describe('reports', () => {
  it.each([
    [
      'an array of entries',
      [{ title: 'Agent Ops Review', week: '2026-W47', html: 'governance/2026-W47/review.html' }],
    ],
    [
      'an object with reports',
      { reports: [{ title: 'Agent Ops Review', week: '2026-W47', html: 'governance/2026-W47/review.html' }] },
    ],
    [
      'keys relative to governance/ and nested files',
      { items: [{ title: 'Agent Ops Review', week: '2026-W47', files: { html: '2026-W47/review.html' } }] },
    ],
  ])('reads a governance index given as %s', (_shape, index) => {
    const [entry] = parseGovernanceIndex(JSON.stringify(index));
    expect(entry?.title).toBe('Agent Ops Review');
    expect(entry?.details).toEqual(['2026-W47']);
    expect(entry?.links.map((link) => link.label)).toEqual(['HTML']);
    expect(entry?.links.map((link) => link.key)).toEqual(['governance/2026-W47/review.html']);
  });

  it('reads the index the governance reports job writes: HTML first, the period and whether it is complete', () => {
    const entries = parseGovernanceIndex(
      JSON.stringify({
        generatedAt: '2026-11-24T03:00:00.000Z',
        week: '2026-W47',
        reports: [
          {
            kind: 'autonomy-risk-review',
            title: 'Autonomy + Risk Review',
            period: '2026-11',
            complete: false,
            week: '2026-W47',
            generatedAt: '2026-11-24T03:00:00.000Z',
            json: 'governance/monthly/2026-11/autonomy-risk-review.json',
            html: 'governance/monthly/2026-11/autonomy-risk-review.html',
          },
          {
            kind: 'runbook',
            title: 'Runbook: code-review',
            period: null,
            complete: true,
            week: '2026-W47',
            workflowId: 'code-review',
            generatedAt: '2026-11-24T03:00:00.000Z',
            json: 'governance/runbooks/code-review.json',
            html: 'governance/runbooks/code-review.html',
          },
        ],
      }),
    );
    expect(entries).toEqual([
      {
        title: 'Autonomy + Risk Review',
        details: ['2026-11 (to date)', 'generated 2026-11-24 03:00 UTC'],
        links: [
          { key: 'governance/monthly/2026-11/autonomy-risk-review.html', label: 'HTML' },
          { key: 'governance/monthly/2026-11/autonomy-risk-review.json', label: 'JSON' },
        ],
      },
      {
        title: 'Runbook: code-review',
        details: ['2026-W47', 'workflow code-review', 'generated 2026-11-24 03:00 UTC'],
        links: [
          { key: 'governance/runbooks/code-review.html', label: 'HTML' },
          { key: 'governance/runbooks/code-review.json', label: 'JSON' },
        ],
      },
    ]);
  });

  it('ignores what names no report file (URLs, absolute paths, dot segments, plain values)', () => {
    const entries = parseGovernanceIndex(
      JSON.stringify([
        {
          title: 'x',
          url: 'https://example.com/a.html',
          path: '/etc/passwd',
          html: '../../etc/passwd.html',
          json: 'governance/./a.json',
          note: 'hello',
        },
      ]),
    );
    expect(entries).toEqual([]);
  });

  it('lists the newest weeks of cost-per-unit Parquet first', async () => {
    const reports = new MapReports(
      new Map(
        ['2026-W45', '2026-W47', '2026-W46'].flatMap((week) =>
          ['support-triage', 'code-review'].map(
            (id) => [`cost-per-unit/week=${week}/workflow=${id}/cost-per-unit.parquet`, 'PAR1'] as const,
          ),
        ),
      ),
    );
    const listing = await readCostPerUnitListing(reports, 2);
    expect(listing.weeks.map((w) => [w.week, w.files.map((f) => f.workflowId)])).toEqual([
      ['2026-W47', ['code-review', 'support-triage']],
      ['2026-W46', ['code-review', 'support-triage']],
    ]);
    expect(listing.totalWeeks).toBe(3);
  });

  it('serves HTML as text/html and JSON as application/json', () => {
    expect(contentTypeFor('governance/a.html', 'binary/octet-stream')).toBe('text/html; charset=utf-8');
    expect(contentTypeFor('governance/index.json', undefined)).toBe('application/json; charset=utf-8');
    expect(contentTypeFor('governance/blob', 'image/png')).toBe('image/png');
  });
});

describe('reportKeyOf', () => {
  it.each([
    ['/reports/governance/2026-W47/review.html', 'governance/2026-W47/review.html'],
    ['/reports/governance/a%20b.html', 'governance/a b.html'],
    [
      '/reports/cost-per-unit/week=2026-W47/workflow=x/cost-per-unit.parquet',
      'cost-per-unit/week=2026-W47/workflow=x/cost-per-unit.parquet',
    ],
  ])('reads %s as the key %s', (path, key) => {
    expect(reportKeyOf(path, new URL(path, 'http://h').pathname)).toBe(key);
  });

  it.each([
    '/reports/governance/../x.html',
    '/reports/%2e%2e/x',
    '/reports/governance/%2E/x',
    '/reports/governance%2F..%2Fx',
    '/reports/a//b',
    '/reports/',
    '/reports/%E0%A4%A',
    '/reports/a%00b',
  ])('refuses %s', (path) => {
    expect(() => reportKeyOf(path, new URL(path, 'http://h').pathname)).toThrow(RefusedReportKeyError);
  });
});
