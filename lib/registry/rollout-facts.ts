import type { EvalStore } from '#lib/evals/store.ts';
import type { DrillStore } from '#lib/kill-switch/drills.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import type { EventIndex } from '#lib/ports.ts';
import { reportKeys } from '#lib/reports/job.ts';
import { DRILL_WINDOW_DAYS, type GateFacts, type WorkflowFacts } from './rollout-gates.ts';

/**
 * Reads what the rollout gates judge from the ledger's stores, through ports the DynamoDB and S3 adapters
 * implement, so the gates run the same on the local stack and on a stage (`--stage`).
 */
export interface RolloutFactsDependencies {
  readonly kpis: { listRecords(workflowId: string): Promise<KpiRecord[]> };
  readonly evals: Pick<EvalStore, 'listSets' | 'listRuns'>;
  readonly drills: Pick<DrillStore, 'listDrills'>;
  readonly index: Pick<EventIndex, 'events'>;
  readonly reports: { hasObject(key: string): Promise<boolean> };
  readonly now: Date;
  readonly drillBoundMs: number;
  readonly stageOption?: string;
}

/** Runs read per set: the latest on the current versions is among a workflow's recent ones. */
const RUNS_PER_SET = 20;
/** Drills read per workflow: more than a month's worth for any sane drill schedule. */
const DRILLS_READ = 50;
/** How far back the latest action is looked for (its versions are the current ones). */
const VERSION_LOOKBACK_DAYS = 30;

export async function readRolloutFacts(
  workflowIds: readonly string[],
  deps: RolloutFactsDependencies,
): Promise<GateFacts> {
  const entries = await Promise.all(
    workflowIds.map(async (workflowId) => [workflowId, await workflowFacts(workflowId, deps)] as const),
  );
  return {
    now: deps.now,
    drillBoundMs: deps.drillBoundMs,
    ...(deps.stageOption ? { stageOption: deps.stageOption } : {}),
    byWorkflow: new Map(entries),
  };
}

async function workflowFacts(workflowId: string, deps: RolloutFactsDependencies): Promise<WorkflowFacts> {
  const [records, sets, drills, currentVersions, runbookPublished] = await Promise.all([
    deps.kpis.listRecords(workflowId),
    deps.evals.listSets(workflowId),
    deps.drills.listDrills(workflowId, DRILLS_READ),
    latestActionVersions(workflowId, deps),
    deps.reports.hasObject(reportKeys.runbook(workflowId).html),
  ]);
  const runs = (
    await Promise.all(sets.map((set) => deps.evals.listRuns(workflowId, set.name, RUNS_PER_SET)))
  ).flat();
  const drillSinceMs = deps.now.getTime() - DRILL_WINDOW_DAYS * 86_400_000;
  return {
    kpiWeeks: records.filter((record) => record.throughput > 0).length,
    evalSets: sets.map((set) => ({ name: set.name, caseCount: set.caseCount })),
    evalRuns: runs.map((run) => ({
      runId: run.runId,
      evalSet: run.evalSet,
      ranAt: run.ranAt,
      promptVersion: run.promptVersion,
      modelVersion: run.modelVersion,
      passed: run.results.filter((result) => result.pass).length,
      cases: run.results.length,
    })),
    ...(currentVersions ? { currentVersions } : {}),
    drills: drills
      .filter((drill) => Date.parse(drill.startedAt) >= drillSinceMs)
      .map(({ drillId, startedAt, offEffectMs, outcome }) => ({ drillId, startedAt, offEffectMs, outcome })),
    runbookPublished,
  };
}

/**
 * The prompt template version and model (`<provider>/<name>/<version>`, as eval runs name it) of the
 * workflow's latest action in the last 30 days that names them: what the agent runs on now.
 */
async function latestActionVersions(
  workflowId: string,
  deps: RolloutFactsDependencies,
): Promise<{ promptVersion?: string; modelVersion?: string } | undefined> {
  const nowMs = deps.now.getTime();
  let promptVersion: string | undefined;
  let modelVersion: string | undefined;
  const actions = deps.index.events({
    workflowId,
    type: 'action',
    fromMs: nowMs - VERSION_LOOKBACK_DAYS * 86_400_000,
    nowSeconds: Math.floor(nowMs / 1000),
  });
  // Time order: the last action that names a version wins.
  for await (const { event } of actions) {
    const template = event.prompt?.templateVersion;
    if (template !== undefined) promptVersion = String(template);
    const model = event.model;
    if (model?.provider && model.name && model.version) {
      modelVersion = `${model.provider}/${model.name}/${model.version}`;
    }
  }
  if (promptVersion === undefined && modelVersion === undefined) return undefined;
  return {
    ...(promptVersion === undefined ? {} : { promptVersion }),
    ...(modelVersion === undefined ? {} : { modelVersion }),
  };
}
