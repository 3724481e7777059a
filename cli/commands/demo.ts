import { parseArgs } from 'node:util';
import { lastCompleteWeek, shiftWeek, weekBounds } from '#lib/kpi/weeks.ts';
import type { PriceTable } from '#lib/pricing/price-table.ts';
import { createRng } from '#lib/util/seeded-random.ts';
import { UsageError } from '../errors.ts';
import { explainTargetFailure, resolveTarget } from '../target.ts';
import { demoEvalSet, demoPostmortem, demoRolloutGate } from './demo-operating-model.ts';
import { jobsCommand } from './jobs.ts';
import { priceStore } from './prices.ts';

export const DEMO_HELP = `agent-ledger demo — several weeks of realistic traffic for the demo workflows, then the jobs

  agent-ledger demo [--weeks <n>] [--stage <name> --token <t>]

Posts 4 weeks (default) of support-triage and code-review units through the API (actions, reviews,
escalations, boundary violations: a refund over the limit and a refund approved by someone who is not a
support lead; shadow-lane units of a reply template being onboarded; and a defect-rate jump in
code-review's last week), imports a demo price table when none exists, runs the KPI job for each week
and the drift job, writes a postmortem for the incident the drift pause opens, shows a phase change the
rollout gates refuse (then makes it with a recorded override), runs the reports, and says where to look. Run it again: eventIds are fixed, so nothing is
counted twice.`;

const DEMO_PRICES: PriceTable = {
  effectiveFrom: '2026-01-01',
  currency: 'USD',
  models: {
    'anthropic/claude-sonnet': { inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3 },
    'openai/gpt-5-mini': { inputPerMillion: 0.25, outputPerMillion: 2, cachedInputPerMillion: 0.025 },
  },
  tools: {
    lookup_order: { perCall: 0.002 },
    refund: { perCall: 0.01 },
    post_reply: { perCall: 0.001 },
    run_tests: { perCall: 0.05 },
    post_review_comment: { perCall: 0.001 },
  },
  humanReviewPerHour: 60,
};

interface DemoWorkflow {
  readonly workflowId: string;
  readonly unitsPerWeek: number;
  readonly tools: readonly string[];
  readonly model: { provider: string; name: string; version: string };
  /**
   * Which reviewed units (by n mod 10; units with n mod 5 < 3 are reviewed) get a defect verdict, by week
   * index (0 = oldest). Deterministic, so the drift story is the same on every run.
   */
  readonly defectResidues: (weekIndex: number, weeks: number) => readonly number[];
}

const WORKFLOWS: readonly DemoWorkflow[] = [
  {
    workflowId: 'support-triage',
    unitsPerWeek: 60,
    tools: ['lookup_order', 'post_reply', 'refund'],
    model: { provider: 'anthropic', name: 'claude-sonnet', version: '2026-05' },
    // 1 in 6 reviewed units defective, every week: steady, so drift leaves it alone.
    defectResidues: () => [0],
  },
  {
    workflowId: 'code-review',
    unitsPerWeek: 45,
    tools: ['run_tests', 'post_review_comment'],
    model: { provider: 'openai', name: 'gpt-5-mini', version: '2026-08' },
    // Quality drifts in the last week (1 in 6 → 1 in 2 reviewed units): the drift job pauses this lane.
    defectResidues: (weekIndex, weeks) => (weekIndex === weeks - 1 ? [0, 1, 5] : [0]),
  },
];

/** One week of one workflow's units: started, 1–3 actions, completed, and for 60% a review. */
function weekOfEvents(
  workflow: DemoWorkflow,
  week: string,
  weekIndex: number,
  weeks: number,
): Record<string, unknown>[] {
  // Seeded: the same demo every time.
  const { next } = createRng(weekIndex * 7919 + workflow.workflowId.length * 104_729);
  const { startMs } = weekBounds(week);
  const events: Record<string, unknown>[] = [];
  for (let n = 0; n < workflow.unitsPerWeek; n++) {
    const unitId = `${workflow.workflowId === 'support-triage' ? 'T' : 'PR'}-${week}-${n}`;
    const id = (suffix: string) => `demo-${workflow.workflowId}-${week}-${n}-${suffix}`;
    const base = { workflowId: workflow.workflowId, unitId };
    const startedAt = startMs + Math.floor(next() * 6 * 86_400_000);
    const at = (offsetMinutes: number) => new Date(startedAt + offsetMinutes * 60_000).toISOString();
    events.push({
      ...base,
      eventId: id('start'),
      type: 'unit.started',
      occurredAt: at(0),
      actor: { customerId: `cust-${n % 17}` },
    });
    const actions = 1 + Math.floor(next() * 3);
    const supportTriage = workflow.workflowId === 'support-triage';
    // The last 4 support-triage units a week try a new reply template in the shadow lane (onboarding):
    // nothing they produce is shipped, and they are reviewed like the rest.
    const shadowUnit = supportTriage && n >= workflow.unitsPerWeek - 4;
    for (let a = 0; a < actions; a++) {
      const autonomous = next() < 0.6;
      const tool = workflow.tools[Math.floor(next() * workflow.tools.length)] as string;
      // One boundary violation a week in support-triage: a refund over the 500 limit.
      const amount = supportTriage && n === 7 && a === 0 ? 640 : Math.round(next() * 90);
      // And one more: a $250 refund approved by someone who is not a support lead (approvers in the registry).
      const unlistedApprover = supportTriage && n === 11 && a === 0;
      const lane = shadowUnit ? 'shadow' : unlistedApprover || !autonomous ? 'hitl' : 'autonomous';
      events.push({
        ...base,
        eventId: id(`act-${a}`),
        type: 'action',
        occurredAt: at(5 + a * 20),
        agent: { id: `${workflow.workflowId}-bot`, version: '1.4.0' },
        lane,
        flag: { version: 'v1', checkedAt: at(4 + a * 20) },
        // support-triage ships prompt 8 in the last week: the KPI job finds the eval run on 7 out of date.
        prompt: {
          templateId: workflow.workflowId,
          templateVersion: shadowUnit ? '8-shadow' : supportTriage && weekIndex === weeks - 1 ? '8' : '7',
        },
        model: workflow.model,
        retrieval: next() < 0.9 ? [{ kind: 'kb', id: `KB-${n % 40}` }] : undefined,
        toolCalls: [
          {
            name: (supportTriage && n === 7 && a === 0) || unlistedApprover ? 'refund' : tool,
            endpoint: `${tool}.v1`,
            parameters: { amount: unlistedApprover ? 250 : amount },
            outcome: next() < 0.95 ? 'success' : 'failure',
          },
        ],
        output: {
          text: 'Proposed resolution drafted from policy and order history.',
          confidence: 0.7 + next() * 0.3,
        },
        usage: {
          inputTokens: 800 + Math.floor(next() * 2000),
          outputTokens: 100 + Math.floor(next() * 400),
          cachedInputTokens: Math.floor(next() * 600),
        },
        ...(lane === 'hitl'
          ? {
              approval: {
                // lead-3 is a support lead in the shipped registry; agent-ops-temp holds no approver role.
                approverId: unlistedApprover ? 'agent-ops-temp' : 'lead-3',
                decision: 'approved',
                decidedAt: at(6 + a * 20),
              },
            }
          : {}),
        durationMs: 800 + Math.floor(next() * 4000),
      });
    }
    if (next() < 0.08) {
      events.push({
        ...base,
        eventId: id('esc'),
        type: 'unit.escalated',
        occurredAt: at(70),
        reason: 'low confidence',
      });
    }
    events.push({
      ...base,
      eventId: id('done'),
      type: 'unit.completed',
      occurredAt: at(90 + Math.floor(next() * 600)),
    });
    if (n % 5 < 3) {
      const defect = workflow.defectResidues(weekIndex, weeks).includes(n % 10);
      events.push({
        ...base,
        eventId: id('review'),
        type: 'review.verdict',
        occurredAt: at(24 * 60),
        reviewerId: 'reviewer-2',
        verdict: defect ? 'defect' : 'pass',
        reviewMinutes: 2 + Math.floor(next() * 6),
        ...(defect
          ? { category: next() < 0.5 ? 'wrong-policy' : 'missing-context', escaped: next() < 0.2 }
          : {}),
      });
    }
  }
  return events;
}

/**
 * The demo's traffic: `weeks` complete weeks up to the last one before `nowMs`, oldest first, each with
 * both workflows' events (the bench's cost part sends the same mix).
 */
export function demoTraffic(
  weeks: number,
  nowMs: number,
): { week: string; events: Record<string, unknown>[] }[] {
  const last = lastCompleteWeek(nowMs);
  return Array.from({ length: weeks }, (_, weekIndex) => {
    const week = shiftWeek(last, weekIndex - (weeks - 1));
    return { week, events: WORKFLOWS.flatMap((workflow) => weekOfEvents(workflow, week, weekIndex, weeks)) };
  });
}

export async function demoCommand(args: string[], print: (line: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { weeks: { type: 'string' }, stage: { type: 'string' }, token: { type: 'string' } },
  });
  if (positionals.length > 0) throw new UsageError(DEMO_HELP);
  const weeks = values.weeks === undefined ? 4 : Number(values.weeks);
  if (!Number.isInteger(weeks) || weeks < 2 || weeks > 12)
    throw new UsageError('--weeks must be a whole number from 2 to 12');
  const target = await resolveTarget(values.stage);
  const api = await target.api(values.token).catch((error) => explainTargetFailure(error, target));
  const stageArgs = values.stage ? ['--stage', values.stage] : [];

  const prices = priceStore(target);
  if ((await prices.listTables().catch((error) => explainTargetFailure(error, target))).length === 0) {
    await prices.putTable(DEMO_PRICES);
    print(`Imported a demo price table (effective ${DEMO_PRICES.effectiveFrom}).`);
  }

  const traffic = demoTraffic(weeks, Date.now());
  const demoWeeks = traffic.map(({ week }) => week);
  const last = demoWeeks.at(-1) as string;
  const first = demoWeeks[0] as string;
  print(`An eval set for support-triage, and its run on prompt 7 (${first})…`);
  await demoEvalSet(first, weekBounds(first).startMs, stageArgs, print);
  for (const { week, events } of traffic) {
    let accepted = 0;
    let duplicates = 0;
    for (let i = 0; i < events.length; i += 400) {
      const response = await fetch(`${api.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${api.token}` },
        body: JSON.stringify({ events: events.slice(i, i + 400) }),
      }).catch((error) => explainTargetFailure(error, target));
      const body = (await response.json()) as { accepted?: number; duplicates?: number; message?: string };
      if (response.status !== 202)
        throw new UsageError(`the API refused demo traffic (${response.status}): ${body.message}`);
      accepted += body.accepted ?? 0;
      duplicates += body.duplicates ?? 0;
    }
    print(`${week}: posted ${events.length} events (${accepted} new, ${duplicates} already there)`);
  }

  print('\nComputing the weekly KPIs…');
  for (const week of demoWeeks) await jobsCommand(['kpi', '--week', week, ...stageArgs], print);
  print('\nJudging drift…');
  await jobsCommand(['drift', '--week', last, ...stageArgs], print);
  print('\nThe drift pause opened an incident; writing its no-blame postmortem…');
  await demoPostmortem(stageArgs, print);
  print('\nA phase change the rollout gates refuse, then made with a recorded override…');
  await demoRolloutGate(target, print);
  print('\nWriting the governance reports…');
  await jobsCommand(['reports', '--week', last, ...stageArgs], print);

  print(`
Where to look:
  console         ${api.url}/   (sign in with the link npm start printed: the dev token, every role)
  review queue    ${api.url}/reviews   (judge the sample: Pass or Defect, minutes, Submit verdict)
  KPIs            curl -H "Authorization: Bearer $TOKEN" '${api.url}/v1/workflows/code-review/kpis?week=${last}'
  autonomy        npx agent-ledger kill-switch status     (code-review is paused by drift)
  evals due       the console's Overview, or the KPIs above: support-triage's last week ships prompt 8, its eval ran on 7
  incidents       npx agent-ledger incidents list          (the drift pause, with its postmortem; also ${api.url}/incidents)
  rollout gates   npx agent-ledger registry validate config/workflow-registry.json   (what a phase change still needs)
  reviews         curl -H "Authorization: Bearer $TOKEN" '${api.url}/v1/workflows/support-triage/reviews?status=pending'
  shadow reviews  curl -H "Authorization: Bearer $TOKEN" '${api.url}/v1/workflows/support-triage/reviews?status=pending&lane=shadow'
  finance         npx agent-ledger query --saved week-over-week-change
  violations      curl -H "Authorization: Bearer $TOKEN" '${api.url}/v1/workflows/support-triage/events?violations=boundary'
                  (a refund over 500, and one approved by agent-ops-temp, who is not a support lead)
(TOKEN is in $LEDGER_DATA_DIR/dev-token.) Turn code-review back on, as a person would: on the console's
Kill switch page ("Reason", "Turn on"), or
  npx agent-ledger kill-switch on code-review --reason "reviewed the drift; prompt fixed"`);
}
