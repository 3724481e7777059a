import { parseArgs } from 'node:util';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  paginateGetQueryResults,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { messageOf } from '#lib/errors.ts';
import { NoReportsError, type QueryRow, queryCostPerUnit } from '#lib/finance/local-query.ts';
import { SAVED_QUERIES } from '#lib/finance/saved-queries.ts';
import { CliError, UsageError } from '../errors.ts';
import { explainTargetFailure, resolveTarget, type Target } from '../target.ts';

export const QUERY_HELP = `agent-ledger query — finance SQL over the cost-per-unit reports

  agent-ledger query "<SQL>" [--json] [--stage <name>]
  agent-ledger query --saved <name> [--json]     one of: ${SAVED_QUERIES.map((query) => query.name).join(', ')}

Locally DuckDB runs the SQL over the reports' Parquet; with --stage, Athena runs it in the stage's
workgroup. The table is cost_per_unit (partitions: week 'YYYY-Www', workflow).
  agent-ledger query "SELECT workflow_id, week, cost_per_unit_usd FROM cost_per_unit WHERE week = '2026-W47'"`;

export async function queryCommand(args: string[], print: (line: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, stage: { type: 'string' }, saved: { type: 'string' } },
  });
  const saved = values.saved ? SAVED_QUERIES.find((query) => query.name === values.saved) : undefined;
  if (values.saved && !saved) {
    throw new UsageError(
      `no saved query '${values.saved}'; saved: ${SAVED_QUERIES.map((query) => query.name).join(', ')}`,
    );
  }
  const sql = saved?.sql ?? positionals.join(' ').trim();
  if (!sql) throw new UsageError(QUERY_HELP);

  const target = await resolveTarget(values.stage);
  let rows: QueryRow[];
  try {
    rows = target.isLocal
      ? await queryCostPerUnit(sql, await target.reports())
      : await athenaQuery(sql, target);
  } catch (error) {
    if (error instanceof NoReportsError) throw new CliError(error.message);
    if (error instanceof CliError) throw error;
    const message = messageOf(error);
    if (/ECONNREFUSED|socket|connect ETIMEDOUT/.test(message)) explainTargetFailure(error, target);
    // Anything else is the engine's word on the SQL (DuckDB's "Binder Error: …", Athena's reason).
    throw new CliError(`the query failed: ${message}`);
  }
  if (values.json) {
    for (const row of rows) print(JSON.stringify(row));
    return;
  }
  printTable(rows, print);
}

function printTable(rows: readonly QueryRow[], print: (line: string) => void): void {
  if (rows.length === 0) {
    print('(no rows)');
    return;
  }
  const columns = Object.keys(rows[0] as QueryRow);
  const cells = rows.map((row) =>
    columns.map((column) => (row[column] === null ? 'NULL' : String(row[column]))),
  );
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((line) => (line[i] as string).length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  print(line(columns));
  print(line(widths.map((width) => '-'.repeat(width))));
  for (const row of cells) print(line(row));
  print(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
}

/** The same SQL in the stage's Athena workgroup (which enforces its result location and scan limit). */
async function athenaQuery(sql: string, target: Target): Promise<QueryRow[]> {
  const { workgroup, database } = await target.athena();
  const athena = new AthenaClient({});
  const { QueryExecutionId } = await athena.send(
    new StartQueryExecutionCommand({
      QueryString: sql,
      WorkGroup: workgroup,
      QueryExecutionContext: { Database: database },
    }),
  );
  for (;;) {
    const { QueryExecution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }));
    const state = QueryExecution?.Status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new CliError(
        `Athena query ${state.toLowerCase()}: ${QueryExecution?.Status?.StateChangeReason ?? 'no reason given'}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const rows: QueryRow[] = [];
  let columns: string[] | undefined;
  for await (const page of paginateGetQueryResults({ client: athena }, { QueryExecutionId })) {
    const data = page.ResultSet?.Rows ?? [];
    // The first row of the first page repeats the column names.
    const firstPage = columns === undefined;
    columns ??= (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((column) => column.Name ?? '');
    for (const row of firstPage ? data.slice(1) : data) {
      rows.push(
        Object.fromEntries((columns ?? []).map((column, i) => [column, row.Data?.[i]?.VarCharValue ?? null])),
      );
    }
  }
  return rows;
}
