import { KILL_SWITCH_APPLICATION, KILL_SWITCH_PROFILE, MASTER_FLAG } from '#lib/kill-switch/names.ts';
import type { Workflow } from '#lib/registry/workflows.ts';
import { byString, summariseWorkflow, type WorkflowSummary } from '#lib/reports/common.ts';
import {
  type BoundaryView,
  boundaryView,
  type DrillRow,
  type DrillSummary,
  type FlagState,
  type KillSwitchState,
  type LaneState,
  laneBadge,
  laneState,
  renderBoundary,
  renderDrills,
  summariseDrills,
} from '#lib/reports/governance.ts';
import { formatMs, html, note, page, table } from '#lib/reports/html.ts';

/**
 * A workflow's kill-switch runbook, generated from the registry, the deployed flags and the drill records:
 * where the switch is, who may flip it, the exact commands to flip and to drill, the approvals the
 * boundary requires, and the last drills with their times to effect. Rewritten on every reports run, so it
 * never drifts from the configuration.
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

export interface Runbook extends WorkflowSummary {
  readonly report: 'runbook';
  readonly schemaVersion: 1;
  readonly generatedAt: string;
  readonly killSwitch: {
    readonly appConfig: {
      readonly application: string;
      readonly profile: string;
      /** The stage's AppConfig environment; null when the runbook does not know it (see `stage`). */
      readonly environment: string | null;
      readonly flagKey: string;
      readonly masterFlagKey: string;
    };
    /** As the registry describes it (`autonomyBoundary.killSwitch.location`). */
    readonly location: string;
    readonly flippers: string[];
    readonly lane: LaneState;
    readonly master: FlagState | null;
    readonly stateReadAt: string;
  };
  /** The stage the commands target; null for the local stack. */
  readonly stage: string | null;
  readonly commands: RunbookCommands;
  readonly boundary: BoundaryView;
  /** The last drills, newest first. */
  readonly drills: DrillRow[];
  readonly drillSummary: DrillSummary;
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
  const drills = [...input.drills]
    .sort((a, b) => byString(b.startedAt, a.startedAt))
    .slice(0, RUNBOOK_DRILLS);
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
      location: workflow.autonomyBoundary.killSwitch.location,
      flippers: [...workflow.autonomyBoundary.killSwitch.flippers],
      lane: laneState(input.killSwitch, workflow.workflowId, workflow.rolloutPhase),
      master: input.killSwitch.master,
      stateReadAt: input.killSwitch.readAt,
    },
    stage: input.stage ?? null,
    commands: runbookCommands(workflow.workflowId, input.stage),
    boundary: boundaryView(workflow),
    drills,
    drillSummary: summariseDrills(drills),
  };
}

export function renderRunbook(model: Runbook): string {
  const { killSwitch, commands } = model;
  const lastDrill = model.drills[0];
  const body = html`<section>
<h2>Kill switch ${laneBadge(killSwitch.lane)}</h2>
<p><strong>Now</strong> (as AppConfig served it at ${killSwitch.stateReadAt}): ${killSwitch.lane.summary}.</p>
${table(
  ['Where', ''],
  [
    ['AppConfig application', html`<code>${killSwitch.appConfig.application}</code>`],
    [
      'Environment',
      killSwitch.appConfig.environment
        ? html`<code>${killSwitch.appConfig.environment}</code>`
        : model.stage
          ? `the ${model.stage} stage's`
          : '—',
    ],
    ['Feature-flag profile', html`<code>${killSwitch.appConfig.profile}</code>`],
    [
      'Flag of this workflow',
      html`<code>${killSwitch.appConfig.flagKey}</code> (<code>enabled</code> = autonomous lane allowed)`,
    ],
    ['Master flag (every workflow)', html`<code>${killSwitch.appConfig.masterFlagKey}</code>`],
    ['As the registry describes it', killSwitch.location],
  ],
)}
<h3>Who may flip it</h3>
<ul>${killSwitch.flippers.map((flipper) => html`<li>${flipper}</li>`)}</ul>
<h3>How</h3>
<p>Switch the autonomous lane off (agents fall back to HITL: a human approves every action):</p>
<pre>${commands.off}</pre>
<p>Switch it back on, once the cause is fixed (only a person does this, with a reason):</p>
<pre>${commands.on}</pre>
<p>See every lane's state and last drill:</p>
<pre>${commands.status}</pre>
<p>Stop every workflow's autonomous lane at once, and resume them:</p>
<pre>${commands.stopAll}
${commands.resumeAll}</pre>
<p class="muted">Flipping the flag in the AppConfig console or with the AWS CLI works too: every flip, from anywhere, is recorded in the ledger as a <code>rollback</code> event with who and why.</p>
</section>
<section>
<h2>Drills</h2>
<p>Prove the switch works and measure how fast: the drill flips the lane off, waits until <code>/autonomy</code> shows it, flips it back and records both times.</p>
<pre>${commands.drill}</pre>
${
  lastDrill
    ? note(
        `Last drill ${lastDrill.startedAt}: ${lastDrill.outcome}, off in ${formatMs(lastDrill.offEffectMs)}, on again in ${formatMs(lastDrill.onEffectMs)}.`,
        lastDrill.outcome === 'passed' ? 'info' : 'bad',
      )
    : note('This workflow has never been drilled: run a drill before relying on the switch.', 'bad')
}
${renderDrills(model.drills, 'No drills recorded.')}
</section>
<section>
<h2>Autonomy boundary</h2>
${renderBoundary(model.boundary)}
</section>`;
  return page({
    title: `Runbook — ${model.workflowId} kill switch`,
    subtitle: `Unit: ${model.unitOfValue} · owner: ${model.owner} · phase: ${model.rolloutPhase}${model.stage ? ` · stage ${model.stage}` : ''}`,
    generatedAt: model.generatedAt,
    body,
  });
}
