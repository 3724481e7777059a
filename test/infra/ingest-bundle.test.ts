import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleHandler } from '../../bench/bundle.ts';
import { PROJECT_ROOT } from '../../infra/paths.ts';

const outDir = mkdtempSync(join(tmpdir(), 'ingest-bundle-'));

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

describe('the ingest bundle (built as the CDK builds it, issue 12 item 5)', () => {
  it('carries no X-Ray SDK: ingest runs on active tracing alone, without the Powertools tracer', async () => {
    // Act
    const bundle = await bundleHandler(PROJECT_ROOT, outDir, 'functions/ingest/handler.ts');

    // Assess
    const packages = bundle.topPackages.map((part) => part.name);
    expect(packages).toContain('@aws-sdk/client-dynamodb');
    expect(packages).not.toContain('aws-xray-sdk-core');
    expect(packages).not.toContain('cls-hooked');
  });
});
