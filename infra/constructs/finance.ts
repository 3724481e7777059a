import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { archiveQueryWorkgroup } from '#lib/deployment/stacks.ts';
import { COST_PER_UNIT_COLUMNS, COST_PER_UNIT_PREFIX } from '#lib/finance/cost-per-unit.ts';
import { SAVED_QUERIES } from '#lib/finance/saved-queries.ts';
import { shiftWeek, weekBounds } from '#lib/kpi/weeks.ts';
import { ARCHIVE_EVENTS_TABLE } from '#lib/read/archive-pages.ts';
import { RETENTION_MONTHS } from '#lib/registry/workflows.ts';
import { ARCHIVE_PREFIX } from '#lib/storage/archive-bucket.ts';
import { ABORT_INCOMPLETE_UPLOAD_DAYS } from './event-store.ts';
import { acknowledgeWildcardResource } from './ledger-function.ts';

/** The first and last week the Glue table projects: the ledger's first year, and ten years of reports. */
export const FIRST_PROJECTED_WEEK = '2026-W01';
export const LAST_PROJECTED_WEEK = '2035-W52';

/** The Glue table over the weekly cost-per-unit Parquet (SPEC "Finance"). */
export const COST_PER_UNIT_TABLE = 'cost_per_unit';

/** Athena refuses (and bills no further) a query of this workgroup once it has scanned 1 GiB. */
export const BYTES_SCANNED_CUTOFF_PER_QUERY = 1024 ** 3;

/** Query results are a cache for whoever ran the query: they expire after 30 days. */
export const ATHENA_RESULTS_EXPIRY_DAYS = 30;

/** The first day the archive's `dt` partitions are projected from: the ledger's first year. */
export const FIRST_ARCHIVED_DAY = '2026-01-01';

/** Where the archive workgroup puts its results, in the Athena results bucket. */
export const ARCHIVE_RESULTS_PREFIX = 'archive-reads/';

/**
 * The Hive text formats Athena reads the archive's gzip NDJSON with: a line is one `string` column,
 * split on \u0001 (LazySimpleSerDe's default), which JSON never writes unescaped.
 */
export const ARCHIVE_LINE_FORMAT = {
  serializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  fieldDelimiter: '\u0001',
} as const;

/** `agent-ledger-<stage>-archive`: the Athena workgroup of the ledger's own reads of the archive. */
export function archiveWorkgroupName(stage: string): string {
  return archiveQueryWorkgroup(athenaWorkgroupName(stage));
}

/** What a function needs to query the archive in Athena (LedgerFunction.useArchiveQueries). */
export interface ArchiveQueryIds {
  readonly workgroupName: string;
  readonly databaseName: string;
  readonly resultsBucket: s3.IBucket;
  /** The results are archive lines: encrypted with the archive's key, like the archive. */
  readonly resultsKey: kms.IKey;
}

/** A report the KPI job rewrote (each daily recompute does) stays recoverable this long. */
export const REPORT_NONCURRENT_EXPIRY_DAYS = 30;

/** Hive's Parquet SerDe and formats, which Athena reads Parquet with. */
export const PARQUET_FORMAT = {
  serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
} as const;

/** `agent_ledger_<stage>`: Glue and Athena want lowercase letters, digits and underscores. */
export function glueDatabaseName(stage: string): string {
  return `agent_ledger_${stage.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
}

/** `agent-ledger-<stage>`: the Athena workgroup, also in the finance policy's name. */
export function athenaWorkgroupName(stage: string): string {
  return `agent-ledger-${stage}`;
}

/**
 * Every ISO week from `first` through `last`, in order, stepping a week at a time (ISO years have 52 or
 * 53 weeks, so numbering cannot be generated per year). Both must be valid weeks, `first` ≤ `last`.
 */
export function isoWeeksBetween(first: string, last: string): string[] {
  const end = weekBounds(last).startMs;
  if (weekBounds(first).startMs > end) throw new RangeError(`${first} is after ${last}`);
  const weeks: string[] = [];
  for (let week = first; weekBounds(week).startMs <= end; week = shiftWeek(week, 1)) weeks.push(week);
  return weeks;
}

export interface FinanceProps {
  /** Names the Glue database, the Athena workgroup and the finance policy. */
  readonly stage: string;
  /** The registered workflows: the `workflow` partition's values. */
  readonly workflowIds: readonly string[];
  /** Where both buckets deliver their server access logs (SSE-S3, see EventStore). */
  readonly accessLogBucket: s3.IBucket;
  /** The raw event archive (EventStore), which the `archive_events` table reads, and its key. */
  readonly archiveBucket: s3.IBucket;
  readonly archiveKey: kms.IKey;
}

/**
 * Finance on Athena (SPEC "Finance"): the reports bucket the KPI job writes weekly cost-per-unit Parquet
 * to, a Glue table over it with partition projection (no crawler, no MSCK REPAIR: every week and
 * workflow is projected), an Athena workgroup that enforces its result location, encryption and scan
 * limit, the saved queries from `lib/finance/saved-queries.ts`, and a managed policy for analysts.
 *
 * Both buckets use SSE-S3: the reports are aggregates per workflow and week (no actor IDs, no event
 * content), and Athena results are those aggregates again; analysts then need no grant on the ledger's
 * customer-managed key, which also protects the raw events.
 */
export class Finance extends Construct {
  public readonly reportsBucket: s3.Bucket;
  public readonly athenaResultsBucket: s3.Bucket;
  public readonly database: glue.CfnDatabase;
  public readonly table: glue.CfnTable;
  public readonly workgroup: athena.CfnWorkGroup;
  public readonly namedQueries: readonly athena.CfnNamedQuery[];
  /** The archive as Athena reads it: one line per row, partitioned by retention class, workflow and day. */
  public readonly archiveTable: glue.CfnTable;
  /** The ledger's own reads of the archive (reads past the hot window, ingest's idempotency past it). */
  public readonly archiveWorkgroup: athena.CfnWorkGroup;
  public readonly archiveQueries: ArchiveQueryIds;
  /** What an analyst needs to run queries in this workgroup over `cost_per_unit`, and nothing more. */
  public readonly readPolicy: iam.ManagedPolicy;

  public readonly databaseName: string;
  public readonly workgroupName: string;

  constructor(scope: Construct, id: string, props: FinanceProps) {
    super(scope, id);
    this.databaseName = glueDatabaseName(props.stage);
    this.workgroupName = athenaWorkgroupName(props.stage);

    this.reportsBucket = new s3.Bucket(this, 'ReportsBucket', {
      ...privateBucket(props.accessLogBucket, 'reports/'),
      lifecycleRules: [
        {
          id: 'expire-replaced-reports',
          noncurrentVersionExpiration: Duration.days(REPORT_NONCURRENT_EXPIRY_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_UPLOAD_DAYS),
        },
      ],
    });

    this.athenaResultsBucket = new s3.Bucket(this, 'AthenaResultsBucket', {
      ...privateBucket(props.accessLogBucket, 'athena-results/'),
      lifecycleRules: [
        {
          id: 'expire-query-results',
          expiration: Duration.days(ATHENA_RESULTS_EXPIRY_DAYS),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    const account = Stack.of(this).account;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: account,
      databaseInput: {
        name: this.databaseName,
        description: `Agent Ledger (${props.stage}): finance reports (weekly cost per unit of value) and the raw event archive`,
      },
    });

    this.table = this.createTable(props.workflowIds);
    this.workgroup = this.createWorkgroup(props.stage);
    this.namedQueries = SAVED_QUERIES.map(
      (query) =>
        new athena.CfnNamedQuery(this, `Query-${query.name}`, {
          name: query.name,
          description: query.description,
          database: this.database.ref,
          workGroup: this.workgroup.ref,
          queryString: query.sql,
        }),
    );

    this.readPolicy = this.createReadPolicy(props.stage);

    this.archiveTable = this.createArchiveTable(props.archiveBucket);
    this.archiveWorkgroup = this.createArchiveWorkgroup(props.stage, props.archiveKey);
    this.archiveQueries = {
      workgroupName: archiveWorkgroupName(props.stage),
      databaseName: this.databaseName,
      resultsBucket: this.athenaResultsBucket,
      resultsKey: props.archiveKey,
    };
  }

  /**
   * `archive_events` over the raw archive, as the shared SQL reads it (lib/read/archive-pages.ts): the line
   * as one string, partitions projected (retention classes as an enum, the workflow injected by each query's
   * `workflow = …`, each day from the first on), so no crawler and no partition to add.
   */
  private createArchiveTable(archiveBucket: s3.IBucket): glue.CfnTable {
    const archive = `s3://${archiveBucket.bucketName}/${ARCHIVE_PREFIX}`;
    return new glue.CfnTable(this, 'ArchiveEventsTable', {
      catalogId: Stack.of(this).account,
      databaseName: this.database.ref,
      tableInput: {
        name: ARCHIVE_EVENTS_TABLE,
        description:
          'The raw event archive: one gzip NDJSON line per row (the read API item plus contentHash), by retention class, workflow and day received',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [
          { name: 'retention', type: 'string', comment: 'retention class: 12m, 18m or 24m' },
          { name: 'workflow', type: 'string', comment: 'registered workflow ID' },
          { name: 'dt', type: 'string', comment: 'UTC day the ledger received the event, YYYY-MM-DD' },
        ],
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'text',
          'projection.enabled': 'true',
          'projection.retention.type': 'enum',
          'projection.retention.values': RETENTION_MONTHS.map((months) => `${months}m`).join(','),
          'projection.workflow.type': 'injected',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${FIRST_ARCHIVED_DAY},NOW`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'storage.location.template': `${archive}retention=\${retention}/workflow=\${workflow}/dt=\${dt}/`,
        },
        storageDescriptor: {
          location: archive,
          columns: [{ name: 'line', type: 'string', comment: 'one archive line, JSON' }],
          inputFormat: ARCHIVE_LINE_FORMAT.inputFormat,
          outputFormat: ARCHIVE_LINE_FORMAT.outputFormat,
          serdeInfo: {
            serializationLibrary: ARCHIVE_LINE_FORMAT.serializationLibrary,
            parameters: {
              'field.delim': ARCHIVE_LINE_FORMAT.fieldDelimiter,
              'serialization.format': ARCHIVE_LINE_FORMAT.fieldDelimiter,
            },
          },
        },
      },
    });
  }

  /**
   * A workgroup of its own for the archive reads, in the same results bucket: its results are event lines,
   * not aggregates, so they are encrypted with the archive's key (which analysts hold no grant on), under a
   * prefix of their own, with the same scan limit.
   */
  private createArchiveWorkgroup(stage: string, archiveKey: kms.IKey): athena.CfnWorkGroup {
    return new athena.CfnWorkGroup(this, 'ArchiveWorkgroup', {
      name: archiveWorkgroupName(stage),
      description: `Agent Ledger (${stage}): the ledger's reads of the raw event archive past the index's hot window`,
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        bytesScannedCutoffPerQuery: BYTES_SCANNED_CUTOFF_PER_QUERY,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'AUTO' },
        resultConfiguration: {
          outputLocation: `s3://${this.athenaResultsBucket.bucketName}/${ARCHIVE_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: archiveKey.keyArn },
          expectedBucketOwner: Stack.of(this).account,
        },
      },
    });
  }

  private createTable(workflowIds: readonly string[]): glue.CfnTable {
    const reports = `s3://${this.reportsBucket.bucketName}/${COST_PER_UNIT_PREFIX}`;
    return new glue.CfnTable(this, 'CostPerUnitTable', {
      catalogId: Stack.of(this).account,
      databaseName: this.database.ref,
      tableInput: {
        name: COST_PER_UNIT_TABLE,
        description:
          'Weekly KPIs and cost per unit of value, one row per workflow and ISO week (written by the KPI job)',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [
          { name: 'week', type: 'string', comment: 'ISO week, YYYY-Www (sorts in time order)' },
          { name: 'workflow', type: 'string', comment: 'registered workflow ID' },
        ],
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'parquet',
          'projection.enabled': 'true',
          'projection.week.type': 'enum',
          'projection.week.values': isoWeeksBetween(FIRST_PROJECTED_WEEK, LAST_PROJECTED_WEEK).join(','),
          'projection.workflow.type': 'enum',
          'projection.workflow.values': workflowIds.join(','),
          'storage.location.template': `${reports}week=\${week}/workflow=\${workflow}/`,
        },
        storageDescriptor: {
          location: reports,
          columns: COST_PER_UNIT_COLUMNS.map((column) => ({ name: column.name, type: column.glueType })),
          inputFormat: PARQUET_FORMAT.inputFormat,
          outputFormat: PARQUET_FORMAT.outputFormat,
          serdeInfo: {
            serializationLibrary: PARQUET_FORMAT.serializationLibrary,
            parameters: { 'serialization.format': '1' },
          },
        },
      },
    });
  }

  private createWorkgroup(stage: string): athena.CfnWorkGroup {
    return new athena.CfnWorkGroup(this, 'Workgroup', {
      name: this.workgroupName,
      description: `Agent Ledger (${stage}): finance queries over the cost-per-unit reports`,
      state: 'ENABLED',
      // Deleting the workgroup (stack deletion, a rename) also deletes its query history; the results
      // themselves stay in the retained results bucket until they expire.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        // Clients cannot override the result location, its encryption or the scan limit.
        enforceWorkGroupConfiguration: true,
        bytesScannedCutoffPerQuery: BYTES_SCANNED_CUTOFF_PER_QUERY,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'AUTO' },
        resultConfiguration: {
          outputLocation: `s3://${this.athenaResultsBucket.bucketName}/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: Stack.of(this).account,
        },
      },
    });
  }

  private createReadPolicy(stage: string): iam.ManagedPolicy {
    const stack = Stack.of(this);
    const glueArn = (resource: string, resourceName?: string): string =>
      stack.formatArn({ service: 'glue', resource, resourceName });
    const reportObjects = this.reportsBucket.arnForObjects(`${COST_PER_UNIT_PREFIX}*`);
    const resultObjects = this.athenaResultsBucket.arnForObjects('*');

    const policy = new iam.ManagedPolicy(this, 'ReadPolicy', {
      managedPolicyName: `agent-ledger-${stage}-finance-read`,
      description: `Agent Ledger (${stage}): run the finance queries over cost_per_unit in Athena workgroup ${this.workgroupName}, and nothing else`,
      statements: [
        new iam.PolicyStatement({
          sid: 'QueryInTheFinanceWorkgroup',
          actions: [
            'athena:StartQueryExecution',
            'athena:GetQueryExecution',
            'athena:GetQueryResults',
            'athena:StopQueryExecution',
            'athena:ListNamedQueries',
            'athena:GetNamedQuery',
            'athena:GetWorkGroup',
          ],
          resources: [
            stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workgroupName }),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ReadTheCostPerUnitTable',
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
          resources: [
            glueArn('catalog'),
            glueArn('database', this.databaseName),
            glueArn('table', `${this.databaseName}/${COST_PER_UNIT_TABLE}`),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ReadTheReports',
          actions: ['s3:GetObject'],
          resources: [reportObjects],
        }),
        new iam.PolicyStatement({
          sid: 'ListTheReports',
          actions: ['s3:ListBucket'],
          resources: [this.reportsBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${COST_PER_UNIT_PREFIX}*`] } },
        }),
        new iam.PolicyStatement({
          sid: 'LocateTheBuckets',
          actions: ['s3:GetBucketLocation'],
          resources: [this.reportsBucket.bucketArn, this.athenaResultsBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'WriteAndReadQueryResults',
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [resultObjects],
        }),
        new iam.PolicyStatement({
          sid: 'ListQueryResults',
          actions: ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [this.athenaResultsBucket.bucketArn],
        }),
      ],
    });

    acknowledgeWildcardResource(
      policy,
      reportObjects,
      `Athena reads the cost-per-unit Parquet with the analyst's own credentials, one object per workflow and week at keys projected from "${COST_PER_UNIT_PREFIX}week=<week>/workflow=<id>/", so "${COST_PER_UNIT_PREFIX}*" in the reports bucket is the narrowest resource that allows it (GetObject only).`,
    );
    acknowledgeWildcardResource(
      policy,
      resultObjects,
      "Athena writes each query result (and reads it back for GetQueryResults) with the analyst's own credentials, at a key named after the query execution ID it generates; the results bucket holds nothing but this workgroup's results, so any object in it is the narrowest resource that allows it.",
    );
    return policy;
  }
}

/** What every finance bucket shares: private, TLS 1.2+ only, SSE-S3, versioned, access-logged, retained. */
function privateBucket(accessLogBucket: s3.IBucket, logPrefix: string): s3.BucketProps {
  return {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    serverAccessLogsBucket: accessLogBucket,
    serverAccessLogsPrefix: logPrefix,
    removalPolicy: RemovalPolicy.RETAIN,
  };
}
