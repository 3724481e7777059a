import * as z from 'zod';

/**
 * The price table (SPEC "KPIs"): versioned configuration with an effective date. An event is priced with
 * the newest table whose `effectiveFrom` is on or before its `occurredAt`; a model or tool a table does
 * not price is reported as unpriced, never costed at zero.
 */
const money = z.number().min(0, 'must be ≥ 0');

export const priceTableSchema = z.strictObject({
  effectiveFrom: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-01-01')
    .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), 'must be a real date'),
  currency: z.literal('USD', 'only USD is supported'),
  models: z.record(
    z.string().regex(/^[^/]+\/.+$/, 'model keys are <provider>/<name>'),
    z.strictObject({
      inputPerMillion: money,
      outputPerMillion: money,
      /** Optional: cached input tokens are priced at the input rate when a model has no cached rate. */
      cachedInputPerMillion: money.optional(),
    }),
  ),
  tools: z.record(z.string().min(1), z.strictObject({ perCall: money })),
  humanReviewPerHour: money,
});
export type PriceTable = z.infer<typeof priceTableSchema>;

export interface PriceStore {
  putTable(table: PriceTable): Promise<void>;
  /** Every table, oldest effectiveFrom first. */
  listTables(): Promise<PriceTable[]>;
}

/** The tables in force over time, answering "which table prices an event at this instant". */
export class PriceBook {
  readonly #tables: { fromMs: number; table: PriceTable }[];

  constructor(tables: readonly PriceTable[]) {
    this.#tables = tables
      .map((table) => ({ fromMs: Date.parse(`${table.effectiveFrom}T00:00:00Z`), table }))
      .sort((a, b) => a.fromMs - b.fromMs);
  }

  tableAt(epochMs: number): PriceTable | undefined {
    let current: PriceTable | undefined;
    for (const { fromMs, table } of this.#tables) {
      if (fromMs > epochMs) break;
      current = table;
    }
    return current;
  }
}
