import { messageOf } from '#lib/errors.ts';
import type { DrillRecord } from '#lib/kill-switch/drills.ts';
import type { FlagValue } from '#lib/kill-switch/flag-document.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import type { FlagReader } from '#lib/kill-switch/ports.ts';
import {
  type ApprovalRule,
  approversFor,
  type BoundaryRule,
  type Condition,
  laneAllowedInPhase,
  phaseOpening,
  type RolloutPhase,
  type Workflow,
  widestLaneOf,
} from '#lib/registry/workflows.ts';
import { byString, median } from '#lib/reports/common.ts';

/**
 * What the monthly Autonomy + Risk Review and the runbooks share: the kill switch's state as AppConfig
 * serves it now, where each workflow's switch is and who may flip it, the autonomy boundary's rules in
 * words, and drills with their times to effect. Rendered by ./render.ts.
 */

export interface FlagState {
  readonly enabled: boolean;
  readonly reason: string | null;
  readonly changedBy: string | null;
  readonly changedAt: string | null;
}

/** The deployed flags when the report was written; `readable: false` says why they could not be read. */
export interface KillSwitchState {
  readonly readAt: string;
  readonly readable: boolean;
  readonly error: string | null;
  readonly version: string | null;
  readonly master: FlagState | null;
  readonly flags: Record<string, FlagState>;
}

const toFlagState = (value: FlagValue): FlagState => ({
  enabled: value.enabled,
  reason: value.reason ?? null,
  changedBy: value.changedBy ?? null,
  changedAt: value.changedAt ?? null,
});

export async function readKillSwitchState(reader: FlagReader, readAt: string): Promise<KillSwitchState> {
  try {
    const snapshot = await reader.read();
    const flags = Object.fromEntries(
      Object.entries(snapshot.values)
        .filter(([key]) => key !== MASTER_FLAG)
        .map(([key, value]) => [key, toFlagState(value)]),
    );
    const master = snapshot.values[MASTER_FLAG];
    return {
      readAt,
      readable: true,
      error: null,
      version: snapshot.version,
      master: master ? toFlagState(master) : null,
      flags,
    };
  } catch (error) {
    return {
      readAt,
      readable: false,
      error: messageOf(error),
      version: null,
      master: null,
      flags: {},
    };
  }
}

export interface LaneState {
  /** null when the flags could not be read. */
  readonly autonomousAllowed: boolean | null;
  readonly own: FlagState | null;
  /** Plain words: "allowed", "off: <reason> (by …, at …)", "all lanes stopped: …". */
  readonly summary: string;
}

const who = (flag: FlagState) =>
  [flag.changedBy && `by ${flag.changedBy}`, flag.changedAt && `at ${flag.changedAt}`]
    .filter(Boolean)
    .join(', ');

/**
 * The lane as `/autonomy` judges it (lib/kill-switch/autonomy.ts): open only in the autonomous rollout
 * phase (when `phase` is given), with its own flag and the master flag both on.
 */
export function laneState(state: KillSwitchState, workflowId: string, phase?: RolloutPhase): LaneState {
  const flags = flagLaneState(state, workflowId);
  if (phase === undefined || laneAllowedInPhase(phase, 'autonomous')) return flags;
  return {
    autonomousAllowed: false,
    own: flags.own,
    summary: `not open in rollout phase "${phase}" (it opens in phase "${phaseOpening('autonomous')}"): agents use the ${widestLaneOf(phase)} lane; kill switch: ${flags.summary}`,
  };
}

function flagLaneState(state: KillSwitchState, workflowId: string): LaneState {
  if (!state.readable) {
    return {
      autonomousAllowed: null,
      own: null,
      summary: `flags unreadable (${state.error}); agents fail closed to HITL`,
    };
  }
  const own = state.flags[workflowId] ?? null;
  if (state.master && !state.master.enabled) {
    return {
      autonomousAllowed: false,
      own,
      summary: `all autonomous lanes stopped by the master flag: ${state.master.reason ?? 'no reason recorded'} (${who(state.master)})`,
    };
  }
  if (!own)
    return {
      autonomousAllowed: false,
      own,
      summary: 'no flag for this workflow: agents fail closed to HITL',
    };
  return own.enabled
    ? { autonomousAllowed: true, own, summary: 'autonomous lane allowed' }
    : {
        autonomousAllowed: false,
        own,
        summary: `autonomous lane off: ${own.reason ?? 'no reason recorded'} (${who(own)})`,
      };
}

/** Where a workflow's kill switch is, who may flip it, and its lane now. */
export interface KillSwitchControl {
  /** As the registry describes it (`autonomyBoundary.killSwitch.location`). */
  readonly location: string;
  readonly flippers: string[];
  readonly lane: LaneState;
}

export function killSwitchControl(workflow: Workflow, state: KillSwitchState): KillSwitchControl {
  return {
    location: workflow.autonomyBoundary.killSwitch.location,
    flippers: [...workflow.autonomyBoundary.killSwitch.flippers],
    lane: laneState(state, workflow.workflowId, workflow.rolloutPhase),
  };
}

// ---- the boundary's rules, in words ----

export interface RuleView {
  readonly id: string;
  readonly description: string;
  readonly tool: string;
  /** The conditions as written: `amount > 500 and customer.tier == "enterprise"`; empty for every call. */
  readonly when: string;
  /** Approval rules: the role that must approve. */
  readonly approver?: string;
  /** Approval rules: the approverIds the registry lists for that role; null when any approver is accepted. */
  readonly approverIds?: string[] | null;
}

export function conditionText(conditions: readonly Condition[] | undefined): string {
  return (conditions ?? [])
    .map((c) => (c.op === 'exists' ? `${c.path} exists` : `${c.path} ${c.op} ${JSON.stringify(c.value)}`))
    .join(' and ');
}

export function ruleView(
  rule: BoundaryRule | ApprovalRule,
  approvers: Pick<Workflow, 'approvers'> = {},
): RuleView {
  const listed = 'approver' in rule ? approversFor(approvers, rule.approver) : undefined;
  return {
    id: rule.id,
    description: rule.description,
    tool: rule.tool,
    when: conditionText(rule.when),
    ...('approver' in rule ? { approver: rule.approver, approverIds: listed ? [...listed] : null } : {}),
  };
}

export interface BoundaryView {
  readonly can: string[];
  readonly cannot: RuleView[];
  readonly approvals: RuleView[];
}

export function boundaryView(workflow: Workflow): BoundaryView {
  const boundary = workflow.autonomyBoundary;
  return {
    can: [...boundary.can],
    cannot: boundary.cannot.map((rule) => ruleView(rule)),
    approvals: boundary.approvals.map((rule) => ruleView(rule, workflow)),
  };
}

// ---- drills ----

export interface DrillRow {
  readonly drillId: string;
  readonly startedAt: string;
  readonly by: string;
  readonly outcome: 'passed' | 'failed';
  /** From issuing the flip until `/autonomy` showed the lane off. */
  readonly offEffectMs: number;
  readonly onEffectMs: number;
  readonly detail: string | null;
}

export const drillRow = (drill: DrillRecord): DrillRow => ({
  drillId: drill.drillId,
  startedAt: drill.startedAt,
  by: drill.by,
  outcome: drill.outcome,
  offEffectMs: drill.offEffectMs,
  onEffectMs: drill.onEffectMs,
  detail: drill.detail ?? null,
});

export interface DrillSummary {
  readonly count: number;
  readonly passed: number;
  readonly failed: number;
  readonly medianOffEffectMs: number | null;
  readonly maxOffEffectMs: number | null;
  readonly medianOnEffectMs: number | null;
}

export function summariseDrills(drills: readonly DrillRow[]): DrillSummary {
  const passed = drills.filter((drill) => drill.outcome === 'passed');
  const off = passed.map((drill) => drill.offEffectMs);
  return {
    count: drills.length,
    passed: passed.length,
    failed: drills.length - passed.length,
    medianOffEffectMs: median(off) ?? null,
    maxOffEffectMs: off.length === 0 ? null : Math.max(...off),
    medianOnEffectMs: median(passed.map((drill) => drill.onEffectMs)) ?? null,
  };
}

/** Drills as a report lists them: newest first, with their summary. */
export interface DrillHistory {
  readonly drills: DrillRow[];
  readonly drillSummary: DrillSummary;
}

/** The newest `limit` of the drills (any order), and their summary. */
export function drillHistory(drills: readonly DrillRow[], limit = Number.POSITIVE_INFINITY): DrillHistory {
  const newest = [...drills].sort((a, b) => byString(b.startedAt, a.startedAt)).slice(0, limit);
  return { drills: newest, drillSummary: summariseDrills(newest) };
}
