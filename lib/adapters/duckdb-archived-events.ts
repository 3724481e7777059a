import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { sdkObjects } from '#lib/adapters/aws-clients.ts';
import { readArchiveOutcomes } from '#lib/adapters/s3-archive-outcomes.ts';
import { copyObjectsToDirectory, listObjectKeys } from '#lib/adapters/s3-keys.ts';
import type { ArchivedEventKey, ArchivedEvents, EventPage, EventQuery } from '#lib/ports.ts';
import {
  ARCHIVE_EVENTS_TABLE,
  type ArchiveRow,
  type ArchiveSql,
  archivedContentHashes,
  archiveLinesOfEventsSql,
  archivePage,
  archivePageSql,
} from '#lib/read/archive-pages.ts';
import { isArchiveEventObject, workflowArchivePrefixes } from '#lib/storage/archive-bucket.ts';

/** Longest archive line DuckDB reads (its default is 2 MB); an event with long outputs can be larger. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Athena's names for what the shared SQL uses (lib/read/archive-pages.ts), as DuckDB macros: so the local
 * home runs the very SQL the cloud's Athena adapter sends.
 */
const ATHENA_COMPATIBLE_MACROS = [
  'CREATE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)',
  'CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)',
];

/**
 * The archive read as events in the local home: DuckDB over the archive's objects, the same NDJSON
 * lines as one text column like Athena's Glue table. DuckDB's network extensions are not available
 * offline, so the objects a query can need (the workflow's, from the first day that can hold the range,
 * pruned by key) are copied from the S3 server to a temporary directory first.
 */
export class DuckDbArchivedEvents implements ArchivedEvents {
  constructor(
    private readonly s3: S3Client,
    private readonly bucketName: string,
  ) {}

  async query(query: EventQuery): Promise<EventPage> {
    const sql = archivePageSql(ARCHIVE_EVENTS_TABLE, query);
    const rows = await this.#rows(query.workflowId, sql);
    return archivePage(iterate(rows), this.#outcomes, query, (events) =>
      this.#linesOf(query.workflowId, events),
    );
  }

  async findContentHashes(
    events: readonly ArchivedEventKey[],
    nowSeconds: number,
  ): Promise<Map<string, string>> {
    const hashes = new Map<string, string>();
    for (const workflowId of new Set(events.map((event) => event.workflowId))) {
      const ofWorkflow = events.filter((event) => event.workflowId === workflowId);
      const rows = await this.#rows(
        workflowId,
        archiveLinesOfEventsSql(ARCHIVE_EVENTS_TABLE, workflowId, ofWorkflow),
      );
      for (const [key, hash] of await archivedContentHashes(iterate(rows), this.#outcomes, nowSeconds)) {
        hashes.set(key, hash);
      }
    }
    return hashes;
  }

  /** Every line of these events, whatever their time. */
  async *#linesOf(workflowId: string, events: readonly ArchivedEventKey[]): AsyncGenerator<ArchiveRow> {
    yield* await this.#rows(workflowId, archiveLinesOfEventsSql(ARCHIVE_EVENTS_TABLE, workflowId, events));
  }

  readonly #outcomes = (archiveKeys: readonly string[]) =>
    readArchiveOutcomes(sdkObjects(this.s3), this.bucketName, archiveKeys);

  /** Copies the workflow's objects from the query's first day on, then runs `sql` over them. */
  async #rows(workflowId: string, sql: ArchiveSql): Promise<ArchiveRow[]> {
    const keys: string[] = [];
    for (const prefix of workflowArchivePrefixes(workflowId)) {
      for await (const key of listObjectKeys(this.s3, { bucket: this.bucketName, prefix })) {
        const day = /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1];
        if (day !== undefined && day >= sql.earliestDay && isArchiveEventObject(key)) keys.push(key);
      }
    }
    if (keys.length === 0) return [];
    const dir = mkdtempSync(join(tmpdir(), 'agent-ledger-archive-'));
    try {
      await copyObjectsToDirectory(this.s3, this.bucketName, keys, dir);
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      try {
        for (const macro of ATHENA_COMPATIBLE_MACROS) await connection.run(macro);
        const files = join(dir, 'raw', '*', '*', '*', '*.ndjson.gz').replaceAll("'", "''");
        // One VARCHAR column per line: no quoting, no escapes, a delimiter JSON never writes unescaped.
        await connection.run(
          `CREATE VIEW ${ARCHIVE_EVENTS_TABLE} AS SELECT line, retention, workflow, dt, filename AS "$path" FROM read_csv('${files}', columns = {'line': 'VARCHAR'}, delim = '\u0001', quote = '', escape = '', header = false, auto_detect = false, max_line_size = ${MAX_LINE_BYTES}, hive_partitioning = true, hive_types_autocast = false, filename = true)`,
        );
        const result = await connection.runAndReadAll(sql.sql, [...sql.parameters]);
        return result.getRowObjectsJson().map((row) => ({ path: String(row.path), line: String(row.line) }));
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
