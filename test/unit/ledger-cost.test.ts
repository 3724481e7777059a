import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type ArchiveLifecycle,
  archiveObjectCost,
  dynamoStorageUsd,
  footprintWriteUnits,
  GIB,
  type IndexShape,
  indexEntry,
  itemBytes,
  itemFootprint,
  KIB,
  type LedgerPrices,
  lambdaUsd,
  logsUsd,
  numberBytes,
  perMillion,
  pitrUsd,
  pricesFromFile,
  writeUnits,
} from '#lib/finance/ledger-cost.ts';

const PRICES: LedgerPrices = pricesFromFile(
  JSON.parse(readFileSync(new URL('../../config/aws-prices-us-east-1.json', import.meta.url), 'utf8')),
);
const LIFECYCLE: ArchiveLifecycle = {
  infrequentAccessDays: 30,
  glacierInstantRetrievalDays: 90,
  noncurrentVersionExpiryDays: 0,
  transitionMinimumBytes: 128 * KIB,
};
/** 24 months of 30.4375 days. */
const TWO_YEARS_DAYS = 730.5;

describe('DynamoDB item sizes', () => {
  it('counts attribute names plus values: strings by UTF-8 bytes, numbers by digit pairs, booleans 1', () => {
    // Prepare / Act / Assess: pk 2+3, n 1+(2+1) (123 = three digits), ok 2+1, é is two bytes.
    expect(itemBytes({ pk: 'abc', n: 123, ok: true })).toBe(12);
    expect(itemBytes({ s: 'é' })).toBe(3);
    expect(itemBytes({ pk: 'abc', gone: undefined })).toBe(5);
  });

  it('trims leading and trailing zeroes of numbers', () => {
    expect(numberBytes(1200)).toBe(2);
    // 1764 → two digit pairs + 1; a TTL such as 1764123456 → five pairs + 1
    expect(numberBytes(1_764_000_000)).toBe(3);
    expect(numberBytes(1_764_123_456)).toBe(6);
    expect(numberBytes(0.5)).toBe(2);
  });

  it('bills one WRU per started KiB', () => {
    expect(writeUnits(1)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
  });

  it('projects index entries: ALL copies the item, KEYS_ONLY keeps both keys, a missing key means no entry', () => {
    const item = { pk: 'p', sk: 's', gsi1pk: 'g', gsi1sk: 't', body: 'x'.repeat(500) };
    const keysOnly: IndexShape = {
      indexName: 'gsi1',
      partitionKey: 'gsi1pk',
      sortKey: 'gsi1sk',
      projection: 'KEYS_ONLY',
    };
    expect(indexEntry(item, ['pk', 'sk'], keysOnly)).toEqual({ pk: 'p', sk: 's', gsi1pk: 'g', gsi1sk: 't' });
    expect(indexEntry(item, ['pk', 'sk'], { ...keysOnly, projection: 'ALL' })).toEqual(item);
    expect(indexEntry(item, ['pk', 'sk'], { ...keysOnly, projection: { include: ['body'] } })).toEqual(item);
    expect(indexEntry({ pk: 'p', sk: 's' }, ['pk', 'sk'], keysOnly)).toBeUndefined();
  });
});

describe('DynamoDB storage, PITR and writes of one item', () => {
  // A 924-byte item (pk 2 + 922) in the table and in two ALL indexes: 1,024 bytes each with the overhead.
  const item = { pk: 'x'.repeat(922) };
  const allIndex = (name: string): IndexShape => ({
    indexName: name,
    partitionKey: 'pk',
    sortKey: 'pk',
    projection: 'ALL',
  });
  const footprint = itemFootprint(item, ['pk'], [allIndex('gsi1'), allIndex('gsi2')], TWO_YEARS_DAYS);

  it('stores 3 × 1,024 bytes for 24 months: 3,072 / 2^30 GB × 24 × $0.25 = $1.7166e-5', () => {
    expect(footprint.tableBytes).toBe(924);
    expect(dynamoStorageUsd(footprint, PRICES)).toBeCloseTo(1.71661376953125e-5, 15);
    expect(perMillion(dynamoStorageUsd(footprint, PRICES), 1)).toBeCloseTo(17.166, 3);
  });

  it('backs up only the table: 1,024 / 2^30 GB × 24 × $0.20 = $4.5776e-6', () => {
    expect(pitrUsd(footprint, PRICES)).toBeCloseTo(4.57763671875e-6, 15);
  });

  it('writes 3 WRU (item and two index copies, each under 1 KiB)', () => {
    expect(footprintWriteUnits(footprint)).toBe(3);
  });
});

describe('archive objects over their lifecycle', () => {
  it('keeps a small object in Standard all its life, with one PUT and no transitions', () => {
    const cost = archiveObjectCost(GIB / 1_000_000, TWO_YEARS_DAYS, LIFECYCLE, PRICES);
    expect(cost.transitioned).toBe(false);
    // 1e-6 GB × 24 months × $0.023
    expect(cost.storageUsd).toBeCloseTo(5.52e-7, 12);
    expect(cost.requestsUsd).toBeCloseTo(0.000005, 12);
  });

  it('moves a 1 GiB object to IA at 30 days and Glacier IR at 90: 30, 60 and 640.5 days', () => {
    const cost = archiveObjectCost(GIB, TWO_YEARS_DAYS, LIFECYCLE, PRICES);
    expect(cost.transitioned).toBe(true);
    // 0.985626 × 0.023 + 1.971253 × 0.0125 + 21.043121 × 0.004
    expect(cost.storageUsd).toBeCloseTo(0.131482547, 8);
    // PUT $0.005 + transition to IA $0.01 + to Glacier IR $0.02, per 1,000
    expect(cost.requestsUsd).toBeCloseTo(0.000035, 12);
  });

  it('bills a 64 KiB object at 128 KiB once it is transitioned', () => {
    const lifecycle = { ...LIFECYCLE, transitionMinimumBytes: 0 };
    const small = archiveObjectCost(64 * KIB, TWO_YEARS_DAYS, lifecycle, PRICES);
    const minimum = archiveObjectCost(128 * KIB, TWO_YEARS_DAYS, lifecycle, PRICES);
    const standardPart = (bytes: number) => (bytes / GIB) * (30 / 30.4375) * PRICES.s3StandardPerGbMonth;
    expect(small.storageUsd - standardPart(64 * KIB)).toBeCloseTo(
      minimum.storageUsd - standardPart(128 * KIB),
      15,
    );
  });
});

describe('per-request parts', () => {
  it('bills Lambda 1 GB × 0.1 s × $0.0000133334 + $0.20 per million', () => {
    expect(lambdaUsd(1, 1024, 100, PRICES)).toBeCloseTo(1.53334e-6, 12);
  });

  it('bills 1 GiB of logs $0.50 to ingest and $0.03 a month to keep', () => {
    expect(logsUsd(GIB, 12, PRICES)).toBeCloseTo(0.86, 10);
  });

  it('refuses a price file without a price', () => {
    expect(() => pricesFromFile({ prices: {} })).toThrow(/dynamodbWritePerMillionWru/);
  });
});
