import type { QueryCommandInput, TransactWritePut } from '@aws-sdk/lib-dynamodb';
import { type Documents, isConditionalCheckFailed } from '#lib/adapters/documents.ts';
import { queryItems } from '#lib/adapters/dynamodb-pages.ts';
import { type EvalRun, type EvalSet, evalRunSchema, evalSetSchema } from '#lib/evals/schema.ts';
import {
  EvalRunConflictError,
  type EvalSetSummary,
  EvalSetVersionTakenError,
  type EvalStore,
  type PutRunOutcome,
} from '#lib/evals/store.ts';
import { parseRfc3339, toUtcIso } from '#lib/events/timestamps.ts';
import { collect, take } from '#lib/util/async-iterables.ts';

/**
 * Eval sets and runs in the ledger table. Sets and runs are kept whole as JSON (at most
 * MAX_EVAL_JSON_BYTES, under DynamoDB's 400 KB item limit) so they come back exactly as registered.
 *
 * - set version: pk `EVALSET#<workflowId>#<name>`, sk `v<version, 6 digits>`; the latest is the last sk.
 * - set index:   pk `EVALSETS#<workflowId>`, sk `<name>`: the latest version's summary, for listing a
 *                workflow's sets without a scan. Written in the same transaction as the version.
 * - run:         pk `EVALRUN#<workflowId>#<name>`, sk `<ranAt UTC>#<runId>`: newest first by a reverse query.
 * - run ID:      pk `EVALRUNID#<workflowId>#<name>#<runId>`, sk `RUN`: claims the run ID, so the same run
 *                recorded again (even with another ranAt) is caught.
 * Set names and IDs cannot contain `#`, so keys never collide. No item carries a TTL: eval sets and their
 * runs are kept until deleted (the SPEC lets eval sets outlive the events' retention).
 */
export class DynamoDbEvalStore implements EvalStore {
  constructor(
    private readonly documents: Documents,
    private readonly tableName: string,
  ) {}

  async putSet(set: EvalSet): Promise<void> {
    const summary: EvalSetSummary = {
      workflowId: set.workflowId,
      name: set.name,
      latestVersion: set.version,
      caseCount: set.cases.length,
      registeredAt: set.registeredAt,
      registeredBy: set.registeredBy,
    };
    try {
      await this.#putAllOrNone([
        {
          Item: {
            pk: setPk(set.workflowId, set.name),
            sk: versionSk(set.version),
            kind: 'evalset',
            workflowId: set.workflowId,
            name: set.name,
            version: set.version,
            caseCount: set.cases.length,
            registeredAt: set.registeredAt,
            set: JSON.stringify(set),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
        {
          Item: { pk: `EVALSETS#${set.workflowId}`, sk: set.name, kind: 'evalset-index', ...summary },
          ConditionExpression: 'attribute_not_exists(pk) OR latestVersion < :version',
          ExpressionAttributeValues: { ':version': set.version },
        },
      ]);
    } catch (error) {
      if (conditionFailed(error)) throw new EvalSetVersionTakenError(set.workflowId, set.name, set.version);
      throw error;
    }
  }

  async getSet(workflowId: string, name: string, version?: number): Promise<EvalSet | undefined> {
    if (version !== undefined) {
      const { Item } = await this.documents.get({
        TableName: this.tableName,
        Key: { pk: setPk(workflowId, name), sk: versionSk(version) },
        ConsistentRead: true,
      });
      return Item ? evalSetSchema.parse(JSON.parse(String(Item.set))) : undefined;
    }
    const [latest] = await this.#query(
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': setPk(workflowId, name) },
        ScanIndexForward: false,
      },
      1,
    );
    return latest ? evalSetSchema.parse(JSON.parse(String(latest.set))) : undefined;
  }

  async listSets(workflowId: string): Promise<EvalSetSummary[]> {
    const items = await this.#query(
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `EVALSETS#${workflowId}` },
      },
      Number.POSITIVE_INFINITY,
    );
    return items.map((item) => ({
      workflowId: String(item.workflowId),
      name: String(item.name),
      latestVersion: Number(item.latestVersion),
      caseCount: Number(item.caseCount),
      registeredAt: String(item.registeredAt),
      registeredBy: String(item.registeredBy),
    }));
  }

  async putRun(run: EvalRun): Promise<PutRunOutcome> {
    const json = JSON.stringify(run);
    const key = { pk: runPk(run.workflowId, run.evalSet), sk: runSk(run) };
    const idKey = { pk: `EVALRUNID#${run.workflowId}#${run.evalSet}#${run.runId}`, sk: 'RUN' };
    const passed = run.results.filter((result) => result.pass).length;
    try {
      await this.#putAllOrNone([
        {
          Item: {
            ...key,
            kind: 'evalrun',
            runId: run.runId,
            ranAt: run.ranAt,
            evalSetVersion: run.evalSetVersion,
            passed,
            total: run.results.length,
            run: json,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
        {
          Item: { ...idKey, kind: 'evalrun-id', runSk: key.sk, ranAt: run.ranAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      ]);
      return 'stored';
    } catch (error) {
      if (!conditionFailed(error)) throw error;
    }
    const { Item: claim } = await this.documents.get({
      TableName: this.tableName,
      Key: idKey,
      ConsistentRead: true,
    });
    if (!claim) throw new Error(`run ${run.runId} could not be recorded: its key is taken but its ID is not`);
    const { Item: recorded } = await this.documents.get({
      TableName: this.tableName,
      Key: { pk: key.pk, sk: String(claim.runSk) },
      ConsistentRead: true,
    });
    if (recorded && String(recorded.run) === json) return 'duplicate';
    throw new EvalRunConflictError(run, String(claim.ranAt));
  }

  async listRuns(workflowId: string, name: string, limit: number): Promise<EvalRun[]> {
    const items = await this.#query(
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': runPk(workflowId, name) },
        ScanIndexForward: false,
      },
      limit,
    );
    return items.map((item) => evalRunSchema.parse(JSON.parse(String(item.run))));
  }

  /** Puts the items in one transaction: all of them, or none when any one's condition fails. */
  async #putAllOrNone(puts: readonly Omit<TransactWritePut, 'TableName'>[]): Promise<void> {
    await this.documents.transactWrite({
      TransactItems: puts.map((put) => ({ Put: { ...put, TableName: this.tableName } })),
    });
  }

  /** Up to `wanted` items, following pages (items are large, so a page may hold only a few). */
  async #query(
    input: Omit<QueryCommandInput, 'TableName'>,
    wanted: number,
  ): Promise<Record<string, unknown>[]> {
    const items = queryItems(
      this.documents,
      { ...input, TableName: this.tableName, ConsistentRead: true },
      Number.isFinite(wanted) ? wanted : undefined,
    );
    return Number.isFinite(wanted) ? take(items, wanted) : collect(items);
  }
}

function setPk(workflowId: string, name: string): string {
  return `EVALSET#${workflowId}#${name}`;
}

function versionSk(version: number): string {
  return `v${String(version).padStart(6, '0')}`;
}

function runPk(workflowId: string, name: string): string {
  return `EVALRUN#${workflowId}#${name}`;
}

/** The run's time in fixed-width UTC, so sort-key order is time order whatever offset `ranAt` was given in. */
export function runSk(run: Pick<EvalRun, 'ranAt' | 'runId'>): string {
  const ms = parseRfc3339(run.ranAt);
  if (ms === undefined) throw new Error(`ranAt ${run.ranAt} is not an RFC 3339 timestamp`);
  return `${toUtcIso(ms)}#${run.runId}`;
}

/** A transaction cancelled because a condition failed (the other reasons are errors to surface). */
function conditionFailed(error: unknown): boolean {
  const { name, CancellationReasons } = error as {
    name?: string;
    CancellationReasons?: { Code?: string }[];
  };
  if (isConditionalCheckFailed(error)) return true;
  if (name !== 'TransactionCanceledException') return false;
  const codes = (CancellationReasons ?? []).map((reason) => reason.Code);
  return (
    codes.includes('ConditionalCheckFailed') &&
    codes.every((code) => code === 'ConditionalCheckFailed' || code === 'None')
  );
}
