import type { LedgerEvent } from '#lib/events/schema.ts';
import type { PriceTable } from '#lib/pricing/price-table.ts';
import { createRng, type Rng } from '#lib/util/seeded-random.ts';

/**
 * A deterministic (seeded) generator of realistic KPI input: units of value that start in one week and
 * complete in another (or never), actions with and without each audit field, escalations, reviews that
 * arrive minutes to weeks after completion, units completed twice, timestamps written with many UTC
 * offsets and placed exactly on (and 1 ms before) Monday 00:00 UTC, models and tools that only one price
 * table prices or none does, and kill-switch violations on some autonomous actions.
 *
 * It knows nothing of the KPI code: it only produces events (`LedgerEvent`, valid against the ingest
 * schema) with the instant they occurred, as the event index stores them.
 */

export interface KpiRow {
  readonly event: LedgerEvent;
  readonly occurredAtMs: number;
  readonly killSwitchViolation?: boolean;
  readonly boundaryViolation?: boolean;
  readonly unlistedTools?: readonly string[];
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const WEEK_MS = 7 * DAY_MS;

// ---------------------------------------------------------------------------------------------------
// Time: Monday 00:00 UTC boundaries and RFC 3339 text with offsets

/** Monday 00:00:00.000 UTC on or before `ms` (1970-01-01 was a Thursday, so Mondays are 4 days later). */
export function mondayOnOrBefore(ms: number): number {
  const mondayEpoch = 4 * DAY_MS;
  return ms - ((((ms - mondayEpoch) % WEEK_MS) + WEEK_MS) % WEEK_MS);
}

/** Offsets that agent services really log with, in minutes east of UTC (`null`: written as `Z`). */
export const OFFSETS: readonly (number | null)[] = [null, 0, 330, -480, 120, -210, 540, 345, 840, -720, 60];

/**
 * `ms` as RFC 3339 local time at `offsetMinutes` (`null`: UTC with `Z`). `extraDigits` appends sub-millisecond
 * digits (micro/nanoseconds), which readers floor away; a whole second may drop the fraction altogether.
 */
export function formatAt(
  ms: number,
  offsetMinutes: number | null,
  options: { extraDigits?: string; dropWholeFraction?: boolean } = {},
): string {
  const local = new Date(ms + (offsetMinutes ?? 0) * MINUTE_MS).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  let text = local.slice(0, 19);
  if (!(options.dropWholeFraction && ms % 1000 === 0))
    text += local.slice(19, 23) + (options.extraDigits ?? '');
  if (offsetMinutes === null) return `${text}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${text}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------------
// Prices: two tables, the second effective on a Wednesday (mid-week), plus models/tools no table prices.

export const PRICE_TABLES: readonly PriceTable[] = [
  {
    effectiveFrom: '2025-12-03',
    currency: 'USD',
    models: {
      'anthropic/claude-sonnet': { inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3 },
      'anthropic/claude-haiku': { inputPerMillion: 0.8, outputPerMillion: 4, cachedInputPerMillion: 0.08 },
      // No cached rate: cached input is priced at the input rate (price-table.ts).
      'openai/gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
    },
    tools: {
      lookup_order: { perCall: 0.002 },
      search_kb: { perCall: 0.001 },
      issue_refund: { perCall: 0.01 },
      'github.comment': { perCall: 0.0005 },
    },
    humanReviewPerHour: 60,
  },
  {
    effectiveFrom: '2026-01-21',
    currency: 'USD',
    models: {
      'anthropic/claude-sonnet': { inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3 },
      'anthropic/claude-haiku': { inputPerMillion: 1, outputPerMillion: 5, cachedInputPerMillion: 0.1 },
      'openai/gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6, cachedInputPerMillion: 0.1 },
      // Priced only from this table on: unpriced before 2026-01-21.
      'openai/gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8, cachedInputPerMillion: 0.5 },
    },
    tools: {
      lookup_order: { perCall: 0.002 },
      search_kb: { perCall: 0.0012 },
      issue_refund: { perCall: 0.012 },
      'github.comment': { perCall: 0.0005 },
      run_tests: { perCall: 0.004 },
    },
    humanReviewPerHour: 72,
  },
];

const MODELS: readonly (readonly [{ provider: string; name: string; versions: string[] }, number])[] = [
  [{ provider: 'anthropic', name: 'claude-sonnet', versions: ['2025-10', '2026-01'] }, 38],
  [{ provider: 'anthropic', name: 'claude-haiku', versions: ['2025-10'] }, 28],
  [{ provider: 'openai', name: 'gpt-4.1-mini', versions: ['2025-04-14'] }, 14],
  [{ provider: 'openai', name: 'gpt-4.1', versions: ['2025-04-14'] }, 12],
  // Never priced.
  [{ provider: 'local', name: 'llama-3-70b-ft', versions: ['ft-7'] }, 6],
];

const TOOLS: readonly (readonly [{ name: string; endpoint: string }, number])[] = [
  [{ name: 'lookup_order', endpoint: 'orders.get' }, 30],
  [{ name: 'search_kb', endpoint: 'kb.search' }, 30],
  [{ name: 'issue_refund', endpoint: 'payments.refund' }, 6],
  [{ name: 'github.comment', endpoint: 'github.issues.createComment' }, 14],
  [{ name: 'run_tests', endpoint: 'ci.dispatch' }, 10],
  // Never priced.
  [{ name: 'legacy_crm', endpoint: 'crm.v1.lookup' }, 6],
];

const OUTPUT_TEXTS = [
  'Reset the two-factor enrolment; the customer can enrol a new device in Settings.',
  'Refunded the duplicate charge of 49.00 EUR to the original card.',
  'Restarted the stuck export job; the CSV is under Reports > Exports.',
  'fetchPage() never resets its backoff after a success; reset it and add a test.',
  'Lead fits ICP tier B: 120 seats, EU, procurement started.',
];

// ---------------------------------------------------------------------------------------------------
// One unit of value

export interface UnitOptions {
  /** Share of units that reach `unit.completed` (the rest are still open or abandoned). */
  readonly completionRate: number;
  /** Mean number of actions per unit. */
  readonly meanActions: number;
  /** Share of completed units sampled for review (real sampling is 5–10%; more here so rates mean something). */
  readonly reviewRate: number;
  /** Moves a completion instant (a freeze week pushes completions to the next Monday). */
  readonly shiftCompletion?: (ms: number) => number;
  /** Share of snapped instants: a completion within 36 h of a Monday becomes Monday 00:00:00.000Z or 1 ms before. */
  readonly boundarySnapRate: number;
}

export const DEFAULT_UNIT_OPTIONS: UnitOptions = {
  completionRate: 0.82,
  meanActions: 5,
  reviewRate: 0.3,
  boundarySnapRate: 0.05,
};

interface UnitContext {
  readonly rng: Rng;
  readonly workflowId: string;
  readonly unitId: string;
  readonly offset: number | null;
  /** 0 for a well-behaved agent, larger for a sloppy one that drops audit fields. */
  readonly sloppiness: number;
  rows: KpiRow[];
  seq: number;
}

function snapToBoundary(rng: Rng, ms: number, rate: number): number {
  if (!rng.chance(rate)) return ms;
  const next = mondayOnOrBefore(ms) + WEEK_MS;
  if (next - ms > 36 * HOUR_MS) return ms;
  return rng.chance(0.5) ? next : next - 1;
}

function at(ctx: UnitContext, ms: number): string {
  const { rng } = ctx;
  // A few services log micro- or nanoseconds; they never change the millisecond (readers floor them).
  const extraDigits = rng.chance(0.05) ? String(rng.int(0, 999)).padStart(3, '0') : undefined;
  return formatAt(ms, ctx.offset, {
    ...(extraDigits ? { extraDigits } : {}),
    dropWholeFraction: rng.chance(0.5),
  });
}

function push(ctx: UnitContext, event: Record<string, unknown>, ms: number, violation = false): void {
  ctx.seq++;
  const full = {
    eventId: `${ctx.unitId}.${ctx.seq}`,
    workflowId: ctx.workflowId,
    unitId: ctx.unitId,
    occurredAt: at(ctx, ms),
    ...event,
  } as unknown as LedgerEvent;
  // Every 13th event of a unit that is an action broke a boundary rule, deterministically.
  const boundary = full.type === 'action' && ctx.seq % 13 === 5;
  // Every 11th called tools its boundary does not list: all of its calls' tools, deterministically.
  const unlisted =
    full.type === 'action' && ctx.seq % 11 === 3
      ? [...new Set((full.toolCalls ?? []).map((c) => c.name))]
      : [];
  ctx.rows.push({
    event: full,
    occurredAtMs: ms,
    ...(violation ? { killSwitchViolation: true } : {}),
    ...(boundary ? { boundaryViolation: true } : {}),
    ...(unlisted.length > 0 ? { unlistedTools: unlisted } : {}),
  });
}

/** Scales every audit-field dropout: at 0.5 about three actions in four are replayable. */
const AUDIT_GAP_SCALE = 0.5;

/** An action with the audit fields a real agent logs, each dropped now and then. */
function actionEvent(ctx: UnitContext, ms: number, allowViolation: boolean): void {
  const { rng } = ctx;
  const drop = (p: number) => rng.chance(p * AUDIT_GAP_SCALE * (1 + ctx.sloppiness));
  const lane = rng.weighted<'autonomous' | 'hitl' | 'shadow' | undefined>([
    ['autonomous', 55],
    ['hitl', 33],
    ['shadow', 9],
    [undefined, 3],
  ]);
  const event: Record<string, unknown> = {
    type: 'action',
    agent: { id: `${ctx.workflowId}-agent`, version: rng.pick(['1.4.0', '1.5.0', '2.0.0-rc1']) },
  };
  if (lane) event.lane = lane;
  if (!drop(0.04)) event.flag = { version: rng.int(1, 40), checkedAt: at(ctx, ms - rng.int(0, 90_000)) };
  if (!drop(0.03)) {
    event.prompt = drop(0.03)
      ? { templateId: `${ctx.workflowId}-main` }
      : {
          templateId: `${ctx.workflowId}-main`,
          templateVersion: rng.chance(0.5) ? rng.int(1, 12) : `v${rng.int(1, 12)}`,
        };
  }
  const model = rng.weighted(MODELS);
  const usage = !drop(0.05);
  if (!drop(0.02)) {
    const logged: Record<string, string> = { provider: model.provider };
    if (!drop(0.02)) logged.name = model.name;
    if (!drop(0.04)) logged.version = rng.pick(model.versions);
    event.model = logged;
  }
  if (!drop(0.04)) {
    event.retrieval = Array.from({ length: rng.int(0, 3) }, (_, i) => ({
      kind: rng.pick(['kb', 'ticket', 'crm', 'repo']),
      id: `doc-${rng.int(1, 5000)}`,
      ...(i === 0 && rng.chance(0.5) ? { uri: `https://kb.example/${rng.int(1, 5000)}` } : {}),
      ...(rng.chance(0.6) ? { contentHash: `sha256:${rng.int(1, 1e9).toString(16)}` } : {}),
    }));
  }
  if (!drop(0.04)) {
    event.toolCalls = Array.from(
      {
        length: rng.weighted([
          [0, 20],
          [1, 45],
          [2, 25],
          [3, 10],
        ]),
      },
      () => {
        const tool = rng.weighted(TOOLS);
        const call: Record<string, unknown> = { name: tool.name };
        if (!drop(0.025)) call.endpoint = tool.endpoint;
        if (!drop(0.025)) call.parameters = { id: `X-${rng.int(1, 99_999)}` };
        if (!drop(0.025)) call.outcome = rng.chance(0.93) ? 'success' : 'failure';
        if (call.outcome === 'failure') call.errorCode = rng.pick(['TIMEOUT', 'HTTP_500', 'NOT_FOUND']);
        if (rng.chance(0.8)) call.durationMs = rng.int(5, 3000);
        return call;
      },
    );
  }
  if (!drop(0.03)) {
    const style = rng.weighted([
      ['text', 70],
      ['ref+hash', 24],
      ['ref only', 6],
    ] as const);
    const output: Record<string, unknown> =
      style === 'text'
        ? { text: rng.pick(OUTPUT_TEXTS) }
        : style === 'ref+hash'
          ? {
              ref: `s3://outputs/${ctx.unitId}/${ctx.seq}`,
              contentHash: `sha256:${rng.int(1, 1e9).toString(16)}`,
            }
          : { ref: `s3://outputs/${ctx.unitId}/${ctx.seq}` };
    if (rng.chance(0.7)) output.confidence = Math.round(rng.next() * 100) / 100;
    event.output = output;
  }
  if (usage) {
    event.usage = {
      inputTokens: rng.int(150, 9000),
      outputTokens: rng.int(10, 1600),
      ...(rng.chance(0.6) ? { cachedInputTokens: rng.int(0, 6000) } : {}),
    };
  }
  if (lane === 'hitl' && !drop(0.12)) {
    event.approval = {
      approverId: `lead-${rng.int(1, 9)}`,
      decision: rng.weighted([
        ['approved', 80],
        ['edited', 14],
        ['rejected', 6],
      ] as const),
      decidedAt: at(ctx, ms + rng.int(30_000, 4 * HOUR_MS)),
    };
  }
  if (rng.chance(0.9)) event.durationMs = rng.int(200, 40_000);
  push(ctx, event, ms, allowViolation && lane === 'autonomous' && rng.chance(0.025));
}

function lifetime(rng: Rng): number {
  return rng.weighted<() => number>([
    [() => rng.between(5 * MINUTE_MS, 8 * HOUR_MS), 40],
    [() => rng.between(8 * HOUR_MS, 3 * DAY_MS), 33],
    [() => rng.between(3 * DAY_MS, 12 * DAY_MS), 21],
    [() => rng.between(12 * DAY_MS, 30 * DAY_MS), 6],
  ])();
}

/** Every event of one unit, in no particular order. Returns whether and when it completed (first completion). */
export function generateUnit(
  rng: Rng,
  workflowId: string,
  unitId: string,
  startMs: number,
  options: UnitOptions = DEFAULT_UNIT_OPTIONS,
): { rows: KpiRow[]; completions: number[] } {
  const ctx: UnitContext = {
    rng,
    workflowId,
    unitId,
    offset: rng.pick(OFFSETS),
    sloppiness: rng.chance(0.12) ? 4 : 0,
    rows: [],
    seq: 0,
  };
  const start = Math.round(snapToBoundary(rng, startMs, options.boundarySnapRate / 2));
  const completes = rng.chance(options.completionRate);
  let end = Math.round(start + lifetime(rng));
  if (completes) {
    end = snapToBoundary(rng, end, options.boundarySnapRate);
    if (options.shiftCompletion) end = options.shiftCompletion(end);
  }

  // Start: usually `unit.started`; sometimes missing (cycle time then runs from the earliest event), and
  // now and then logged a little after the first action by a service with a skewed clock.
  const hasStarted = rng.chance(0.88);
  const humanOnly = rng.chance(0.03); // started and completed by a person: no actions at all
  const actionCount = humanOnly ? 0 : 1 + Math.floor(-Math.log(1 - rng.next()) * (options.meanActions - 1));
  const actionTimes = Array.from({ length: actionCount }, (_, i) =>
    i === 0 ? start : Math.round(start + rng.next() * (end - start)),
  ).sort((a, b) => a - b);
  if (hasStarted || actionCount === 0) {
    const skewed = actionCount > 0 && rng.chance(0.03);
    const startedAt = skewed ? Math.min(start + rng.int(1_000, 120_000), end) : start;
    push(ctx, { type: 'unit.started' }, startedAt);
  }
  for (const ms of actionTimes) actionEvent(ctx, ms, true);

  if (rng.chance(0.12)) {
    push(
      ctx,
      {
        type: 'unit.escalated',
        reason: rng.pick(['low confidence', 'policy: refunds over 500 EUR', 'customer asked for a human']),
      },
      Math.round(start + rng.next() * (end - start)),
    );
  }

  const completions: number[] = [];
  if (completes) {
    push(ctx, { type: 'unit.completed', outcome: rng.pick(['resolved', 'merged', 'qualified']) }, end);
    completions.push(end);
    // Reopened and completed again (same week or weeks later).
    if (rng.chance(0.04)) {
      let again = snapToBoundary(rng, end + Math.round(rng.between(HOUR_MS, 9 * DAY_MS)), 0.2);
      if (options.shiftCompletion) again = options.shiftCompletion(again);
      push(ctx, { type: 'unit.completed', outcome: 'resolved-again' }, again);
      completions.push(again);
    }
    if (rng.chance(options.reviewRate)) {
      const reviews = rng.chance(0.1) ? 2 : 1;
      let reviewAt = end;
      for (let r = 0; r < reviews; r++) {
        reviewAt += Math.round(
          rng.weighted<() => number>([
            [() => rng.between(10 * MINUTE_MS, DAY_MS), 55],
            [() => rng.between(DAY_MS, 7 * DAY_MS), 30],
            [() => rng.between(7 * DAY_MS, 28 * DAY_MS), 15],
          ])(),
        );
        const defect = rng.chance(r === 0 ? 0.18 : 0.3);
        const verdict: Record<string, unknown> = {
          type: 'review.verdict',
          reviewerId: `reviewer-${rng.int(1, 12)}`,
          verdict: defect ? 'defect' : 'pass',
          reviewMinutes: rng.chance(0.03) ? 0 : rng.int(1, 50) / 2,
        };
        if (defect) {
          verdict.category = rng.pick(['wrong-answer', 'policy', 'tone', 'missed-context']);
          if (rng.chance(0.35)) verdict.escaped = true;
          else if (rng.chance(0.5)) verdict.escaped = false;
        } else if (rng.chance(0.2)) {
          verdict.escaped = false;
        }
        push(ctx, verdict, reviewAt);
      }
    }
  }
  return { rows: ctx.rows, completions };
}

// ---------------------------------------------------------------------------------------------------
// A multi-week data set for tests

export interface WorkflowProfile {
  readonly workflowId: string;
  /** Units started per week. */
  readonly unitsPerWeek: number;
  /** Index (0-based) of the first week the workflow has any traffic. */
  readonly firstActiveWeek?: number;
  /** Weeks (0-based) in which nothing completes: completions move to the next Monday morning. */
  readonly freezeWeeks?: readonly number[];
}

export interface KpiDatasetOptions {
  readonly seed?: number;
  /** Monday 00:00 UTC of the first week (default 2025-12-01, ISO 2025-W49). */
  readonly firstWeekStartMs?: number;
  readonly weeks?: number;
  readonly workflows?: readonly WorkflowProfile[];
}

export interface KpiDataset {
  /** Every event, in time order (ties by eventId). */
  readonly rows: KpiRow[];
  readonly priceTables: readonly PriceTable[];
  readonly workflows: readonly string[];
  /** Monday 00:00 UTC of each week in the range. */
  readonly weekStartsMs: readonly number[];
  readonly fromMs: number;
  readonly toMs: number;
}

export const DEFAULT_WORKFLOWS: readonly WorkflowProfile[] = [
  { workflowId: 'support-triage', unitsPerWeek: 140 },
  { workflowId: 'code-review', unitsPerWeek: 70 },
  // A holiday freeze in the week of 2025-12-29 (ISO 2026-W01): no completions at all.
  { workflowId: 'lead-qualify', unitsPerWeek: 40, freezeWeeks: [4] },
  // Starts late: the first weeks have no events at all.
  { workflowId: 'invoice-match', unitsPerWeek: 25, firstActiveWeek: 4 },
];

export function generateKpiDataset(options: KpiDatasetOptions = {}): KpiDataset {
  const rng = createRng(options.seed ?? 20_260_101);
  const fromMs = options.firstWeekStartMs ?? Date.UTC(2025, 11, 1);
  if (mondayOnOrBefore(fromMs) !== fromMs) throw new Error('firstWeekStartMs must be a Monday 00:00 UTC');
  const weeks = options.weeks ?? 10;
  const toMs = fromMs + weeks * WEEK_MS;
  const workflows = options.workflows ?? DEFAULT_WORKFLOWS;
  const rows: KpiRow[] = [];

  for (const profile of workflows) {
    const freeze = new Set((profile.freezeWeeks ?? []).map((w) => fromMs + w * WEEK_MS));
    const shiftCompletion = (ms: number) => {
      const monday = mondayOnOrBefore(ms);
      return freeze.has(monday) ? monday + WEEK_MS + 9 * HOUR_MS + rng.int(0, 8 * HOUR_MS) : ms;
    };
    const unitOptions: UnitOptions = { ...DEFAULT_UNIT_OPTIONS, shiftCompletion };
    // Units start from a week before the range (their completions land in its first weeks).
    const first = profile.firstActiveWeek ?? -1;
    let n = 0;
    for (let w = first; w < weeks; w++) {
      const weekStart = fromMs + w * WEEK_MS;
      for (let i = 0; i < profile.unitsPerWeek; i++) {
        const unitId = `${profile.workflowId.split('-')[0]}-${String(++n).padStart(5, '0')}`;
        const startMs = Math.round(weekStart + rng.next() * WEEK_MS);
        rows.push(...generateUnit(rng, profile.workflowId, unitId, startMs, unitOptions).rows);
      }
    }
    // Boundary units: for every Monday in the range, one unit completed exactly at 00:00:00.000Z and one
    // 1 ms before, each with events written in an offset that puts their local date on the other side.
    for (let w = Math.max(first, 0) + 1; w <= weeks; w++) {
      const boundary = fromMs + w * WEEK_MS;
      for (const [suffix, completedAt] of [
        ['at', boundary],
        ['before', boundary - 1],
      ] as const) {
        if (freeze.has(mondayOnOrBefore(completedAt))) continue;
        const ctx: UnitContext = {
          rng,
          workflowId: profile.workflowId,
          unitId: `${profile.workflowId.split('-')[0]}-edge-${w}-${suffix}`,
          offset: suffix === 'at' ? -480 : 120,
          sloppiness: 0,
          rows: [],
          seq: 0,
        };
        push(ctx, { type: 'unit.started' }, completedAt - rng.int(1, 40) * HOUR_MS);
        actionEvent(ctx, completedAt - 1 - rng.int(0, 30) * MINUTE_MS, false);
        actionEvent(ctx, completedAt, false);
        push(ctx, { type: 'unit.completed', outcome: 'resolved' }, completedAt);
        if (rng.chance(0.5)) {
          push(
            ctx,
            {
              type: 'review.verdict',
              reviewerId: 'reviewer-1',
              verdict: rng.chance(0.3) ? 'defect' : 'pass',
              reviewMinutes: 6,
            },
            boundary + rng.int(0, 3) * DAY_MS + (suffix === 'at' ? 0 : -1),
          );
        }
        rows.push(...ctx.rows);
      }
    }
    // The kill switch flipped now and then: rollback events carry a unit ID of their own.
    for (let w = Math.max(first, 0); w < weeks; w += 3) {
      const ctx: UnitContext = {
        rng,
        workflowId: profile.workflowId,
        unitId: `lane:autonomous:${w}`,
        offset: null,
        sloppiness: 0,
        rows: [],
        seq: 0,
      };
      push(
        ctx,
        {
          type: 'rollback',
          reason: 'drill',
          initiatedBy: 'ops-1',
          lane: 'autonomous',
          from: true,
          to: false,
        },
        fromMs + w * WEEK_MS + rng.int(1, 6) * DAY_MS,
      );
      rows.push(...ctx.rows);
    }
  }

  rows.sort((a, b) => a.occurredAtMs - b.occurredAtMs || (a.event.eventId < b.event.eventId ? -1 : 1));
  return {
    rows,
    priceTables: PRICE_TABLES,
    workflows: workflows.map((w) => w.workflowId),
    weekStartsMs: Array.from({ length: weeks }, (_, w) => fromMs + w * WEEK_MS),
    fromMs,
    toMs,
  };
}

// ---------------------------------------------------------------------------------------------------
// One busy week for the benchmark, streamed unit by unit

export interface BenchUnit {
  readonly rows: KpiRow[];
  /** Events of this unit that occurred in the measured week. */
  readonly weekEvents: number;
  /** Whether the unit is in the week's cohort (a `unit.completed` in the week). */
  readonly inCohort: boolean;
}

/**
 * Units of `workflows` with activity around the week starting at `weekStartMs`, forever: starts spread over
 * the two weeks before the week and the week itself, and most never complete within it (long-running units,
 * still open), so that roughly a quarter of the units active in the week complete in it. The caller stops
 * when it has enough in-week events.
 */
export function* benchUnits(
  seed: number,
  workflows: readonly string[],
  weekStartMs: number,
): Generator<BenchUnit> {
  const rng = createRng(seed);
  const weekEndMs = weekStartMs + WEEK_MS;
  const options: UnitOptions = { ...DEFAULT_UNIT_OPTIONS, completionRate: 0.4, meanActions: 8 };
  for (let n = 1; ; n++) {
    const workflowId = workflows[n % workflows.length] as string;
    // Busier workflows get more units: weight by position.
    if (rng.next() > 1 / (1 + (n % workflows.length) * 0.15)) continue;
    const startMs = Math.round(weekStartMs - 14 * DAY_MS + rng.next() * 21 * DAY_MS);
    const unit = generateUnit(rng, workflowId, `u-${n}`, startMs, options);
    let weekEvents = 0;
    for (const row of unit.rows)
      if (row.occurredAtMs >= weekStartMs && row.occurredAtMs < weekEndMs) weekEvents++;
    if (weekEvents === 0) continue;
    const inCohort = unit.completions.some((ms) => ms >= weekStartMs && ms < weekEndMs);
    yield { rows: unit.rows, weekEvents, inCohort };
  }
}
