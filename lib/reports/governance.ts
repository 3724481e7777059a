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
import { median } from '#lib/reports/common.ts';
import { badge, formatMs, type Html, html, table } from '#lib/reports/html.ts';

/**
 * What the monthly Autonomy + Risk Review and the runbooks share: the kill switch's state as AppConfig
 * serves it now, the autonomy boundary's rules in words, and drills with their times to effect.
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
      error: (error as Error).message ?? String(error),
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

export function laneBadge(lane: LaneState): Html {
  if (lane.autonomousAllowed === null) return badge('unreadable', 'warn');
  return lane.autonomousAllowed ? badge('on', 'good') : badge('off', 'bad');
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

const callText = (rule: RuleView) =>
  html`<code>${rule.tool}</code>${rule.when ? html` when <code>${rule.when}</code>` : ' (every call)'}`;

export function renderBoundary(boundary: BoundaryView): Html {
  return html`<h3>The agent can</h3>
${boundary.can.length === 0 ? html`<p class="muted">Nothing listed.</p>` : html`<ul>${boundary.can.map((item) => html`<li>${item}</li>`)}</ul>`}
<h3>The agent cannot (CANNOT rules, checked on every tool call)</h3>
${
  boundary.cannot.length === 0
    ? html`<p class="muted">No CANNOT rules.</p>`
    : table(
        ['Rule', 'Tool call', 'Why'],
        boundary.cannot.map((rule) => [html`<code>${rule.id}</code>`, callText(rule), rule.description]),
      )
}
<h3>Approvals required</h3>
${
  boundary.approvals.length === 0
    ? html`<p class="muted">No approval rules.</p>`
    : html`<p class="muted">A matching tool call needs an approved or edited approval on its action, by an approverId the registry lists for the rule's role; one by anyone else is a boundary violation (kind <code>approver</code>).</p>
${table(
  ['Rule', 'Tool call', 'Approver role', 'Who may approve (approverIds)', 'Why'],
  boundary.approvals.map((rule) => [
    html`<code>${rule.id}</code>`,
    callText(rule),
    rule.approver ?? '—',
    rule.approverIds
      ? html`${rule.approverIds.map((id, i) => html`${i > 0 && ', '}<code>${id}</code>`)}`
      : badge('anyone: no list in the registry', 'warn'),
    rule.description,
  ]),
)}`
}`;
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

export function renderDrills(drills: readonly DrillRow[], none: string): Html {
  if (drills.length === 0) return html`<p class="muted">${none}</p>`;
  return table(
    ['Started', 'Drill', 'By', 'Outcome', 'Off took effect in', 'On again in', 'Detail'],
    drills.map((drill) => [
      drill.startedAt,
      html`<code>${drill.drillId}</code>`,
      drill.by,
      drill.outcome === 'passed' ? badge('passed', 'good') : badge('failed', 'bad'),
      formatMs(drill.offEffectMs),
      formatMs(drill.onEffectMs),
      drill.detail ?? '',
    ]),
    [4, 5],
  );
}
