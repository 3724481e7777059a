import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectLegalHoldCommand } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { makeDocumentClient, sdkObjects } from '#lib/adapters/aws-clients.ts';
import { fromEventItem } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbHoldStore } from '#lib/adapters/dynamodb-holds.ts';
import { S3EventArchive } from '#lib/adapters/s3-event-archive.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { archiveObjectKey, archiveOutcomeKey } from '#lib/storage/archive-bucket.ts';
import { LOCAL_ARCHIVE_BUCKET, LOCAL_TABLE_NAME } from '#local-stack/settings.ts';
import { apiClient } from '../support/api.ts';
import { cliOn, cliResultOn } from '../support/cli.ts';
import { localClients } from '../support/clients.ts';
import { actionEvent, unitEvent } from '../support/events.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const cli = cliOn(stack.dataDir);
const cliResult = cliResultOn(stack.dataDir);
const { dynamodb, s3 } = localClients(stack);

const WORKFLOW = 'support-triage';
/** The hold records as stored, read without the CLI (each CLI run is a process start). */
const holdStore = new DynamoDbHoldStore(makeDocumentClient(dynamodb), LOCAL_TABLE_NAME);

/** The index item of an event, as DynamoDB has it: its TTL and the object its line is in. */
async function indexItem(eventId: string) {
  const { Item } = await dynamodb.send(
    new GetItemCommand({
      TableName: LOCAL_TABLE_NAME,
      Key: { pk: { S: `EVT#${WORKFLOW}#${eventId}` }, sk: { S: 'EVT' } },
      ConsistentRead: true,
    }),
  );
  if (!Item) throw new Error(`no index item for ${eventId}`);
  // The adapter's own reading of the item gives the object's full key (the item keeps it compact).
  return { expiresAt: Item.expiresAt?.N, archiveKey: fromEventItem(unmarshall(Item)).archiveKey };
}

/** The object's legal hold as S3 reports it: ON, OFF, or none (never held). */
async function legalHold(key: string): Promise<string> {
  try {
    const { LegalHold } = await s3.send(
      new GetObjectLegalHoldCommand({ Bucket: LOCAL_ARCHIVE_BUCKET, Key: key }),
    );
    return LegalHold?.Status ?? 'none';
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchObjectLockConfiguration') return 'none';
    throw error;
  }
}

const listHolds = (...args: string[]) =>
  cli('hold', 'list', '--json', ...args)
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('agent-ledger hold, on the local stack', () => {
  // Four CLI runs, each a process start of a few seconds on a busy machine.
  it('holds a unit: its index items lose their TTL and its archive objects are locked, until removed', {
    timeout: 120_000,
  }, async () => {
    // Arrange: a unit of three events in one request, and one of its events archived 100 days ago, past
    // the index's hot window (so only the archive has it), as ingest would have archived it then.
    const unitId = `held-${randomUUID().slice(0, 8)}`;
    const events = [
      unitEvent('unit.started', unitId),
      actionEvent({ unitId }),
      unitEvent('unit.completed', unitId, { outcome: 'resolved' }),
    ];
    expect((await api.postEvents({ events })).status).toBe(202);
    const before = await Promise.all(events.map((event) => indexItem(String(event.eventId))));
    const oldReceivedAt = new Date(Date.now() - 100 * 86_400_000);
    const oldEvent = actionEvent({
      unitId,
      occurredAt: oldReceivedAt.toISOString(),
    }) as unknown as LedgerEvent;
    const oldKey = archiveObjectKey({
      retentionMonths: 24,
      workflowId: WORKFLOW,
      receivedAt: oldReceivedAt,
      requestId: `req-${randomUUID()}`,
    });
    const archive = new S3EventArchive(sdkObjects(s3), LOCAL_ARCHIVE_BUCKET);
    await archive.putBatch(oldKey, [
      {
        event: oldEvent,
        occurredAtMs: oldReceivedAt.getTime(),
        receivedAt: oldReceivedAt.toISOString(),
        contentHash: 'sha256:old',
        expiresAt: Math.floor(oldReceivedAt.getTime() / 1000) + 45 * 86_400,
        archiveKey: oldKey,
      },
    ]);
    await archive.putOutcome(oldKey, [
      { eventId: oldEvent.eventId, contentHash: 'sha256:old', status: 'unconfirmed' },
    ]);
    const objects = [...new Set([...before.map((item) => item.archiveKey), oldKey])];
    expect(before.every((item) => Number(item.expiresAt) > Date.now() / 1000)).toBe(true);

    // Act: hold it
    const added = cli(
      'hold',
      'add',
      '--workflow',
      WORKFLOW,
      '--unit',
      unitId,
      '--reason',
      'litigation L-7',
      '--as',
      'counsel',
    );

    // Assess
    expect(added).toContain(`Held unit ${unitId} of ${WORKFLOW}`);
    expect(added).toContain('4 event(s), 3 archive object(s) under legal hold');
    expect(added).toContain(
      '1 event(s) were already gone from the index (past its hot window): their archive objects alone hold them',
    );
    for (const event of events) expect((await indexItem(String(event.eventId))).expiresAt).toBeUndefined();
    for (const key of [...objects, archiveOutcomeKey(oldKey)]) expect(await legalHold(key)).toBe('ON');
    const deleting = s3.send(new DeleteObjectCommand({ Bucket: LOCAL_ARCHIVE_BUCKET, Key: oldKey }));
    await expect(deleting).rejects.toMatchObject({ name: 'AccessDenied' });
    const [listed] = listHolds('--workflow', WORKFLOW).filter((hold) => hold.targetId === unitId);
    expect(listed).toMatchObject({
      workflowId: WORKFLOW,
      kind: 'unit',
      status: 'active',
      reason: 'litigation L-7',
      heldBy: 'counsel',
      events: 4,
      indexedEvents: 3,
      objects: 3,
    });
    expect(cli('hold', 'list')).toContain(`${WORKFLOW}  unit ${unitId}  HELD`);

    // Act: remove it
    const removed = cli(
      'hold',
      'remove',
      '--workflow',
      WORKFLOW,
      '--unit',
      unitId,
      '--reason',
      'case closed',
      '--as',
      'counsel',
    );

    // Assess
    expect(removed).toContain(`Released the hold on unit ${unitId} of ${WORKFLOW}`);
    expect(removed).toContain('3 index entries have its TTL back; 3 archive object(s) have legal hold off');
    const after = await Promise.all(events.map((event) => indexItem(String(event.eventId))));
    expect(after.map((item) => item.expiresAt)).toEqual(before.map((item) => item.expiresAt));
    for (const key of [...objects, archiveOutcomeKey(oldKey)]) expect(await legalHold(key)).toBe('OFF');
    expect(await holdStore.get({ workflowId: WORKFLOW, kind: 'unit', targetId: unitId })).toMatchObject({
      status: 'released',
      releaseReason: 'case closed',
      releasedBy: 'counsel',
    });
  });

  // A held item has no `expiresAt`: the index's reads keep it (`attribute_not_exists OR > now`).
  it('a held event is still read back by GET /events', { timeout: 120_000 }, async () => {
    const unitId = `held-read-${randomUUID().slice(0, 8)}`;
    const event = actionEvent({ unitId });
    expect((await api.postEvents({ events: [event] })).status).toBe(202);
    cli('hold', 'add', '--workflow', WORKFLOW, '--unit', unitId, '--reason', 'read check', '--as', 'counsel');
    try {
      const read = await api.getEvents(WORKFLOW, { unitId });
      expect(read.body.items.map((item: { eventId: string }) => item.eventId)).toEqual([event.eventId]);
    } finally {
      cli(
        'hold',
        'remove',
        '--workflow',
        WORKFLOW,
        '--unit',
        unitId,
        '--reason',
        'read check done',
        '--as',
        'counsel',
      );
    }
  });

  it.each([
    [
      ['--workflow', 'no-such-flow', '--unit', 'U-1', '--reason', 'r'],
      2,
      'unknown workflow no-such-flow; registered:',
    ],
    [
      ['--workflow', WORKFLOW, '--unit', 'never-seen-unit', '--reason', 'r'],
      1,
      `unit never-seen-unit of ${WORKFLOW}: no such events in the ledger's archive`,
    ],
    [['--workflow', WORKFLOW, '--unit', 'U-1'], 2, '--reason "<why>" is required'],
    [
      ['--workflow', WORKFLOW, '--eval-set', 'no-such-set', '--reason', 'r'],
      1,
      `${WORKFLOW} has no eval set no-such-set`,
    ],
  ])('hold add %j exits %i with a readable error and changes nothing', async (args, code, message) => {
    const holdsBefore = await holdStore.list();
    const countsBefore = await localClients(stack).storeCounts();

    const result = cliResult('hold', 'add', ...args);

    expect(result.status).toBe(code);
    expect(result.stderr).toContain(`agent-ledger: ${message}`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await holdStore.list()).toEqual(holdsBefore);
    expect(await localClients(stack).storeCounts()).toEqual(countsBefore);
  });

  // A hold outlives its workflow's place in the registry, so remove does not ask the registry.
  it.each([
    [['--workflow', WORKFLOW, '--rollbacks'], `every rollback event of ${WORKFLOW} is not held`],
    [['--workflow', 'no-such-flow', '--unit', 'U-1'], 'unit U-1 of no-such-flow is not held'],
  ])('hold remove %j of a hold that is not there exits 1 saying so', (args, message) => {
    const result = cliResult('hold', 'remove', ...args, '--reason', 'r');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`agent-ledger: ${message}`);
  });
});
