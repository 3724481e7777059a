import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleResult, bundleHandler } from '../../bench/bundle.ts';
import { PROJECT_ROOT } from '../../infra/paths.ts';

/**
 * The goal of issue 12 item 5 (the bundle was 794 KiB, then 626 KiB with the SDK's clients): ingest reaches
 * DynamoDB, S3, AppConfigData, Secrets Manager and (for a retry older than the hot window) Athena through
 * the lean clients in `lib/aws/`, so no AWS SDK client is in the file. It was 180 KiB when this was written.
 */
const MAX_INGEST_BUNDLE_KIB = 300;

const outDir = mkdtempSync(join(tmpdir(), 'ingest-bundle-'));
let bundle: BundleResult;

beforeAll(async () => {
  bundle = await bundleHandler(PROJECT_ROOT, outDir, 'functions/ingest/handler.ts');
});

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

/** The links of the SDK's default credential chain after the environment variables. */
const CREDENTIAL_CHAIN_BEYOND_ENV = [
  '@aws-sdk/credential-provider-node',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-http',
  '@smithy/credential-provider-imds',
  '@aws-sdk/nested-clients',
];

describe('a bundle with an SDK client (the kill-switch function: AppConfig writes)', () => {
  it("carries only the credential chain's first link, the environment variables Lambda sets", async () => {
    // Act
    const sdkBundle = await bundleHandler(
      PROJECT_ROOT,
      join(outDir, 'kill-switch'),
      'functions/kill-switch/handler.ts',
    );

    // Assess
    const packages = sdkBundle.topPackages.map((part) => part.name);
    expect(packages).toContain('@aws-sdk/client-appconfig');
    expect(packages).toContain('@aws-sdk/credential-provider-env');
    for (const link of CREDENTIAL_CHAIN_BEYOND_ENV) expect(packages).not.toContain(link);
  });
});

describe('the ingest bundle (built as the CDK builds it, issue 12 item 5)', () => {
  it('carries no X-Ray SDK: ingest runs on active tracing alone, without the Powertools tracer', () => {
    // Assess
    const packages = bundle.topPackages.map((part) => part.name);
    expect(packages).toContain('@aws-lambda-powertools/logger');
    expect(packages).not.toContain('aws-xray-sdk-core');
    expect(packages).not.toContain('cls-hooked');
  });

  it('carries no credential chain at all: the lean clients read the credentials Lambda sets', () => {
    // Assess
    const packages = bundle.topPackages.map((part) => part.name);
    for (const link of ['@aws-sdk/credential-provider-env', ...CREDENTIAL_CHAIN_BEYOND_ENV]) {
      expect(packages).not.toContain(link);
    }
  });

  it('carries no AWS SDK client: its calls go through the lean clients on fetch', () => {
    // Assess
    const clients = bundle.topPackages
      .map((part) => part.name)
      .filter((name) => name.startsWith('@aws-sdk/client-') || name === '@aws-sdk/lib-dynamodb');
    expect(clients).toEqual([]);
    expect(bundle.files.some((file) => file === 'lib/aws/dynamodb-documents.ts')).toBe(true);
  });

  it("checks events and the registry with zod/mini, without zod's classic API", () => {
    // Assess
    expect(bundle.files.some((file) => file.startsWith('zod/v4/mini/'))).toBe(true);
    expect(bundle.files.filter((file) => file.startsWith('zod/v4/classic/'))).toEqual([]);
  });

  it(`is at most ${MAX_INGEST_BUNDLE_KIB} KiB minified`, () => {
    // Assess
    expect(bundle.bytes / 1024).toBeLessThanOrEqual(MAX_INGEST_BUNDLE_KIB);
  });
});
