import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeDocumentClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME, localSettings } from '#local-stack/settings.ts';
import { CliError } from './errors.ts';

/**
 * Where a command acts: the local stack by default (found through `$LEDGER_DATA_DIR/endpoints.json`),
 * or a deployed stage with `--stage <name>` (found through its CloudFormation outputs, with the caller's
 * usual AWS credentials and region).
 */
export interface Target {
  readonly description: string;
  readonly tableName: string;
  readonly dynamodb: DynamoDBClient;
}

export function statefulStackName(stage: string): string {
  return `AgentLedger-${stage}-Stateful`;
}

export async function resolveTarget(stage: string | undefined): Promise<Target> {
  return stage === undefined ? localTarget() : stageTarget(stage);
}

function localTarget(): Target {
  const settings = localSettings();
  const file = join(settings.dataDir, 'endpoints.json');
  let endpoints: { dynamodb?: string };
  try {
    endpoints = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new CliError(
      `no local stack found (${file} is missing); start it with \`npm start\`, or pass --stage <name> for a deployed stage`,
    );
  }
  if (!endpoints.dynamodb) throw new CliError(`${file} names no dynamodb endpoint; restart the local stack`);
  return {
    description: `the local stack (${settings.dataDir})`,
    tableName: LOCAL_TABLE_NAME,
    dynamodb: new DynamoDBClient({
      endpoint: endpoints.dynamodb,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 2,
    }),
  };
}

async function stageTarget(stage: string): Promise<Target> {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,30}$/.test(stage)) throw new CliError(`'${stage}' is not a stage name`, 2);
  const stackName = statefulStackName(stage);
  let outputs: Record<string, string>;
  try {
    const { Stacks } = await new CloudFormationClient({}).send(
      new DescribeStacksCommand({ StackName: stackName }),
    );
    outputs = Object.fromEntries(
      (Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
    );
  } catch (error) {
    throw new CliError(
      `could not read stack ${stackName}: ${(error as Error).message}. Is stage '${stage}' deployed, and are your AWS credentials and region set?`,
    );
  }
  const tableName = outputs.LedgerTableName;
  if (!tableName) throw new CliError(`stack ${stackName} has no LedgerTableName output; redeploy it`);
  return { description: `stage ${stage}`, tableName, dynamodb: new DynamoDBClient({}) };
}

export function accessStore(target: Target): DynamoDbAccessStore {
  return new DynamoDbAccessStore(makeDocumentClient(target.dynamodb), target.tableName);
}

/** Turns an unreachable local DynamoDB into advice instead of a socket error. */
export function explainTargetFailure(error: unknown, target: Target): never {
  const message = (error as Error)?.message ?? String(error);
  if (/ECONNREFUSED|connect|socket/i.test(message) && target.description.startsWith('the local stack')) {
    throw new CliError(`${target.description} is not answering (${message}); start it with \`npm start\``);
  }
  throw new CliError(`${target.description}: ${message}`);
}
