import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { makeAutonomyHandler } from '#functions/autonomy/make-handler.ts';
import { httpHandler } from '#functions/commons/handlers.ts';
import { rolloutPhaseViolation } from '#lib/boundaries/rollout-phase.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { type IngestDependencies, ingestEvents } from '#lib/ingest/ingest-events.ts';
import { readAutonomy } from '#lib/kill-switch/autonomy.ts';
import { flagValuesOf, initialFlagDocument, withFlag } from '#lib/kill-switch/flag-document.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import type { FlagReader } from '#lib/kill-switch/ports.ts';
import { demoWorkflows } from '#lib/registry/default-registry.ts';
import {
  LANES,
  LANES_BY_PHASE,
  type Lane,
  ROLLOUT_PHASES,
  type RolloutPhase,
  WorkflowRegistry,
} from '#lib/registry/workflows.ts';
import { lambdaContext } from '#local-stack/api-server.ts';
import { actionEvent } from '../support/events.ts';
import { InMemoryEventArchive, InMemoryEventIndex } from '../support/in-memory-stores.ts';

/** One workflow per rollout phase (`phase-baseline`, …), each the shipped support-triage otherwise. */
const registry = WorkflowRegistry.parse(
  ROLLOUT_PHASES.map((rolloutPhase) => ({
    ...demoWorkflows[0],
    workflowId: `phase-${rolloutPhase}`,
    rolloutPhase,
  })),
);
const workflowOf = (phase: RolloutPhase) => `phase-${phase}`;

const AT = '2026-11-24T10:00:00.000Z';
const flagsOn = flagValuesOf(initialFlagDocument(registry.ids(), AT));
const reader = (values = flagsOn, version: string | null = 'v7'): FlagReader => ({
  read: async () => ({ values, version }),
});

describe('the lanes each rollout phase opens', () => {
  it('opens shadow in baseline, adds hitl in hitl and evals, and autonomous only in autonomous', () => {
    expect(LANES_BY_PHASE).toEqual({
      baseline: ['shadow'],
      hitl: ['shadow', 'hitl'],
      evals: ['shadow', 'hitl'],
      autonomous: ['shadow', 'hitl', 'autonomous'],
    });
  });

  const matrix = ROLLOUT_PHASES.flatMap((phase) => LANES.map((lane) => [phase, lane] as const));
  it.each(matrix)('in phase %s, an action in the %s lane', (phase, lane) => {
    // Act
    const violation = rolloutPhaseViolation({ lane }, { rolloutPhase: phase });

    // Assess
    if (LANES_BY_PHASE[phase].includes(lane)) {
      expect(violation).toBeUndefined();
    } else {
      expect(violation).toEqual({
        phase,
        lane,
        message: expect.stringContaining(`rollout phase "${phase}"`),
      });
    }
  });

  it('says which phase opens the lane', () => {
    expect(rolloutPhaseViolation({ lane: 'autonomous' }, { rolloutPhase: 'evals' })?.message).toBe(
      'the autonomous lane is not open in rollout phase "evals" (it opens in phase "autonomous"; "evals" allows shadow, hitl)',
    );
    expect(rolloutPhaseViolation({ lane: 'hitl' }, { rolloutPhase: 'baseline' })?.message).toBe(
      'the hitl lane is not open in rollout phase "baseline" (it opens in phase "hitl"; "baseline" allows shadow)',
    );
  });

  it('does not judge an action without a lane, or with a lane or phase it does not know, and never throws', () => {
    expect(rolloutPhaseViolation({}, { rolloutPhase: 'baseline' })).toBeUndefined();
    expect(rolloutPhaseViolation({ lane: 'rogue' }, { rolloutPhase: 'baseline' })).toBeUndefined();
    expect(rolloutPhaseViolation({ lane: 'autonomous' }, { rolloutPhase: 'pilot' as never })).toBeUndefined();
    expect(rolloutPhaseViolation(null as never, { rolloutPhase: 'baseline' })).toBeUndefined();
    expect(rolloutPhaseViolation({ lane: 'hitl' }, null as never)).toBeUndefined();
  });
});

describe('ingest: an action in a lane its phase has not opened', () => {
  let index: InMemoryEventIndex;
  let deps: IngestDependencies;
  const everyWorkflow = { principal: 'test', workflows: '*' as const };

  beforeEach(() => {
    index = new InMemoryEventIndex();
    deps = {
      index,
      archive: new InMemoryEventArchive(),
      registry,
      hasher: new ActorHasher(Buffer.alloc(32, 1)),
      clock: () => new Date('2026-11-24T12:00:00Z'),
    };
  });

  const action = (phase: RolloutPhase, lane: Lane) =>
    actionEvent({ workflowId: workflowOf(phase), lane, occurredAt: '2026-11-24T11:00:00Z' });

  it('is stored, marked with the phase and the lane, and said back; the allowed ones are not', async () => {
    // Prepare: every lane in every phase
    const events = ROLLOUT_PHASES.flatMap((phase) => LANES.map((lane) => action(phase, lane)));

    // Act
    const result = await ingestEvents({ events }, everyWorkflow, deps);

    // Assess: nothing refused
    expect(result).toMatchObject({ accepted: events.length, duplicates: 0, conflicts: 0 });
    const flagged = (result.violations ?? []).filter((v) => v.kind === 'rollout-phase');
    expect(flagged).toEqual([
      { eventId: events[1]?.eventId, kind: 'rollout-phase', phase: 'baseline', lane: 'hitl' },
      { eventId: events[2]?.eventId, kind: 'rollout-phase', phase: 'baseline', lane: 'autonomous' },
      { eventId: events[5]?.eventId, kind: 'rollout-phase', phase: 'hitl', lane: 'autonomous' },
      { eventId: events[8]?.eventId, kind: 'rollout-phase', phase: 'evals', lane: 'autonomous' },
    ]);
    const stored = [...index.items.values()];
    expect(stored).toHaveLength(events.length);
    expect(
      stored
        .filter((item) => item.rolloutPhaseViolation)
        .map((item) => [item.event.workflowId, item.rolloutPhaseViolation]),
    ).toEqual([
      ['phase-baseline', { phase: 'baseline', lane: 'hitl' }],
      ['phase-baseline', { phase: 'baseline', lane: 'autonomous' }],
      ['phase-hitl', { phase: 'hitl', lane: 'autonomous' }],
      ['phase-evals', { phase: 'evals', lane: 'autonomous' }],
    ]);
  });

  it('does not mark an action without a lane, nor events that are not actions', async () => {
    const laneless = actionEvent({ workflowId: 'phase-baseline', occurredAt: '2026-11-24T11:00:00Z' });
    delete laneless.lane;
    const result = await ingestEvents({ events: [laneless] }, everyWorkflow, deps);
    expect(result.accepted).toBe(1);
    expect(result.violations).toBeUndefined();
  });
});

describe('GET /autonomy gated by the rollout phase', () => {
  it.each([
    ['baseline', 'shadow'],
    ['hitl', 'hitl'],
    ['evals', 'hitl'],
  ] as const)(
    'in phase %s the autonomous lane is closed and the agent uses %s, flags on or not',
    async (phase, lane) => {
      // Act
      const state = await readAutonomy(workflowOf(phase), reader(), undefined, phase);

      // Assess
      expect(state).toEqual({
        workflowId: workflowOf(phase),
        autonomousAllowed: false,
        lane,
        flagVersion: 'v7',
        reason: `rollout phase "${phase}": the autonomous lane opens in phase "autonomous" (workflow registry)`,
        changedAt: null,
      });
    },
  );

  it('in phase autonomous the kill switch decides, as before', async () => {
    expect(await readAutonomy('phase-autonomous', reader(), undefined, 'autonomous')).toEqual(
      await readAutonomy('phase-autonomous', reader()),
    );
    expect(await readAutonomy('phase-autonomous', reader(), undefined, 'autonomous')).toMatchObject({
      workflowId: 'phase-autonomous',
      autonomousAllowed: true,
      lane: 'autonomous',
      flagVersion: 'v7',
    });
    const off = withFlag(initialFlagDocument(registry.ids(), AT), 'phase-autonomous', {
      enabled: false,
      reason: 'defects up',
      changedBy: 'ops',
      changedAt: AT,
    });
    expect(
      await readAutonomy('phase-autonomous', reader(flagValuesOf(off)), undefined, 'autonomous'),
    ).toMatchObject({ autonomousAllowed: false, lane: 'hitl', reason: 'defects up', changedAt: AT });
  });

  it("keeps the kill switch's reason beside the phase's when both close the lane", async () => {
    const off = withFlag(initialFlagDocument(registry.ids(), AT), MASTER_FLAG, {
      enabled: false,
      reason: 'incident 42',
      changedBy: 'ops',
      changedAt: AT,
    });
    expect(await readAutonomy('phase-evals', reader(flagValuesOf(off)), undefined, 'evals')).toEqual({
      workflowId: 'phase-evals',
      autonomousAllowed: false,
      lane: 'hitl',
      flagVersion: 'v7',
      reason:
        'rollout phase "evals": the autonomous lane opens in phase "autonomous" (workflow registry); kill switch: all autonomous lanes stopped: incident 42',
      changedAt: AT,
    });
  });

  it("still fails closed when the flags cannot be read, in the phase's lane", async () => {
    const broken: FlagReader = { read: () => Promise.reject(new Error('AppConfig unreachable')) };
    expect(await readAutonomy('phase-baseline', broken, undefined, 'baseline')).toMatchObject({
      autonomousAllowed: false,
      lane: 'shadow',
      flagVersion: null,
      reason: expect.stringContaining('AppConfig unreachable'),
    });
    expect(await readAutonomy('phase-autonomous', broken, undefined, 'autonomous')).toMatchObject({
      autonomousAllowed: false,
      lane: 'hitl',
    });
  });

  it('is what the autonomy handler answers, reading the phase from the registry source', async () => {
    // Prepare
    const handler = httpHandler(
      makeAutonomyHandler({
        flags: reader(),
        grants: { putGrant: async () => {}, getGrant: async () => undefined, deleteGrant: async () => false },
        registry,
        index: new InMemoryEventIndex(),
        clock: () => new Date(AT),
      }),
    );
    const request = (workflowId: string) =>
      ({
        pathParameters: { workflowId },
        requestContext: { authorizer: { workflows: '*', principalId: 'agent' } },
      }) as unknown as APIGatewayProxyEvent;

    // Act
    const answers = await Promise.all(
      ROLLOUT_PHASES.map((phase) => handler(request(workflowOf(phase)), lambdaContext('autonomy', phase))),
    );

    // Assess
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200]);
    expect(answers.map((answer) => JSON.parse(answer.body))).toMatchObject([
      { workflowId: 'phase-baseline', autonomousAllowed: false, lane: 'shadow', flagVersion: 'v7' },
      { workflowId: 'phase-hitl', autonomousAllowed: false, lane: 'hitl', flagVersion: 'v7' },
      {
        workflowId: 'phase-evals',
        autonomousAllowed: false,
        lane: 'hitl',
        reason: 'rollout phase "evals": the autonomous lane opens in phase "autonomous" (workflow registry)',
      },
      { workflowId: 'phase-autonomous', autonomousAllowed: true, lane: 'autonomous', flagVersion: 'v7' },
    ]);
  });
});
