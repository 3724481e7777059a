import { storedEventFromArchiveLine } from '#lib/adapters/s3-event-archive.ts';
import { MAX_INSTANT_MS, MIN_INSTANT_MS, toUtcIso } from '#lib/events/timestamps.ts';
import {
  type ArchivedEventKey,
  type ArchiveLineOutcome,
  type EventPage,
  type EventQuery,
  eventKeyString,
  hasViolation,
  type StoredEvent,
  selectedTimeRange,
  timeOrderKey,
} from '#lib/ports.ts';
import { WORKFLOW_ID_PATTERN } from '#lib/registry/workflows.ts';
import { ARCHIVE_PREFIX, indexedVersionFromArchive } from '#lib/storage/archive-bucket.ts';

/**
 * Reading the archive as events, whatever engine runs the SQL (Athena in the cloud, DuckDB locally): the
 * one SQL text both run, and what is done with the rows it returns (the dedupe rule, retention, paging).
 *
 * The engines see the archive as one table, `ARCHIVE_EVENTS_TABLE`: a column `line` (a whole NDJSON line;
 * a text format whose field delimiter, \u0001, JSON never writes unescaped), the key's Hive partitions
 * `retention`, `workflow` and `dt` (the day it was received), and `"$path"`, the object the line is in
 * (Athena's pseudo-column; the DuckDB view names its `filename` so). DuckDB gets Athena's function names as
 * macros (lib/adapters/duckdb-archived-events.ts), so the integration test runs this very SQL.
 */

export const ARCHIVE_EVENTS_TABLE = 'archive_events';

/** An event is received at most this long before it occurred (SPEC "Ingest": 5 minutes ahead). */
const RECEIVED_BEFORE_OCCURRED_MS = 5 * 60_000;

/** What an engine hands back: the object a line is in (`s3://bucket/raw/…`, or a local copy of it) and the line. */
export interface ArchiveRow {
  readonly path: string;
  readonly line: string;
}

/** SQL with `?` placeholders and their values, in order; every value is a string. */
export interface ArchiveSql {
  readonly sql: string;
  readonly parameters: readonly string[];
  /** The first `dt` partition the query reads: an engine that lists objects itself need list none before. */
  readonly earliestDay: string;
}

/** The outcome records (`_outcome-*.json`) of these archive objects, by archive key; absent: no record. */
export type OutcomeReader = (
  archiveKeys: readonly string[],
) => Promise<ReadonlyMap<string, readonly ArchiveLineOutcome[]>>;

/**
 * The first day partition that can hold an event that occurred at `fromMs`: it was received at most 5
 * minutes before, and at any time after, so days before this one cannot hold it and every later one may.
 */
export function earliestArchiveDay(fromMs: number): string {
  return toUtcIso(Math.max(fromMs - RECEIVED_BEFORE_OCCURRED_MS, MIN_INSTANT_MS)).slice(0, 10);
}

/** The archive key (`raw/…`) of a row's `"$path"`, whichever engine and copy it came from. */
export function archiveKeyOfPath(path: string): string {
  const start = path.indexOf(`/${ARCHIVE_PREFIX}`);
  if (start < 0) throw new Error(`not an archive object: ${path}`);
  return path.slice(start + 1);
}

/**
 * The workflow partition's condition, with the ID as a literal rather than a parameter: Athena projects an
 * injected partition from a static value in the query. Registered IDs are `[a-z][a-z0-9-]`, nothing to quote.
 */
function workflowCondition(workflowId: string): string {
  if (!WORKFLOW_ID_PATTERN.test(workflowId)) throw new Error(`not a workflow ID: ${workflowId}`);
  return `workflow = '${workflowId}'`;
}

const OCCURRED_AT = `date_trunc('millisecond', from_iso8601_timestamp(replace(upper(json_extract_scalar(line, '$.occurredAt')), ' ', 'T')))`;
const EVENT_ID = `json_extract_scalar(line, '$.eventId')`;

/**
 * The archived lines a page of `query` is made from, in time order (occurredAt to the millisecond, then
 * eventId: `timeOrderKey`'s order), after the query's position. Pruned by partition: the workflow, and the
 * days from `earliestArchiveDay(from)` on. Not limited: duplicate lines are dropped after, so the caller
 * reads rows until its page is full (an Athena result is paged anyway).
 */
export function archivePageSql(table: string, query: EventQuery): ArchiveSql {
  const { fromMs, toMs } = selectedTimeRange(query);
  const parameters: string[] = [];
  const value = (text: string): string => {
    parameters.push(text);
    return '?';
  };
  // From the cursor on, when it is later than `from`: every further page reads fewer days.
  const afterMs =
    query.after === undefined ? undefined : Date.parse(query.after.slice(0, query.after.indexOf('#')));
  const lowerMs = afterMs !== undefined && afterMs > fromMs ? afterMs : fromMs;
  const earliestDay = earliestArchiveDay(lowerMs);
  const where = [workflowCondition(query.workflowId), `dt >= ${value(earliestDay)}`];
  // An open end is left out rather than written as year 0000 or 9999, which no engine need parse.
  const outer: string[] = [];
  if (fromMs > MIN_INSTANT_MS)
    outer.push(`occurred_at >= from_iso8601_timestamp(${value(toUtcIso(fromMs))})`);
  if (toMs < MAX_INSTANT_MS) outer.push(`occurred_at < from_iso8601_timestamp(${value(toUtcIso(toMs))})`);
  if (query.after !== undefined) {
    const at = toUtcIso(afterMs ?? fromMs);
    const eventId = query.after.slice(query.after.indexOf('#') + 1);
    outer.push(
      `(occurred_at > from_iso8601_timestamp(${value(at)}) OR (occurred_at = from_iso8601_timestamp(${value(at)}) AND event_id > ${value(eventId)}))`,
    );
  }
  if (query.unitId !== undefined)
    outer.push(`json_extract_scalar(line, '$.unitId') = ${value(query.unitId)}`);
  if (query.type !== undefined) outer.push(`json_extract_scalar(line, '$.type') = ${value(query.type)}`);
  const sql = [
    'SELECT path, line FROM (',
    `  SELECT "$path" AS path, line, ${EVENT_ID} AS event_id, ${OCCURRED_AT} AS occurred_at`,
    `  FROM ${table}`,
    `  WHERE ${where.join(' AND ')}`,
    ') AS lines',
    ...(outer.length > 0 ? [`WHERE ${outer.join(' AND ')}`] : []),
    'ORDER BY occurred_at, event_id',
  ].join('\n');
  return { sql, parameters, earliestDay };
}

/** Every archived line of these events of one workflow (ingest's idempotency past the hot window). */
export function archiveLinesOfEventsSql(
  table: string,
  workflowId: string,
  events: readonly ArchivedEventKey[],
): ArchiveSql {
  const earliestDay = earliestArchiveDay(Math.min(...events.map((event) => event.occurredAtMs)));
  const eventIds = [...new Set(events.map((event) => event.eventId))];
  return {
    sql: [
      `SELECT "$path" AS path, line FROM ${table}`,
      `WHERE ${workflowCondition(workflowId)} AND dt >= ? AND ${EVENT_ID} IN (${eventIds.map(() => '?').join(', ')})`,
    ].join('\n'),
    parameters: [earliestDay, ...eventIds],
    earliestDay,
  };
}

/** One archived line, read back, with the outcome its object records for it (none: confirmed). */
interface ArchivedLine {
  readonly stored: StoredEvent;
  readonly outcome: ArchiveLineOutcome | undefined;
}

/**
 * The index's version of one event from its archived lines, by the dedupe rule: lines an outcome lists
 * as a duplicate or a conflict lost, and of the rest the first confirmed one stands
 * (`indexedVersionFromArchive`). Undefined when none stands, or when it is past its retention. `standIn`:
 * no line was confirmed, an `unconfirmed` one stands in (decided only once every line of the event is seen).
 */
function indexedVersion(
  lines: readonly ArchivedLine[],
  nowSeconds: number,
): { stored: StoredEvent; standIn: boolean } | undefined {
  const version = indexedVersionFromArchive(
    lines.map(({ stored, outcome }) => ({
      line: { eventId: stored.event.eventId, contentHash: stored.contentHash, stored },
      outcome,
    })),
  );
  if (!version || version.stored.expiresAt <= nowSeconds) return undefined;
  return { stored: version.stored, standIn: lines.every(({ outcome }) => outcome !== undefined) };
}

/** The same archived line: same object, same content, same place in time. */
function sameLine(a: StoredEvent, b: StoredEvent): boolean {
  return (
    a.archiveKey === b.archiveKey && a.contentHash === b.contentHash && timeOrderKey(a) === timeOrderKey(b)
  );
}

/** Reads lines back and pairs each with its outcome, fetching the outcome records not yet known. */
async function withOutcomes(
  rows: readonly ArchiveRow[],
  outcomes: OutcomeReader,
  known: Map<string, readonly ArchiveLineOutcome[]>,
): Promise<ArchivedLine[]> {
  const read = rows.map((row) => storedEventFromArchiveLine(row.line, archiveKeyOfPath(row.path)));
  const missing = [...new Set(read.map((stored) => stored.archiveKey))].filter((key) => !known.has(key));
  if (missing.length > 0) {
    const fetched = await outcomes(missing);
    for (const key of missing) known.set(key, fetched.get(key) ?? []);
  }
  return read.map((stored) => ({
    stored,
    outcome: known
      .get(stored.archiveKey)
      ?.find(
        (outcome) => outcome.eventId === stored.event.eventId && outcome.contentHash === stored.contentHash,
      ),
  }));
}

/** Rows are read in batches of this many before their outcome records are fetched together. */
const ROWS_PER_BATCH = 200;

/** Every archived line of these events, whatever their time (`archiveLinesOfEventsSql`). */
export type LinesOfEvents = (events: readonly ArchivedEventKey[]) => AsyncIterable<ArchiveRow>;

/**
 * One page of `query` from the rows of `archivePageSql`, in its order: the lines of one event (same time,
 * same eventId) are adjacent, so each event is decided as soon as its lines are read; the rows are read
 * only until the page has `limit` events and the one after it (which says more follow). The one case the
 * page's rows cannot decide, an `unconfirmed` line standing in when another version of its event may be
 * confirmed at another time (a failed request, sent again changed), is checked against every line of
 * that event with `linesOfEvents`: one more query, only then.
 */
export async function archivePage(
  rows: AsyncIterable<ArchiveRow>,
  outcomes: OutcomeReader,
  query: EventQuery,
  linesOfEvents: LinesOfEvents,
): Promise<EventPage> {
  const known = new Map<string, readonly ArchiveLineOutcome[]>();
  let items: StoredEvent[] = [];
  const standIns: StoredEvent[] = [];
  let lastDecided: string | undefined;
  let group: ArchivedLine[] = [];
  const decide = (): void => {
    const version = indexedVersion(group, query.nowSeconds);
    lastDecided = group[0] ? timeOrderKey(group[0].stored) : lastDecided;
    group = [];
    if (version === undefined) return;
    if (query.onlyViolations !== undefined && !hasViolation(version.stored, query.onlyViolations)) return;
    items.push(version.stored);
    if (version.standIn) standIns.push(version.stored);
  };
  const enough = (): boolean => items.length > query.limit;
  let batch: ArchiveRow[] = [];
  const flush = async (): Promise<void> => {
    for (const line of await withOutcomes(batch, outcomes, known)) {
      const last = group.at(-1);
      if (last && timeOrderKey(last.stored) !== timeOrderKey(line.stored)) decide();
      if (enough()) break;
      group.push(line);
    }
    batch = [];
  };
  for await (const row of rows) {
    batch.push(row);
    if (batch.length >= ROWS_PER_BATCH) await flush();
    if (enough()) break;
  }
  if (!enough()) await flush();
  if (!enough() && group.length > 0) decide();
  // The page has its extra item: more follow (even if the check below takes some away).
  const stoppedEarly = enough();
  if (standIns.length > 0) {
    const rejected = await rejectedStandIns(standIns, linesOfEvents, outcomes, known, query.nowSeconds);
    items = items.filter((stored) => !rejected.has(stored));
  }
  const page = items.slice(0, query.limit);
  const more = stoppedEarly || items.length > query.limit;
  // A page emptied by the check still moves on: from the last event it decided.
  const position = page.at(-1) ? timeOrderKey(page.at(-1) as StoredEvent) : lastDecided;
  return { items: page, ...(more && position ? { after: position } : {}) };
}

/** The stand-ins that all the lines of their event do not make its version. */
async function rejectedStandIns(
  standIns: readonly StoredEvent[],
  linesOfEvents: LinesOfEvents,
  outcomes: OutcomeReader,
  known: Map<string, readonly ArchiveLineOutcome[]>,
  nowSeconds: number,
): Promise<Set<StoredEvent>> {
  // Every line of an event was received about when its first one was, or later (a retry): from the day
  // before the stand-in's arrival on.
  const keys = standIns.map((stored) => ({
    workflowId: stored.event.workflowId,
    eventId: stored.event.eventId,
    occurredAtMs: Math.min(stored.occurredAtMs, Date.parse(stored.receivedAt) - 86_400_000),
  }));
  const collected: ArchiveRow[] = [];
  for await (const row of linesOfEvents(keys)) collected.push(row);
  const byEvent = groupByEvent(await withOutcomes(collected, outcomes, known));
  return new Set(
    standIns.filter((stored) => {
      const version = indexedVersion(byEvent.get(eventKeyString(stored.event)) ?? [], nowSeconds);
      return !version || !sameLine(version.stored, stored);
    }),
  );
}

function groupByEvent(lines: readonly ArchivedLine[]): Map<string, ArchivedLine[]> {
  const byEvent = new Map<string, ArchivedLine[]>();
  for (const line of lines) {
    const key = eventKeyString(line.stored.event);
    const group = byEvent.get(key);
    if (group) group.push(line);
    else byEvent.set(key, [line]);
  }
  return byEvent;
}

/** The content hash of the index's version of each archived event among `rows`, keyed by `eventKeyString`. */
export async function archivedContentHashes(
  rows: AsyncIterable<ArchiveRow>,
  outcomes: OutcomeReader,
  nowSeconds: number,
): Promise<Map<string, string>> {
  const collected: ArchiveRow[] = [];
  for await (const row of rows) collected.push(row);
  const byEvent = groupByEvent(await withOutcomes(collected, outcomes, new Map()));
  const hashes = new Map<string, string>();
  for (const [key, lines] of byEvent) {
    const version = indexedVersion(lines, nowSeconds);
    if (version) hashes.set(key, version.stored.contentHash);
  }
  return hashes;
}
