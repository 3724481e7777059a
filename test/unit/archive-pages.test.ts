import { describe, expect, it } from 'vitest';
import { archiveLine } from '#lib/adapters/s3-event-archive.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import type { ArchiveLineOutcome, EventQuery, StoredEvent } from '#lib/ports.ts';
import {
  type ArchiveRow,
  archivedContentHashes,
  archiveKeyOfPath,
  archiveLinesOfEventsSql,
  archivePage,
  archivePageSql,
  earliestArchiveDay,
} from '#lib/read/archive-pages.ts';

const NOW_S = Date.parse('2026-11-24T12:00:00Z') / 1000;
const KEY_A = 'raw/retention=24m/workflow=support-triage/dt=2025-10-20/req-a.ndjson.gz';
const KEY_B = 'raw/retention=24m/workflow=support-triage/dt=2025-10-21/req-b.ndjson.gz';

/** A stored event as ingest archives it: a minimal action at `occurredAt`, with a content hash of our choosing. */
function stored(eventId: string, occurredAt: string, overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    event: {
      eventId,
      type: 'action',
      workflowId: 'support-triage',
      unitId: `unit-${eventId}`,
      occurredAt,
    } as unknown as LedgerEvent,
    occurredAtMs: Date.parse(occurredAt),
    receivedAt: '2025-10-20T12:00:00.000Z',
    contentHash: `hash-${eventId}`,
    expiresAt: 0,
    archiveKey: KEY_A,
    ...overrides,
  };
}

const row = (event: StoredEvent, key = KEY_A): ArchiveRow => ({
  path: `s3://archive-bucket/${key}`,
  line: archiveLine(event),
});

async function* rows(...items: ArchiveRow[]): AsyncGenerator<ArchiveRow> {
  yield* items;
}

const outcomesOf = (records: Record<string, ArchiveLineOutcome[]>) => async (keys: readonly string[]) =>
  new Map(keys.filter((key) => records[key]).map((key) => [key, records[key] ?? []] as const));

/** For pages whose rows hold every line of their events: no other line anywhere. */
const noOtherLines = () => rows();

const query = (overrides: Partial<EventQuery> = {}): EventQuery => ({
  workflowId: 'support-triage',
  fromMs: Date.parse('2025-10-01T00:00:00Z'),
  toMs: Date.parse('2025-11-01T00:00:00Z'),
  limit: 10,
  nowSeconds: NOW_S,
  ...overrides,
});

describe('archivePageSql: the one SQL text Athena and DuckDB run', () => {
  it('prunes by workflow and by the days that can hold the range, and selects the range in time order', () => {
    // Act
    const { sql, parameters, earliestDay } = archivePageSql('archive_events', query());

    // Assess: received at most 5 minutes before it occurred, so from the day before on
    expect(earliestDay).toBe('2025-09-30');
    expect(parameters).toEqual(['2025-09-30', '2025-10-01T00:00:00.000Z', '2025-11-01T00:00:00.000Z']);
    expect(sql.split('?')).toHaveLength(parameters.length + 1);
    expect(sql).toContain('FROM archive_events');
    // The workflow a literal: Athena projects an injected partition from a static value only
    expect(sql).toMatch(/WHERE workflow = 'support-triage' AND dt >= \?/);
    expect(sql).toMatch(/ORDER BY occurred_at, event_id$/);
  });

  it('reads from the cursor on, and filters by unit and type', () => {
    // Act
    const { parameters, earliestDay, sql } = archivePageSql(
      '"db"."archive_events"',
      query({ after: '2025-10-15T00:02:00.000Z#evt-9', unitId: 'ticket-1', type: 'action' }),
    );

    // Assess: a later page reads fewer days
    expect(earliestDay).toBe('2025-10-14');
    expect(parameters.slice(3)).toEqual([
      '2025-10-15T00:02:00.000Z',
      '2025-10-15T00:02:00.000Z',
      'evt-9',
      'ticket-1',
      'action',
    ]);
    expect(sql).toContain('FROM "db"."archive_events"');
    expect(sql.split('?')).toHaveLength(parameters.length + 1);
  });

  it('looks events up by eventId from the first day the earliest of them can be in', () => {
    const { sql, parameters } = archiveLinesOfEventsSql('archive_events', 'support-triage', [
      { workflowId: 'support-triage', eventId: 'a', occurredAtMs: Date.parse('2025-10-20T00:03:00Z') },
      { workflowId: 'support-triage', eventId: 'b', occurredAtMs: Date.parse('2025-10-22T00:00:00Z') },
    ]);
    expect(parameters).toEqual(['2025-10-19', 'a', 'b']);
    expect(sql).toContain("json_extract_scalar(line, '$.eventId') IN (?, ?)");
  });

  it('refuses a workflow ID that is not one (it is written into the SQL as a literal)', () => {
    expect(() => archivePageSql('archive_events', query({ workflowId: "x' OR '1'='1" }))).toThrow(
      /not a workflow ID/,
    );
  });

  it('names the day before for an event in the first 5 minutes of its day', () => {
    expect(earliestArchiveDay(Date.parse('2025-10-20T00:04:59Z'))).toBe('2025-10-19');
    expect(earliestArchiveDay(Date.parse('2025-10-20T00:05:00Z'))).toBe('2025-10-20');
  });

  it('finds the archive key in the path of any engine', () => {
    expect(archiveKeyOfPath(`s3://bucket/${KEY_A}`)).toBe(KEY_A);
    expect(archiveKeyOfPath(`/tmp/agent-ledger-archive-x/${KEY_A}`)).toBe(KEY_A);
    expect(() => archiveKeyOfPath('/tmp/other.json')).toThrow(/not an archive object/);
  });
});

describe('archivePage: the dedupe rule, retention and paging on the rows', () => {
  const retained = { receivedAt: '2026-01-01T00:00:00.000Z' };

  it('returns each event once: the confirmed line, not those the outcome lists as duplicate or conflict', async () => {
    // Prepare: a retry archived the same event again (listed duplicate), a conflicting copy (listed conflict)
    const first = stored('a', '2025-10-20T10:00:00.000Z', retained);
    const again = { ...first, archiveKey: KEY_B };
    const conflicting = stored('a', '2025-10-20T10:00:00.000Z', {
      ...retained,
      archiveKey: KEY_B,
      contentHash: 'hash-other',
    });
    const outcomes = outcomesOf({
      [KEY_B]: [
        { eventId: 'a', contentHash: 'hash-a', status: 'duplicate', indexedContentHash: 'hash-a' },
        { eventId: 'a', contentHash: 'hash-other', status: 'conflict', indexedContentHash: 'hash-a' },
      ],
    });

    // Act
    const page = await archivePage(
      rows(row(conflicting, KEY_B), row(first), row(again, KEY_B)),
      outcomes,
      query(),
      noOtherLines,
    );

    // Assess
    expect(page.items.map((item) => [item.event.eventId, item.contentHash, item.archiveKey])).toEqual([
      ['a', 'hash-a', KEY_A],
    ]);
    expect(page.after).toBeUndefined();
  });

  it('lets a lone unconfirmed line stand in, and drops an event with two unconfirmed contents', async () => {
    // Prepare
    const lone = stored('u', '2025-10-20T10:00:00.000Z', retained);
    const undecidedOne = stored('v', '2025-10-20T11:00:00.000Z', retained);
    const undecidedTwo = { ...undecidedOne, archiveKey: KEY_B, contentHash: 'hash-v2' };
    const outcomes = outcomesOf({
      [KEY_A]: [
        { eventId: 'u', contentHash: 'hash-u', status: 'unconfirmed' },
        { eventId: 'v', contentHash: 'hash-v', status: 'unconfirmed' },
      ],
      [KEY_B]: [{ eventId: 'v', contentHash: 'hash-v2', status: 'unconfirmed' }],
    });

    // Act
    const page = await archivePage(
      rows(row(lone), row(undecidedOne), row(undecidedTwo, KEY_B)),
      outcomes,
      query(),
      () => rows(row(lone)),
    );

    // Assess
    expect(page.items.map((item) => item.event.eventId)).toEqual(['u']);
  });

  it('drops a stand-in whose event was confirmed at another time (a failed request sent again changed)', async () => {
    // Prepare: the failed request's line (unconfirmed) in the page; its retry, changed to another time, confirmed
    const failed = stored('w', '2025-10-20T10:00:00.000Z', retained);
    const retried = stored('w', '2025-10-25T10:00:00.000Z', {
      ...retained,
      archiveKey: KEY_B,
      contentHash: 'hash-w2',
    });
    const next = stored('x', '2025-10-20T11:00:00.000Z', retained);
    const later = stored('y', '2025-10-20T12:00:00.000Z', retained);
    const outcomes = outcomesOf({
      [KEY_A]: [{ eventId: 'w', contentHash: 'hash-w', status: 'unconfirmed' }],
    });
    const asked: string[][] = [];

    // Act: a page of one, from the start to just before the retry's time
    const page = await archivePage(
      rows(row(failed), row(next), row(later)),
      outcomes,
      query({ limit: 1, toMs: Date.parse('2025-10-21T00:00:00Z') }),
      (events) => {
        asked.push(events.map((event) => event.eventId));
        return rows(row(failed), row(retried, KEY_B));
      },
    );

    // Assess: the stand-in is not the event's version; the page holds the next event and goes on from it
    expect(asked).toEqual([['w']]);
    expect(page.items.map((item) => item.event.eventId)).toEqual(['x']);
    expect(page.after).toBe('2025-10-20T11:00:00.000Z#x');
  });

  it('never returns a line past its retention, and filters by violation', async () => {
    // Prepare: received 25 months ago in a 24-month class
    const expired = stored('old', '2025-10-20T10:00:00.000Z', { receivedAt: '2024-10-20T00:00:00.000Z' });
    const marked = stored('ks', '2025-10-20T11:00:00.000Z', { ...retained, killSwitchViolation: true });
    const plain = stored('plain', '2025-10-20T12:00:00.000Z', retained);

    // Act
    const all = await archivePage(
      rows(row(expired), row(marked), row(plain)),
      outcomesOf({}),
      query(),
      noOtherLines,
    );
    const violating = await archivePage(
      rows(row(expired), row(marked), row(plain)),
      outcomesOf({}),
      query({ onlyViolations: 'kill-switch' }),
      noOtherLines,
    );

    // Assess
    expect(all.items.map((item) => item.event.eventId)).toEqual(['ks', 'plain']);
    expect(all.items[0]).toMatchObject({ killSwitchViolation: true, archiveKey: KEY_A });
    expect(violating.items.map((item) => item.event.eventId)).toEqual(['ks']);
  });

  it('stops at the limit with the time-order key of the last item as the position, reading no further', async () => {
    // Prepare: a thousand events, one a second
    const events = Array.from({ length: 1000 }, (_, i) =>
      stored(
        `e${String(i).padStart(4, '0')}`,
        new Date(Date.parse('2025-10-20T10:00:00Z') + i * 1000).toISOString(),
        retained,
      ),
    );
    let read = 0;
    async function* counted(): AsyncGenerator<ArchiveRow> {
      for (const event of events) {
        read++;
        yield row(event);
      }
    }

    // Act
    const page = await archivePage(counted(), outcomesOf({}), query({ limit: 2 }), noOtherLines);

    // Assess: rows are read a batch at a time, and no batch after the page is full
    expect(page.items.map((item) => item.event.eventId)).toEqual(['e0000', 'e0001']);
    expect(page.after).toBe('2025-10-20T10:00:01.000Z#e0001');
    expect(read).toBeLessThan(events.length);
  });
});

describe('archivedContentHashes: what ingest checks a retry against', () => {
  it('gives the confirmed version of each event, whatever order the rows come in', async () => {
    // Prepare
    const retained = { receivedAt: '2026-01-01T00:00:00.000Z' };
    const first = stored('a', '2025-10-20T10:00:00.000Z', retained);
    const lost = {
      ...first,
      archiveKey: KEY_B,
      contentHash: 'hash-lost',
      occurredAtMs: first.occurredAtMs + 1,
    };
    const outcomes = outcomesOf({
      [KEY_B]: [{ eventId: 'a', contentHash: 'hash-lost', status: 'conflict', indexedContentHash: 'hash-a' }],
    });

    // Act
    const hashes = await archivedContentHashes(rows(row(lost, KEY_B), row(first)), outcomes, NOW_S);

    // Assess
    expect([...hashes]).toEqual([['support-triage#a', 'hash-a']]);
  });
});

describe('archivePageSql: open ends', () => {
  it('leaves out the bound of an open end (no year 0000 for an engine to parse)', () => {
    // Act
    const { sql, parameters } = archivePageSql('archive_events', {
      workflowId: 'support-triage',
      toMs: Date.parse('2025-11-01T00:00:00Z'),
      limit: 10,
      nowSeconds: NOW_S,
    });

    // Assess
    expect(parameters).toEqual(['0000-01-01', '2025-11-01T00:00:00.000Z']);
    expect(sql).not.toContain('occurred_at >=');
  });
});
