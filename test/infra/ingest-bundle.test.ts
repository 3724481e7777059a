import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleResult, bundleHandler } from '../../bench/bundle.ts';
import { PROJECT_ROOT } from '../../infra/paths.ts';

/**
 * What the ingest bundle reached (issue 12 item 5: 687 KiB before), with a little headroom: a guard
 * against the next import that drags a package back in. The goal is 300 KiB; most of the rest is
 * the AWS SDK's S3 and DynamoDB clients (see the bench's largest parts). 626 KiB of it: 514 KiB for the
 * hot path, and ~112 KiB for the archive reader (the Athena client, S3 GetObject, the archive SQL) that
 * answers a retry of an event older than the hot window; it is imported on first use, so it is parsed at
 * load but not run, and only esbuild code splitting (which NodejsFunction's single-file output does not
 * allow) would take it out of the file.
 */
const MAX_INGEST_BUNDLE_KIB = 630;

const outDir = mkdtempSync(join(tmpdir(), 'ingest-bundle-'));
let bundle: BundleResult;

beforeAll(async () => {
  bundle = await bundleHandler(PROJECT_ROOT, outDir, 'functions/ingest/handler.ts');
});

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

describe('the ingest bundle (built as the CDK builds it, issue 12 item 5)', () => {
  it('carries no X-Ray SDK: ingest runs on active tracing alone, without the Powertools tracer', () => {
    // Assess
    const packages = bundle.topPackages.map((part) => part.name);
    expect(packages).toContain('@aws-sdk/client-dynamodb');
    expect(packages).not.toContain('aws-xray-sdk-core');
    expect(packages).not.toContain('cls-hooked');
  });

  it("carries only the credential chain's first link, the environment variables Lambda sets", () => {
    // Assess
    const packages = bundle.topPackages.map((part) => part.name);
    expect(packages).toContain('@aws-sdk/credential-provider-env');
    for (const link of [
      '@aws-sdk/credential-provider-node',
      '@aws-sdk/credential-provider-ini',
      '@aws-sdk/credential-provider-sso',
      '@aws-sdk/credential-provider-http',
      '@smithy/credential-provider-imds',
      '@aws-sdk/nested-clients',
    ]) {
      expect(packages).not.toContain(link);
    }
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
