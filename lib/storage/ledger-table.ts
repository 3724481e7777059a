/**
 * The ledger table's design, the one source of truth for the CDK stack and the local stack.
 *
 * Items (single table):
 * - event:   pk `EVT#<workflowId>#<eventId>`, sk `EVT`. One partition per event, so idempotency checks
 *            (conditional put) never contend, whatever one workflow's rate.
 *            gsi1 (time order): `WF#<workflowId>#<shard>` / `<occurredAt UTC>#<eventId>`; the shard is a
 *            hash of the eventId over EVENT_TIME_SHARDS, so 1,000 events/s of one workflow spread over
 *            16 partitions (~62 writes/s each, far below the 1,000 WCU per partition limit).
 *            gsi2 (per unit): `UNIT#<workflowId>#<unitId>` / `<occurredAt UTC>#<eventId>`.
 * - token:   pk `TOKEN#<tokenId>`, sk `TOKEN`: a bearer token's SHA-256 hash and its workflows.
 * - grant:   pk `PRINCIPAL#<iam principal>`, sk `GRANT`: the workflows an IAM caller may touch.
 * - postmortem: pk `POSTMORTEM#<incidentId>`, sk `POSTMORTEM`: an incident's no-blame postmortem, rewritten
 *            in place with a `version` (lib/adapters/dynamodb-postmortem-store.ts). No `expiresAt`: kept.
 */

export type KeyType = 'S' | 'N' | 'B';
export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}
export interface GlobalIndexDesign {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
}
export interface TableDesign {
  readonly logicalName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly globalIndexes: readonly GlobalIndexDesign[];
  readonly timeToLiveAttribute: string;
}

export const ledgerTableDesign: TableDesign = {
  logicalName: 'ledger',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [
    {
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
    },
    {
      indexName: 'gsi2',
      partitionKey: { name: 'gsi2pk', type: 'S' },
      sortKey: { name: 'gsi2sk', type: 'S' },
    },
  ],
  timeToLiveAttribute: 'expiresAt',
};

export const EVENT_TIME_SHARDS = 16;
