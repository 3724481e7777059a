import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { toEventItem } from '#lib/adapters/dynamodb-event-index.ts';
import { archiveLine } from '#lib/adapters/s3-event-archive.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { ingestEvents } from '#lib/ingest/ingest-events.ts';
import type { EventArchive, EventIndex } from '#lib/ports.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import type { BenchBatch } from './events.ts';
import { median, percentile } from './stats.ts';

/**
 * The ingest use case's own CPU per request, with no I/O: JSON.parse of the body, validation, actor
 * hashing, content hashes, then in-memory ports that still build the DynamoDB items (`toEventItem`)
 * and the gzip NDJSON archive object. What is left out is the SDK's request signing and serialization,
 * the HTTP server, and the stores themselves.
 */
export interface CpuResult {
  readonly requests: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  /** Events per second one core could validate and prepare at the median. */
  readonly eventsPerCoreSecond: number;
}

const gzipAsync = promisify(gzip);

export async function measureUseCaseCpu(batches: readonly BenchBatch[], warmup = 10): Promise<CpuResult> {
  const bodies = batches.map((batch) => JSON.stringify({ events: batch.events }));
  const index: EventIndex = {
    findContentHashes: async () => new Map(),
    putIfAbsent: async (events) =>
      events.map((stored) => {
        toEventItem(stored);
        return { status: 'written' as const };
      }),
    query: async () => ({ items: [] }),
    events: async function* () {},
    eventsInRange: async function* () {},
  };
  const archive: EventArchive = {
    putBatch: async (_key, events) => {
      await gzipAsync(`${events.map(archiveLine).join('\n')}\n`);
    },
    putOutcome: async () => {},
    putRawSpans: async (_key, request) => {
      await gzipAsync(JSON.stringify(request));
    },
  };
  const deps = {
    index,
    archive,
    registry: defaultRegistry,
    hasher: new ActorHasher(randomBytes(32)),
    clock: () => new Date(),
  };
  const caller = { principal: 'bench', workflows: '*' as const };
  const timings: number[] = [];
  for (const [i, body] of bodies.entries()) {
    const started = performance.now();
    const result = await ingestEvents(JSON.parse(body), caller, deps);
    const elapsed = performance.now() - started;
    if (result.accepted !== batches[i]?.events.length)
      throw new Error('cpu: the use case did not accept the batch');
    if (i >= warmup) timings.push(elapsed);
  }
  const eventsPerRequest = batches[0]?.events.length ?? 0;
  const medianMs = median(timings);
  return {
    requests: timings.length,
    medianMs,
    p95Ms: percentile(timings, 95),
    eventsPerCoreSecond: (eventsPerRequest * 1000) / medianMs,
  };
}
