import { runSk } from '#lib/adapters/dynamodb-eval-store.ts';
import { archiveLine, storedEventFromArchiveLine } from '#lib/adapters/s3-event-archive.ts';
import type { AccessGrant, GrantStore, TokenRecord, TokenStore } from '#lib/auth/tokens.ts';
import type { EvalRun, EvalSet } from '#lib/evals/schema.ts';
import {
  EvalRunConflictError,
  type EvalSetSummary,
  EvalSetVersionTakenError,
  type EvalStore,
  type PutRunOutcome,
} from '#lib/evals/store.ts';
import type { EventType } from '#lib/events/schema.ts';
import type {
  ArchivedEventLine,
  ArchiveHolds,
  HeldEvent,
  Hold,
  HoldMembers,
  HoldStore,
  HoldTarget,
  IndexRetention,
} from '#lib/holds/holds.ts';
import type { Postmortem, PostmortemContent, PostmortemStore } from '#lib/incidents/postmortem.ts';
import type { DrillRecord, DrillStore } from '#lib/kill-switch/drills.ts';
import type { FeatureFlagDocument, FlagValues } from '#lib/kill-switch/flag-document.ts';
import type { FlagChange, FlagReader, FlagSnapshot, FlagWriter, FlipResult } from '#lib/kill-switch/ports.ts';
import type { KpiStore } from '#lib/kpi/job.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import {
  type ArchiveLineOutcome,
  type EventArchive,
  type EventIndex,
  type EventKey,
  type EventPage,
  type EventQuery,
  type EventRange,
  type EventSelection,
  eventKeyString,
  hasViolation,
  type PutOutcome,
  type StoredEvent,
  type StoredEventOf,
  selectedTimeRange,
  timeOrderKey,
} from '#lib/ports.ts';
import type { PriceStore, PriceTable } from '#lib/pricing/price-table.ts';
import type { ReviewItem, ReviewQueue } from '#lib/reviews/queue.ts';
import { archiveOutcomeKey } from '#lib/storage/archive-bucket.ts';

/**
 * The event index over a plain map, keeping every promise of the port (lib/ports.ts) that the DynamoDB
 * adapter keeps: the contract suite (test/support/contracts/event-index.contract.ts) runs against both.
 */
export class InMemoryEventIndex implements EventIndex {
  readonly items = new Map<string, StoredEvent>();
  failNextPut = false;

  async findContentHashes(keys: readonly EventKey[]) {
    const found = new Map<string, string>();
    for (const key of keys) {
      const stored = this.items.get(eventKeyString(key));
      if (stored) found.set(eventKeyString(key), stored.contentHash);
    }
    return found;
  }

  async putIfAbsent(events: readonly StoredEvent[]): Promise<PutOutcome[]> {
    if (this.failNextPut) {
      this.failNextPut = false;
      throw new Error('simulated DynamoDB outage');
    }
    return this.add(...events);
  }

  /** Stores events as `putIfAbsent` does, at once: for a test's Prepare step. */
  add(...events: StoredEvent[]): PutOutcome[] {
    return events.map((stored) => {
      const key = eventKeyString(stored.event);
      const existing = this.items.get(key);
      if (existing) return { status: 'exists', existingContentHash: existing.contentHash };
      this.items.set(key, stored);
      return { status: 'written' };
    });
  }

  /** Insertion order: a fixed order that is not time order, as the port allows. */
  async *eventsInRange(range: EventRange): AsyncGenerator<StoredEvent> {
    for (const stored of [...this.items.values()]) if (selects(range, stored)) yield stored;
  }

  async *events<T extends EventType>(selection: EventSelection<T>): AsyncGenerator<StoredEventOf<T>> {
    // Selected by `type`, so each is a StoredEventOf<T>.
    yield* this.#selected(selection) as StoredEventOf<T>[];
  }

  async query(query: EventQuery): Promise<EventPage> {
    const after = query.after;
    const selected = this.#selected(query).filter(
      (stored) => after === undefined || timeOrderKey(stored) > after,
    );
    const items = selected.slice(0, query.limit);
    const last = items.at(-1);
    return {
      items,
      ...(selected.length > query.limit && last ? { after: timeOrderKey(last) } : {}),
    };
  }

  #selected(selection: EventSelection): StoredEvent[] {
    return [...this.items.values()]
      .filter((stored) => selects(selection, stored))
      .map((stored) => ({ stored, key: timeOrderKey(stored) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ stored }) => stored);
  }
}

/** Whether a selection (lib/ports.ts `EventSelection`) takes this stored event. */
function selects(selection: EventSelection, stored: StoredEvent): boolean {
  const { event } = stored;
  const { fromMs, toMs } = selectedTimeRange(selection);
  return (
    event.workflowId === selection.workflowId &&
    stored.occurredAtMs >= fromMs &&
    stored.occurredAtMs < toMs &&
    stored.expiresAt > selection.nowSeconds &&
    (selection.unitId === undefined || event.unitId === selection.unitId) &&
    (selection.type === undefined || event.type === selection.type) &&
    (selection.onlyViolations === undefined || hasViolation(stored, selection.onlyViolations))
  );
}

export class InMemoryEventArchive implements EventArchive {
  readonly objects = new Map<string, StoredEvent[]>();
  /** Per archive key, the lines of it that are not the index's version. */
  readonly outcomes = new Map<string, ArchiveLineOutcome[]>();
  failNextPut = false;

  async putBatch(key: string, events: readonly StoredEvent[]): Promise<void> {
    if (this.failNextPut) {
      this.failNextPut = false;
      throw new Error('simulated S3 outage');
    }
    this.objects.set(key, [...events]);
  }

  async putOutcome(key: string, lines: readonly ArchiveLineOutcome[]): Promise<void> {
    this.outcomes.set(key, [...lines]);
  }

  /** Per key, the raw OTLP request kept there. */
  readonly rawSpans = new Map<string, object>();

  async putRawSpans(key: string, request: object): Promise<void> {
    this.rawSpans.set(key, request);
  }
}

/** The review queue over a map, as the DynamoDB adapter keeps it: by unit ID, first enqueue stands. */
export class InMemoryReviewQueue implements ReviewQueue {
  readonly items = new Map<string, ReviewItem>();
  /** Every list query asked, for tests of what the domain asks. */
  readonly queries: Parameters<ReviewQueue['list']>[0][] = [];

  async enqueue(item: Parameters<ReviewQueue['enqueue']>[0]): Promise<void> {
    const key = `${item.workflowId}#${item.unitId}`;
    if (!this.items.has(key)) this.items.set(key, { ...item, status: 'pending' });
  }

  async close(review: Parameters<ReviewQueue['close']>[0]): Promise<void> {
    const key = `${review.workflowId}#${review.unitId}`;
    const item = this.items.get(key);
    if (!item) return;
    const { workflowId: _w, unitId: _u, ...verdict } = review;
    this.items.set(key, { ...item, ...verdict, status: 'reviewed' });
  }

  async list(query: Parameters<ReviewQueue['list']>[0]) {
    this.queries.push(query);
    const after = query.after;
    const matching = [...this.items.values()]
      .filter(
        (item) =>
          item.workflowId === query.workflowId &&
          item.status === query.status &&
          (query.lane === undefined || item.lane === query.lane) &&
          (after === undefined || item.unitId > after),
      )
      .sort((a, b) => compareStrings(a.unitId, b.unitId));
    const items = matching.slice(0, query.limit);
    return matching.length > query.limit ? { items, after: items.at(-1)?.unitId } : { items };
  }
}

/** The eval store over lists, as the DynamoDB adapter keeps it: sets and runs are per workflow and set. */
export class InMemoryEvalStore implements EvalStore {
  readonly sets: EvalSet[] = [];
  readonly runs: EvalRun[] = [];
  /** Versions another writer takes just before this one, to exercise the retry. */
  readonly racing: EvalSet[] = [];

  async putSet(set: EvalSet): Promise<void> {
    const rival = this.racing.shift();
    if (rival) this.sets.push(rival);
    const taken = this.sets.some(
      (s) => s.workflowId === set.workflowId && s.name === set.name && s.version === set.version,
    );
    if (taken) throw new EvalSetVersionTakenError(set.workflowId, set.name, set.version);
    this.sets.push(set);
  }

  async getSet(workflowId: string, name: string, version?: number) {
    return this.sets
      .filter((s) => s.workflowId === workflowId && s.name === name)
      .filter((s) => version === undefined || s.version === version)
      .sort((a, b) => b.version - a.version)[0];
  }

  async listSets(workflowId: string): Promise<EvalSetSummary[]> {
    const names = [...new Set(this.sets.filter((s) => s.workflowId === workflowId).map((s) => s.name))];
    return Promise.all(
      names.sort(compareStrings).map(async (name) => {
        const set = (await this.getSet(workflowId, name)) as EvalSet;
        return {
          workflowId,
          name,
          latestVersion: set.version,
          caseCount: set.cases.length,
          registeredAt: set.registeredAt,
          registeredBy: set.registeredBy,
        };
      }),
    );
  }

  async putRun(run: EvalRun): Promise<PutRunOutcome> {
    const existing = this.runs.find(
      (r) => r.workflowId === run.workflowId && r.evalSet === run.evalSet && r.runId === run.runId,
    );
    if (existing) {
      if (JSON.stringify(existing) === JSON.stringify(run)) return 'duplicate';
      throw new EvalRunConflictError(run, existing.ranAt);
    }
    this.runs.push(run);
    return 'stored';
  }

  /** Newest first by the run's UTC time, then by run ID, as the adapter's sort key orders them. */
  async listRuns(workflowId: string, name: string, limit: number) {
    return this.runs
      .filter((r) => r.workflowId === workflowId && r.evalSet === name)
      .sort((a, b) => compareStrings(runSk(b), runSk(a)))
      .slice(0, limit);
  }
}

/** Tokens and IAM grants over maps, as the DynamoDB adapter keeps them. */
export class InMemoryAccessStore implements TokenStore, GrantStore {
  readonly tokens = new Map<string, TokenRecord>();
  readonly grants = new Map<string, AccessGrant>();

  async putToken(record: TokenRecord) {
    this.tokens.set(record.tokenId, record);
  }
  async getToken(tokenId: string) {
    return this.tokens.get(tokenId);
  }
  async deleteToken(tokenId: string) {
    return this.tokens.delete(tokenId);
  }
  /** Oldest first, as the adapter sorts them. */
  async listTokens() {
    return [...this.tokens.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
  async putGrant(grant: AccessGrant) {
    this.grants.set(grant.principal, grant);
  }
  async getGrant(principal: string) {
    return this.grants.get(principal);
  }
  async deleteGrant(principal: string) {
    return this.grants.delete(principal);
  }
}

/** KPI records and price tables over maps, as the DynamoDB adapter keeps them. */
export class InMemoryKpiStore implements KpiStore, PriceStore {
  readonly records = new Map<string, KpiRecord>();
  readonly tables = new Map<string, PriceTable>();

  async putRecord(record: KpiRecord): Promise<void> {
    this.records.set(`${record.workflowId}#${record.week}`, record);
  }
  async getRecord(workflowId: string, week: string) {
    return this.records.get(`${workflowId}#${week}`);
  }
  async putTable(table: PriceTable): Promise<void> {
    this.tables.set(table.effectiveFrom, table);
  }
  async listTables() {
    return [...this.tables.values()].sort((a, b) => compareStrings(a.effectiveFrom, b.effectiveFrom));
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Drill records in a list, read as the DynamoDB adapter reads them: a workflow's, newest first, `limit` of them. */
export class InMemoryDrillStore implements DrillStore {
  readonly records: DrillRecord[] = [];

  async putDrill(record: DrillRecord) {
    this.records.push(record);
  }
  async listDrills(workflowId: string, limit: number) {
    const key = (record: DrillRecord) => `${record.startedAt}#${record.drillId}`;
    return this.records
      .filter((record) => record.workflowId === workflowId)
      .sort((a, b) => key(b).localeCompare(key(a)))
      .slice(0, limit);
  }
}

/**
 * The kill switch's flags in memory, for the console's tests: what the writer sets, the reader reads at
 * once (AppConfig's deployment and poll are the integration tests' to show).
 */
export class InMemoryFlags implements FlagReader, FlagWriter {
  values: FlagValues;
  readonly flips: { flag: string; change: FlagChange }[] = [];

  constructor(flags: readonly string[]) {
    this.values = Object.fromEntries(flags.map((flag) => [flag, { enabled: true }]));
  }

  async read(): Promise<FlagSnapshot> {
    return { values: this.values, version: String(this.flips.length + 1) };
  }

  async setFlag(flag: string, change: FlagChange): Promise<FlipResult> {
    this.flips.push({ flag, change });
    this.values = { ...this.values, [flag]: { enabled: change.enabled } };
    const number = this.flips.length;
    return { deploymentNumber: number, configurationVersion: String(number + 1) };
  }

  async currentDocument(): Promise<FeatureFlagDocument> {
    throw new Error('the console does not read the hosted document');
  }

  async ensureFlags(): Promise<string[]> {
    throw new Error('the console does not add flags');
  }
}

/** Postmortems in a map, versioned on rewrite as the DynamoDB adapter versions them. */
export class InMemoryPostmortemStore implements PostmortemStore {
  readonly items = new Map<string, Postmortem>();

  async getPostmortem(incidentId: string) {
    return this.items.get(incidentId);
  }
  async putPostmortem(
    incidentId: string,
    content: PostmortemContent,
    by: { writtenBy: string; writtenAt: string },
  ) {
    const version = (this.items.get(incidentId)?.version ?? 0) + 1;
    const postmortem: Postmortem = { incidentId, ...content, ...by, version };
    this.items.set(incidentId, postmortem);
    return postmortem;
  }
}

/** Legal holds over maps, keyed as the DynamoDB adapter keys them. */
export class InMemoryHoldStore implements HoldStore {
  readonly holds = new Map<string, Hold>();
  readonly memberSets = new Map<string, { events: Map<string, HeldEvent>; objects: Set<string> }>();

  async get(target: HoldTarget): Promise<Hold | undefined> {
    return this.holds.get(holdKey(target));
  }

  async put(hold: Hold): Promise<void> {
    this.holds.set(holdKey(hold), hold);
  }

  async list(): Promise<Hold[]> {
    return [...this.holds.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, hold]) => hold);
  }

  async members(target: HoldTarget): Promise<HoldMembers> {
    const members = this.memberSets.get(holdKey(target));
    return { events: [...(members?.events.values() ?? [])], objects: [...(members?.objects ?? [])] };
  }

  async putMembers(target: HoldTarget, members: HoldMembers): Promise<void> {
    const key = holdKey(target);
    const kept = this.memberSets.get(key) ?? { events: new Map(), objects: new Set() };
    for (const event of members.events) kept.events.set(event.eventId, event);
    for (const object of members.objects) kept.objects.add(object);
    this.memberSets.set(key, kept);
  }

  async deleteMembers(target: HoldTarget): Promise<void> {
    this.memberSets.delete(holdKey(target));
  }
}

function holdKey(target: HoldTarget): string {
  return `${target.workflowId}#${target.kind}#${target.targetId}`;
}

/**
 * The index's TTL attribute per event key, as the DynamoDB adapter touches it: `undefined` is an item
 * without TTL (held); an absent key is an event the index does not have.
 */
export class InMemoryIndexRetention implements IndexRetention {
  readonly expiresAt = new Map<string, number | undefined>();

  async removeExpiry(key: EventKey, nowSeconds: number) {
    const id = eventKeyString(key);
    if (!this.expiresAt.has(id)) return { indexed: false as const };
    const old = this.expiresAt.get(id);
    if (old !== undefined && old <= nowSeconds) return { indexed: false as const };
    this.expiresAt.set(id, undefined);
    return old === undefined ? { indexed: true as const } : { indexed: true as const, expiresAt: old };
  }

  async restoreExpiry(key: EventKey, expiresAt: number): Promise<boolean> {
    const id = eventKeyString(key);
    if (!this.expiresAt.has(id)) return false;
    this.expiresAt.set(id, expiresAt);
    return true;
  }
}

/** The archive as holds read and lock it, over an InMemoryEventArchive's objects and outcomes. */
export class InMemoryArchiveHolds implements ArchiveHolds {
  /** Per object key, its legal hold status once one was put. */
  readonly legalHolds = new Map<string, 'ON' | 'OFF'>();

  constructor(private readonly archive: InMemoryEventArchive) {}

  async findLines(workflowId: string, matches: (line: ArchivedEventLine) => boolean) {
    const objectKeys = new Set<string>();
    const lines: ArchivedEventLine[] = [];
    for (const [key, events] of this.archive.objects) {
      if (!key.includes(`/workflow=${workflowId}/`)) continue;
      objectKeys.add(key);
      if (this.archive.outcomes.has(key)) objectKeys.add(archiveOutcomeKey(key));
      for (const stored of events) {
        const line = {
          eventId: stored.event.eventId,
          unitId: stored.event.unitId,
          type: stored.event.type,
          receivedAt: stored.receivedAt,
          archiveKey: key,
          retentionExpiresAt: storedEventFromArchiveLine(archiveLine(stored), key).expiresAt,
        };
        if (matches(line)) lines.push(line);
      }
    }
    return { lines, objectKeys };
  }

  async setLegalHold(key: string, on: boolean): Promise<void> {
    const exists =
      this.archive.objects.has(key) ||
      [...this.archive.outcomes.keys()].some((k) => archiveOutcomeKey(k) === key);
    if (!exists) throw Object.assign(new Error(`NoSuchKey: ${key}`), { name: 'NoSuchKey' });
    this.legalHolds.set(key, on ? 'ON' : 'OFF');
  }

  async legalHold(key: string): Promise<boolean> {
    return this.legalHolds.get(key) === 'ON';
  }
}
