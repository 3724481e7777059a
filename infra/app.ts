#!/usr/bin/env node
// The CDK app (cdk.json: "app": "npx tsx infra/app.ts"). Choose the stage with `-c stage=<name>`, and
// another workflow registry than config/workflow-registry.json with `-c registryFile=<path>`.
import { App } from 'aws-cdk-lib';
import { InvalidRegistryError, loadRegistryFile } from '#lib/registry/workflows.ts';
import { InvalidConfigError } from './config.ts';
import { defineLedgerApp } from './ledger-app.ts';

const app = new App();
try {
  const registryFile: unknown = app.node.tryGetContext('registryFile');
  if (registryFile !== undefined && typeof registryFile !== 'string') {
    throw new InvalidConfigError(
      'context "registryFile" must be a path, like -c registryFile=config/prod-registry.json',
    );
  }
  defineLedgerApp(app, registryFile ? { registry: loadRegistryFile(registryFile) } : {});
} catch (error) {
  // A wrong setting or registry is the deployer's to fix: say what and where, without a stack trace.
  if (error instanceof InvalidConfigError || error instanceof InvalidRegistryError) {
    console.error(`agent-ledger: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
app.synth();
