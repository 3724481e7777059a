import {
  Athena,
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';

import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchiveQueryError, AthenaArchivedEvents } from '#lib/adapters/athena-archived-events.ts';
import { sdkObjects } from '#lib/adapters/aws-clients.ts';
import { archiveLine } from '#lib/adapters/s3-event-archive.ts';
import { isStoreUnavailable } from '#lib/adapters/store-errors.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import type { EventQuery, StoredEvent } from '#lib/ports.ts';
import { archivePageSql } from '#lib/read/archive-pages.ts';

// A fake Athena: no local part can run Athena, so the adapter is checked against what it sends and fed the
// result pages Athena would return (header row first, NextToken between pages).
const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
afterEach(() => {
  athena.reset();
  s3.reset();
});
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const adapter = (options: { timeoutMs?: number } = {}) =>
  new AthenaArchivedEvents({
    athena: new Athena({ region: 'us-east-1', credentials }),
    s3: sdkObjects(new S3Client({ region: 'us-east-1', credentials })),
    bucketName: 'archive-bucket',
    database: 'agent_ledger_dev',
    workgroup: 'agent-ledger-dev-archive',
    firstPollMs: 1,
    ...options,
  });

const NOW_S = Date.parse('2026-11-24T12:00:00Z') / 1000;
const KEY = 'raw/retention=24m/workflow=support-triage/dt=2025-10-20/req-a.ndjson.gz';
const KEY_RETRY = 'raw/retention=24m/workflow=support-triage/dt=2025-10-21/req-b.ndjson.gz';

function stored(eventId: string, occurredAt: string, archiveKey = KEY): StoredEvent {
  return {
    event: {
      eventId,
      type: 'action',
      workflowId: 'support-triage',
      unitId: 'ticket-1',
      occurredAt,
    } as unknown as LedgerEvent,
    occurredAtMs: Date.parse(occurredAt),
    receivedAt: '2026-01-01T00:00:00.000Z',
    contentHash: `hash-${eventId}`,
    expiresAt: 0,
    archiveKey,
  };
}

const resultRow = (event: StoredEvent) => ({
  Data: [{ VarCharValue: `s3://archive-bucket/${event.archiveKey}` }, { VarCharValue: archiveLine(event) }],
});
const HEADER = { Data: [{ VarCharValue: 'path' }, { VarCharValue: 'line' }] };

const query: EventQuery = {
  workflowId: 'support-triage',
  fromMs: Date.parse('2025-10-01T00:00:00Z'),
  toMs: Date.parse('2025-11-01T00:00:00Z'),
  unitId: "ticket-'1",
  limit: 2,
  nowSeconds: NOW_S,
};

/** What the adapter reads of a GetObject body. */
// The SDK's streaming body, as far as its readers use it.
const body = (text: string) =>
  ({
    transformToString: async () => text,
    transformToByteArray: async () => new TextEncoder().encode(text),
  }) as never;

describe('AthenaArchivedEvents on a fake Athena', () => {
  it('runs the shared SQL in its workgroup with quoted parameters, polls, and pages the results', async () => {
    // Prepare: two result pages; the retry's line is listed as a duplicate in its outcome record
    const events = [
      stored('a', '2025-10-20T10:00:00.000Z'),
      stored('a', '2025-10-20T10:00:00.000Z', KEY_RETRY),
      stored('b', '2025-10-20T11:00:00.000Z'),
      stored('c', '2025-10-20T12:00:00.000Z'),
    ];
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: undefined })
      .resolves({
        ResultSet: {
          Rows: [HEADER, resultRow(events[0] as StoredEvent), resultRow(events[1] as StoredEvent)],
        },
        NextToken: 'page-2',
      })
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: 'page-2' })
      .resolves({
        ResultSet: { Rows: [resultRow(events[2] as StoredEvent), resultRow(events[3] as StoredEvent)] },
      });
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'none', $metadata: {} }));
    s3.on(GetObjectCommand, {
      Key: 'raw/retention=24m/workflow=support-triage/dt=2025-10-21/_outcome-req-b.json',
    }).resolves({
      Body: body(
        JSON.stringify({
          archiveKey: KEY_RETRY,
          lines: [{ eventId: 'a', contentHash: 'hash-a', status: 'duplicate', indexedContentHash: 'hash-a' }],
        }),
      ),
    });

    // Act
    const page = await adapter().query(query);

    // Assess
    const expected = archivePageSql('"agent_ledger_dev"."archive_events"', query);
    expect(athena.commandCalls(StartQueryExecutionCommand).map((call) => call.args[0].input)).toEqual([
      {
        QueryString: expected.sql,
        QueryExecutionContext: { Database: 'agent_ledger_dev' },
        WorkGroup: 'agent-ledger-dev-archive',
        ExecutionParameters: expected.parameters.map((value) => `'${value.replaceAll("'", "''")}'`),
      },
    ]);
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input.ExecutionParameters).toContain(
      "'ticket-''1'",
    );
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(2);
    expect(page.items.map((item) => [item.event.eventId, item.archiveKey])).toEqual([
      ['a', KEY],
      ['b', KEY],
    ]);
    expect(page.after).toBe('2025-10-20T11:00:00.000Z#b');
  });

  it('looks events up by eventId for ingest, with the dedupe rule', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-2' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena
      .on(GetQueryResultsCommand)
      .resolves({ ResultSet: { Rows: [HEADER, resultRow(stored('a', '2025-10-20T10:00:00.000Z'))] } });
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'none', $metadata: {} }));

    // Act
    const hashes = await adapter().findContentHashes(
      [{ workflowId: 'support-triage', eventId: 'a', occurredAtMs: Date.parse('2025-10-20T10:00:00Z') }],
      NOW_S,
    );

    // Assess
    expect([...hashes]).toEqual([['support-triage#a', 'hash-a']]);
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input.ExecutionParameters).toEqual([
      "'2025-10-20'",
      "'a'",
    ]);
  });

  it('says the store did not answer (retry is safe) when the query fails', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-3' });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'Query exhausted resources' } },
    });

    // Act
    const failure = await adapter()
      .query(query)
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ArchiveQueryError);
    expect(String(failure)).toMatch(/q-3 failed: Query exhausted resources/);
    expect(isStoreUnavailable(failure)).toBe(true);
  });

  it('stops a query that takes too long, and says so', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-4' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    athena.on(StopQueryExecutionCommand).resolves({});

    // Act
    const failure = await adapter({ timeoutMs: 20 })
      .query(query)
      .catch((error: unknown) => error);

    // Assess
    expect(String(failure)).toMatch(/q-4 took longer than 20 ms/);
    expect(athena.commandCalls(StopQueryExecutionCommand).map((call) => call.args[0].input)).toEqual([
      { QueryExecutionId: 'q-4' },
    ]);
  });
});
