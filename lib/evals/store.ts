import type { EvalRun, EvalSet } from './schema.ts';

/** A set as `evals list` shows it, without its cases. */
export interface EvalSetSummary {
  readonly workflowId: string;
  readonly name: string;
  readonly latestVersion: number;
  readonly caseCount: number;
  readonly registeredAt: string;
  readonly registeredBy: string;
}

export type PutRunOutcome = 'stored' | 'duplicate';

export interface EvalStore {
  /** Stores a new version of a set; throws {@link EvalSetVersionTakenError} when that version exists. */
  putSet(set: EvalSet): Promise<void>;
  /** The given version of a set, or its latest when no version is given. */
  getSet(workflowId: string, name: string, version?: number): Promise<EvalSet | undefined>;
  /** The workflow's sets, by name, each at its latest version. */
  listSets(workflowId: string): Promise<EvalSetSummary[]>;
  /**
   * Stores a run. A run ID is recorded once per set: the same run again is a `duplicate` (nothing
   * changes); a different run under a recorded ID throws {@link EvalRunConflictError}.
   */
  putRun(run: EvalRun): Promise<PutRunOutcome>;
  /** The set's runs (of any of its versions), newest `ranAt` first. */
  listRuns(workflowId: string, name: string, limit: number): Promise<EvalRun[]>;
}

export class EvalSetVersionTakenError extends Error {
  override name = 'EvalSetVersionTakenError';
  constructor(
    readonly workflowId: string,
    readonly setName: string,
    readonly version: number,
  ) {
    super(`eval set ${workflowId}/${setName} already has a version ${version}`);
  }
}

export class EvalRunConflictError extends Error {
  override name = 'EvalRunConflictError';
  constructor(
    readonly run: EvalRun,
    readonly recordedRanAt: string,
  ) {
    super(
      `run ${run.runId} of ${run.workflowId}/${run.evalSet} was already recorded (ran at ${recordedRanAt}) with different content; give this run a new runId`,
    );
  }
}
