import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type Documents, isConditionalCheckFailed } from '#lib/adapters/documents.ts';
import { eventItemKey, toEventItem } from '#lib/adapters/dynamodb-event-index.ts';
import { sendUntilProcessed } from '#lib/adapters/dynamodb-pages.ts';
import { archiveLine } from '#lib/adapters/s3-event-archive.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { contentHash } from '#lib/events/canonical.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import type { StoredEvent } from '#lib/ports.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { archiveObjectKey, expirationDaysFor } from '#lib/storage/archive-bucket.ts';
import { mapWithConcurrency } from '#lib/util/concurrency.ts';
import type { BenchBatch } from './events.ts';

/**
 * The floor: what one ingest request must at least cost the stores, with no HTTP, auth, validation or
 * hashing in the clock. Per batch, exactly what the adapters send: one BatchGetItem of the batch's keys
 * (projection workflowId, eventId, contentHash), one gzip NDJSON PutObject, then one conditional
 * PutItem per event (`attribute_not_exists(pk)`, ALL_OLD on failure) with the adapter's per-request
 * concurrency. Batches run `concurrency` at a time, like the API run's requests.
 */

const gzipAsync = promisify(gzip);

export interface PreparedBatch {
  readonly archiveKey: string;
  readonly stored: readonly StoredEvent[];
}

/** What the ingest use case derives before it writes (pseudonyms, content hash, keys), done off the clock. */
export function prepareBatches(
  batches: readonly BenchBatch[],
  actorHashKey: Buffer,
  now: Date,
): PreparedBatch[] {
  const hasher = new ActorHasher(actorHashKey);
  return batches.map((batch) => {
    const workflow = defaultRegistry.get(batch.workflowId);
    if (!workflow) throw new Error(`workflow ${batch.workflowId} is not in the registry`);
    const requestId = `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
    const archiveKey = archiveObjectKey({
      retentionMonths: workflow.retentionMonths,
      workflowId: batch.workflowId,
      receivedAt: now,
      requestId,
    });
    const stored = batch.events.map((raw): StoredEvent => {
      const event = hasher.pseudonymize(raw as unknown as LedgerEvent);
      return {
        event,
        occurredAtMs: parseRfc3339(event.occurredAt) ?? now.getTime(),
        receivedAt: now.toISOString(),
        contentHash: contentHash(event),
        expiresAt: Math.floor(now.getTime() / 1000) + expirationDaysFor(workflow.retentionMonths) * 86_400,
        archiveKey,
      };
    });
    return { archiveKey, stored };
  });
}

export interface FloorRunResult {
  readonly concurrency: number;
  readonly putConcurrency: number;
  readonly batches: number;
  readonly events: number;
  readonly wallMs: number;
  readonly batchLatenciesMs: number[];
}

export async function runFloor(options: {
  documents: Documents;
  s3: S3Client;
  tableName: string;
  bucketName: string;
  prepared: readonly PreparedBatch[];
  concurrency: number;
  putConcurrency: number;
}): Promise<FloorRunResult> {
  const { documents, s3, tableName, bucketName } = options;

  const oneBatch = async (batch: PreparedBatch): Promise<void> => {
    // 1. The duplicate check: one BatchGetItem of (up to) 100 keys, retrying unprocessed keys.
    await sendUntilProcessed(
      batch.stored.map(({ event }) => eventItemKey(event)),
      async (pending: Record<string, unknown>[]) => {
        const response = await documents.batchGet({
          RequestItems: {
            [tableName]: { Keys: pending, ProjectionExpression: 'pk, contentHash', ConsistentRead: true },
          },
        });
        const found = response.Responses?.[tableName]?.length ?? 0;
        if (found > 0) throw new Error(`floor: ${found} fresh eventIds already exist in the table`);
        return response.UnprocessedKeys?.[tableName]?.Keys ?? [];
      },
    );
    // 2. The archive object: gzip NDJSON, one per batch.
    const ndjson = `${batch.stored.map(archiveLine).join('\n')}\n`;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucketName,
        Key: batch.archiveKey,
        Body: await gzipAsync(ndjson),
        ContentType: 'application/gzip',
      }),
    );
    // 3. The index: one conditional PutItem per event.
    await mapWithConcurrency(batch.stored, options.putConcurrency, async (stored) => {
      try {
        await documents.put({
          TableName: tableName,
          Item: toEventItem(stored),
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        });
      } catch (error) {
        if (isConditionalCheckFailed(error)) {
          throw new Error(`floor: event ${stored.event.eventId} already existed`);
        }
        throw error;
      }
    });
  };

  const batchLatenciesMs = new Array<number>(options.prepared.length);
  const started = performance.now();
  await mapWithConcurrency(options.prepared, options.concurrency, async (batch, index) => {
    const t0 = performance.now();
    await oneBatch(batch);
    batchLatenciesMs[index] = performance.now() - t0;
  });
  const wallMs = performance.now() - started;
  return {
    concurrency: options.concurrency,
    putConcurrency: options.putConcurrency,
    batches: options.prepared.length,
    events: options.prepared.reduce((sum, batch) => sum + batch.stored.length, 0),
    wallMs,
    batchLatenciesMs,
  };
}
