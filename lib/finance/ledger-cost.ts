/**
 * What the ledger itself costs to run, per event kept for its retention (issue 12): pure functions over
 * plain data (item sizes, object sizes, request counts) and a dated price list. The bench feeds them what
 * the local stack wrote; the unit tests feed them hand-worked numbers.
 *
 * Sizing rules (DynamoDB developer guide, "Item sizes and formats"): an item's size is the sum, over its
 * attributes, of the attribute name's UTF-8 bytes plus the value's bytes (a string its UTF-8 bytes, a
 * number about one byte per two significant digits plus one, a boolean or null one byte). Storage adds
 * 100 bytes of overhead per item, in the table and in each index. A write costs one WRU per started KiB of
 * the item, and one per started KiB of each index entry it creates.
 */

export const KIB = 1024;
export const GIB = 1024 ** 3;
/** Days in a month, as the archive counts retention months (`expirationDaysFor`). */
export const DAYS_PER_MONTH = 30.4375;
/** DynamoDB's per-item storage overhead, in the table and in every index entry. */
export const DYNAMODB_ITEM_OVERHEAD_BYTES = 100;
/** S3 bills Standard-IA and Glacier IR objects at this size at least; lifecycle skips smaller ones by default. */
export const S3_MIN_BILLABLE_BYTES = 128 * KIB;

/** The prices the model uses (USD), as in `config/aws-prices-us-east-1.json`. */
export interface LedgerPrices {
  readonly dynamodbWritePerMillionWru: number;
  readonly dynamodbReadPerMillionRru: number;
  readonly dynamodbStoragePerGbMonth: number;
  readonly dynamodbPitrPerGbMonth: number;
  readonly s3StandardPerGbMonth: number;
  readonly s3StandardIaPerGbMonth: number;
  readonly s3GlacierIrPerGbMonth: number;
  readonly s3PutPerThousand: number;
  readonly s3TransitionToIaPerThousand: number;
  readonly s3TransitionToGlacierIrPerThousand: number;
  readonly apiGatewayRestPerMillion: number;
  readonly lambdaArmPerGbSecond: number;
  readonly lambdaRequestsPerMillion: number;
  readonly cloudwatchLogsIngestPerGb: number;
  readonly cloudwatchLogsStoragePerGbMonth: number;
  readonly kmsPerTenThousandRequests: number;
}

export const PRICE_NAMES = [
  'dynamodbWritePerMillionWru',
  'dynamodbReadPerMillionRru',
  'dynamodbStoragePerGbMonth',
  'dynamodbPitrPerGbMonth',
  's3StandardPerGbMonth',
  's3StandardIaPerGbMonth',
  's3GlacierIrPerGbMonth',
  's3PutPerThousand',
  's3TransitionToIaPerThousand',
  's3TransitionToGlacierIrPerThousand',
  'apiGatewayRestPerMillion',
  'lambdaArmPerGbSecond',
  'lambdaRequestsPerMillion',
  'cloudwatchLogsIngestPerGb',
  'cloudwatchLogsStoragePerGbMonth',
  'kmsPerTenThousandRequests',
] as const satisfies readonly (keyof LedgerPrices)[];

/** The prices of a price file (`{ prices: { name: { usd } } }`); a missing or negative price is an error. */
export function pricesFromFile(file: unknown): LedgerPrices {
  const entries = (file as { prices?: Record<string, { usd?: unknown }> } | undefined)?.prices ?? {};
  const prices: Partial<Record<keyof LedgerPrices, number>> = {};
  for (const name of PRICE_NAMES) {
    const usd = entries[name]?.usd;
    if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0) {
      throw new Error(`price file: '${name}' needs a non-negative number 'usd'`);
    }
    prices[name] = usd;
  }
  return prices as LedgerPrices;
}

// ---------------------------------------------------------------------------------------------------
// DynamoDB sizes

/** The bytes of one attribute value by DynamoDB's rules (scalars, and lists/maps of them). */
export function attributeValueBytes(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return numberBytes(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + attributeValueBytes(v), 0);
  if (typeof value === 'object') {
    return (
      3 +
      Object.entries(value as Record<string, unknown>).reduce(
        (sum, [name, v]) => sum + 1 + Buffer.byteLength(name, 'utf8') + attributeValueBytes(v),
        0,
      )
    );
  }
  throw new Error(`no DynamoDB size for a ${typeof value}`);
}

/** A number: one byte per two significant digits (leading and trailing zeroes trimmed), plus one. */
export function numberBytes(value: number): number {
  const digits = Math.abs(value).toExponential().replace(/e.*$/, '').replace('.', '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** An item's size: attribute names plus values (undefined attributes are not stored). */
export function itemBytes(item: Readonly<Record<string, unknown>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    bytes += Buffer.byteLength(name, 'utf8') + attributeValueBytes(value);
  }
  return bytes;
}

/** Write units for one write of an item (or index entry) of `bytes`: one per started KiB, at least one. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / KIB));
}

export interface IndexShape {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** ALL, KEYS_ONLY, or the non-key attributes of an INCLUDE projection. */
  readonly projection: 'ALL' | 'KEYS_ONLY' | { readonly include: readonly string[] };
}

/**
 * The attributes an index stores for an item: the table's key, the index's key and the projected ones;
 * undefined when the item lacks the index key (a sparse index holds no entry for it).
 */
export function indexEntry(
  item: Readonly<Record<string, unknown>>,
  tableKeys: readonly string[],
  index: IndexShape,
): Record<string, unknown> | undefined {
  if (item[index.partitionKey] === undefined || item[index.sortKey] === undefined) return undefined;
  if (index.projection === 'ALL') return { ...item };
  const names = new Set([
    ...tableKeys,
    index.partitionKey,
    index.sortKey,
    ...(index.projection === 'KEYS_ONLY' ? [] : index.projection.include),
  ]);
  return Object.fromEntries(Object.entries(item).filter(([name]) => names.has(name)));
}

/** One item as stored: its size in the table and in each index, and how long it stays (days). */
export interface ItemFootprint {
  readonly tableBytes: number;
  /** Index name → entry size, for the indexes that hold an entry for it. */
  readonly indexBytes: Readonly<Record<string, number>>;
  readonly retentionDays: number;
}

export function itemFootprint(
  item: Readonly<Record<string, unknown>>,
  tableKeys: readonly string[],
  indexes: readonly IndexShape[],
  retentionDays: number,
): ItemFootprint {
  const indexBytes: Record<string, number> = {};
  for (const index of indexes) {
    const entry = indexEntry(item, tableKeys, index);
    if (entry) indexBytes[index.indexName] = itemBytes(entry);
  }
  return { tableBytes: itemBytes(item), indexBytes, retentionDays };
}

/** WRU of the first write of an item: the table's plus one write per index entry. */
export function footprintWriteUnits(footprint: ItemFootprint): number {
  return (
    writeUnits(footprint.tableBytes) +
    Object.values(footprint.indexBytes).reduce((sum, bytes) => sum + writeUnits(bytes), 0)
  );
}

/** GB-months of `bytes` kept `days` (with DynamoDB's 100-byte overhead when asked). */
export function gbMonths(bytes: number, days: number): number {
  return (bytes / GIB) * (days / DAYS_PER_MONTH);
}

/** Storage in the table and its indexes over the item's retention (until its TTL). */
export function dynamoStorageUsd(footprint: ItemFootprint, prices: LedgerPrices): number {
  const stored =
    footprint.tableBytes +
    DYNAMODB_ITEM_OVERHEAD_BYTES +
    Object.values(footprint.indexBytes).reduce((sum, bytes) => sum + bytes + DYNAMODB_ITEM_OVERHEAD_BYTES, 0);
  return gbMonths(stored, footprint.retentionDays) * prices.dynamodbStoragePerGbMonth;
}

/** PITR is billed on the table's size (table data and LSIs; GSIs are not backed up). */
export function pitrUsd(footprint: ItemFootprint, prices: LedgerPrices): number {
  return (
    gbMonths(footprint.tableBytes + DYNAMODB_ITEM_OVERHEAD_BYTES, footprint.retentionDays) *
    prices.dynamodbPitrPerGbMonth
  );
}

// ---------------------------------------------------------------------------------------------------
// S3 archive objects over their lifecycle

export interface ArchiveLifecycle {
  readonly infrequentAccessDays: number;
  readonly glacierInstantRetrievalDays: number;
  /** After expiry, the now-noncurrent version stays this long (versioned bucket) in its last class. */
  readonly noncurrentVersionExpiryDays: number;
  /** Objects this size or smaller are not transitioned (S3's default since September 2024: 128 KiB). */
  readonly transitionMinimumBytes: number;
}

export interface ArchiveObjectCost {
  readonly storageUsd: number;
  readonly requestsUsd: number;
  readonly transitioned: boolean;
}

/** One object: its PUT, its transitions (if large enough) and its storage until its noncurrent copy expires. */
export function archiveObjectCost(
  bytes: number,
  expirationDays: number,
  lifecycle: ArchiveLifecycle,
  prices: LedgerPrices,
): ArchiveObjectCost {
  const put = prices.s3PutPerThousand / 1000;
  const lifeDays = expirationDays + lifecycle.noncurrentVersionExpiryDays;
  const transitioned = bytes > lifecycle.transitionMinimumBytes;
  if (!transitioned) {
    return {
      storageUsd: gbMonths(bytes, lifeDays) * prices.s3StandardPerGbMonth,
      requestsUsd: put,
      transitioned,
    };
  }
  const billable = Math.max(bytes, S3_MIN_BILLABLE_BYTES);
  const standardDays = Math.min(lifecycle.infrequentAccessDays, lifeDays);
  const iaDays = Math.max(0, Math.min(lifecycle.glacierInstantRetrievalDays, lifeDays) - standardDays);
  // Glacier IR bills 90 days at least.
  const glacierDays =
    lifeDays > lifecycle.glacierInstantRetrievalDays
      ? Math.max(90, lifeDays - lifecycle.glacierInstantRetrievalDays)
      : 0;
  const storageUsd =
    gbMonths(bytes, standardDays) * prices.s3StandardPerGbMonth +
    gbMonths(billable, iaDays) * prices.s3StandardIaPerGbMonth +
    gbMonths(billable, glacierDays) * prices.s3GlacierIrPerGbMonth;
  const requestsUsd =
    put +
    (iaDays > 0 ? prices.s3TransitionToIaPerThousand / 1000 : 0) +
    (glacierDays > 0 ? prices.s3TransitionToGlacierIrPerThousand / 1000 : 0);
  return { storageUsd, requestsUsd, transitioned };
}

// ---------------------------------------------------------------------------------------------------
// Per request: API Gateway, Lambda, logs

export function lambdaUsd(
  requests: number,
  memoryMb: number,
  durationMs: number,
  prices: LedgerPrices,
): number {
  // Lambda bills duration in 1 ms steps.
  const gbSeconds = (memoryMb / 1024) * (Math.ceil(durationMs) / 1000);
  return requests * (gbSeconds * prices.lambdaArmPerGbSecond + prices.lambdaRequestsPerMillion / 1e6);
}

/** Log bytes ingested once, then stored for `retentionMonths` (stored size taken as ingested: an upper bound). */
export function logsUsd(bytes: number, retentionMonths: number, prices: LedgerPrices): number {
  return (
    (bytes / GIB) *
    (prices.cloudwatchLogsIngestPerGb + retentionMonths * prices.cloudwatchLogsStoragePerGbMonth)
  );
}

// ---------------------------------------------------------------------------------------------------
// The table

export interface CostPart {
  readonly part: string;
  readonly usdPerMillion: number;
  readonly why: string;
}

/** `usd` spent on `events` events, as $ per million events. */
export function perMillion(usd: number, events: number): number {
  return events > 0 ? (usd * 1e6) / events : Number.NaN;
}

export function totalPerMillion(parts: readonly CostPart[]): number {
  return parts.reduce((sum, part) => sum + part.usdPerMillion, 0);
}
