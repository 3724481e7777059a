import { evaluateDrift } from '#lib/drift/rule.ts';
import type { FlagWriter } from '#lib/kill-switch/ports.ts';
import type { KpiStore } from '#lib/kpi/job.ts';
import { lastCompleteWeek, shiftWeek } from '#lib/kpi/weeks.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';

export interface Notifier {
  publish(subject: string, message: string): Promise<void>;
}

export interface DriftOutcome {
  readonly workflowId: string;
  readonly week: string;
  readonly action: 'paused' | 'already-paused' | 'none';
  readonly reason: string;
}

export const DRIFT_JOB_IDENTITY = 'agent-ledger drift job';

/**
 * For each workflow, applies the drift rule to the last complete week (or `week`) and pauses the
 * autonomous lane through the kill switch when it drifted; the flip recorder then writes the rollback
 * event with the figures, and operators are notified. It never turns a lane back on.
 */
export async function runDriftJob(
  week: string | undefined,
  deps: {
    kpis: KpiStore;
    flags: FlagWriter;
    notifier: Notifier;
    registry: WorkflowRegistry;
    clock: () => Date;
  },
): Promise<DriftOutcome[]> {
  const target = week ?? lastCompleteWeek(deps.clock().getTime());
  const outcomes: DriftOutcome[] = [];
  for (const workflow of deps.registry.all()) {
    const [current, previous] = await Promise.all([
      deps.kpis.getRecord(workflow.workflowId, target),
      deps.kpis.getRecord(workflow.workflowId, shiftWeek(target, -1)),
    ]);
    const decision = evaluateDrift(current, previous, workflow.minReviewed);
    if (!decision.pause) {
      outcomes.push({
        workflowId: workflow.workflowId,
        week: target,
        action: 'none',
        reason: decision.reason,
      });
      continue;
    }
    const document = await deps.flags.currentDocument();
    if (document.values[workflow.workflowId]?.enabled === false) {
      outcomes.push({
        workflowId: workflow.workflowId,
        week: target,
        action: 'already-paused',
        reason: decision.reason,
      });
      continue;
    }
    await deps.flags.setFlag(workflow.workflowId, {
      enabled: false,
      reason: decision.reason,
      changedBy: DRIFT_JOB_IDENTITY,
    });
    await deps.notifier.publish(
      `Agent Ledger: autonomous lane of ${workflow.workflowId} paused by drift`,
      `${decision.reason}\n\nOnly a person turns it back on: agent-ledger kill-switch on ${workflow.workflowId} --reason "…"`,
    );
    outcomes.push({
      workflowId: workflow.workflowId,
      week: target,
      action: 'paused',
      reason: decision.reason,
    });
  }
  return outcomes;
}
