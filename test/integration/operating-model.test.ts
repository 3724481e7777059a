import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { apiClient } from '../support/api.ts';
import { cliOn } from '../support/cli.ts';

/**
 * Issue 10 on the local stack: an eval due from a new prompt version seen at ingest and cleared by an
 * eval run on it, an unlisted tool flagged and counted, a defect caught in review counted.
 * support-triage in 2026-W30 (Monday 20 July), which no other integration test writes.
 */
const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const cli = cliOn(stack.dataDir);
const WORKFLOW = 'support-triage';
const WEEK = '2026-W30';
const MONDAY = Date.parse('2026-07-20T00:00:00Z');
const at = (day: number, hour: number) =>
  new Date(MONDAY + day * 86_400_000 + hour * 3_600_000).toISOString();
const MODEL = { provider: 'anthropic', name: 'claude-sonnet', version: '2026-05' };

const dir = mkdtempSync(join(tmpdir(), 'agent-ledger-operating-model-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
};

const cases = Array.from({ length: 100 }, (_, i) => ({
  caseId: `t-${i}`,
  unitId: `ticket-${9000 + i}`,
  expectedOutcome: 'routed to billing',
}));
const evalRun = (runId: string, promptVersion: string) => ({
  runId,
  workflowId: WORKFLOW,
  evalSet: 'triage-golden',
  evalSetVersion: 1,
  ranBy: 'ci/eval-nightly',
  // Within the last 30 days, so only the versions decide.
  ranAt: new Date(Date.now() - 3_600_000).toISOString(),
  promptVersion,
  modelVersion: 'anthropic/claude-sonnet/2026-05',
  results: cases.map((c) => ({ caseId: c.caseId, pass: true })),
});

/** One unit: an action on `templateVersion` calling `tools`, completed, and reviewed with `verdict`. */
function unit(
  n: number,
  day: number,
  templateVersion: string,
  tools: string[],
  verdict: Record<string, unknown>,
) {
  const unitId = `om-${n}`;
  const base = { workflowId: WORKFLOW, unitId };
  return [
    {
      ...base,
      eventId: `${unitId}-a`,
      type: 'action',
      occurredAt: at(day, 10),
      lane: 'hitl',
      prompt: { templateId: 'triage', templateVersion },
      model: MODEL,
      toolCalls: tools.map((name) => ({ name, endpoint: 'x.y', parameters: {}, outcome: 'success' })),
    },
    { ...base, eventId: `${unitId}-c`, type: 'unit.completed', occurredAt: at(day, 11) },
    {
      ...base,
      eventId: `${unitId}-r`,
      type: 'review.verdict',
      occurredAt: at(day, 12),
      reviewerId: 'reviewer-om',
      reviewMinutes: 2,
      ...verdict,
    },
  ];
}

async function kpis(): Promise<Record<string, any>> {
  cli('jobs', 'kpi', '--week', WEEK, '--workflow', WORKFLOW);
  const response = await fetch(`${stack.api}/v1/workflows/${WORKFLOW}/kpis?week=${WEEK}`, {
    headers: { authorization: `Bearer ${stack.token}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, any>;
}

describe('the operating model: evals due, unlisted tools, catches', () => {
  beforeAll(async () => {
    cli(
      'evals',
      'register',
      file('set.json', { workflowId: WORKFLOW, name: 'triage-golden', cases }),
      '--as',
      'ops',
    );
    cli('evals', 'record', file('run-7.json', evalRun('om-run-7', '7')));
    const events = [
      ...unit(1, 0, '7', ['lookup_order'], { verdict: 'pass' }),
      ...unit(2, 2, '8', ['lookup_order', 'legacy_crm'], { verdict: 'defect' }),
      ...unit(3, 3, '8', ['lookup_order'], { verdict: 'defect', escaped: true }),
    ];
    const response = await api.postEvents({ events });
    expect(response.status).toBe(202);
    expect(response.body.accepted).toBe(events.length);
  });

  it('returns the action calling an unlisted tool with violations=unlisted-tool', async () => {
    const response = await api.getEvents(WORKFLOW, {
      violations: 'unlisted-tool',
      from: at(0, 0),
      to: at(7, 0),
    });
    expect(response.status).toBe(200);
    expect(response.body.items.map((item: any) => [item.eventId, item.unlistedTools])).toEqual([
      ['om-2-a', ['legacy_crm']],
    ]);
  });

  it("counts the week's unlisted tools and catches, and says an eval is due for the new prompt", async () => {
    const record = await kpis();
    expect(record.unlistedToolActions).toBe(1);
    expect(record.unlistedTools).toEqual(['legacy_crm']);
    expect(record.catches).toBe(1); // om-2: a defect found in review; om-3 escaped, om-1 passed
    expect(record.escapedUnits).toBe(1);
    // Credited to the reviewer's pseudonym: reviewer IDs are stored hashed, like every actor.
    expect(Object.entries(record.catchesByReviewer)).toEqual([[expect.stringMatching(/^hmac-sha256:/), 1]]);
    expect(record.evalDue).toMatchObject({
      due: true,
      reasons: ['prompt triage 8 seen since 2026-07-22, last eval run on 7'],
    });
  });

  it('clears the eval due at the next KPI run once an eval ran on the new prompt', async () => {
    cli('evals', 'record', file('run-8.json', evalRun('om-run-8', '8')));
    const record = await kpis();
    expect(record.evalDue).toMatchObject({ due: false, reasons: [] });
  });
});
