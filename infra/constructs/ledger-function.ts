import { ArnFormat, type Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { COST_PER_UNIT_PREFIX } from '#lib/finance/cost-per-unit.ts';
import { ARCHIVE_EVENTS_TABLE } from '#lib/read/archive-pages.ts';
import { REGISTRY_STALE_LOG, REGISTRY_STALE_METRIC, REGISTRY_UNAVAILABLE_LOG } from '#lib/registry/names.ts';
import { ARCHIVE_PREFIX } from '#lib/storage/archive-bucket.ts';
import { ledgerTableDesign } from '#lib/storage/ledger-table.ts';
import { LOCK_FILE, PROJECT_ROOT } from '../paths.ts';
import { ARCHIVE_RESULTS_PREFIX, type ArchiveQueryIds } from './finance.ts';
import { FLAG_POLL_SECONDS, type KillSwitchIds, killSwitchArns } from './kill-switch.ts';
import { ESM_REQUIRE_BANNER, LAMBDA_ALIASES } from './lambda-bundling.ts';
import { REGISTRY_POLL_SECONDS, type WorkflowRegistryIds } from './workflow-registry.ts';

/** The newest Node.js runtime this aws-cdk-lib knows; cdk-nag (L1, LambdaLatestVersion) holds us to it. */
export const LEDGER_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const POWERTOOLS_SERVICE_NAME = 'agent-ledger';
export const METRICS_NAMESPACE = 'AgentLedger';

export type TableAccess = 'read' | 'readWrite';
export type ArchiveAccess = 'put' | 'read' | 'head';
/**
 * `{ put: prefix }`: write reports under that prefix (the jobs). `read`: read and list every report (the
 * console, which shows the governance reports and lists the cost-per-unit ones).
 */
export type ReportsAccess = { readonly put: string } | 'read';
/**
 * `read`: the flags as deployed, through AppConfigData (`/autonomy`). `write`: flip a flag, i.e. read the
 * latest hosted version, create the next one and deploy it (`kill-switch`). `history`: read deployments and
 * the versions they deployed, to tell what a deployment flipped (the flip recorder).
 */
export type KillSwitchAccess = 'read' | 'write' | 'history';

/**
 * DynamoDB actions per access level. No Scan (every read is a key lookup or an index query) and no
 * UpdateItem, BatchWriteItem or DeleteItem: the ledger is append-only, written with conditional puts.
 */
const TABLE_ACTIONS: Record<TableAccess, string[]> = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:DescribeTable',
    'dynamodb:PutItem',
  ],
};

/** KMS actions DynamoDB performs on the caller's behalf for a table with a customer-managed key. */
const TABLE_KEY_ACTIONS: Record<TableAccess, string[]> = {
  read: ['kms:Decrypt', 'kms:DescribeKey'],
  readWrite: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
};

export interface LedgerFunctionProps {
  /** Absolute path of the TypeScript entry point; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  /** Keep it under API Gateway's 29 s integration timeout for functions behind the API. */
  readonly timeout: Duration;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Where Lambda puts an asynchronous invocation that still fails after its retries. Set it for functions
   * invoked asynchronously (events nobody waits for); functions behind the API answer their caller instead.
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * The one way this project builds a Lambda function: Node.js 24 on arm64, X-Ray active tracing, JSON logs
 * into its own log group with a retention, an ESM bundle (minified, source maps, AWS SDK bundled, its
 * credential chain cut to the environment variables Lambda sets: `lambda-bundling.ts`), and a role of its
 * own with no managed policies. Access is added through `use*` helpers, each of which sets
 * the environment variable the handler reads and grants exactly the access that variable implies.
 */
export class LedgerFunction extends Construct implements iam.IGrantable {
  public readonly function: NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: LedgerFunctionProps) {
    super(scope, id);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs: ${props.description}`,
    });
    this.grantPrincipal = this.role;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      // Operational logs only (the ledger's data lives in the table and the archive).
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: LEDGER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      deadLetterQueue: props.deadLetterQueue,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: LOCK_FILE,
      environment: {
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        externalModules: [],
        banner: ESM_REQUIRE_BANNER,
        esbuildArgs: { '--alias': Object.entries(LAMBDA_ALIASES).map(([from, to]) => `${from}=${to}`) },
      },
    });

    const defaultPolicy = this.role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) {
      Validations.of(defaultPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions; every other statement of this role names its resources (checked by test/infra/ledger-function.test.ts).',
      });
    }
  }

  /** Sets LEDGER_TABLE_NAME; grants the table and its indexes (by name, from `ledgerTableDesign`). */
  useLedgerTable(table: dynamodb.ITable, access: TableAccess): this {
    this.function.addEnvironment(FUNCTION_ENV.ledgerTableName, table.tableName);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: TABLE_ACTIONS[access],
        resources: [
          table.tableArn,
          ...ledgerTableDesign.globalIndexes.map((index) => `${table.tableArn}/index/${index.indexName}`),
        ],
      }),
    );
    if (table.encryptionKey) {
      this.allowKeyVia(table.encryptionKey, 'dynamodb', TABLE_KEY_ACTIONS[access]);
    }
    return this;
  }

  /**
   * Sets ARCHIVE_BUCKET_NAME. `put` writes archive objects (ingest), `read` reads and lists them (replay),
   * `head` only checks that the bucket answers (HeadBucket, authorized by s3:ListBucket).
   */
  useArchiveBucket(bucket: s3.IBucket, access: ArchiveAccess): this {
    this.function.addEnvironment(FUNCTION_ENV.archiveBucketName, bucket.bucketName);
    const archiveObjects = bucket.arnForObjects(`${ARCHIVE_PREFIX}*`);
    switch (access) {
      case 'put':
        this.role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [archiveObjects] }),
        );
        if (bucket.encryptionKey) this.allowKeyVia(bucket.encryptionKey, 's3', ['kms:GenerateDataKey']);
        this.acknowledgeWildcard(
          archiveObjects,
          archiveWildcardReason('writes one new object per ingest request'),
        );
        break;
      case 'read':
        this.role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [archiveObjects] }),
        );
        this.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['s3:ListBucket'],
            resources: [bucket.bucketArn],
            conditions: { StringLike: { 's3:prefix': [`${ARCHIVE_PREFIX}*`] } },
          }),
        );
        if (bucket.encryptionKey) this.allowKeyVia(bucket.encryptionKey, 's3', ['kms:Decrypt']);
        this.acknowledgeWildcard(
          archiveObjects,
          archiveWildcardReason(
            'reads archived requests back (replay; Athena queries of the archive, which read with its credentials)',
          ),
        );
        break;
      case 'head':
        this.role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
        );
        break;
    }
    return this;
  }

  /** Sets ACTOR_HASH_KEY_SECRET_ARN; grants reading that one secret (and decrypting it through Secrets Manager only). */
  useActorHashKey(secret: secretsmanager.ISecret): this {
    this.function.addEnvironment(FUNCTION_ENV.actorHashKeySecretArn, secret.secretArn);
    this.allowSecretRead(secret);
    return this;
  }

  /**
   * Sets CONSOLE_SESSION_KEY_SECRET_ARN; grants reading that one secret (and decrypting it through Secrets
   * Manager only): the key the console seals its session cookies with.
   */
  useConsoleSessionKey(secret: secretsmanager.ISecret): this {
    this.function.addEnvironment(FUNCTION_ENV.consoleSessionKeySecretArn, secret.secretArn);
    this.allowSecretRead(secret);
    return this;
  }

  /**
   * Sets CONSOLE_OIDC_ISSUER (the user pool's issuer URL), CONSOLE_OIDC_CLIENT_ID and CONSOLE_OIDC_LOGOUT_URL
   * (the managed login domain). Grants nothing: signing in is OAuth 2.0 over HTTPS against the pool's public
   * endpoints (authorize, token, JWKS, logout) with a public client, none of which IAM authorizes.
   */
  useSignIn(signIn: {
    readonly userPool: cognito.IUserPool;
    readonly client: cognito.IUserPoolClient;
    readonly domain: cognito.UserPoolDomain;
  }): this {
    const stack = Stack.of(this);
    this.function.addEnvironment(
      FUNCTION_ENV.oidcIssuer,
      `https://cognito-idp.${stack.region}.${stack.urlSuffix}/${signIn.userPool.userPoolId}`,
    );
    this.function.addEnvironment(FUNCTION_ENV.oidcClientId, signIn.client.userPoolClientId);
    this.function.addEnvironment(FUNCTION_ENV.oidcLogoutUrl, signIn.domain.baseUrl());
    return this;
  }

  /**
   * Sets REPORTS_BUCKET_NAME. `{ put: prefix }` grants writing reports under that prefix, and only those:
   * s3:PutObject on `<prefix>*` (the KPI job writes one Parquet object per workflow and week under
   * `cost-per-unit/`, the reports job its governance reports under `governance/`). `read` grants reading and
   * listing the whole bucket, and nothing else: s3:GetObject on its objects, s3:ListBucket on it.
   */
  useReportsBucket(bucket: s3.IBucket, access: ReportsAccess = { put: COST_PER_UNIT_PREFIX }): this {
    this.function.addEnvironment(FUNCTION_ENV.reportsBucketName, bucket.bucketName);
    if (access === 'read') {
      const everyReport = bucket.arnForObjects('*');
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [everyReport] }),
      );
      // ListBucket also turns a missing report into a 404 (NoSuchKey) rather than a 403.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
      );
      if (bucket.encryptionKey) this.allowKeyVia(bucket.encryptionKey, 's3', ['kms:Decrypt']);
      this.acknowledgeWildcard(
        everyReport,
        'The function shows people the reports the jobs wrote (governance reports, runbooks and their index, the cost-per-unit Parquet list), at keys named by the period and workflow they cover, so "*" in the reports bucket, which holds reports and nothing else, is the narrowest resource that allows it; it grants GetObject only, no write or delete.',
      );
      return this;
    }
    const reports = bucket.arnForObjects(`${access.put}*`);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [reports] }),
    );
    if (bucket.encryptionKey) this.allowKeyVia(bucket.encryptionKey, 's3', ['kms:GenerateDataKey']);
    this.acknowledgeWildcard(
      reports,
      `The function writes reports at keys named by the period it computes (under "${access.put}", e.g. one per workflow and week), so "${access.put}*" in the reports bucket is the narrowest resource that allows it; it grants PutObject only, no read, list or delete.`,
    );
    return this;
  }

  /**
   * Sets DRIFT_TOPIC_ARN; grants sns:Publish on that topic only, and, for a KMS-encrypted topic, the key
   * use SNS makes on the publisher's behalf (through SNS only).
   */
  useDriftTopic(topic: sns.ITopic): this {
    this.function.addEnvironment(FUNCTION_ENV.driftTopicArn, topic.topicArn);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }),
    );
    if (topic.masterKey) this.allowKeyVia(topic.masterKey, 'sns', ['kms:GenerateDataKey', 'kms:Decrypt']);
    return this;
  }

  /**
   * Sets KILL_SWITCH_APPLICATION_ID, KILL_SWITCH_ENVIRONMENT_ID and KILL_SWITCH_PROFILE_ID (plus
   * FLAG_POLL_SECONDS for `read` and `write`, and KILL_SWITCH_STRATEGY_ID for `write`), and grants exactly
   * that access to this stage's kill switch. AppConfig authorizes each action against every resource type
   * it names as required, so each statement lists those ARNs, all of this one application.
   */
  useKillSwitch(killSwitch: KillSwitchIds, access: KillSwitchAccess): this {
    const arns = killSwitchArns(this, killSwitch);
    this.function.addEnvironment(FUNCTION_ENV.killSwitchApplicationId, killSwitch.applicationId);
    this.function.addEnvironment(FUNCTION_ENV.killSwitchEnvironmentId, killSwitch.environmentId);
    this.function.addEnvironment(FUNCTION_ENV.killSwitchProfileId, killSwitch.profileId);
    if (access !== 'history')
      this.function.addEnvironment(FUNCTION_ENV.flagPollSeconds, String(FLAG_POLL_SECONDS));
    if (access === 'write')
      this.function.addEnvironment(FUNCTION_ENV.killSwitchStrategyId, killSwitch.strategyId);

    const allow = (actions: string[], resources: string[]): void => {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
    };
    const readVersions = (): void =>
      allow(
        ['appconfig:GetHostedConfigurationVersion'],
        [arns.application, arns.profile, arns.hostedVersions],
      );
    const readDeployments = (): void => {
      allow(['appconfig:ListDeployments'], [arns.application, arns.environment]);
      allow(['appconfig:GetDeployment'], [arns.application, arns.environment, arns.deployments]);
    };

    switch (access) {
      case 'read':
        allow(
          ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
          [arns.configuration],
        );
        break;
      case 'write':
        allow(
          ['appconfig:ListHostedConfigurationVersions', 'appconfig:CreateHostedConfigurationVersion'],
          [arns.application, arns.profile],
        );
        readVersions();
        allow(
          ['appconfig:StartDeployment'],
          [arns.application, arns.environment, arns.profile, arns.strategy],
        );
        readDeployments();
        break;
      case 'history':
        readVersions();
        readDeployments();
        break;
    }
    if (access !== 'read') {
      this.acknowledgeWildcard(
        arns.hostedVersions,
        'Each flip creates the next hosted configuration version of the kill-switch profile, numbered by AppConfig, so the function reads versions it cannot know at deploy time; "hostedconfigurationversion/*" under this one profile is the narrowest resource that allows it.',
      );
      this.acknowledgeWildcard(
        arns.deployments,
        'Each flip is a new deployment to the kill-switch environment, numbered by AppConfig, so the function reads deployments it cannot know at deploy time; "deployment/*" under this one environment is the narrowest resource that allows it.',
      );
    }
    return this;
  }

  /**
   * Sets KILL_SWITCH_APPLICATION_ID, KILL_SWITCH_ENVIRONMENT_ID, REGISTRY_PROFILE_ID and
   * REGISTRY_POLL_SECONDS, and lets the function read the deployed workflow registry through AppConfigData
   * (that one configuration, nothing else of the application).
   */
  useRegistry(registry: WorkflowRegistryIds): this {
    const stack = Stack.of(this);
    const application = stack.formatArn({
      service: 'appconfig',
      resource: 'application',
      resourceName: registry.applicationId,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    this.function.addEnvironment(FUNCTION_ENV.killSwitchApplicationId, registry.applicationId);
    this.function.addEnvironment(FUNCTION_ENV.killSwitchEnvironmentId, registry.environmentId);
    this.function.addEnvironment(FUNCTION_ENV.registryProfileId, registry.registryProfileId);
    this.function.addEnvironment(FUNCTION_ENV.registryPollSeconds, String(REGISTRY_POLL_SECONDS));
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
        resources: [
          `${application}/environment/${registry.environmentId}/configuration/${registry.registryProfileId}`,
        ],
      }),
    );
    // A registry the function cannot use (stale or unavailable) is logged; count it for the alarm.
    new logs.MetricFilter(this, 'RegistryStale', {
      logGroup: this.logGroup,
      metricNamespace: METRICS_NAMESPACE,
      metricName: REGISTRY_STALE_METRIC,
      metricValue: '1',
      filterPattern: logs.FilterPattern.any(
        logs.FilterPattern.stringValue('$.message', '=', REGISTRY_STALE_LOG),
        logs.FilterPattern.stringValue('$.message', '=', REGISTRY_UNAVAILABLE_LOG),
      ),
    });
    return this;
  }

  /**
   * Sets ARCHIVE_QUERY_WORKGROUP and ARCHIVE_QUERY_DATABASE: queries of the archive in Athena (reads past the
   * index's hot window). Grants running queries in that one workgroup, reading the `archive_events` table's
   * catalog entries, and writing and reading its results (under their prefix, with the archive's key).
   * Reading the archive objects themselves is `useArchiveBucket(bucket, 'read')`: Athena reads them with the
   * caller's credentials.
   */
  useArchiveQueries(queries: ArchiveQueryIds): this {
    const stack = Stack.of(this);
    this.function.addEnvironment(FUNCTION_ENV.archiveQueryWorkgroup, queries.workgroupName);
    this.function.addEnvironment(FUNCTION_ENV.archiveQueryDatabase, queries.databaseName);
    const glueArn = (resource: string, resourceName?: string): string =>
      stack.formatArn({ service: 'glue', resource, resourceName });
    const results = queries.resultsBucket.arnForObjects(`${ARCHIVE_RESULTS_PREFIX}*`);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'athena:StartQueryExecution',
          'athena:GetQueryExecution',
          'athena:GetQueryResults',
          'athena:StopQueryExecution',
        ],
        resources: [
          stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: queries.workgroupName }),
        ],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetDatabase', 'glue:GetTable'],
        resources: [
          glueArn('catalog'),
          glueArn('database', queries.databaseName),
          glueArn('table', `${queries.databaseName}/${ARCHIVE_EVENTS_TABLE}`),
        ],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [results],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:ListBucketMultipartUploads', 's3:GetBucketLocation'],
        resources: [queries.resultsBucket.bucketArn],
      }),
    );
    this.allowKeyVia(queries.resultsKey, 's3', ['kms:GenerateDataKey', 'kms:Decrypt']);
    this.acknowledgeWildcard(
      results,
      `Athena writes each archive query's result (and reads it back for GetQueryResults) with the function's credentials, at a key named after the query execution ID it generates, so "${ARCHIVE_RESULTS_PREFIX}*" in the results bucket is the narrowest resource that allows it.`,
    );
    return this;
  }

  /** GetSecretValue on that one secret. */
  private allowSecretRead(secret: secretsmanager.ISecret): void {
    // Not secret.grantRead(): for a secret of another stack it would also edit the key policy there,
    // making the stateful stack depend on this one.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
    if (secret.encryptionKey) this.allowKeyVia(secret.encryptionKey, 'secretsmanager', ['kms:Decrypt']);
  }

  /** Key use only through the named service (kms:ViaService), so the function cannot decrypt anything directly. */
  private allowKeyVia(
    key: kms.IKey,
    service: 'dynamodb' | 's3' | 'secretsmanager' | 'sns',
    actions: string[],
  ): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions,
        resources: [key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `${service}.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
  }

  /**
   * Acknowledges cdk-nag's wildcard finding (AwsSolutions-IAM5) for exactly `resourceArn`. cdk-nag names
   * such a finding after the resource as it appears in the template, which for a resource of the stateful
   * stack is only known once CDK has resolved cross-stack references; so the acknowledgment is recorded at
   * validation time, after that resolution and before cdk-nag runs.
   */
  private acknowledgeWildcard(resourceArn: string, reason: string): void {
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) acknowledgeWildcardResource(policy, resourceArn, reason);
  }
}

/**
 * Acknowledges cdk-nag's wildcard finding (AwsSolutions-IAM5) for exactly `resourceArn` on `policy` (a
 * role's default policy or a managed policy), named the way cdk-nag names it once references resolve.
 */
export function acknowledgeWildcardResource(policy: IConstruct, resourceArn: string, reason: string): void {
  const stack = Stack.of(policy);
  policy.node.addValidation({
    validate: () => {
      const finding = flattenForNag(stack.resolve(resourceArn));
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${finding}]`, reason });
      return [];
    },
  });
}

/** Object keys are generated per request (`raw/retention=…/workflow=…/dt=…/<requestId>.ndjson.gz`). */
function archiveWildcardReason(purpose: string): string {
  return `The function ${purpose}; keys are generated per request under the "${ARCHIVE_PREFIX}" prefix, so "${ARCHIVE_PREFIX}*" in this one bucket is the narrowest resource that allows it.`;
}

/**
 * Renders a resolved CloudFormation value the way cdk-nag names it in a finding ID
 * (cdk-nag `lib/utils/flatten-cfn-reference.js`): `Fn::Join` joined, `Ref` as `<Id>`, `Fn::GetAtt` as
 * `<Id.Attr>`, anything else as JSON.
 */
export function flattenForNag(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (isObject(value)) {
    const join = value['Fn::Join'];
    if (Array.isArray(join)) {
      const [delimiter, items] = join as [string, unknown[]];
      return items.map(flattenForNag).join(delimiter);
    }
    if (value['Fn::Sub'] !== undefined) return flattenForNag(value['Fn::Sub']);
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${flattenForNag(getAtt[0])}.${flattenForNag(getAtt[1])}>`;
    if (value['Fn::ImportValue'] !== undefined) return flattenForNag(value['Fn::ImportValue']);
    if (value.Ref !== undefined) return `<${flattenForNag(value.Ref)}>`;
  }
  return JSON.stringify(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
