import { type SeenVersions, VersionsSeen } from '#lib/evals/due.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import {
  AUDIT_FIELDS,
  type AuditField,
  isAgentStep,
  missingAuditFields,
  TOOL_CALL_AUDIT_FIELDS,
} from '#lib/kpi/audit.ts';
import { quantileCont } from '#lib/kpi/quantiles.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { weekBounds } from '#lib/kpi/weeks.ts';
import { CostAccumulator } from '#lib/pricing/cost.ts';
import type { PriceBook } from '#lib/pricing/price-table.ts';

/** An event with the instant it occurred (UTC ms) and whether it broke the kill switch. */
export interface KpiEvent {
  readonly event: LedgerEvent;
  readonly occurredAtMs: number;
  readonly killSwitchViolation?: boolean;
  /** The action broke at least one autonomy-boundary rule. */
  readonly boundaryViolation?: boolean;
  /** The tools the action called that its workflow's boundary does not list (`unlisted-tool`). */
  readonly unlistedTools?: readonly string[];
}

interface UnitFacts {
  startedAtMs?: number;
  firstEventAtMs: number;
  /** The latest completion inside the week, if any. */
  completedInWeekMs?: number;
  reviewed: boolean;
  defect: boolean;
  escaped: boolean;
  escalated: boolean;
  /** Reviewers (pseudonyms) who found a defect in the unit: a catch unless the defect escaped. */
  defectFinders: Set<string>;
}

const round6 = (value: number) => Math.round(value * 1e6) / 1e6;
const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

/**
 * The KPI math of one workflow and week, streaming: feed every event that occurred in the week with
 * `addWeekEvent`, and the other events of the units completed in the week (starts in earlier weeks,
 * reviews and escalations that came later) with `addUnitHistory`; then `finish`. Memory grows with the
 * week's units, not its events. Pure: no I/O, no clock.
 */
export class WeeklyKpis {
  readonly #startMs: number;
  readonly #endMs: number;
  readonly #units = new Map<string, UnitFacts>();
  // Priced once, in a fixed order, in finish(): the record is the same whatever order the events come in.
  readonly #cost: CostAccumulator;
  readonly #unpricedModels = new Set<string>();
  readonly #unpricedTools = new Set<string>();
  #unpricedHumanReview = false;
  #actions = 0;
  #replayable = 0;
  readonly #missing = Object.fromEntries(AUDIT_FIELDS.map((field) => [field, 0])) as Record<
    AuditField,
    number
  >;
  #violations = 0;
  #boundaryViolations = 0;
  #unlistedToolActions = 0;
  readonly #unlistedTools = new Set<string>();
  readonly #versions = new VersionsSeen();

  constructor(
    readonly workflowId: string,
    readonly week: string,
    prices: PriceBook,
  ) {
    this.#cost = new CostAccumulator(prices);
    const { startMs, endMs } = weekBounds(week);
    this.#startMs = startMs;
    this.#endMs = endMs;
  }

  inWeek(occurredAtMs: number): boolean {
    return occurredAtMs >= this.#startMs && occurredAtMs < this.#endMs;
  }

  /** An event of this workflow that occurred in the week: it counts for units, cost and audit. */
  addWeekEvent(item: KpiEvent): void {
    const { event, occurredAtMs } = item;
    if (!this.inWeek(occurredAtMs)) {
      // Not this week's: it can still tell when a unit started or was reviewed, but costs nothing here.
      this.#addUnitFact(event, occurredAtMs);
      return;
    }
    this.#addUnitFact(event, occurredAtMs);
    if (event.type === 'action') {
      const unpriced = this.#cost.addAction(event, occurredAtMs);
      if (unpriced.model !== undefined) this.#unpricedModels.add(unpriced.model);
      for (const tool of unpriced.toolCalls) this.#unpricedTools.add(tool);
      // Audit coverage counts agent steps (lib/kpi/audit.ts isAgentStep); a trace's tool and agent spans
      // add only their tool calls' gaps.
      const missing = missingAuditFields(event);
      if (isAgentStep(event)) {
        this.#actions++;
        if (missing.length === 0) this.#replayable++;
        for (const field of missing) this.#missing[field]++;
      } else {
        for (const field of missing) if (TOOL_CALL_AUDIT_FIELDS.includes(field)) this.#missing[field]++;
      }
      if (item.killSwitchViolation) this.#violations++;
      if (item.boundaryViolation) this.#boundaryViolations++;
      if (item.unlistedTools?.length) {
        this.#unlistedToolActions++;
        for (const tool of item.unlistedTools) this.#unlistedTools.add(tool);
      }
      this.#versions.add(event, occurredAtMs);
    } else if (event.type === 'review.verdict') {
      const priced = this.#cost.addReviewMinutes(event.reviewMinutes, occurredAtMs);
      if (!priced && event.reviewMinutes > 0) this.#unpricedHumanReview = true;
    }
  }

  /** An event of a unit completed in the week that occurred outside the week: unit facts only. */
  addUnitHistory(item: KpiEvent): void {
    if (this.inWeek(item.occurredAtMs)) return; // already counted by addWeekEvent
    this.#addUnitFact(item.event, item.occurredAtMs);
  }

  /** The units completed in the week, whose history the caller should feed in. */
  cohortUnitIds(): string[] {
    return [...this.#units]
      .filter(([, facts]) => facts.completedInWeekMs !== undefined)
      .map(([unitId]) => unitId);
  }

  /**
   * The cohort units with no `unit.started` among the events fed so far: a unit starts with one (SPEC,
   * "Events"), so the caller has not seen its beginning, and should feed the history it can read further back.
   */
  cohortUnitIdsWithoutStart(): string[] {
    return [...this.#units]
      .filter(([, facts]) => facts.completedInWeekMs !== undefined && facts.startedAtMs === undefined)
      .map(([unitId]) => unitId);
  }

  /** What the week's actions ran on: the input of the evals-due rule (lib/evals/due.ts). */
  versionsSeen(): SeenVersions {
    return this.#versions.seen();
  }

  finish(): KpiRecord {
    const cohort = [...this.#units.values()].filter((facts) => facts.completedInWeekMs !== undefined);
    const throughput = cohort.length;
    // As the SPEC defines it, even when a bad clock makes it negative (a start logged after completion).
    const cycleTimes = cohort
      .map(
        (facts) => ((facts.completedInWeekMs as number) - (facts.startedAtMs ?? facts.firstEventAtMs)) / 1000,
      )
      .sort((a, b) => a - b);
    const reviewed = cohort.filter((facts) => facts.reviewed);
    const defective = reviewed.filter((facts) => facts.defect).length;
    const escaped = cohort.filter((facts) => facts.escaped).length;
    const escalated = cohort.filter((facts) => facts.escalated).length;
    // A catch: a defect found in review that did not escape (issue 10 §4), credited to each finder.
    const caught = cohort.filter((facts) => facts.defect && !facts.escaped);
    const catchesByReviewer = new Map<string, number>();
    for (const facts of caught)
      for (const reviewer of facts.defectFinders)
        catchesByReviewer.set(reviewer, (catchesByReviewer.get(reviewer) ?? 0) + 1);
    const { modelUsd, toolUsd, humanReviewUsd } = this.#cost.costs();
    const cost = {
      modelUsd: round6(modelUsd),
      toolUsd: round6(toolUsd),
      humanReviewUsd: round6(humanReviewUsd),
      totalUsd: round6(modelUsd + toolUsd + humanReviewUsd),
    };
    return {
      workflowId: this.workflowId,
      week: this.week,
      weekStart: new Date(this.#startMs).toISOString(),
      weekEnd: new Date(this.#endMs).toISOString(),
      throughput,
      cycleTimeMedianSeconds: quantileCont(cycleTimes, 0.5) ?? null,
      cycleTimeP90Seconds: quantileCont(cycleTimes, 0.9) ?? null,
      reviewedUnits: reviewed.length,
      defectiveUnits: defective,
      defectRate: ratio(defective, reviewed.length),
      escapedUnits: escaped,
      escapeRate: ratio(escaped, throughput),
      escalatedUnits: escalated,
      escalationRate: ratio(escalated, throughput),
      cost,
      costPerUnitUsd: throughput === 0 ? null : round6(cost.totalUsd / throughput),
      unpriced: {
        models: [...this.#unpricedModels].sort(),
        tools: [...this.#unpricedTools].sort(),
        humanReview: this.#unpricedHumanReview,
      },
      actions: this.#actions,
      replayableActions: this.#replayable,
      auditCoverage: ratio(this.#replayable, this.#actions),
      missingFields: { ...this.#missing },
      killSwitchViolations: this.#violations,
      boundaryViolations: this.#boundaryViolations,
      catches: caught.length,
      catchesByReviewer: Object.fromEntries([...catchesByReviewer].sort(([a], [b]) => (a < b ? -1 : 1))),
      unlistedToolActions: this.#unlistedToolActions,
      unlistedTools: [...this.#unlistedTools].sort(),
      evalDue: null,
    };
  }

  #addUnitFact(event: LedgerEvent, occurredAtMs: number): void {
    let facts = this.#units.get(event.unitId);
    if (!facts) {
      facts = {
        firstEventAtMs: occurredAtMs,
        reviewed: false,
        defect: false,
        escaped: false,
        escalated: false,
        defectFinders: new Set(),
      };
      this.#units.set(event.unitId, facts);
    }
    facts.firstEventAtMs = Math.min(facts.firstEventAtMs, occurredAtMs);
    switch (event.type) {
      case 'unit.started':
        facts.startedAtMs = Math.min(facts.startedAtMs ?? occurredAtMs, occurredAtMs);
        break;
      case 'unit.completed':
        if (this.inWeek(occurredAtMs))
          facts.completedInWeekMs = Math.max(facts.completedInWeekMs ?? occurredAtMs, occurredAtMs);
        break;
      case 'unit.escalated':
        facts.escalated = true;
        break;
      case 'review.verdict':
        facts.reviewed = true;
        if (event.verdict === 'defect') {
          facts.defect = true;
          facts.defectFinders.add(event.reviewerId);
          if (event.escaped) facts.escaped = true;
        }
        break;
    }
  }
}
