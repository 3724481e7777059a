import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { copyObjectsToDirectory, listObjectKeys } from '#lib/adapters/s3-keys.ts';
import { COST_PER_UNIT_PREFIX } from '#lib/finance/cost-per-unit.ts';
import { collect } from '#lib/util/async-iterables.ts';

export type QueryRow = Record<string, string | number | boolean | null>;

export class NoReportsError extends Error {
  override name = 'NoReportsError';
}

/**
 * Runs finance SQL locally the way Athena runs it in the cloud: DuckDB over the same Parquet objects, with
 * `cost_per_unit` as a view whose `week` and `workflow` columns come from the Hive-style paths. DuckDB's
 * network extensions are not available offline, so the objects are copied from the S3 server first.
 */
export async function queryCostPerUnit(
  sql: string,
  source: { s3: S3Client; bucket: string },
): Promise<QueryRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-ledger-query-'));
  try {
    const listing = listObjectKeys(source.s3, { bucket: source.bucket, prefix: COST_PER_UNIT_PREFIX });
    const keys = (await collect(listing)).filter((key) => key.endsWith('.parquet'));
    if (keys.length === 0) {
      throw new NoReportsError(
        'no cost-per-unit reports yet: run `agent-ledger jobs kpi` to compute a week first',
      );
    }
    await copyObjectsToDirectory(source.s3, source.bucket, keys, dir);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const files = join(dir, COST_PER_UNIT_PREFIX, '**', '*.parquet').replaceAll("'", "''");
      await connection.run(
        `CREATE VIEW cost_per_unit AS SELECT * FROM read_parquet('${files}', hive_partitioning = true, hive_types_autocast = false, union_by_name = true)`,
      );
      const result = await connection.runAndReadAll(sql);
      return result
        .getRowObjects()
        .map((row) =>
          Object.fromEntries(Object.entries(row).map(([column, value]) => [column, plain(value)])),
        );
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** DuckDB hands BIGINTs back as bigint; JSON and people want numbers. */
function plain(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return String(value);
}
