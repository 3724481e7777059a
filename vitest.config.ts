import { defineConfig } from 'vitest/config';

// The suites: unit (no network), integration (against one local stack started for the run), infra (CDK
// template assertions and cdk-nag), browser (the local dashboard in headless Chromium), appconfig and kpi.
// `npm test` runs them all.
export default defineConfig({
  test: {
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: '.vitest-reports/results.json' }]]
      : ['default'],
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], env: { POWERTOOLS_LOG_LEVEL: 'SILENT' } },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One shared local stack: files run one at a time so their store counts do not interleave.
          fileParallelism: false,
        },
      },
      { test: { name: 'infra', include: ['test/infra/**/*.test.ts'], testTimeout: 120_000 } },
      {
        // The local dashboard in a real headless Chromium (Debian's `chromium`), on its own local stack.
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      { test: { name: 'appconfig', include: ['test/appconfig/**/*.test.ts'] } },
      // KPI math cross-checked against DuckDB SQL written from the SPEC, and hand-worked cases.
      { test: { name: 'kpi', include: ['test/kpi/**/*.test.ts'], testTimeout: 120_000 } },
    ],
  },
});
