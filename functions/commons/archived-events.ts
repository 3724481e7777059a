import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import type { ArchivedEventKey, ArchivedEvents, EventPage, EventQuery } from '#lib/ports.ts';
import type { ArchiveTier } from '#lib/read/tiered-events.ts';
import { hotIndexDaysFrom } from '#lib/storage/ledger-table.ts';
import { requiredEnv } from './environment.ts';

/**
 * The archive read as events (ARCHIVE_BUCKET_NAME, and ARCHIVE_QUERY_WORKGROUP with ARCHIVE_QUERY_DATABASE
 * in the cloud), its engine loaded on first use only: Athena in the cloud, DuckDB locally (no workgroup).
 * Most requests never read the archive (their events are in the hot window), so neither engine's code is
 * imported at a cold start; ingest's hot path stays as lean as it was.
 */
export function archivedEventsFromEnvironment(
  options: {
    /** How long one Athena query may run: an API request's 15 s unless a job can wait longer. */
    readonly queryTimeoutMs?: number;
  } = {},
): ArchivedEvents {
  const bucketName = requiredEnv(FUNCTION_ENV.archiveBucketName);
  const workgroup = process.env[FUNCTION_ENV.archiveQueryWorkgroup];
  const database = workgroup ? requiredEnv(FUNCTION_ENV.archiveQueryDatabase) : undefined;
  return new LazyArchivedEvents(async () => {
    if (workgroup && database) {
      const [{ fetchAthena }, { fetchObjects }, { AthenaArchivedEvents }] = await Promise.all([
        import('#lib/aws/athena.ts'),
        import('#lib/aws/s3-objects.ts'),
        import('#lib/adapters/athena-archived-events.ts'),
      ]);
      return new AthenaArchivedEvents({
        athena: fetchAthena(),
        s3: fetchObjects(),
        bucketName,
        database,
        workgroup,
        ...(options.queryTimeoutMs ? { timeoutMs: options.queryTimeoutMs } : {}),
      });
    }
    if (process.env.AWS_LAMBDA_FUNCTION_NAME) {
      throw new Error(`environment variable ${FUNCTION_ENV.archiveQueryWorkgroup} is required on Lambda`);
    }
    // Built at run time so that esbuild never bundles DuckDB (a native module) or the SDK's S3 client
    // (the local engine's, to list and copy objects) into a Lambda function.
    const [localEngine, localClients] = [
      ['#lib', 'adapters', 'duckdb-archived-events.ts'].join('/'),
      ['#lib', 'adapters', 'aws-clients.ts'].join('/'),
    ];
    const [{ DuckDbArchivedEvents }, { makeS3Client }] = (await Promise.all([
      import(localEngine),
      import(localClients),
    ])) as [
      typeof import('#lib/adapters/duckdb-archived-events.ts'),
      typeof import('#lib/adapters/aws-clients.ts'),
    ];
    return new DuckDbArchivedEvents(makeS3Client(), bucketName);
  });
}

/**
 * The archive tier a Lambda function reads past the hot window with: the archive reader above, and the hot
 * window the deployment runs with (LEDGER_HOT_INDEX_DAYS).
 */
export function archiveTierFromEnvironment(options: { readonly queryTimeoutMs?: number } = {}): ArchiveTier {
  return {
    events: archivedEventsFromEnvironment(options),
    hotIndexDays: hotIndexDaysFrom(process.env[FUNCTION_ENV.hotIndexDays]),
  };
}

/** Loads its engine on the first call; a failed load is tried again on the next. */
class LazyArchivedEvents implements ArchivedEvents {
  #engine: Promise<ArchivedEvents> | undefined;

  constructor(private readonly load: () => Promise<ArchivedEvents>) {}

  async query(query: EventQuery): Promise<EventPage> {
    return (await this.#loaded()).query(query);
  }

  async findContentHashes(
    events: readonly ArchivedEventKey[],
    nowSeconds: number,
  ): Promise<Map<string, string>> {
    return (await this.#loaded()).findContentHashes(events, nowSeconds);
  }

  #loaded(): Promise<ArchivedEvents> {
    this.#engine ??= this.load().catch((error: unknown) => {
      this.#engine = undefined;
      throw error;
    });
    return this.#engine;
  }
}
