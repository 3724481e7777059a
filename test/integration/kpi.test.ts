import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiClient } from '../support/api.ts';
import { cliOn } from '../support/cli.ts';
import { reviewedUnit, TEST_PRICES } from '../support/reviewed-unit.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const cli = cliOn(stack.dataDir);

/**
 * One unit of `workflowId` completed in the week starting `monday`: started 09:00, an action at 10:00
 * (1,000 input + 200 output tokens, one priced tool call), completed 11:00 (two hours), then a review of
 * 3 minutes with `verdict`.
 */
function unit(workflowId: string, monday: string, day: number, n: number, verdict: 'pass' | 'defect') {
  const unitId = `${workflowId}-${monday.slice(0, 10)}-${n}`;
  return reviewedUnit({ workflowId, unitId, dayMs: Date.parse(monday) + day * 86_400_000, verdict });
}

function week(workflowId: string, monday: string, units: number, defects: number) {
  return Array.from({ length: units }, (_, n) =>
    unit(workflowId, monday, n % 5, n, n < defects ? 'defect' : 'pass'),
  ).flat();
}

describe('weekly KPIs, finance query and drift', () => {
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));
    writeFileSync(join(dir, 'prices.json'), JSON.stringify(TEST_PRICES));
    cli('prices', 'import', join(dir, 'prices.json'));
    // 2026-W10 starts Monday 2 March, 2026-W11 Monday 9 March. Both workflows have 20 reviewed units a week:
    // code-review goes from 5 to 8 defects (+60%), support-triage from 5 to 6 (+20%).
    const events = [
      ...week('code-review', '2026-03-02T00:00:00Z', 20, 5),
      ...week('code-review', '2026-03-09T00:00:00Z', 20, 8),
      ...week('support-triage', '2026-03-02T00:00:00Z', 20, 5),
      ...week('support-triage', '2026-03-09T00:00:00Z', 20, 6),
    ];
    for (let i = 0; i < events.length; i += 400) {
      const response = await api.postEvents({ events: events.slice(i, i + 400) });
      expect(response.status).toBe(202);
    }
  });

  afterAll(() => {
    cli('kill-switch', 'on', 'code-review', '--reason', 'test cleanup');
  });

  it('computes a week that GET /kpis and the finance query agree on', async () => {
    // Act
    const output = cli('jobs', 'kpi', '--week', '2026-W11');
    const served = await fetch(`${stack.api}/v1/workflows/code-review/kpis?week=2026-W11`, {
      headers: { authorization: `Bearer ${stack.token}` },
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as Record<string, any>,
    }));
    const rows = cli('query', "SELECT * FROM cost_per_unit WHERE week = '2026-W11'", '--json')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));

    // Assess: per unit, model 1000×3/1e6 + 200×15/1e6 = $0.006, tool $0.002, review 3 min at $60/h = $0.05.
    expect(output).toContain('code-review 2026-W11: throughput 20');
    expect(served.status).toBe(200);
    expect(served.body).toMatchObject({
      workflowId: 'code-review',
      week: '2026-W11',
      throughput: 20,
      cycleTimeMedianSeconds: 7200,
      cycleTimeP90Seconds: 7200,
      reviewedUnits: 20,
      defectRate: 0.4,
      escalationRate: 0,
      cost: { modelUsd: 0.12, toolUsd: 0.04, humanReviewUsd: 60, totalUsd: 60.16 },
      costPerUnitUsd: 3.008,
      unpriced: { models: [], tools: [], humanReview: false },
      actions: 20,
    });
    const row = rows.find((r) => r.workflow === 'code-review');
    expect(rows).toHaveLength(2);
    expect(row).toMatchObject({
      week: '2026-W11',
      workflow_id: 'code-review',
      throughput: served.body.throughput,
      defect_rate: served.body.defectRate,
      cost_total_usd: served.body.cost.totalUsd,
      cost_per_unit_usd: served.body.costPerUnitUsd,
      audit_coverage: served.body.auditCoverage,
    });
  });

  it('recomputing a week gives the same record', async () => {
    const read = () =>
      fetch(`${stack.api}/v1/workflows/support-triage/kpis?week=2026-W11`, {
        headers: { authorization: `Bearer ${stack.token}` },
      }).then((response) => response.json());
    cli('jobs', 'kpi', '--week', '2026-W11', '--workflow', 'support-triage');
    const first = await read();
    cli('jobs', 'kpi', '--week', '2026-W11', '--workflow', 'support-triage');
    expect(await read()).toEqual(first);
  });

  it('pauses the workflow whose defect rate rose by more than 25%, and leaves the one that rose by 20%', async () => {
    // Prepare
    cli('jobs', 'kpi', '--week', '2026-W10');

    // Act
    const output = cli('jobs', 'drift', '--week', '2026-W11');
    const autonomy = async (workflowId: string) =>
      (
        await fetch(`${stack.api}/v1/workflows/${workflowId}/autonomy`, {
          headers: { authorization: `Bearer ${stack.token}` },
        })
      ).json() as Promise<Record<string, any>>;
    // The pause shows within the local poll interval (1 s), and its reason once the recorder has run.
    let codeReview = await autonomy('code-review');
    for (let i = 0; i < 60 && codeReview.reason === null; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      codeReview = await autonomy('code-review');
    }

    // Assess
    expect(output).toContain('code-review 2026-W11: paused');
    expect(output).toContain('support-triage 2026-W11: none');
    expect(output).toContain('NOTIFY');
    expect(codeReview.autonomousAllowed).toBe(false);
    expect(codeReview.reason).toContain(
      '40.0% (8 of 20 reviewed) in 2026-W11 vs 25.0% (5 of 20 reviewed) in 2026-W10',
    );
    expect((await autonomy('support-triage')).autonomousAllowed).toBe(true);
    // The operator's view says why too (AppConfig serves an off flag without its reason; the ledger has it).
    expect(cli('kill-switch', 'status')).toMatch(
      /code-review +autonomous OFF \(HITL\) +drift: defect rate 40\.0% \(8 of 20 reviewed\) in 2026-W11/,
    );
    const rollbacks = await api.getEvents('code-review', {
      unitId: 'kill-switch',
      type: 'rollback',
      limit: '1000',
    });
    expect(rollbacks.body.items.at(-1)).toMatchObject({
      initiatedBy: 'agent-ledger drift job',
      to: 'disabled',
    });
  });

  it('answers 404 for a week not computed and 400 for a malformed week', async () => {
    const get = (week: string) =>
      fetch(`${stack.api}/v1/workflows/code-review/kpis?week=${week}`, {
        headers: { authorization: `Bearer ${stack.token}` },
      });
    expect((await get('2020-W01')).status).toBe(404);
    expect((await get('2026-47')).status).toBe(400);
  });

  it('refuses a malformed price table, saying where', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...TEST_PRICES, tools: { x: { perCall: -1 } } }));
    expect(() => cli('prices', 'import', join(dir, 'bad.json'))).toThrow(
      /\$\.tools\.x\.perCall: must be ≥ 0/,
    );
  });
});
