import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeDocumentClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { messageOf } from '#lib/errors.ts';
import { priceTableSchema } from '#lib/pricing/price-table.ts';
import { formatIssues, parseWithIssues } from '#lib/validation/zod-issues.ts';
import { CliError, UsageError } from '../errors.ts';
import { explainTargetFailure, resolveTarget, type Target } from '../target.ts';

export const PRICES_HELP = `agent-ledger prices — the price table that turns tokens, tool calls and review minutes into USD

  agent-ledger prices import <file.json> [--stage <name>]
  agent-ledger prices list [--stage <name>]

File: {"effectiveFrom": "2026-01-01", "currency": "USD",
       "models": {"<provider>/<name>": {"inputPerMillion": 3, "outputPerMillion": 15, "cachedInputPerMillion": 0.3}},
       "tools": {"<tool>": {"perCall": 0.002}}, "humanReviewPerHour": 60}
An event is priced with the newest table effective on or before it; importing a table with the same
effectiveFrom replaces it. Recompute past weeks afterwards: agent-ledger jobs kpi --week <YYYY-Www>.`;

export function priceStore(target: Target): DynamoDbKpiStore {
  return new DynamoDbKpiStore(makeDocumentClient(target.dynamodb), target.tableName);
}

export async function pricesCommand(args: string[], print: (line: string) => void): Promise<void> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { stage: { type: 'string' } },
  });
  if (action === 'import') {
    const [file, extra] = positionals;
    if (!file || extra) throw new UsageError('usage: agent-ledger prices import <file.json>');
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new CliError(`${file} could not be read as JSON: ${messageOf(error)}`, 2);
    }
    const parsed = parseWithIssues(priceTableSchema, raw);
    if (!parsed.success) {
      const problems = formatIssues(parsed.issues).map((line) => `  ${line}`);
      throw new CliError(
        `${file} is not a valid price table; nothing was imported:\n${problems.join('\n')}`,
        2,
      );
    }
    const target = await resolveTarget(values.stage);
    const store = priceStore(target);
    const existing = await store.listTables().catch((error) => explainTargetFailure(error, target));
    await store.putTable(parsed.data).catch((error) => explainTargetFailure(error, target));
    const table = parsed.data;
    const replaced = existing.some((other) => other.effectiveFrom === table.effectiveFrom);
    print(
      `Imported prices effective from ${table.effectiveFrom} into ${target.description}: ${Object.keys(table.models).length} models, ${Object.keys(table.tools).length} tools, review at $${table.humanReviewPerHour}/h${replaced ? ' (replacing the table with the same date)' : ''}.`,
    );
    return;
  }
  if (action === 'list') {
    const target = await resolveTarget(values.stage);
    const tables = await priceStore(target)
      .listTables()
      .catch((error) => explainTargetFailure(error, target));
    if (tables.length === 0)
      print(`No price tables on ${target.description}: every cost would be reported as unpriced.`);
    for (const table of tables) {
      print(
        `${table.effectiveFrom}  models: ${Object.keys(table.models).join(', ') || '—'}  tools: ${Object.keys(table.tools).join(', ') || '—'}  review: $${table.humanReviewPerHour}/h`,
      );
    }
    return;
  }
  throw new UsageError(action ? `unknown prices action '${action}'\n\n${PRICES_HELP}` : PRICES_HELP);
}
