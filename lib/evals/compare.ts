import type { EvalRun } from './schema.ts';

/** One run, as a comparison shows it. */
export interface RunSummary {
  readonly runId: string;
  readonly ranAt: string;
  readonly ranBy: string;
  readonly evalSetVersion: number;
  readonly promptVersion: string;
  readonly modelVersion: string;
  readonly passed: number;
  readonly total: number;
}

export interface RunComparison {
  readonly workflowId: string;
  readonly evalSet: string;
  readonly current: RunSummary;
  /** Null for the first run of a set: then only `passRate` says anything. */
  readonly previous: RunSummary | null;
  /** Passed results ÷ results, in [0, 1], rounded to 6 decimals. */
  readonly passRate: number;
  readonly previousPassRate: number | null;
  /** `passRate − previousPassRate` (a fraction: 0.05 is 5 percentage points); null without a previous run. */
  readonly delta: number | null;
  /** Cases failing now that passed in the previous run, in the current run's order. */
  readonly newlyFailing: string[];
  /** Cases passing now that failed in the previous run, in the current run's order. */
  readonly newlyPassing: string[];
  /** Cases failing in both runs. */
  readonly stillFailing: number;
  /** Cases of the current run the previous one has no result for (the set changed between them). */
  readonly casesNotInPrevious: number;
  readonly promptChanged: boolean;
  readonly modelChanged: boolean;
  readonly setVersionChanged: boolean;
}

const round6 = (value: number) => Math.round(value * 1e6) / 1e6;

function summarise(run: EvalRun): RunSummary {
  return {
    runId: run.runId,
    ranAt: run.ranAt,
    ranBy: run.ranBy,
    evalSetVersion: run.evalSetVersion,
    promptVersion: run.promptVersion,
    modelVersion: run.modelVersion,
    passed: run.results.filter((result) => result.pass).length,
    total: run.results.length,
  };
}

function rate(summary: RunSummary): number {
  return summary.total === 0 ? 0 : summary.passed / summary.total;
}

/**
 * Compares a run with the one before it. Only cases present in both runs count as newly failing, newly
 * passing or still failing; cases the previous run lacks (a newer set version) are counted apart.
 */
export function compareRuns(current: EvalRun, previous: EvalRun | undefined): RunComparison {
  const now = summarise(current);
  const base = {
    workflowId: current.workflowId,
    evalSet: current.evalSet,
    current: now,
    passRate: round6(rate(now)),
  };
  if (!previous) {
    return {
      ...base,
      previous: null,
      previousPassRate: null,
      delta: null,
      newlyFailing: [],
      newlyPassing: [],
      stillFailing: 0,
      casesNotInPrevious: 0,
      promptChanged: false,
      modelChanged: false,
      setVersionChanged: false,
    };
  }
  const before = summarise(previous);
  const passedBefore = new Map(previous.results.map((result) => [result.caseId, result.pass]));
  const newlyFailing: string[] = [];
  const newlyPassing: string[] = [];
  let stillFailing = 0;
  let casesNotInPrevious = 0;
  for (const { caseId, pass } of current.results) {
    const was = passedBefore.get(caseId);
    if (was === undefined) casesNotInPrevious++;
    else if (was && !pass) newlyFailing.push(caseId);
    else if (!was && pass) newlyPassing.push(caseId);
    else if (!was && !pass) stillFailing++;
  }
  return {
    ...base,
    previous: before,
    previousPassRate: round6(rate(before)),
    delta: round6(rate(now) - rate(before)),
    newlyFailing,
    newlyPassing,
    stillFailing,
    casesNotInPrevious,
    promptChanged: current.promptVersion !== previous.promptVersion,
    modelChanged: current.modelVersion !== previous.modelVersion,
    setVersionChanged: current.evalSetVersion !== previous.evalSetVersion,
  };
}
