import type {
  GetQueryExecutionCommandInput,
  GetQueryExecutionCommandOutput,
  GetQueryResultsCommandInput,
  GetQueryResultsCommandOutput,
  StartQueryExecutionCommandInput,
  StartQueryExecutionCommandOutput,
  StopQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import type { ObjectStore } from '#lib/adapters/objects.ts';
import { readArchiveOutcomes } from '#lib/adapters/s3-archive-outcomes.ts';
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

/**
 * The Athena operations the reader uses, by the SDK's names: the SDK's `Athena` client has them (tests),
 * and so has `fetchAthena` (`lib/aws/athena.ts`, the Lambda functions).
 */
export interface AthenaQueries {
  startQueryExecution(
    input: StartQueryExecutionCommandInput,
  ): Promise<Pick<StartQueryExecutionCommandOutput, 'QueryExecutionId'>>;
  getQueryExecution(
    input: GetQueryExecutionCommandInput,
  ): Promise<Pick<GetQueryExecutionCommandOutput, 'QueryExecution'>>;
  getQueryResults(
    input: GetQueryResultsCommandInput,
  ): Promise<Pick<GetQueryResultsCommandOutput, 'ResultSet' | 'NextToken'>>;
  stopQueryExecution(input: StopQueryExecutionCommandInput): Promise<unknown>;
}

/** Rows per GetQueryResults page: Athena's maximum. */
const RESULT_PAGE_ROWS = 1000;

/** The archive query did not finish (failed, cancelled, or too slow): the store did not answer; a retry is safe. */
export class ArchiveQueryError extends Error {
  override name = 'ArchiveQueryError';
  /** What `isStoreUnavailable` reads: the caller answers 503, retry is safe. */
  readonly $fault = 'server';
}

export interface AthenaArchivedEventsOptions {
  readonly athena: AthenaQueries;
  /** For the outcome records beside the archive objects, which Athena skips (their names start with `_`). */
  readonly s3: ObjectStore;
  readonly bucketName: string;
  /** The Glue database holding the archive's table (`ARCHIVE_EVENTS_TABLE`). */
  readonly database: string;
  /** The workgroup: its result location, encryption and scan limit are enforced. */
  readonly workgroup: string;
  /** How long one query may take before it is stopped; keep it under the function's timeout. */
  readonly timeoutMs?: number;
  /** The first wait between polls of a running query; it doubles up to 1 s. */
  readonly firstPollMs?: number;
}

/**
 * The archive read as events in the cloud: Athena over the Glue table on the archive (partition projection on
 * retention class, workflow and day; infra/constructs/finance.ts), running the SQL the local DuckDB adapter
 * runs (lib/read/archive-pages.ts). Each call is one query, billed by the bytes of the days it reads
 * ($5/TB, 10 MB at least) and seconds long: read only what the index cannot answer.
 */
export class AthenaArchivedEvents implements ArchivedEvents {
  readonly #timeoutMs: number;
  readonly #firstPollMs: number;

  constructor(private readonly options: AthenaArchivedEventsOptions) {
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#firstPollMs = options.firstPollMs ?? 200;
  }

  async query(query: EventQuery): Promise<EventPage> {
    return archivePage(this.#rows(archivePageSql(this.#table, query)), this.#outcomes, query, (events) =>
      this.#rows(archiveLinesOfEventsSql(this.#table, query.workflowId, events)),
    );
  }

  async findContentHashes(
    events: readonly ArchivedEventKey[],
    nowSeconds: number,
  ): Promise<Map<string, string>> {
    const hashes = new Map<string, string>();
    for (const workflowId of new Set(events.map((event) => event.workflowId))) {
      const ofWorkflow = events.filter((event) => event.workflowId === workflowId);
      const rows = this.#rows(archiveLinesOfEventsSql(this.#table, workflowId, ofWorkflow));
      for (const [key, hash] of await archivedContentHashes(rows, this.#outcomes, nowSeconds)) {
        hashes.set(key, hash);
      }
    }
    return hashes;
  }

  get #table(): string {
    return `"${this.options.database}"."${ARCHIVE_EVENTS_TABLE}"`;
  }

  readonly #outcomes = (archiveKeys: readonly string[]) =>
    readArchiveOutcomes(this.options.s3, this.options.bucketName, archiveKeys);

  /** Runs `sql` and streams its rows, a result page at a time, as far as they are read. */
  async *#rows(sql: ArchiveSql): AsyncGenerator<ArchiveRow> {
    const { athena } = this.options;
    const started = await athena.startQueryExecution({
      QueryString: sql.sql,
      QueryExecutionContext: { Database: this.options.database },
      WorkGroup: this.options.workgroup,
      // Athena puts parameters in as SQL literals: every one of ours is a string.
      ...(sql.parameters.length > 0 ? { ExecutionParameters: sql.parameters.map(stringLiteral) } : {}),
    });
    const id = started.QueryExecutionId;
    if (!id) throw new ArchiveQueryError('Athena started no query');
    await this.#finished(id);
    let nextToken: string | undefined;
    let header = true;
    do {
      const page = await athena.getQueryResults({
        QueryExecutionId: id,
        MaxResults: RESULT_PAGE_ROWS,
        ...(nextToken ? { NextToken: nextToken } : {}),
      });
      for (const row of page.ResultSet?.Rows ?? []) {
        // The first row of a SELECT's result is its column names.
        if (header) {
          header = false;
          continue;
        }
        const [path, line] = (row.Data ?? []).map((datum) => datum.VarCharValue ?? '');
        if (path && line) yield { path, line };
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }

  /** Polls until the query succeeded; stops it and throws when it failed or took too long. */
  async #finished(id: string): Promise<void> {
    const { athena } = this.options;
    const deadline = Date.now() + this.#timeoutMs;
    for (let wait = this.#firstPollMs; ; wait = Math.min(wait * 2, 1000)) {
      const { QueryExecution } = await athena.getQueryExecution({ QueryExecutionId: id });
      const state = QueryExecution?.Status?.State;
      if (state === 'SUCCEEDED') return;
      if (state === 'FAILED' || state === 'CANCELLED') {
        throw new ArchiveQueryError(
          `the archive query ${id} ${state.toLowerCase()}: ${QueryExecution?.Status?.StateChangeReason ?? 'no reason given'}`,
        );
      }
      if (Date.now() + wait > deadline) {
        await athena.stopQueryExecution({ QueryExecutionId: id }).catch(() => undefined);
        throw new ArchiveQueryError(`the archive query ${id} took longer than ${this.#timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** A string as a SQL literal (quotes doubled). */
function stringLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
