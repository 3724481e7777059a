import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { COST_PER_UNIT_COLUMNS } from '#lib/finance/cost-per-unit.ts';
import { SAVED_QUERIES } from '#lib/finance/saved-queries.ts';
import { isoWeekOf, shiftWeek } from '#lib/kpi/weeks.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import {
  BYTES_SCANNED_CUTOFF_PER_QUERY,
  glueDatabaseName,
  isoWeeksBetween,
  PARQUET_FORMAT,
} from '../../infra/constructs/finance.ts';
import { asArray, type CfnProperties, onlyResource, synthesizeLedger } from './helpers.ts';

// Prepare (once: every test reads the same synthesized stateful stack)
const { statefulTemplate: template } = synthesizeLedger();

const only = (type: string, properties?: CfnProperties) => onlyResource(template, type, properties);

const bucketId = (prefix: string): string => {
  const ids = Object.keys(template.findResources('AWS::S3::Bucket')).filter((id) =>
    id.startsWith(`Finance${prefix}`),
  );
  expect(ids, prefix).toHaveLength(1);
  return ids[0] as string;
};
const reportsId = bucketId('ReportsBucket');
const resultsId = bucketId('AthenaResultsBucket');
const [databaseId] = only('AWS::Glue::Database');
const [tableId, table] = only('AWS::Glue::Table', { TableInput: { Name: 'cost_per_unit' } });
const [workgroupId, workgroup] = only('AWS::Athena::WorkGroup', { Name: 'agent-ledger-dev' });
const [, archiveTable] = only('AWS::Glue::Table', { TableInput: { Name: 'archive_events' } });
const [, archiveWorkgroup] = only('AWS::Athena::WorkGroup', { Name: 'agent-ledger-dev-archive' });
const tableInput = table.Properties.TableInput as CfnProperties;
const parameters = tableInput.Parameters as Record<string, unknown>;
const projectedWeeks = String(parameters['projection.week.values']).split(',');

/** `s3://<bucket><path>` as CloudFormation renders it for a bucket of this stack. */
const s3Url = (logicalId: string, path: string) => ({
  'Fn::Join': ['', ['s3://', { Ref: logicalId }, path]],
});

describe('Finance: reports and Athena results buckets', () => {
  it.each([
    ['reports', reportsId, 'reports/'],
    ['Athena results', resultsId, 'athena-results/'],
  ])('keeps the %s bucket private, encrypted, versioned, access-logged and retained', (_name, id, prefix) => {
    const bucket = template.toJSON().Resources[id];
    expect(bucket).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: expect.stringMatching(/^EventStoreAccessLogBucket/) },
        LogFilePrefix: prefix,
      },
    });
  });

  it.each([
    ['reports', reportsId],
    ['Athena results', resultsId],
  ])('refuses plain HTTP and TLS below 1.2 on the %s bucket', (_name, id) => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      },
    });
  });

  it('expires query results after 30 days, and keeps replaced reports 30 days', () => {
    expect(template.toJSON().Resources[resultsId].Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ Status: 'Enabled', ExpirationInDays: 30 }),
    ]);
    expect(template.toJSON().Resources[reportsId].Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      }),
    ]);
    expect(
      template.toJSON().Resources[reportsId].Properties.LifecycleConfiguration.Rules[0],
    ).not.toHaveProperty('ExpirationInDays');
  });
});

describe('Finance: Glue table cost_per_unit', () => {
  it('lives in the database agent_ledger_<stage>, named for Athena (underscores, no hyphens)', () => {
    template.hasResourceProperties('AWS::Glue::Database', {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseInput: { Name: 'agent_ledger_dev' },
    });
    expect(table.Properties.DatabaseName).toEqual({ Ref: databaseId });
    expect(glueDatabaseName('qa-eu-2')).toBe('agent_ledger_qa_eu_2');
  });

  it('is an external Parquet table over cost-per-unit/ in the reports bucket', () => {
    expect(tableInput).toMatchObject({
      Name: 'cost_per_unit',
      TableType: 'EXTERNAL_TABLE',
      StorageDescriptor: {
        Location: s3Url(reportsId, '/cost-per-unit/'),
        InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
        OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
        SerdeInfo: {
          SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
        },
      },
    });
    expect(PARQUET_FORMAT.serializationLibrary).toBe(
      tableInput.StorageDescriptor.SerdeInfo.SerializationLibrary,
    );
  });

  it('has exactly the columns of COST_PER_UNIT_COLUMNS (the Parquet schema), in order', () => {
    expect(tableInput.StorageDescriptor.Columns).toEqual(
      COST_PER_UNIT_COLUMNS.map((column) => ({ Name: column.name, Type: column.glueType })),
    );
  });

  it('is partitioned by week and workflow, both strings, neither also a data column', () => {
    expect((tableInput.PartitionKeys as CfnProperties[]).map(({ Name, Type }) => ({ Name, Type }))).toEqual([
      { Name: 'week', Type: 'string' },
      { Name: 'workflow', Type: 'string' },
    ]);
    const columns = COST_PER_UNIT_COLUMNS.map((column) => column.name);
    expect(columns).not.toContain('week');
    expect(columns).not.toContain('workflow');
  });

  it('projects its partitions: an enum of weeks, an enum of the registered workflows, and the key template', () => {
    expect(parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.week.type': 'enum',
      'projection.workflow.type': 'enum',
      'projection.workflow.values': defaultRegistry.ids().join(','),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's placeholders, meant literally
      'storage.location.template': s3Url(reportsId, '/cost-per-unit/week=${week}/workflow=${workflow}/'),
    });
  });

  it('projects every ISO week from 2026-W01 through 2035-W52, consecutive and without gaps', () => {
    expect(projectedWeeks[0]).toBe('2026-W01');
    expect(projectedWeeks.at(-1)).toBe('2035-W52');
    for (const [index, week] of projectedWeeks.entries()) {
      if (index > 0) expect(week).toBe(shiftWeek(projectedWeeks[index - 1] as string, 1));
    }
    // 10 ISO years: 52 weeks each, plus the two with a week 53 (2026 and 2032 begin on a Thursday)
    expect(projectedWeeks).toHaveLength(10 * 52 + 2);
    expect(new Set(projectedWeeks).size).toBe(projectedWeeks.length);
  });

  it('has week 53 exactly in the ISO years that have one', () => {
    // Oracle independent of the generator: 28 December always lies in its year's last ISO week.
    for (let year = 2026; year <= 2035; year++) {
      const lastWeek = isoWeekOf(Date.UTC(year, 11, 28));
      const has53 = lastWeek === `${year}-W53`;
      expect(projectedWeeks.includes(`${year}-W53`), `${year}`).toBe(has53);
      expect(projectedWeeks, `${year}`).toContain(lastWeek);
    }
    // 1 January 2026 and 2032 are Thursdays: their ISO years have 53 weeks; 2027's (a Friday) has 52
    expect(projectedWeeks).toContain('2026-W53');
    expect(projectedWeeks).toContain('2032-W53');
    expect(projectedWeeks).not.toContain('2027-W53');
    expect(projectedWeeks).not.toContain('2035-W53');
  });

  it('generates weeks by stepping, and refuses a range that is not one', () => {
    expect(isoWeeksBetween('2026-W52', '2027-W02')).toEqual(['2026-W52', '2026-W53', '2027-W01', '2027-W02']);
    expect(isoWeeksBetween('2027-W52', '2028-W01')).toEqual(['2027-W52', '2028-W01']);
    expect(() => isoWeeksBetween('2027-W02', '2027-W01')).toThrow(/after/);
    expect(() => isoWeeksBetween('2027-W01', '2027-W53')).toThrow(/no week 53/);
  });
});

describe('Finance: Athena workgroup', () => {
  it('is agent-ledger-<stage>, enforcing its result location, SSE-S3 results and a 1 GiB scan limit', () => {
    expect(workgroup.Properties).toMatchObject({
      Name: 'agent-ledger-dev',
      State: 'ENABLED',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 1024 ** 3,
        PublishCloudWatchMetricsEnabled: true,
        EngineVersion: { SelectedEngineVersion: 'AUTO' },
        ResultConfiguration: {
          OutputLocation: s3Url(resultsId, '/'),
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
        },
      },
    });
    // Athena's minimum cutoff is 10 MB
    expect(BYTES_SCANNED_CUTOFF_PER_QUERY).toBeGreaterThanOrEqual(10 * 1024 ** 2);
  });

  it('saves each query of SAVED_QUERIES, in the finance database and workgroup', () => {
    const queries = Object.values(template.findResources('AWS::Athena::NamedQuery')).map(
      (query) => query.Properties,
    );
    expect(queries).toHaveLength(SAVED_QUERIES.length);
    for (const saved of SAVED_QUERIES) {
      expect(queries).toContainEqual({
        Name: saved.name,
        Description: saved.description,
        QueryString: saved.sql,
        Database: { Ref: databaseId },
        WorkGroup: { Ref: workgroupId },
      });
    }
  });
});

describe('Finance: the archive as Athena reads it (reads past the hot window, issue 12)', () => {
  const input = archiveTable.Properties.TableInput as CfnProperties;
  const projection = input.Parameters as Record<string, unknown>;
  const archiveId = Object.keys(template.findResources('AWS::S3::Bucket')).find((id) =>
    id.startsWith('EventStoreArchiveBucket'),
  );

  it('is one string column per archive line, split on \\u0001 (which JSON never writes unescaped), over raw/', () => {
    expect(archiveTable.Properties.DatabaseName).toEqual({ Ref: databaseId });
    expect(input).toMatchObject({
      TableType: 'EXTERNAL_TABLE',
      StorageDescriptor: {
        Location: s3Url(archiveId ?? 'missing', '/raw/'),
        Columns: [{ Name: 'line', Type: 'string', Comment: expect.any(String) }],
        InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        SerdeInfo: {
          SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
          Parameters: { 'field.delim': '\u0001' },
        },
      },
    });
    expect(JSON.stringify({ text: 'a\u0001b' })).not.toContain('\u0001');
  });

  it('projects retention class (enum), workflow (injected) and day received (date) onto the archive keys', () => {
    expect((input.PartitionKeys as CfnProperties[]).map(({ Name, Type }) => ({ Name, Type }))).toEqual([
      { Name: 'retention', Type: 'string' },
      { Name: 'workflow', Type: 'string' },
      { Name: 'dt', Type: 'string' },
    ]);
    expect(projection).toMatchObject({
      'projection.enabled': 'true',
      'projection.retention.type': 'enum',
      'projection.retention.values': '12m,18m,24m',
      'projection.workflow.type': 'injected',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2026-01-01,NOW',
      'storage.location.template': s3Url(
        archiveId ?? 'missing',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's placeholders, meant literally
        '/raw/retention=${retention}/workflow=${workflow}/dt=${dt}/',
      ),
    });
  });

  it('is queried in a workgroup of its own: results under archive-reads/, encrypted with the archive key', () => {
    expect(archiveWorkgroup.Properties).toMatchObject({
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: BYTES_SCANNED_CUTOFF_PER_QUERY,
        ResultConfiguration: {
          OutputLocation: s3Url(resultsId, '/archive-reads/'),
          EncryptionConfiguration: {
            EncryptionOption: 'SSE_KMS',
            KmsKey: { 'Fn::GetAtt': [expect.stringMatching(/^EventStoreDataKey/), 'Arn'] },
          },
        },
      },
    });
  });
});

describe('Finance: analysts policy', () => {
  const [policyId, policy] = only('AWS::IAM::ManagedPolicy', {
    ManagedPolicyName: 'agent-ledger-dev-finance-read',
  });
  const statements = policy.Properties.PolicyDocument.Statement as CfnProperties[];
  const bySid = (sid: string): CfnProperties => {
    const found = statements.find((statement) => statement.Sid === sid);
    expect(found, sid).toBeDefined();
    return found as CfnProperties;
  };
  const arn = (service: string, resource: string) => ({
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        `:${service}:`,
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:${resource}`,
      ],
    ],
  });
  const bucketArn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
  const objects = (id: string, path: string) => ({ 'Fn::Join': ['', [bucketArn(id), path]] });

  it('runs queries in the finance workgroup only', () => {
    expect(bySid('QueryInTheFinanceWorkgroup')).toEqual({
      Sid: 'QueryInTheFinanceWorkgroup',
      Effect: 'Allow',
      Action: [
        'athena:GetNamedQuery',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:GetWorkGroup',
        'athena:ListNamedQueries',
        'athena:StartQueryExecution',
        'athena:StopQueryExecution',
      ],
      Resource: arn('athena', 'workgroup/agent-ledger-dev'),
    });
  });

  it('reads the catalog entries of cost_per_unit only', () => {
    expect(bySid('ReadTheCostPerUnitTable')).toEqual({
      Sid: 'ReadTheCostPerUnitTable',
      Effect: 'Allow',
      Action: ['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable'],
      Resource: [
        arn('glue', 'catalog'),
        arn('glue', 'database/agent_ledger_dev'),
        arn('glue', 'table/agent_ledger_dev/cost_per_unit'),
      ],
    });
  });

  it('reads the reports under cost-per-unit/, and writes only query results', () => {
    expect(bySid('ReadTheReports')).toMatchObject({
      Action: 's3:GetObject',
      Resource: objects(reportsId, '/cost-per-unit/*'),
    });
    expect(bySid('ListTheReports')).toMatchObject({
      Action: 's3:ListBucket',
      Resource: bucketArn(reportsId),
      Condition: { StringLike: { 's3:prefix': ['cost-per-unit/*'] } },
    });
    expect(bySid('WriteAndReadQueryResults')).toMatchObject({
      Resource: objects(resultsId, '/*'),
    });
    const writes = statements
      .filter((statement) => asArray<string>(statement.Action).some((a) => /^s3:(Put|Delete|Abort)/.test(a)))
      .map((statement) => statement.Resource);
    expect(writes).toEqual([objects(resultsId, '/*')]);
    expect(statements.every((statement) => statement.Effect === 'Allow')).toBe(true);
    expect(JSON.stringify(statements)).not.toMatch(/"\*"|:\*"|kms:|ArchiveBucket|LedgerTable/);
  });

  it('is published for attaching to analysts', () => {
    template.hasOutput('FinanceReadPolicyArn', { Value: { Ref: policyId } });
  });
});

describe('Drift notifications topic', () => {
  const [topicId, topic] = only('AWS::SNS::Topic');

  it('is encrypted with a rotated customer-managed key of its own, and kept on deletion', () => {
    const keyId = (topic.Properties.KmsMasterKeyId as CfnProperties)['Fn::GetAtt'][0] as string;
    expect(keyId).toMatch(/^DriftNotificationsKey/);
    expect(template.toJSON().Resources[keyId]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
    expect(topic).toMatchObject({ DeletionPolicy: 'Retain' });
  });

  it('refuses publishes without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        // Next to the statement that lets the stage's alarms publish (test/infra/dashboard.test.ts)
        Statement: Match.arrayWith([
          {
            Sid: 'AllowPublishThroughSSLOnly',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ]),
      },
    });
  });

  it('is published for the CLI and for subscribing operators', () => {
    template.hasOutput('DriftTopicArn', { Value: { Ref: topicId } });
  });
});

describe('StatefulStack finance outputs', () => {
  it('names the buckets, the Glue database and the Athena workgroup for the CLI', () => {
    template.hasOutput('ReportsBucketName', { Value: { Ref: reportsId } });
    template.hasOutput('AthenaResultsBucketName', { Value: { Ref: resultsId } });
    template.hasOutput('GlueDatabase', { Value: { Ref: databaseId } });
    template.hasOutput('AthenaWorkgroup', { Value: { Ref: workgroupId } });
    expect(tableId).toMatch(/^FinanceCostPerUnitTable/);
  });
});
