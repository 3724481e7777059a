import { archiveLine } from '#lib/adapters/s3-event-archive.ts';
import {
  type ArchivedEventKey,
  type ArchivedEvents,
  type EventPage,
  type EventQuery,
  selectedTimeRange,
  timeOrderKey,
} from '#lib/ports.ts';
import {
  type ArchiveRow,
  archivedContentHashes,
  archivePage,
  earliestArchiveDay,
} from '#lib/read/archive-pages.ts';
import type { InMemoryEventArchive } from './in-memory-stores.ts';

/**
 * The archive read as events over an InMemoryEventArchive: what the SQL of lib/read/archive-pages.ts
 * selects (workflow, days, time range, position, unit, type; in time order) done in memory, and the rest
 * by the shared module itself. For unit tests of what uses the port; the engines have their own tests.
 */
export class InMemoryArchivedEvents implements ArchivedEvents {
  /** Every call, for tests that check the archive was (not) asked. */
  readonly calls: string[] = [];

  constructor(private readonly archive: InMemoryEventArchive) {}

  async query(query: EventQuery): Promise<EventPage> {
    this.calls.push('query');
    const { fromMs, toMs } = selectedTimeRange(query);
    const rows = this.#lines(query.workflowId, earliestArchiveDay(fromMs))
      .filter(({ stored }) => stored.occurredAtMs >= fromMs && stored.occurredAtMs < toMs)
      .filter(({ stored }) => query.after === undefined || timeOrderKey(stored) > query.after)
      .filter(({ stored }) => query.unitId === undefined || stored.event.unitId === query.unitId)
      .filter(({ stored }) => query.type === undefined || stored.event.type === query.type)
      .sort((a, b) => (timeOrderKey(a.stored) < timeOrderKey(b.stored) ? -1 : 1));
    return archivePage(iterate(rows.map(({ row }) => row)), this.#outcomes, query, (events) =>
      iterate(this.#linesOf(events)),
    );
  }

  async findContentHashes(events: readonly ArchivedEventKey[], nowSeconds: number) {
    this.calls.push('findContentHashes');
    return archivedContentHashes(iterate(this.#linesOf(events)), this.#outcomes, nowSeconds);
  }

  /** Every line of these events, whatever their time. */
  #linesOf(events: readonly ArchivedEventKey[]): ArchiveRow[] {
    const ids = new Set(events.map((event) => `${event.workflowId}#${event.eventId}`));
    return [...new Set(events.map((event) => event.workflowId))].flatMap((workflowId) =>
      this.#lines(workflowId, '0000-01-01')
        .filter(({ stored }) => ids.has(`${workflowId}#${stored.event.eventId}`))
        .map(({ row }) => row),
    );
  }

  #lines(workflowId: string, fromDay: string) {
    return [...this.archive.objects].flatMap(([key, events]) => {
      const day = /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1] ?? '';
      if (!key.includes(`/workflow=${workflowId}/`) || day < fromDay) return [];
      return events.map((stored) => ({
        stored,
        row: { path: `s3://archive-bucket/${key}`, line: archiveLine(stored) } satisfies ArchiveRow,
      }));
    });
  }

  readonly #outcomes = async (keys: readonly string[]) =>
    new Map(
      keys.flatMap((key) =>
        this.archive.outcomes.has(key) ? [[key, this.archive.outcomes.get(key) ?? []] as const] : [],
      ),
    );
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
