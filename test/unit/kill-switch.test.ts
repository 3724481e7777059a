import { beforeEach, describe, expect, it } from 'vitest';
import { UnknownWorkflowError, WorkflowNotAllowedError } from '#lib/errors.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import type { EventType } from '#lib/events/schema.ts';
import { type IngestDependencies, ingestEvents } from '#lib/ingest/ingest-events.ts';
import { readAutonomy } from '#lib/kill-switch/autonomy.ts';
import {
  flagValuesOf,
  initialFlagDocument,
  parseFlagValues,
  withFlag,
  withRegisteredFlags,
} from '#lib/kill-switch/flag-document.ts';
import { diffFlags, rollbackEventsFor } from '#lib/kill-switch/flips.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import type { DeployedVersions, FlagReader } from '#lib/kill-switch/ports.ts';
import { readWorkflowAutonomy } from '#lib/kill-switch/read-autonomy.ts';
import { recordFlips } from '#lib/kill-switch/record-flips.ts';
import type { EventSelection } from '#lib/ports.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { actionEvent } from '../support/events.ts';
import { InMemoryEventArchive, InMemoryEventIndex } from '../support/in-memory-stores.ts';

const AT = '2026-11-24T10:00:00.000Z';
const initial = initialFlagDocument(defaultRegistry.ids(), AT);
const off = (document = initial, flag = 'support-triage', changedAt = AT) =>
  withFlag(document, flag, { enabled: false, reason: 'defects up', changedBy: 'ops-oncall', changedAt });
const reader = (values: ReturnType<typeof flagValuesOf>, version = 'v2'): FlagReader => ({
  read: async () => ({ values, version }),
});

describe('readAutonomy', () => {
  it('allows the lane while its flag and the master flag are on', async () => {
    expect(await readAutonomy('code-review', reader(flagValuesOf(off())))).toMatchObject({
      autonomousAllowed: true,
      lane: 'autonomous',
      flagVersion: 'v2',
    });
  });

  it('answers hitl with who and why when the workflow flag is off', async () => {
    expect(await readAutonomy('support-triage', reader(flagValuesOf(off())))).toEqual({
      workflowId: 'support-triage',
      autonomousAllowed: false,
      lane: 'hitl',
      flagVersion: 'v2',
      reason: 'defects up',
      changedAt: AT,
    });
  });

  it('stops every lane when the master flag is off', async () => {
    const state = await readAutonomy('code-review', reader(flagValuesOf(off(initial, MASTER_FLAG))));
    expect(state).toMatchObject({
      autonomousAllowed: false,
      reason: 'all autonomous lanes stopped: defects up',
    });
  });

  it('fails closed when the flags cannot be read, or the workflow has no flag', async () => {
    const broken: FlagReader = { read: async () => Promise.reject(new Error('AppConfig unreachable')) };
    expect(await readAutonomy('support-triage', broken)).toMatchObject({
      autonomousAllowed: false,
      lane: 'hitl',
      reason: expect.stringContaining('AppConfig unreachable'),
    });
    expect(await readAutonomy('support-triage', reader({}))).toMatchObject({ autonomousAllowed: false });
  });

  it('refuses values that are not a flag map', () => {
    expect(() => parseFlagValues('{"support-triage": {"enabled": "yes"}}')).toThrow(
      'not a feature-flag value map',
    );
    expect(() => parseFlagValues('<html>')).toThrow('not JSON');
  });
});

describe('readWorkflowAutonomy: the GET /autonomy use case', () => {
  /** Records what the flip history asks the index. */
  class QueriedIndex extends InMemoryEventIndex {
    readonly queries: EventSelection[] = [];
    override events<T extends EventType>(selection: EventSelection<T>) {
      this.queries.push(selection);
      return super.events(selection);
    }
  }
  const agent = { principal: 'agent', workflows: new Set(['code-review']) };

  it('reads why a lane is off from the flips recorded up to the injected clock', async () => {
    // Prepare: AppConfig serves a disabled flag without its attributes
    const index = new QueriedIndex();
    const now = new Date('2026-12-01T08:00:00Z');
    const flags = reader({ ...flagValuesOf(initial), 'code-review': { enabled: false } });

    // Act
    const state = await readWorkflowAutonomy({ workflowId: 'code-review' }, agent, {
      flags,
      index,
      registry: defaultRegistry,
      clock: () => now,
    });

    // Assess
    expect(state).toMatchObject({ workflowId: 'code-review', autonomousAllowed: false, lane: 'hitl' });
    expect(index.queries.map((query) => query.nowSeconds)).toEqual([now.getTime() / 1000]);
  });

  it('refuses an unknown workflow before one the caller may not touch', async () => {
    const deps = {
      flags: reader(flagValuesOf(initial)),
      index: new InMemoryEventIndex(),
      registry: defaultRegistry,
      clock: () => new Date(AT),
    };
    await expect(readWorkflowAutonomy({ workflowId: 'nope' }, agent, deps)).rejects.toBeInstanceOf(
      UnknownWorkflowError,
    );
    await expect(readWorkflowAutonomy({ workflowId: 'support-triage' }, agent, deps)).rejects.toBeInstanceOf(
      WorkflowNotAllowedError,
    );
  });
});

describe('flips', () => {
  it('become rollback events: a workflow flag in its ledger, the master flag in every ledger', () => {
    // Prepare
    const afterWorkflowFlip = flagValuesOf(off());
    const afterMasterFlip = flagValuesOf(off(off(), MASTER_FLAG));

    // Act
    const own = rollbackEventsFor(diffFlags(flagValuesOf(initial), afterWorkflowFlip), {
      workflowIds: defaultRegistry.ids(),
      environment: 'local',
      deploymentNumber: 2,
      configurationVersion: '2',
      at: AT,
    });
    const master = rollbackEventsFor(diffFlags(afterWorkflowFlip, afterMasterFlip), {
      workflowIds: defaultRegistry.ids(),
      environment: 'local',
      deploymentNumber: 3,
      configurationVersion: '3',
      at: AT,
    });

    // Assess
    expect(own).toEqual([
      expect.objectContaining({
        type: 'rollback',
        eventId: 'kill-switch:local:2:support-triage',
        workflowId: 'support-triage',
        unitId: 'kill-switch',
        reason: 'defects up',
        initiatedBy: 'ops-oncall',
        lane: 'autonomous',
        from: 'enabled',
        to: 'disabled',
      }),
    ]);
    expect(master.map((event) => event.workflowId)).toEqual(['support-triage', 'code-review']);
  });

  it('records nothing for a deployment that changed no flag', () => {
    expect(diffFlags(flagValuesOf(initial), flagValuesOf(initial))).toEqual([]);
    expect(diffFlags(undefined, flagValuesOf(initial))).toEqual([]);
  });
});

describe('recordFlips and kill-switch violations', () => {
  let deps: IngestDependencies;
  let index: InMemoryEventIndex;
  let now: Date;
  const versions = new Map<string, string>();
  const deployed: DeployedVersions = {
    content: async (version) => versions.get(version) ?? '',
    previousVersion: async (deploymentNumber) =>
      deploymentNumber > 1 ? String(deploymentNumber - 1) : undefined,
  };

  beforeEach(() => {
    index = new InMemoryEventIndex();
    now = new Date('2026-11-24T10:00:00Z');
    deps = {
      index,
      archive: new InMemoryEventArchive(),
      registry: defaultRegistry,
      hasher: new ActorHasher(Buffer.alloc(32, 3)),
      clock: () => now,
    };
    versions.set('1', JSON.stringify(initial));
    versions.set('2', JSON.stringify(off()));
    versions.set(
      '3',
      JSON.stringify(
        withFlag(off(), 'support-triage', {
          enabled: true,
          reason: 'fixed',
          changedBy: 'ops',
          changedAt: AT,
        }),
      ),
    );
  });
  const record = (deploymentNumber: number) =>
    recordFlips(
      {
        environment: 'local',
        profile: 'p1',
        deploymentNumber,
        configurationVersion: String(deploymentNumber),
      },
      { versions: deployed, ingest: deps, killSwitchProfile: 'p1' },
    );
  const autonomousAction = (occurredAt: string) => actionEvent({ lane: 'autonomous', occurredAt });

  it('records each flip once, however often the deployment is reported', async () => {
    const first = await record(2);
    const again = await record(2);
    expect(first).toMatchObject({ accepted: 1 });
    expect(again).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it('ignores deployments of other profiles', async () => {
    const result = await recordFlips(
      { environment: 'local', profile: 'other', deploymentNumber: 2, configurationVersion: '2' },
      { versions: deployed, ingest: deps, killSwitchProfile: 'p1' },
    );
    expect(result).toBeUndefined();
  });

  it('marks an autonomous action taken while its lane was off, and only that one', async () => {
    // Prepare: off at 10:00, back on at 11:00.
    await record(2);
    now = new Date('2026-11-24T11:00:00Z');
    await record(3);
    now = new Date('2026-11-24T12:00:00Z');
    const before = autonomousAction('2026-11-24T09:59:59Z');
    const during = autonomousAction('2026-11-24T10:30:00+00:00');
    const hitlDuring = actionEvent({ lane: 'hitl', occurredAt: '2026-11-24T10:30:00Z' });
    const after = autonomousAction('2026-11-24T11:00:01Z');

    // Act
    await ingestEvents(
      { events: [before, during, hitlDuring, after] },
      { principal: 't', workflows: '*' },
      deps,
    );

    // Assess
    const flagged = [...index.items.values()]
      .filter((stored) => stored.killSwitchViolation)
      .map((s) => s.event.eventId);
    expect(flagged).toEqual([during.eventId]);
  });
});

describe('withRegisteredFlags', () => {
  it('adds flags for newly registered workflows and never touches existing ones', () => {
    // Prepare: support-triage paused, then a new workflow is registered.
    const paused = off();

    // Act
    const { document, added } = withRegisteredFlags(paused, [...defaultRegistry.ids(), 'sales-leads'], AT);

    // Assess
    expect(added).toEqual(['sales-leads']);
    expect(document.values['support-triage']).toEqual(paused.values['support-triage']);
    expect(document.values['sales-leads']).toMatchObject({ enabled: true, reason: 'registered' });
    expect(withRegisteredFlags(document, defaultRegistry.ids(), AT).added).toEqual([]);
  });

  it('creates the initial document when there is none', () => {
    const { document, added } = withRegisteredFlags(undefined, defaultRegistry.ids(), AT);
    expect(added).toEqual([MASTER_FLAG, ...defaultRegistry.ids()]);
    expect(Object.values(flagValuesOf(document)).every((value) => value.enabled)).toBe(true);
  });
});
