import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { compareRuns, type RunComparison, type RunSummary } from './compare.ts';
import {
  checkRunAgainstSet,
  type EvalIssue,
  type EvalRun,
  type EvalSet,
  type EvalSetInput,
  sameSetContent,
} from './schema.ts';
import {
  type EvalSetSummary,
  EvalSetVersionTakenError,
  type EvalStore,
  type PutRunOutcome,
} from './store.ts';

/** Raised for a file that is well formed but does not fit the ledger (unknown workflow, set or version). */
export class EvalValidationError extends Error {
  override name = 'EvalValidationError';
  constructor(readonly issues: EvalIssue[]) {
    super(issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '));
  }
}

function checkWorkflow(registry: WorkflowRegistry, workflowId: string): void {
  if (!registry.get(workflowId)) {
    throw new EvalValidationError([
      {
        path: '$.workflowId',
        message: `workflow '${workflowId}' is not registered; registered: ${registry.ids().join(', ')}`,
      },
    ]);
  }
}

export interface RegisterOutcome {
  readonly set: EvalSet;
  /** `unchanged`: the latest version already has this content, so no version was added. */
  readonly status: 'registered' | 'unchanged';
  readonly previousVersion: number | null;
}

/**
 * Registers a set as its next version (1 for a new set). Re-registering the content of the latest version
 * adds nothing, so retrying a registration is safe. Two concurrent registrations never share a version.
 */
export async function registerEvalSet(
  store: EvalStore,
  registry: WorkflowRegistry,
  input: EvalSetInput,
  by: { registeredBy: string; now: Date },
): Promise<RegisterOutcome> {
  checkWorkflow(registry, input.workflowId);
  for (let attempt = 0; ; attempt++) {
    const latest = await store.getSet(input.workflowId, input.name);
    if (latest && sameSetContent(latest, input)) {
      return { set: latest, status: 'unchanged', previousVersion: latest.version };
    }
    const set: EvalSet = {
      ...input,
      version: (latest?.version ?? 0) + 1,
      registeredAt: by.now.toISOString(),
      registeredBy: by.registeredBy,
    };
    try {
      await store.putSet(set);
      return { set, status: 'registered', previousVersion: latest?.version ?? null };
    } catch (error) {
      if (!(error instanceof EvalSetVersionTakenError) || attempt >= 4) throw error;
    }
  }
}

export interface RecordOutcome {
  readonly run: EvalRun;
  readonly set: EvalSet;
  readonly status: PutRunOutcome;
}

/** Records a run after checking it against the stored set version it names. */
export async function recordEvalRun(
  store: EvalStore,
  registry: WorkflowRegistry,
  run: EvalRun,
): Promise<RecordOutcome> {
  checkWorkflow(registry, run.workflowId);
  const set = await store.getSet(run.workflowId, run.evalSet, run.evalSetVersion);
  if (!set) {
    const latest = await store.getSet(run.workflowId, run.evalSet);
    throw new EvalValidationError([
      latest
        ? {
            path: '$.evalSetVersion',
            message: `eval set ${run.workflowId}/${run.evalSet} has no version ${run.evalSetVersion} (versions 1–${latest.version} are registered)`,
          }
        : {
            path: '$.evalSet',
            message: `no eval set '${run.evalSet}' is registered for ${run.workflowId}; register it first with \`agent-ledger evals register <file>\``,
          },
    ]);
  }
  const issues = checkRunAgainstSet(run, set);
  if (issues.length > 0) throw new EvalValidationError(issues);
  const status = await store.putRun(run);
  return { run, set, status };
}

/** The set's latest run compared with the one before it; undefined when the set has no runs. */
export async function compareLatestRuns(
  store: EvalStore,
  workflowId: string,
  name: string,
): Promise<RunComparison | undefined> {
  const [current, previous] = await store.listRuns(workflowId, name, 2);
  return current ? compareRuns(current, previous) : undefined;
}

export interface EvalSetOverview extends EvalSetSummary {
  readonly latestRun: (RunSummary & { readonly passRate: number }) | null;
}

/** A workflow's sets with each one's latest run. */
export async function listEvalSets(store: EvalStore, workflowId: string): Promise<EvalSetOverview[]> {
  const sets = await store.listSets(workflowId);
  return Promise.all(
    sets.map(async (set) => {
      const [run] = await store.listRuns(workflowId, set.name, 1);
      if (!run) return { ...set, latestRun: null };
      const { current, passRate } = compareRuns(run, undefined);
      const { runId, ranAt, ranBy, evalSetVersion, promptVersion, modelVersion, passed, total } = current;
      return {
        ...set,
        latestRun: {
          runId,
          ranAt,
          ranBy,
          evalSetVersion,
          promptVersion,
          modelVersion,
          passed,
          total,
          passRate,
        },
      };
    }),
  );
}
