/**
 * The ledger table's design, the one source of truth for the CDK stack and the local stack.
 *
 * Items (single table):
 * - event:   pk `EVT#<workflowId>#<eventId>`, sk `EVT`. One partition per event, so idempotency checks
 *            (conditional put) never contend, whatever one workflow's rate.
 *            gsi1 (time order): `WF#<workflowId>#<shard>` / `<occurredAt UTC>#<eventId>`; the shard is a
 *            hash of the eventId over EVENT_TIME_SHARDS, so 1,000 events/s of one workflow spread over
 *            16 partitions (~62 writes/s each, far below the 1,000 WCU per partition limit).
 *            gsi2 (per unit): `UNIT#<workflowId>#<unitId>` / gsi1sk (the same time-order key).
 *            The item holds the body and what the ledger added; gsi1 projects it all (the jobs read whole
 *            weeks through it), gsi2 only the attributes reads filter on (a unit's read takes the bodies
 *            from the table by BatchGet). It lives for the hot window (`indexExpiresAt`): the archive is
 *            the system of record for the retention.
 * - token:   pk `TOKEN#<tokenId>`, sk `TOKEN`: a bearer token's SHA-256 hash and its workflows.
 * - grant:   pk `PRINCIPAL#<iam principal>`, sk `GRANT`: the workflows an IAM caller may touch.
 * - postmortem: pk `POSTMORTEM#<incidentId>`, sk `POSTMORTEM`: an incident's no-blame postmortem, rewritten
 *            in place with a `version` (lib/adapters/dynamodb-postmortem-store.ts). No `expiresAt`: kept.
 * - hold:    pk `HOLDS`, sk `<workflowId>#<kind>#<targetId>`: a legal hold (lib/holds/holds.ts), kind `unit`,
 *            `reviewed`, `rollback`, `rollbacks` (targetId `all`) or `eval-set`; its status (`applying`,
 *            `active`, `released`), who held it, when and why (and who released it, when and why), and how
 *            many events and archive objects it covers. Holds are few, so one partition lists them all.
 * - hold member: pk `HOLD#<workflowId>#<kind>#<targetId>`, sk `EVT#<eventId>` (the TTL the event's index
 *            item gets back on release, and whether the index still had it) or `OBJ#<archive key>` (an
 *            object under S3 legal hold for it). Deleted on release. Held event items have no `expiresAt`
 *            while any hold covers them. No hold item has an `expiresAt`: kept.
 */

export type KeyType = 'S' | 'N' | 'B';
export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}
/** What an index keeps of each item beside the keys (the table's and its own). */
export type IndexProjection =
  | { readonly type: 'ALL' }
  | { readonly type: 'KEYS_ONLY' }
  | { readonly type: 'INCLUDE'; readonly attributes: readonly string[] };
export interface GlobalIndexDesign {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly projection: IndexProjection;
}
export interface TableDesign {
  readonly logicalName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly globalIndexes: readonly GlobalIndexDesign[];
  readonly timeToLiveAttribute: string;
}

/**
 * The event attributes a read filters on (type, TTL, the violation marks): what an index needs beside its
 * keys to answer a filtered Query; the read then takes each body from the table (BatchGet).
 */
export const EVENT_FILTER_ATTRIBUTES: readonly string[] = [
  'type',
  'expiresAt',
  'killSwitchViolation',
  'boundaryViolations',
  'rolloutPhaseViolation',
  'unlistedTools',
];

export const ledgerTableDesign: TableDesign = {
  logicalName: 'ledger',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [
    {
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
      projection: { type: 'ALL' },
    },
    {
      indexName: 'gsi2',
      partitionKey: { name: 'gsi2pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
      projection: { type: 'INCLUDE', attributes: EVENT_FILTER_ATTRIBUTES },
    },
  ],
  timeToLiveAttribute: 'expiresAt',
};

export const EVENT_TIME_SHARDS = 16;

/**
 * The hot window (issue 12): days an event stays in the index after the ledger received it. The archive
 * is the system of record for the whole retention; the index is what the jobs and the console read fast.
 * 45 days covers the KPI job's recompute (the last 4 complete weeks, so events up to 5 weeks old) plus ten
 * days of review latency, and the monthly review's month.
 */
export const DEFAULT_HOT_INDEX_DAYS = 45;
export const MIN_HOT_INDEX_DAYS = 1;
export const MAX_HOT_INDEX_DAYS = 750;

/**
 * Event types the index keeps for their whole retention, not just the hot window: few, and read from the
 * beginning of time (every kill-switch flip is the lane history each ingest request checks against).
 */
export const RETAINED_IN_INDEX_TYPES: readonly string[] = ['rollback'];

/** Events may be stamped this far ahead of their arrival (SPEC "Ingest": 5 minutes). */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** Epoch seconds at which the index drops an event (its TTL): the end of the hot window, or of its retention. */
export function indexExpiresAt(input: {
  readonly type: string;
  readonly receivedAtMs: number;
  /** Epoch seconds at which the event's retention ends (its archive object expires). */
  readonly retentionExpiresAt: number;
  readonly hotIndexDays: number;
}): number {
  if (RETAINED_IN_INDEX_TYPES.includes(input.type)) return input.retentionExpiresAt;
  const hotEnd = Math.floor(input.receivedAtMs / 1000) + input.hotIndexDays * 86_400;
  return Math.min(hotEnd, input.retentionExpiresAt);
}

/**
 * The earliest `occurredAt` (epoch ms) from which the index holds every event there is, at `nowMs`: an
 * event that occurred then arrived at most 5 minutes before, so its hot window has not yet ended. Before
 * this instant only the archive is complete.
 */
export function hotFloorMs(nowMs: number, hotIndexDays: number): number {
  return nowMs - hotIndexDays * 86_400_000 + MAX_FUTURE_SKEW_MS;
}

/** The hot window a function runs with: `LEDGER_HOT_INDEX_DAYS`, else the default. */
export function hotIndexDaysFrom(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_HOT_INDEX_DAYS;
  const days = Number(value);
  if (!Number.isInteger(days) || days < MIN_HOT_INDEX_DAYS || days > MAX_HOT_INDEX_DAYS) {
    throw new Error(
      `LEDGER_HOT_INDEX_DAYS must be a whole number of days from ${MIN_HOT_INDEX_DAYS} to ${MAX_HOT_INDEX_DAYS}, not '${value}'`,
    );
  }
  return days;
}

/**
 * The index TTL an event gets back when its last hold is removed: what it would have been without the hold,
 * or now when that has passed, so TTL takes the entry soon after (DynamoDB's TTL ignores times more than
 * five years past, which a long hold could reach).
 */
export function restoredIndexExpiresAt(unheldExpiresAt: number, nowSeconds: number): number {
  return Math.max(unheldExpiresAt, nowSeconds);
}

/** Legal holds (lib/holds/holds.ts): the hold's record, in the one partition that lists them all. */
export const HOLDS_PARTITION = 'HOLDS';

/** The partition of a hold's members (the events and archive objects it covers). */
export function holdMembersPartitionKey(target: {
  workflowId: string;
  kind: string;
  targetId: string;
}): string {
  return `HOLD#${target.workflowId}#${target.kind}#${target.targetId}`;
}
