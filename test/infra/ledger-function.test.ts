import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { describe, expect, it } from 'vitest';
import { flattenForNag, LedgerFunction } from '../../infra/constructs/ledger-function.ts';
import { functionEntry } from '../../infra/paths.ts';
import { asArray, type CfnProperties, cdkJsonContext, SKIP_BUNDLING } from './helpers.ts';

// Prepare: one function per access level (seven), against a KMS-encrypted table, bucket and secret
const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
const stack = new Stack(app, 'LedgerFunctionFixture');
const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
const table = new dynamodb.Table(stack, 'Table', {
  partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
  encryptionKey: key,
});
const bucket = new s3.Bucket(stack, 'Bucket', { encryption: s3.BucketEncryption.KMS, encryptionKey: key });
const secret = new secretsmanager.Secret(stack, 'Secret', { encryptionKey: key });
const props = { entry: functionEntry('healthz'), memorySize: 256, timeout: Duration.seconds(5) };
new LedgerFunction(stack, 'TableReader', { ...props, description: 'reads the table' }).useLedgerTable(
  table,
  'read',
);
new LedgerFunction(stack, 'Writer', { ...props, description: 'ingests' })
  .useLedgerTable(table, 'readWrite')
  .useArchiveBucket(bucket, 'put')
  .useActorHashKey(secret);
new LedgerFunction(stack, 'Replayer', { ...props, description: 'replays' }).useArchiveBucket(bucket, 'read');
new LedgerFunction(stack, 'Prober', { ...props, description: 'checks health' }).useArchiveBucket(
  bucket,
  'head',
);
new LedgerFunction(stack, 'ReportWriter', { ...props, description: 'writes reports' }).useReportsBucket(
  bucket,
  { put: 'governance/' },
);
new LedgerFunction(stack, 'ReportReader', { ...props, description: 'shows reports' })
  .useReportsBucket(bucket, 'read')
  .useConsoleSessionKey(secret);
const resultsBucket = new s3.Bucket(stack, 'Results');
new LedgerFunction(stack, 'ArchiveReader', { ...props, description: 'reads past the hot window' })
  .useArchiveBucket(bucket, 'read')
  .useArchiveQueries({
    workgroupName: 'agent-ledger-dev-archive',
    databaseName: 'agent_ledger_dev',
    resultsBucket,
    resultsKey: key,
  });
const template = Template.fromStack(stack);

/** The statements of one function's role policy. */
function statementsOf(functionId: string): CfnProperties[] {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([logicalId]) =>
    logicalId.startsWith(`${functionId}Role`),
  );
  expect(policies).toHaveLength(1);
  return (policies[0]?.[1].Properties.PolicyDocument.Statement ?? []) as CfnProperties[];
}

function actionsOf(statements: CfnProperties[], service: string): string[] {
  return statements
    .flatMap((statement) => asArray<string>(statement.Action))
    .filter((a) => a.startsWith(`${service}:`));
}

function statementWith(statements: CfnProperties[], action: string): CfnProperties {
  const found = statements.find((statement) => asArray<string>(statement.Action).includes(action));
  expect(found, `a statement allowing ${action}`).toBeDefined();
  return found as CfnProperties;
}

const resourcesOf = (statement: CfnProperties): string => JSON.stringify(statement.Resource);

describe('LedgerFunction: defaults', () => {
  it('runs Node.js 24 on arm64 with active tracing and JSON logs into its own log group', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      MemorySize: 256,
      Timeout: 5,
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN' },
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('uses a role of its own without AWS managed policies, allowed to write only its own log group', () => {
    // Act
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    const logs = statementWith(statementsOf('Prober'), 'logs:PutLogEvents');

    // Assess
    expect(roles).toHaveLength(7);
    for (const role of roles) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(logs.Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(resourcesOf(logs)).toMatch(/ProberLogs/);
  });

  it('allows "*" resources only for the X-Ray actions tracing needs (the basis of the IAM5 acknowledgment)', () => {
    // Act
    const all = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as CfnProperties[],
    );
    const wildcard = all.filter((statement) => asArray(statement.Resource).includes('*'));

    // Assess
    expect(wildcard).toHaveLength(7);
    for (const statement of wildcard) {
      expect(statement.Action).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });
});

describe('LedgerFunction.useLedgerTable', () => {
  it('read: sets LEDGER_TABLE_NAME and allows key lookups and queries of the table and its named indexes', () => {
    // Act
    const statements = statementsOf('TableReader');
    const dynamo = statementWith(statements, 'dynamodb:Query');

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { LEDGER_TABLE_NAME: { Ref: Match.stringLikeRegexp('^Table') } } },
    });
    expect(actionsOf(statements, 'dynamodb').sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
    expect(resourcesOf(dynamo)).toContain('/index/gsi1');
    expect(resourcesOf(dynamo)).toContain('/index/gsi2');
    expect(resourcesOf(dynamo)).not.toContain('*');
  });

  it('read: may use the table key only through DynamoDB, to decrypt', () => {
    const kmsStatement = statementWith(statementsOf('TableReader'), 'kms:Decrypt');
    expect(kmsStatement.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
    expect(JSON.stringify(kmsStatement.Condition)).toMatch(
      /"kms:ViaService":\{"Fn::Join":\["",\["dynamodb\./,
    );
  });

  it('readWrite: adds conditional puts, but never scans, updates or deletes (the ledger is append-only)', () => {
    // Act
    const actions = actionsOf(statementsOf('Writer'), 'dynamodb');

    // Assess
    expect(actions).toContain('dynamodb:PutItem');
    for (const forbidden of ['Scan', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'PartiQLDelete', '*']) {
      expect(actions).not.toContain(`dynamodb:${forbidden}`);
    }
  });
});

describe('LedgerFunction.useArchiveBucket', () => {
  it('put: sets ARCHIVE_BUCKET_NAME and allows PutObject under raw/ only, with a data key made through S3', () => {
    // Act
    const statements = statementsOf('Writer');
    const put = statementWith(statements, 's3:PutObject');
    const viaS3 = statements.filter((statement) =>
      JSON.stringify(statement.Condition ?? {}).includes('"s3.'),
    );

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { ARCHIVE_BUCKET_NAME: { Ref: Match.stringLikeRegexp('^Bucket') } } },
    });
    expect(actionsOf(statements, 's3')).toEqual(['s3:PutObject']);
    expect(resourcesOf(put)).toMatch(/"\/raw\/\*"\]\]\}$/);
    expect(viaS3.map((statement) => statement.Action)).toEqual(['kms:GenerateDataKey']);
  });

  it('read: allows GetObject under raw/ and listing only that prefix, decrypting through S3', () => {
    // Act
    const statements = statementsOf('Replayer');

    // Assess
    expect(actionsOf(statements, 's3').sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(statementWith(statements, 's3:ListBucket').Condition).toEqual({
      StringLike: { 's3:prefix': ['raw/*'] },
    });
    expect(resourcesOf(statementWith(statements, 's3:GetObject'))).toContain('/raw/*');
    expect(actionsOf(statements, 'kms')).toEqual(['kms:Decrypt']);
  });

  it('head: allows only HeadBucket (s3:ListBucket on the bucket), no objects and no key', () => {
    const statements = statementsOf('Prober');
    expect(actionsOf(statements, 's3')).toEqual(['s3:ListBucket']);
    expect(actionsOf(statements, 'kms')).toEqual([]);
  });
});

describe('LedgerFunction.useActorHashKey', () => {
  it('sets ACTOR_HASH_KEY_SECRET_ARN and allows reading that one secret, decrypted through Secrets Manager', () => {
    // Act
    const statements = statementsOf('Writer');
    const read = statementWith(statements, 'secretsmanager:GetSecretValue');
    const decrypt = statements.find(
      (statement) =>
        JSON.stringify(statement.Condition ?? {}).includes('secretsmanager.') &&
        statement.Action === 'kms:Decrypt',
    );

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { ACTOR_HASH_KEY_SECRET_ARN: { Ref: Match.stringLikeRegexp('^Secret') } } },
    });
    expect(read.Resource).toEqual({ Ref: expect.stringMatching(/^Secret/) });
    expect(actionsOf(statements, 'secretsmanager')).toEqual(['secretsmanager:GetSecretValue']);
    expect(decrypt).toBeDefined();
  });
});

describe('LedgerFunction.useReportsBucket', () => {
  it('{ put: prefix }: allows PutObject under that prefix only, the key through S3 only', () => {
    // Act
    const statements = statementsOf('ReportWriter');

    // Assess
    expect(actionsOf(statements, 's3')).toEqual(['s3:PutObject']);
    expect(JSON.stringify(statementWith(statements, 's3:PutObject').Resource)).toMatch(/\/governance\/\*"/);
    expect(actionsOf(statements, 'kms')).toEqual(['kms:GenerateDataKey']);
  });

  it('read: allows GetObject on every report and ListBucket on the bucket, decrypting through S3 only', () => {
    // Act
    const statements = statementsOf('ReportReader');
    const decrypt = statements.find(
      (statement) =>
        statement.Action === 'kms:Decrypt' && JSON.stringify(statement.Condition).includes('s3.'),
    );

    // Assess
    expect(actionsOf(statements, 's3').sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(JSON.stringify(statementWith(statements, 's3:GetObject').Resource)).toMatch(/"\/\*"/);
    expect(statementWith(statements, 's3:ListBucket').Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^Bucket/), 'Arn'],
    });
    expect(decrypt).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'shows reports',
      Environment: { Variables: { REPORTS_BUCKET_NAME: { Ref: Match.stringLikeRegexp('^Bucket') } } },
    });
  });
});

describe('LedgerFunction.useConsoleSessionKey', () => {
  it('sets CONSOLE_SESSION_KEY_SECRET_ARN and allows reading that one secret, decrypted through Secrets Manager', () => {
    // Act
    const statements = statementsOf('ReportReader');
    const decrypt = statements.find(
      (statement) =>
        JSON.stringify(statement.Condition ?? {}).includes('secretsmanager.') &&
        statement.Action === 'kms:Decrypt',
    );

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'shows reports',
      Environment: {
        Variables: { CONSOLE_SESSION_KEY_SECRET_ARN: { Ref: Match.stringLikeRegexp('^Secret') } },
      },
    });
    expect(statementWith(statements, 'secretsmanager:GetSecretValue').Resource).toEqual({
      Ref: expect.stringMatching(/^Secret/),
    });
    expect(actionsOf(statements, 'secretsmanager')).toEqual(['secretsmanager:GetSecretValue']);
    expect(decrypt).toBeDefined();
  });
});

describe('LedgerFunction bundling (real esbuild run)', () => {
  it('emits a minified ESM bundle with a source map whose require() works for CommonJS code', () => {
    // Prepare
    const outdir = mkdtempSync(path.join(os.tmpdir(), 'ledger-bundle-'));
    const bundlingApp = new App({ outdir, context: cdkJsonContext() });
    new LedgerFunction(new Stack(bundlingApp, 'Bundled'), 'Fn', {
      entry: path.join(import.meta.dirname, 'fixtures', 'require-handler.ts'),
      description: 'fixture',
      memorySize: 128,
      timeout: Duration.seconds(3),
    });

    // Act
    const assembly = bundlingApp.synth();
    const [assetDir] = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    const bundle = path.join(assembly.directory, assetDir ?? 'missing', 'index.mjs');
    const run = (file: string): string =>
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(JSON.stringify(await m.handler()));`,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );

    // Assess
    const code = readFileSync(bundle, 'utf8');
    expect(code.startsWith("import { createRequire as __ledgerCreateRequire } from 'node:module';")).toBe(
      true,
    );
    expect(code.split('\n').length).toBeLessThan(10); // minified
    expect(existsSync(`${bundle}.map`)).toBe(true);
    expect(JSON.parse(run(bundle))).toEqual({ platform: os.platform() });

    // …and without the banner the same bundle cannot require()
    const withoutBanner = path.join(outdir, 'without-banner.mjs');
    writeFileSync(withoutBanner, code.slice(code.indexOf('\n') + 1));
    expect(() => run(withoutBanner)).toThrow(/Dynamic require of "node:os" is not supported/);
  });
});

describe('LedgerFunction.useArchiveQueries', () => {
  it('runs queries in the archive workgroup only, reads the archive_events table, and its own results', () => {
    // Act
    const statements = statementsOf('ArchiveReader');
    const variables = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: 'reads past the hot window' },
    });

    // Assess
    expect(Object.values(variables)[0]?.Properties.Environment.Variables).toMatchObject({
      ARCHIVE_QUERY_WORKGROUP: 'agent-ledger-dev-archive',
      ARCHIVE_QUERY_DATABASE: 'agent_ledger_dev',
    });
    expect(actionsOf(statements, 'athena').sort()).toEqual([
      'athena:GetQueryExecution',
      'athena:GetQueryResults',
      'athena:StartQueryExecution',
      'athena:StopQueryExecution',
    ]);
    expect(resourcesOf(statementWith(statements, 'athena:StartQueryExecution'))).toContain(
      ':workgroup/agent-ledger-dev-archive',
    );
    expect(actionsOf(statements, 'glue').sort()).toEqual(['glue:GetDatabase', 'glue:GetTable']);
    expect(resourcesOf(statementWith(statements, 'glue:GetTable'))).toContain(
      ':table/agent_ledger_dev/archive_events',
    );
    expect(resourcesOf(statementWith(statements, 's3:PutObject'))).toContain('/archive-reads/*');
    // The results are archive lines, encrypted with the archive's key: through S3 only
    const keyUse = statements.filter((statement) =>
      asArray<string>(statement.Action).includes('kms:GenerateDataKey'),
    );
    expect(keyUse).toHaveLength(1);
    expect(keyUse[0]?.Condition).toEqual({
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
      },
    });
    expect(actionsOf(statements, 's3')).not.toContain('s3:DeleteObject');
  });
});

describe('flattenForNag', () => {
  it('names a resource exactly as cdk-nag does in finding IDs, so acknowledgments match its findings', () => {
    // Prepare
    const references: unknown[] = [
      '*',
      { Ref: 'Bucket83908E77' },
      { 'Fn::GetAtt': ['Bucket83908E77', 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket83908E77', 'Arn'] }, '/raw/*']] },
      {
        'Fn::Join': [
          '',
          [
            {
              'Fn::GetStackOutput': { StackName: 'AgentLedger-dev-Stateful', OutputName: 'PublishOutputArn' },
            },
            '/raw/*',
          ],
        ],
      },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not JavaScript
      { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/*' },
      { 'Fn::ImportValue': 'ExportedArn' },
    ];

    // Act / Assess
    for (const reference of references) {
      expect(flattenForNag(reference)).toBe(flattenCfnReference(reference));
    }
  });
});
