import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lastCompleteWeek, shiftWeek, weekBounds } from '#lib/kpi/weeks.ts';
import { apiClient } from '../support/api.ts';
import { CHROMIUM, launchChromium } from '../support/chromium.ts';
import { cliOn } from '../support/cli.ts';
import { reviewedUnit, TEST_PRICES } from '../support/reviewed-unit.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const cli = cliOn(stack.dataDir);

// The last two complete weeks, so the page (which leads with the last complete week) shows both.
const WEEK = lastCompleteWeek(Date.now());
const PREVIOUS = shiftWeek(WEEK, -1);
const RUN = randomUUID().slice(0, 8);
const PAUSE_REASON = `Defect rate doubled <b>week on week</b> & under review (${RUN})`;

/**
 * One unit completed in `week`: started 09:00, one action at 10:00 (1,000 input + 200 output tokens of a
 * priced model, one priced tool call: $0.008), completed 11:00, reviewed for `reviewMinutes` at $60/h.
 */
function unit(
  workflowId: string,
  week: string,
  n: number,
  verdict: 'pass' | 'defect',
  reviewMinutes: number,
) {
  const dayMs = weekBounds(week).startMs + (n % 5) * 86_400_000;
  const unitId = `${workflowId}-${week}-${RUN}-${n}`;
  return reviewedUnit({ workflowId, unitId, dayMs, verdict, reviewMinutes });
}

function week(workflowId: string, w: string, units: number, defects: number, reviewMinutes: number) {
  return Array.from({ length: units }, (_, n) =>
    unit(workflowId, w, n, n < defects ? 'defect' : 'pass', reviewMinutes),
  ).flat();
}

/** An action with a model no price table prices: the page must warn that cost per unit is understated. */
function unpricedAction(workflowId: string, w: string) {
  return {
    workflowId,
    unitId: `${workflowId}-${w}-${RUN}-0`,
    eventId: `${workflowId}-${w}-${RUN}-unpriced`,
    type: 'action',
    occurredAt: new Date(weekBounds(w).startMs + 13 * 3_600_000).toISOString(),
    lane: 'shadow',
    model: { provider: 'openai', name: 'gpt-unpriced', version: '1' },
    usage: { inputTokens: 500, outputTokens: 50 },
  };
}

/**
 * GET with the path sent exactly as written (fetch would resolve `%2e%2e` segments first), with the
 * signed-in session's cookie: the reports are console pages.
 */
function rawGet(path: string): Promise<number> {
  const { hostname, port } = new URL(stack.api);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET', headers: { cookie } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}

let browser: Browser;
let page: Page;
/** The signed-in session's cookie header, for the raw requests. */
let cookie = '';
let governanceReports = false;
let firstLoadMs = 0;

describe('the local dashboard in headless Chromium', () => {
  beforeAll(async () => {
    // Prepare, through the real API and CLI: two weeks of both workflows, priced and computed.
    // support-triage: 10 units a week, 3-minute reviews ($0.008 + $3 = $3.0080 a unit), 1 then 2 defects.
    // code-review: 8 units a week, 6-minute reviews ($0.008 + $6 = $6.0080 a unit), 2 then 4 defects, and
    // one action of a model no price table prices.
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));
    writeFileSync(join(dir, 'prices.json'), JSON.stringify(TEST_PRICES));
    cli('prices', 'import', join(dir, 'prices.json'));
    const events = [
      ...week('support-triage', PREVIOUS, 10, 1, 3),
      ...week('support-triage', WEEK, 10, 2, 3),
      ...week('code-review', PREVIOUS, 8, 2, 6),
      ...week('code-review', WEEK, 8, 4, 6),
      unpricedAction('code-review', WEEK),
    ];
    for (let i = 0; i < events.length; i += 400) {
      const response = await api.postEvents({ events: events.slice(i, i + 400) });
      expect(response.status).toBe(202);
    }
    cli('jobs', 'kpi', '--week', PREVIOUS);
    cli('jobs', 'kpi', '--week', WEEK);
    cli('kill-switch', 'off', 'code-review', '--reason', PAUSE_REASON);
    // Governance reports come from the reports job (lib/reports), when this checkout has it.
    try {
      cli('jobs', 'reports', '--week', WEEK);
    } catch (error) {
      // A checkout without the job: the report-link test below says so and skips. Any other failure is one.
      if (!/unknown job 'reports'/.test(String((error as { stderr?: string }).stderr))) throw error;
    }

    browser = await launchChromium();
    // No JavaScript at all: the page is server-rendered and must need none.
    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
    // The Overview is a console page: sign in with the link `npm start` prints (it redirects to `/`).
    const started = Date.now();
    const response = await page.goto(`${stack.api}/?token=${encodeURIComponent(stack.token)}`);
    firstLoadMs = Date.now() - started;
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${stack.api}/`);
    cookie = (await context.cookies(stack.api)).map((c) => `${c.name}=${c.value}`).join('; ');

    // A flip shows in /autonomy within 2 s locally (SPEC); the page reads the flag the same way.
    const deadline = Date.now() + 5_000;
    while ((await autonomyOf('code-review')) !== 'paused' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await page.reload();
    }
    governanceReports = (await page.locator('a[data-report="governance"]').count()) > 0;
  });

  afterAll(async () => {
    await browser?.close();
    if (existsSync(CHROMIUM))
      cli('kill-switch', 'on', 'code-review', '--reason', `browser test cleanup (${RUN})`);
  });

  const section = (workflowId: string) => page.locator(`section[data-workflow="${workflowId}"]`);
  const autonomyOf = (workflowId: string) =>
    section(workflowId).locator('[data-autonomy]').getAttribute('data-autonomy');
  const kpi = (workflowId: string, name: string) => section(workflowId).locator(`[data-kpi="${name}"]`);
  const cell = (workflowId: string, row: string, w: string) =>
    section(workflowId).locator(`tr[data-row="${row}"] td[data-week="${w}"]`);

  it('sends a visitor without a session to the sign-in page', async () => {
    const response = await fetch(`${stack.api}/`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/sign-in?returnTo=%2F');
  });

  it('serves the page fast, leading with the last complete week', async () => {
    expect(firstLoadMs).toBeLessThan(3_000);
    // The dashboard is the console's Overview now.
    await expect(page.title()).resolves.toBe('Overview — Agent Ledger');
    expect(await page.getByTestId('week').textContent()).toBe(WEEK);
  });

  it.each([
    ['support-triage', '$3.0080', '20.0%', '10.0%'],
    ['code-review', '$6.0080', '50.0%', '25.0%'],
  ])(
    'shows the weekly cost per unit and defect rate of %s',
    async (workflowId, costPerUnit, rate, previousRate) => {
      // Assess: the last complete week, large
      expect(await kpi(workflowId, 'costPerUnitUsd').isVisible()).toBe(true);
      expect(await kpi(workflowId, 'costPerUnitUsd').textContent()).toBe(costPerUnit);
      expect(await kpi(workflowId, 'defectRate').isVisible()).toBe(true);
      expect(await kpi(workflowId, 'defectRate').textContent()).toBe(rate);

      // …and both weeks in the 12-week table, a week without a record as a gap
      expect(await cell(workflowId, 'costPerUnitUsd', WEEK).textContent()).toBe(costPerUnit);
      expect(await cell(workflowId, 'defectRate', WEEK).textContent()).toBe(rate);
      expect(await cell(workflowId, 'costPerUnitUsd', PREVIOUS).textContent()).toBe(costPerUnit);
      expect(await cell(workflowId, 'defectRate', PREVIOUS).textContent()).toBe(previousRate);
      expect(await cell(workflowId, 'defectRate', shiftWeek(WEEK, -2)).textContent()).toBe('—');
      expect(await section(workflowId).locator('tr[data-row="defectRate"] td').count()).toBe(12);

      // …and charted: a point per week with a record
      for (const chart of ['cost-per-unit', 'defect-rate']) {
        const points = section(workflowId).locator(`figure[data-chart="${chart}"] circle`);
        expect(await points.count()).toBe(2);
      }
    },
  );

  it('shows the same figures as GET /kpis', async () => {
    for (const workflowId of ['support-triage', 'code-review']) {
      const served = (await fetch(`${stack.api}/v1/workflows/${workflowId}/kpis?week=${WEEK}`, {
        headers: { authorization: `Bearer ${stack.token}` },
      }).then((response) => response.json())) as {
        costPerUnitUsd: number;
        defectRate: number;
        throughput: number;
      };
      expect(await kpi(workflowId, 'costPerUnitUsd').textContent()).toBe(
        `$${served.costPerUnitUsd.toFixed(4)}`,
      );
      expect(await kpi(workflowId, 'defectRate').textContent()).toBe(
        `${(served.defectRate * 100).toFixed(1)}%`,
      );
      expect(await kpi(workflowId, 'throughput').textContent()).toBe(String(served.throughput));
    }
  });

  it('shows the paused workflow as paused, with its reason as text, and the other as allowed', async () => {
    expect(await autonomyOf('code-review')).toBe('paused');
    const reason = section('code-review').getByTestId('autonomy-reason');
    expect(await reason.isVisible()).toBe(true);
    expect(await reason.textContent()).toBe(PAUSE_REASON);
    // The reason's markup is shown, never rendered
    expect(await section('code-review').locator('.autonomy b').count()).toBe(0);
    expect(await section('code-review').locator('[data-autonomy]').textContent()).toMatch(
      /paused since\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/,
    );
    expect(await autonomyOf('support-triage')).toBe('allowed');
  });

  it('keeps showing both states correctly as the flags are polled again (1 s locally)', async () => {
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await page.reload();
      expect(await section('code-review').getByTestId('autonomy-reason').textContent()).toBe(PAUSE_REASON);
      expect(await autonomyOf('support-triage')).toBe('allowed');
    }
  });

  it('warns that a model no price table prices is left out of cost per unit', async () => {
    const warning = section('code-review').getByTestId('unpriced');
    expect(await warning.isVisible()).toBe(true);
    expect(await warning.textContent()).toContain('model openai/gpt-unpriced');
    expect(await section('support-triage').getByTestId('unpriced').count()).toBe(0);
  });

  it('links each week’s cost-per-unit Parquet, which /reports/<key> streams from the reports bucket', async () => {
    // Prepare
    const link = page.locator(`a[data-report="cost-per-unit"][href*="week=${WEEK}/workflow=code-review/"]`);
    expect(await link.count()).toBe(1);
    const href = (await link.getAttribute('href')) as string;

    // Act
    const response = await page.request.get(new URL(href, stack.api).toString());

    // Assess: a Parquet file (magic "PAR1" at both ends)
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toBe('application/vnd.apache.parquet');
    const body = await response.body();
    expect(body.subarray(0, 4).toString()).toBe('PAR1');
    expect(body.subarray(-4).toString()).toBe('PAR1');
  });

  it('opens a governance report from its link', async (ctx) => {
    if (!governanceReports) {
      ctx.skip(
        'no governance reports in the reports bucket (this checkout has no `agent-ledger jobs reports`): the governance-link check is skipped',
      );
    }
    // Prepare: every governance link (each entry lists its HTML first)
    const links = page.locator('a[data-report="governance"]');
    const hrefs = await links.evaluateAll((anchors) => anchors.map((a) => a.getAttribute('href') as string));
    // The links are relative to the console's <base href="/">.
    const first = new URL(hrefs[0] as string, `${stack.api}/`).pathname;

    // Act: follow the first link, as a reader would
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === first),
      links.first().click(),
    ]);
    await page.waitForLoadState();

    // Assess: the HTML report opens as a page, and every other linked file is there too
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(new URL(page.url()).pathname).toBe(first);
    expect((await page.locator('h1').first().textContent())?.trim().length).toBeGreaterThan(0);
    for (const href of hrefs) {
      const linked = await page.request.get(new URL(href, stack.api).toString());
      expect(linked.status(), href).toBe(200);
      expect(linked.headers()['content-type'], href).toMatch(
        /^(text\/html|application\/json); charset=utf-8$/,
      );
    }
    await page.goto(`${stack.api}/`);
  });

  it('answers 404 for a report that is not there, and refuses ".." in a key', async () => {
    expect((await page.request.get(`${stack.api}/reports/governance/nothing-${RUN}.html`)).status()).toBe(
      404,
    );
    // The console's server resolves dot segments when it parses the URL (WHATWG URL, as API Gateway
    // does), so a literal or %2e-encoded `..` never reaches the key: it names another path, which is
    // answered as that path. `/reports/cost-per-unit/x.parquet` is no report (404); `/etc/passwd` is no
    // route (404).
    expect(await rawGet('/reports/governance/../cost-per-unit/x.parquet')).toBe(404);
    expect(await rawGet('/reports/%2e%2e/%2E%2E/etc/passwd')).toBe(404);
    // An encoded slash keeps the `..` inside one segment, so it reaches the key, which refuses it.
    expect(await rawGet('/reports/governance%2F..%2Findex.json')).toBe(400);
  });

  it('is readable: a full-page screenshot to look at', async () => {
    const file = join(tmpdir(), `agent-ledger-dashboard-${RUN}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`dashboard screenshot: ${file}`);
    expect(existsSync(file)).toBe(true);
  });
});
