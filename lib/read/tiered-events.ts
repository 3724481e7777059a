import { toUtcIso } from '#lib/events/timestamps.ts';
import {
  type ArchivedEvents,
  type EventIndex,
  type EventPage,
  type EventQuery,
  type EventRange,
  type StoredEvent,
  selectedTimeRange,
  timeOrderKey,
} from '#lib/ports.ts';
import { hotFloorMs } from '#lib/storage/ledger-table.ts';
import { mergeByKey, take } from '#lib/util/async-iterables.ts';

/** The archive read as events, with the hot window that says where the index stops holding every event. */
export interface ArchiveTier {
  readonly events: ArchivedEvents;
  /** Days an event stays in the index after it arrives (lib/storage/ledger-table.ts). */
  readonly hotIndexDays: number;
}

export interface TieredEventsDependencies {
  readonly index: EventIndex;
  readonly archive: ArchivedEvents;
  /** Days an event stays in the index after it arrives (lib/storage/ledger-table.ts). */
  readonly hotIndexDays: number;
}

/** The index and an archive tier, as the tiered reads take them. */
export function overTiers(index: EventIndex, tier: ArchiveTier): TieredEventsDependencies {
  return { index, archive: tier.events, hotIndexDays: tier.hotIndexDays };
}

/**
 * One page of a time-ordered read over both tiers (issue 12): from the hot floor on the index holds every
 * event, so that part is the index's read, unchanged; before it only the archive is complete, so that part
 * is the archive merged with what the index still holds there (rollback events, recent backfills), each
 * event once and the index's item where both have it. One time order and one cursor (the last item's
 * `timeOrderKey`) across both. A read that starts at or after the floor never touches the archive, whose
 * every query is billed.
 */
export async function tieredEventPage(
  query: EventQuery,
  nowMs: number,
  deps: TieredEventsDependencies,
): Promise<EventPage> {
  const floorMs = hotFloorMs(nowMs, deps.hotIndexDays);
  // Keys before the floor's bare timestamp are the cold part's; a cursor at or past it has left that part.
  const floorKey = toUtcIso(floorMs);
  const { fromMs, toMs } = selectedTimeRange(query);
  if (fromMs >= floorMs || (query.after !== undefined && query.after >= floorKey)) {
    return deps.index.query(query);
  }

  const pageSize = query.limit + 1;
  const cold: EventQuery = { ...query, toMs: Math.min(toMs, floorMs), limit: pageSize };
  const merged = mergeByKey(
    // The index first: where both hold an event (one time-order key), its item is the one kept.
    [
      pages((after) => deps.index.query(at(cold, after)), query.after),
      pages((after) => deps.archive.query(at(cold, after)), query.after),
    ],
    timeOrderKey,
  );
  async function* coldThenHot(): AsyncGenerator<StoredEvent> {
    let lastEventId: string | undefined;
    for await (const stored of merged) {
      if (stored.event.eventId === lastEventId) continue;
      lastEventId = stored.event.eventId;
      yield stored;
    }
    if (toMs > floorMs) {
      const hot: EventQuery = { ...query, fromMs: floorMs, limit: pageSize };
      yield* pages((after) => deps.index.query(at(hot, after)), undefined);
    }
  }
  const items = await take(coldThenHot(), pageSize);
  const page = items.slice(0, query.limit);
  const last = page.at(-1);
  return { items: page, ...(items.length > query.limit && last ? { after: timeOrderKey(last) } : {}) };
}

/** Events per page of a range's part before the hot floor: each page is one archive query. */
const COLD_RANGE_PAGE = 10_000;

/**
 * Every event of a range over both tiers, in no particular order (as `EventIndex.eventsInRange`): the part
 * from the hot floor on is the index's range read, unchanged; the part before it is `tieredEventPage`'s,
 * page after page. For the jobs that read a period longer than the hot window (the quarterly review).
 */
export async function* tieredEventsInRange(
  range: EventRange,
  nowMs: number,
  deps: TieredEventsDependencies,
): AsyncGenerator<StoredEvent> {
  const floorMs = hotFloorMs(nowMs, deps.hotIndexDays);
  if (range.fromMs < floorMs) {
    const cold: EventQuery = { ...range, toMs: Math.min(range.toMs, floorMs), limit: COLD_RANGE_PAGE };
    yield* pages((after) => tieredEventPage(at(cold, after), nowMs, deps), undefined);
  }
  if (range.toMs > floorMs)
    yield* deps.index.eventsInRange({ ...range, fromMs: Math.max(range.fromMs, floorMs) });
}

/** The query from a position on (or from its start when there is none). */
function at(query: EventQuery, after: string | undefined): EventQuery {
  const { after: _, ...rest } = query;
  return after === undefined ? rest : { ...rest, after };
}

/** A paged read as one stream of items: the next page is read only when the last one is used up. */
async function* pages(
  read: (after: string | undefined) => Promise<EventPage>,
  after: string | undefined,
): AsyncGenerator<StoredEvent> {
  let position = after;
  for (;;) {
    const page = await read(position);
    yield* page.items;
    if (page.after === undefined) return;
    position = page.after;
  }
}
