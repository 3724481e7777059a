import { MAX_EVAL_CASES, MIN_EVAL_CASES } from '#lib/evals/schema.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { ROLLOUT_PHASES, type RolloutPhase, type Workflow, type WorkflowRegistry } from './workflows.ts';

/**
 * Rollout gates (issue 10, seed §7): a workflow moves to a later rollout phase only when what that phase
 * rests on is in place. Pure: the facts are read elsewhere (`rollout-facts.ts`), so the same gates run on
 * the local stack and on a stage, and in unit tests. Moving to an earlier phase, or staying, is never gated.
 *
 *   hitl and later   a written boundary (CAN, CANNOT rules, approvals; the schema already requires the
 *                    kill switch's location and flippers) and at least two weeks of KPI records (baseline)
 *   evals and later  a registered eval set of 100–300 cases
 *   autonomous       the latest eval run on the current prompt and model versions passes `evalThreshold`,
 *                    a kill-switch drill in the last 30 days took effect within the bound, the runbook is published
 *
 * A workflow new to the registry moves from nothing: it is gated as if it came from baseline.
 */

export const MIN_BASELINE_WEEKS = 2;
export const DRILL_WINDOW_DAYS = 30;
/**
 * How soon a drill's flip must show in `/autonomy`: SPEC "Kill switch" says 2 s locally and the AppConfig
 * poll bound in the cloud (15 s poll after a deployment of a few seconds: about 20 s, README "The kill switch").
 */
export const DRILL_EFFECT_BOUND_MS = { local: 2_000, cloud: 20_000 } as const;

export interface EvalRunFact {
  readonly runId: string;
  readonly evalSet: string;
  readonly ranAt: string;
  readonly promptVersion: string;
  readonly modelVersion: string;
  readonly passed: number;
  readonly cases: number;
}

export interface DrillFact {
  readonly drillId: string;
  readonly startedAt: string;
  readonly offEffectMs: number;
  readonly outcome: 'passed' | 'failed';
}

/** What the ledger knows about one workflow, as the gates need it. */
export interface WorkflowFacts {
  /** ISO weeks with a KPI record that counted at least one completed unit. */
  readonly kpiWeeks: number;
  /** The registered eval sets, each at its latest version. */
  readonly evalSets: readonly { readonly name: string; readonly caseCount: number }[];
  /** Recent eval runs of any of its sets, any order. */
  readonly evalRuns: readonly EvalRunFact[];
  /**
   * The prompt template and model versions the workflow's latest ingested action used; undefined when no
   * recent action named them. These, not the run's own, are "current": a run always matches its own versions.
   */
  readonly currentVersions?: { readonly promptVersion?: string; readonly modelVersion?: string };
  /** Drills, any order (the gate looks at the last 30 days). */
  readonly drills: readonly DrillFact[];
  readonly runbookPublished: boolean;
}

export interface GateFacts {
  readonly now: Date;
  /** How soon a drill's flip must show in `/autonomy` (SPEC "Kill switch": 2 s locally, ~20 s in the cloud). */
  readonly drillBoundMs: number;
  /** The target the facts come from, for the advice: `--stage <name>` or nothing for the local stack. */
  readonly stageOption?: string;
  readonly byWorkflow: ReadonlyMap<string, WorkflowFacts>;
}

/** A workflow whose phase moves later, and what its new phase still lacks (empty: the move may go ahead). */
export interface PhaseMove {
  readonly workflowId: string;
  /** undefined for a workflow new to the registry. */
  readonly from: RolloutPhase | undefined;
  readonly to: RolloutPhase;
  readonly unmet: readonly string[];
}

const rank = (phase: RolloutPhase) => ROLLOUT_PHASES.indexOf(phase);

/** The phase moves of `proposed` against `current`, each with its unmet conditions. */
export function phaseMoves(
  current: WorkflowRegistry | undefined,
  proposed: WorkflowRegistry,
): { workflowId: string; from: RolloutPhase | undefined; to: RolloutPhase }[] {
  return proposed
    .all()
    .map((workflow) => ({
      workflowId: workflow.workflowId,
      from: current?.get(workflow.workflowId)?.rolloutPhase,
      to: workflow.rolloutPhase,
    }))
    .filter((move) => rank(move.to) > rank(move.from ?? 'baseline'));
}

/** Every later-phase move of `proposed` with the conditions it does not meet. */
export function checkRolloutGates(
  current: WorkflowRegistry | undefined,
  proposed: WorkflowRegistry,
  facts: GateFacts,
): PhaseMove[] {
  return phaseMoves(current, proposed).map((move) => ({
    ...move,
    unmet: unmetConditions(proposed.get(move.workflowId) as Workflow, facts),
  }));
}

export const allGatesPass = (moves: readonly PhaseMove[]) => moves.every((move) => move.unmet.length === 0);

const NO_FACTS: WorkflowFacts = {
  kpiWeeks: 0,
  evalSets: [],
  evalRuns: [],
  drills: [],
  runbookPublished: false,
};

function unmetConditions(workflow: Workflow, facts: GateFacts): string[] {
  const { workflowId, rolloutPhase: to } = workflow;
  const known = facts.byWorkflow.get(workflowId) ?? NO_FACTS;
  const stage = facts.stageOption ? ` ${facts.stageOption}` : '';
  const unmet: string[] = [];
  const say = (condition: string, todo: string) => unmet.push(`${workflowId} → ${to}: ${condition}; ${todo}`);

  if (rank(to) >= rank('hitl')) {
    const boundary = workflow.autonomyBoundary;
    const missing = [
      boundary.can.length === 0 ? 'CAN (autonomyBoundary.can)' : undefined,
      boundary.cannot.length === 0 ? 'CANNOT rules (autonomyBoundary.cannot)' : undefined,
      boundary.approvals.length === 0 ? 'approval rules (autonomyBoundary.approvals)' : undefined,
    ].filter((part) => part !== undefined);
    if (missing.length > 0) {
      say(
        `the autonomy boundary has no ${missing.join(', no ')}`,
        'write them in the registry file (the kill switch location and flippers are already required)',
      );
    }
    if (known.kpiWeeks < MIN_BASELINE_WEEKS) {
      say(
        `${known.kpiWeeks} week${known.kpiWeeks === 1 ? '' : 's'} of KPIs recorded, a baseline needs at least ${MIN_BASELINE_WEEKS}`,
        `keep logging the humans' work and run \`agent-ledger jobs kpi --workflow ${workflowId}${stage}\` for each complete week`,
      );
    }
  }

  if (rank(to) >= rank('evals')) {
    const sized = known.evalSets.filter(
      (set) => set.caseCount >= MIN_EVAL_CASES && set.caseCount <= MAX_EVAL_CASES,
    );
    if (sized.length === 0) {
      say(
        `no eval set of ${MIN_EVAL_CASES}–${MAX_EVAL_CASES} cases is registered`,
        `register one with \`agent-ledger evals register <file>${stage}\``,
      );
    }
  }

  if (to === 'autonomous') {
    unmet.push(...evalRunConditions(workflow, known, stage).map((text) => `${workflowId} → ${to}: ${text}`));
    const sinceMs = facts.now.getTime() - DRILL_WINDOW_DAYS * 86_400_000;
    const recent = known.drills.filter((drill) => Date.parse(drill.startedAt) >= sinceMs);
    const inTime = recent.filter(
      (drill) =>
        drill.outcome === 'passed' && drill.offEffectMs >= 0 && drill.offEffectMs <= facts.drillBoundMs,
    );
    if (inTime.length === 0) {
      const seconds = facts.drillBoundMs / 1000;
      say(
        recent.length === 0
          ? `no kill-switch drill in the last ${DRILL_WINDOW_DAYS} days`
          : `no kill-switch drill in the last ${DRILL_WINDOW_DAYS} days took effect within ${seconds} s (${recent.length} ran; fastest off ${Math.min(...recent.map((d) => d.offEffectMs))} ms)`,
        `run \`agent-ledger drill ${workflowId}${stage}\` (drills run only while the autonomous lane is open)`,
      );
    }
    if (!known.runbookPublished) {
      say(
        'its runbook is not published',
        `run \`agent-ledger jobs reports${stage}\`, which writes governance/runbooks/${workflowId}.html`,
      );
    }
  }
  return unmet;
}

function evalRunConditions(workflow: Workflow, known: WorkflowFacts, stage: string): string[] {
  const current = known.currentVersions;
  const onCurrent = known.evalRuns.filter(
    (run) =>
      (current?.promptVersion === undefined || run.promptVersion === current.promptVersion) &&
      (current?.modelVersion === undefined || run.modelVersion === current.modelVersion),
  );
  const latest = [...onCurrent].sort((a, b) => Date.parse(b.ranAt) - Date.parse(a.ranAt))[0];
  const versions = [
    current?.promptVersion === undefined ? undefined : `prompt ${current.promptVersion}`,
    current?.modelVersion === undefined ? undefined : `model ${current.modelVersion}`,
  ]
    .filter((part) => part !== undefined)
    .join(', ');
  const on = versions ? ` on the current versions (${versions}, from its latest action)` : '';
  const todo = `run the eval set${on ? ' on those versions' : ''} and record it with \`agent-ledger evals record <run.json>${stage}\``;
  if (!latest) return [`no eval run is recorded${on}; ${todo}`];
  const score = latest.cases === 0 ? 0 : latest.passed / latest.cases;
  if (score >= workflow.evalThreshold) return [];
  return [
    `the latest eval run${on} (${latest.runId} of ${latest.evalSet}, ${latest.ranAt}) passed ${latest.passed} of ${latest.cases} cases (${percent(score)}), below its evalThreshold ${percent(workflow.evalThreshold)}; improve the agent, then ${todo}`,
  ];
}

const percent = (share: number) => `${(share * 100).toFixed(1).replace(/\.0$/, '')}%`;

/** The unit under which a workflow's rollout-gate overrides are kept in its ledger (not `kill-switch`: no flip). */
export const ROLLOUT_GATES_UNIT = 'rollout-gates';
/** `metadata.kind` of an override event, which the monthly review reads. */
export const GATE_OVERRIDE_KIND = 'rollout-gate-override';

export interface GateOverride {
  readonly reason: string;
  readonly initiatedBy: string;
  /** RFC 3339. */
  readonly at: string;
  /** Makes the eventIds of one deploy unique: the same override given twice is two overrides. */
  readonly deployId: string;
  /** Where the proposed registry came from, e.g. the file. */
  readonly source: string;
}

/**
 * One `rollback` event per move an override lets through (a move whose gates all pass needs none): who and
 * why, `from`/`to` the phases, and the conditions overridden. Recorded like a flip, under its own unit, so
 * flip histories (unit `kill-switch`, `to` enabled/disabled) never mistake it for one.
 */
export function overrideEventsFor(moves: readonly PhaseMove[], override: GateOverride): LedgerEvent[] {
  return moves
    .filter((move) => move.unmet.length > 0)
    .map(
      (move): LedgerEvent => ({
        type: 'rollback',
        eventId: `rollout-gates:${override.deployId}:${move.workflowId}`.slice(0, 128),
        workflowId: move.workflowId,
        unitId: ROLLOUT_GATES_UNIT,
        occurredAt: override.at,
        reason: override.reason,
        initiatedBy: override.initiatedBy,
        from: move.from ?? 'unregistered',
        to: move.to,
        metadata: { kind: GATE_OVERRIDE_KIND, unmet: [...move.unmet], source: override.source },
      }),
    );
}
