#!/usr/bin/env node
// The CDK app (cdk.json: "app": "npx tsx infra/app.ts"). Choose the stage with `-c stage=<name>`.
import { App } from 'aws-cdk-lib';
import { defineLedgerApp } from './ledger-app.ts';

const app = new App();
defineLedgerApp(app);
app.synth();
