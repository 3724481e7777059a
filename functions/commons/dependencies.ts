import { loadActorHashKey } from '#lib/adapters/actor-key-source.ts';
import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import type { IngestDependencies } from '#lib/ingest/ingest-events.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { hotIndexDaysFrom } from '#lib/storage/ledger-table.ts';
import { archivedEventsFromEnvironment } from './archived-events.ts';
import { registryFromEnvironment } from './registry.ts';
import { archiveFromEnvironment, type LedgerTable } from './stores.ts';
import type { WorkflowRouteDependencies } from './workflow-route.ts';

/** The dependencies several functions share, wired from the environment once per cold start. */

/**
 * What every route on one workflow is wired with: the grants of SigV4 callers, the deployed registry (read
 * per request) and the clock. Each handler adds the stores its use case reads.
 */
export function workflowRouteFromEnvironment(table: LedgerTable): WorkflowRouteDependencies {
  return {
    grants: new DynamoDbAccessStore(table.documents, table.tableName),
    registry: registryFromEnvironment(),
    clock: () => new Date(),
  };
}

/**
 * What writing events to the ledger needs, for both functions that do (ingest, and the flip recorder's
 * `rollback` events): the index, the archive (and its reader, for idempotency past the hot window), the
 * deployed registry (read per request) and the actor-hash key, loaded once per cold start.
 */
export async function ingestFromEnvironment(table: LedgerTable): Promise<
  Omit<IngestDependencies, 'registry' | 'archivedEvents' | 'hotIndexDays'> &
    Required<Pick<IngestDependencies, 'archivedEvents' | 'hotIndexDays'>> & {
      readonly registry: RegistrySource;
    }
> {
  return {
    index: new DynamoDbEventIndex(table.documents, table.tableName),
    archive: archiveFromEnvironment(),
    // Its engine (Athena) is imported by the first request with an event from before the hot window.
    archivedEvents: archivedEventsFromEnvironment(),
    registry: registryFromEnvironment(),
    hasher: new ActorHasher(await loadActorHashKey()),
    clock: () => new Date(),
    hotIndexDays: hotIndexDaysFrom(process.env[FUNCTION_ENV.hotIndexDays]),
  };
}
