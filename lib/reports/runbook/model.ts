import { KILL_SWITCH_APPLICATION, KILL_SWITCH_PROFILE, MASTER_FLAG } from '#lib/kill-switch/names.ts';
import type { Workflow } from '#lib/registry/workflows.ts';
import { summariseWorkflow, type WorkflowSummary } from '#lib/reports/common.ts';
import {
  type BoundaryView,
  boundaryView,
  type DrillHistory,
  type DrillRow,
  drillHistory,
  type FlagState,
  type KillSwitchControl,
  type KillSwitchState,
  killSwitchControl,
} from '#lib/reports/governance/model.ts';

/**
 * A workflow's kill-switch runbook, generated from the registry, the deployed flags and the drill records:
 * where the switch is, who may flip it, the exact commands to flip and to drill, the approvals the
 * boundary requires, and the last drills with their times to effect. Rewritten on every reports run, so it
 * never drifts from the configuration. Rendered by ./render.ts.
 */

export const RUNBOOK_DRILLS = 10;

export interface RunbookCommands {
  readonly status: string;
  readonly off: string;
  readonly on: string;
  readonly drill: string;
  readonly stopAll: string;
  readonly resumeAll: string;
}

/** `drills`: the last 10, newest first. */
export interface Runbook extends WorkflowSummary, DrillHistory {
  readonly report: 'runbook';
  readonly schemaVersion: 1;
  readonly generatedAt: string;
  readonly killSwitch: KillSwitchControl & {
    readonly appConfig: {
      readonly application: string;
      readonly profile: string;
      /** The stage's AppConfig environment; null when the runbook does not know it (see `stage`). */
      readonly environment: string | null;
      readonly flagKey: string;
      readonly masterFlagKey: string;
    };
    readonly master: FlagState | null;
    readonly stateReadAt: string;
  };
  /** The stage the commands target; null for the local stack. */
  readonly stage: string | null;
  readonly commands: RunbookCommands;
  readonly boundary: BoundaryView;
}

export function runbookCommands(workflowId: string, stage: string | undefined): RunbookCommands {
  const at = stage ? ` --stage ${stage}` : '';
  return {
    status: `agent-ledger kill-switch status${at}`,
    off: `agent-ledger kill-switch off ${workflowId} --reason "<what happened>"${at}`,
    on: `agent-ledger kill-switch on ${workflowId} --reason "<why it is safe again>"${at}`,
    drill: `agent-ledger drill ${workflowId}${at}`,
    stopAll: `agent-ledger kill-switch off --all --reason "<what happened>"${at}`,
    resumeAll: `agent-ledger kill-switch on --all --reason "<why it is safe again>"${at}`,
  };
}

export function buildRunbook(input: {
  workflow: Workflow;
  generatedAt: string;
  killSwitch: KillSwitchState;
  /** Drills of the workflow, any order: the last 10 are kept. */
  drills: readonly DrillRow[];
  stage?: string;
  /** The AppConfig environment's name, when known (the local stack's is `local`). */
  environment?: string;
}): Runbook {
  const { workflow } = input;
  return {
    report: 'runbook',
    schemaVersion: 1,
    ...summariseWorkflow(workflow),
    generatedAt: input.generatedAt,
    killSwitch: {
      appConfig: {
        application: KILL_SWITCH_APPLICATION,
        profile: KILL_SWITCH_PROFILE,
        environment: input.environment ?? null,
        flagKey: workflow.workflowId,
        masterFlagKey: MASTER_FLAG,
      },
      ...killSwitchControl(workflow, input.killSwitch),
      master: input.killSwitch.master,
      stateReadAt: input.killSwitch.readAt,
    },
    stage: input.stage ?? null,
    commands: runbookCommands(workflow.workflowId, input.stage),
    boundary: boundaryView(workflow),
    ...drillHistory(input.drills, RUNBOOK_DRILLS),
  };
}
