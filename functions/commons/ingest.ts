import { loadActorHashKey } from '#lib/adapters/actor-key-source.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import type { IngestDependencies } from '#lib/ingest/ingest-events.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { registryFromEnvironment } from './registry.ts';
import { archiveFromEnvironment, type ledgerTableFromEnvironment } from './stores.ts';

/**
 * What writing events to the ledger needs, for both functions that do (ingest, and the flip recorder's
 * `rollback` events): the index, the archive, the deployed registry (read per request) and the actor-hash
 * key, loaded once per cold start.
 */
export async function ingestFromEnvironment(
  table: ReturnType<typeof ledgerTableFromEnvironment>,
): Promise<Omit<IngestDependencies, 'registry'> & { readonly registry: RegistrySource }> {
  return {
    index: new DynamoDbEventIndex(table.documents, table.tableName),
    archive: archiveFromEnvironment(),
    registry: registryFromEnvironment(),
    hasher: new ActorHasher(await loadActorHashKey()),
    clock: () => new Date(),
  };
}
