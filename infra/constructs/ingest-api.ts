import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  type Access,
  API_ROUTES,
  type ApiFunction,
  type ApiRoute,
  accessesOf,
  type BodyModel,
  pathParameterNames,
  routePath,
} from '#lib/api/routes.ts';
import { functionEntry } from '../paths.ts';
import type { ArchiveQueryIds } from './finance.ts';
import { LedgerFunction } from './ledger-function.ts';

export interface IngestApiProps {
  /** The API Gateway stage, also the first path segment of every URL. */
  readonly stageName: string;
  readonly table: dynamodb.ITable;
  readonly archiveBucket: s3.IBucket;
  readonly actorHashKey: secretsmanager.ISecret;
  /** Athena over the archive: event reads past the index's hot window, and ingest's idempotency past it. */
  readonly archiveQueries: ArchiveQueryIds;
  /** Stage-wide throttling. @default 500 requests/s, burst 1000 */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /** Retention of the access logs and execution logs. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Set the account's API Gateway CloudWatch Logs role (an account-wide, per-region setting that execution
   * logging needs). Turn off where it is managed elsewhere. @default true
   */
  readonly manageAccountCloudWatchRole?: boolean;
}

/** How long API Gateway caches a token authorizer's answer for the same `Authorization` header. */
export const AUTHORIZER_CACHE_TTL = Duration.seconds(60);

/** The order methods are added in: open routes, then token routes, then their IAM mirrors. */
const ACCESS_ORDER: readonly Access[] = ['open', 'token', 'iam', 'session'];

/**
 * Why each kind of route is authorized as it is, for cdk-nag: none has a Cognito user pool
 * (AwsSolutions-COG4), and open routes have no authorization at all (AwsSolutions-APIG4).
 */
const AUTHORIZATION_REASONS: Record<Access, string> = {
  open: 'Health checks (uptime probes, deploy smoke tests) call /healthz without credentials; it returns only whether the stack can serve, no ledger data, and is throttled with the rest of the stage.',
  token:
    'Callers are agent services, review tools and dashboards outside AWS, not people signing in: they present bearer tokens that the TOKEN authorizer checks against hashed tokens in the ledger table; there is no user pool to sign in to.',
  iam: 'Callers are agent services, operators and automation inside AWS, not people signing in: they sign requests with SigV4 and IAM authorizes them (a kill-switch flip also needs the flip policy of its workflow); a Cognito user pool would force them to hold user credentials instead of their roles.',
  session:
    "The console's pages are for people in a browser, who sign in with the Cognito user pool's managed login; the console function checks their encrypted session cookie on every request and answers a request without one with the sign-in page, which a gateway authorizer cannot do (it can only refuse).",
};

/**
 * The ledger's HTTP API (API Gateway REST): ingest, event reads and a health check, each route mirrored
 * for two kinds of callers: `/v1/...` with bearer tokens checked by a TOKEN authorizer (callers outside
 * AWS) and `/iam/v1/...` with SigV4 (callers inside AWS). Request validation, throttling, JSON access
 * logs, execution logs, X-Ray, and JSON error bodies in the SPEC's `{error, message}` shape for the
 * answers API Gateway gives itself. Every method of the API, its own and those the kill-switch, KPI and
 * review constructs add, is built by `addRoutes` from the route table the local API server is built from.
 */
export class IngestApi extends Construct {
  public readonly api: apigw.RestApi;
  /** The stage's root URL, ending in `/`: append `v1/events`, `healthz`, … */
  public readonly apiUrl: string;
  public readonly tokenAuthorizer: apigw.TokenAuthorizer;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly functions: {
    readonly ingest: LedgerFunction;
    readonly traces: LedgerFunction;
    readonly readEvents: LedgerFunction;
    readonly healthz: LedgerFunction;
    readonly tokenAuthorizer: LedgerFunction;
  };

  /** Validates the bodies and parameters each route declares. */
  public readonly requestValidator: apigw.RequestValidator;
  private readonly bodyModels = new Map<string, apigw.Model>();

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const throttle = props.throttle ?? { rateLimit: 500, burstLimit: 1000 };
    const manageAccountRole = props.manageAccountCloudWatchRole ?? true;

    this.functions = this.createFunctions(props);

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.api = new apigw.RestApi(this, 'Api', {
      description: 'Agent Ledger: ingest and read agent events',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // OTLP/HTTP's protobuf bodies reach the traces function as bytes (base64), not as mangled text.
      binaryMediaTypes: ['application/x-protobuf'],
      cloudWatchRole: manageAccountRole,
      cloudWatchRoleRemovalPolicy: manageAccountRole ? RemovalPolicy.RETAIN : undefined,
      deployOptions: {
        stageName: props.stageName,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        tracingEnabled: true,
        metricsEnabled: true,
        // Execution logs carry errors only; never request or response bodies (they hold agent outputs).
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: ACCESS_LOG_FORMAT,
      },
    });
    this.apiUrl = this.api.url;

    // API Gateway creates the execution log group on first use, without a retention; create it first.
    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${props.stageName}`,
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api.deploymentStage.node.addDependency(executionLogs);

    if (manageAccountRole) {
      const accountRole = this.api.node.tryFindChild('CloudWatchRole');
      if (accountRole) {
        Validations.of(accountRole).acknowledge({
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
          reason:
            'The account-wide API Gateway logging role must be able to write execution logs of every REST API in the account and region, which is what this AWS-maintained policy grants; only API Gateway can assume the role.',
        });
      }
    }
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'No WAF web ACL by default: every route except /healthz requires SigV4 or a bearer token checked by the authorizer, and stage throttling caps the request rate; a stage that faces untrusted networks can associate a WAFv2 web ACL without changing this stack.',
    });

    this.tokenAuthorizer = new apigw.TokenAuthorizer(this, 'TokenAuthorizer', {
      handler: this.functions.tokenAuthorizer.function,
      identitySource: apigw.IdentitySource.header('Authorization'),
      // Malformed headers are refused by API Gateway (401) without invoking the authorizer.
      validationRegex: '^Bearer [-A-Za-z0-9._~+/]+=*$',
      resultsCacheTtl: AUTHORIZER_CACHE_TTL,
    });

    this.requestValidator = new apigw.RequestValidator(this, 'RequestValidator', {
      restApi: this.api,
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    this.addRoutes({
      healthz: this.functions.healthz,
      ingest: this.functions.ingest,
      traces: this.functions.traces,
      'read-events': this.functions.readEvents,
    });
    acknowledgeSynchronousOnly(this.functions.tokenAuthorizer);
    addJsonGatewayResponses(this.api);
  }

  private createFunctions(props: IngestApiProps): IngestApi['functions'] {
    /** The functions that write events: the table, the archive and the actor-hash key. */
    const eventWriter = (id: string, fn: 'ingest' | 'traces', description: string) =>
      new LedgerFunction(this, id, {
        entry: functionEntry(fn),
        description,
        memorySize: 1024,
        timeout: Duration.seconds(20),
      })
        .useLedgerTable(props.table, 'readWrite')
        .useArchiveBucket(props.archiveBucket, 'put')
        // A retry of an event from before the hot window is checked against the archive (issue 12).
        .useArchiveBucket(props.archiveBucket, 'read')
        .useArchiveQueries(props.archiveQueries)
        .useActorHashKey(props.actorHashKey);
    const ingest = eventWriter(
      'Ingest',
      'ingest',
      'Agent Ledger: POST /v1/events, validates, archives and indexes agent events',
    );
    const traces = eventWriter(
      'Traces',
      'traces',
      'Agent Ledger: POST /v1/traces, OTLP/HTTP spans stored as agent events',
    );

    const readEvents = new LedgerFunction(this, 'ReadEvents', {
      entry: functionEntry('read-events'),
      description: "Agent Ledger: GET /v1/workflows/{workflowId}/events, a workflow's events in time order",
      memorySize: 512,
      // An archive query (a read before the hot window) takes seconds; API Gateway waits 29 s at most.
      timeout: Duration.seconds(28),
    })
      .useLedgerTable(props.table, 'read')
      .useArchiveBucket(props.archiveBucket, 'read')
      .useArchiveQueries(props.archiveQueries);

    const healthz = new LedgerFunction(this, 'Healthz', {
      entry: functionEntry('healthz'),
      description: 'Agent Ledger: GET /healthz, checks that the table and the archive answer',
      memorySize: 256,
      timeout: Duration.seconds(5),
    })
      .useLedgerTable(props.table, 'read')
      .useArchiveBucket(props.archiveBucket, 'head');

    const tokenAuthorizer = new LedgerFunction(this, 'Authorizer', {
      entry: functionEntry('token-authorizer'),
      description:
        'Agent Ledger: API Gateway TOKEN authorizer, checks bearer tokens against the ledger table',
      memorySize: 256,
      timeout: Duration.seconds(5),
    }).useLedgerTable(props.table, 'read');

    return { ingest, traces, readEvents, healthz, tokenAuthorizer };
  }

  /**
   * Adds the methods of every route of `API_ROUTES` (`lib/api/routes.ts`) that one of `functions` serves,
   * for each kind of caller the route serves: a proxy integration, the route's authorization, and
   * validation of what it declares (path and query parameters, body model).
   */
  addRoutes(functions: Partial<Record<ApiFunction, LedgerFunction>>): void {
    const routes = API_ROUTES.filter((route) => functions[route.function] !== undefined);
    // Models first, then methods: the order the deployment's logical ID has been hashed in.
    for (const route of routes) if ('bodyModel' in route) this.bodyModel(route.bodyModel);
    const integrations = new Map<LedgerFunction, apigw.LambdaIntegration>();
    for (const access of ACCESS_ORDER) {
      for (const route of routes) {
        const fn = functions[route.function];
        if (!fn || !accessesOf(route).includes(access)) continue;
        let integration = integrations.get(fn);
        if (!integration) {
          integration = new apigw.LambdaIntegration(fn.function);
          integrations.set(fn, integration);
          acknowledgeSynchronousOnly(fn);
        }
        this.addRouteMethod(route, access, integration);
      }
    }
  }

  private addRouteMethod(route: ApiRoute, access: Access, integration: apigw.LambdaIntegration): void {
    const requestParameters = {
      ...Object.fromEntries(pathParameterNames(route).map((name) => [`method.request.path.${name}`, true])),
      ...Object.fromEntries(
        (route.queryParameters ?? []).map((name) => [`method.request.querystring.${name}`, false]),
      ),
    };
    const validated = Object.keys(requestParameters).length > 0 || route.bodyModel !== undefined;
    const method = this.api.root
      .resourceForPath(routePath(route, access))
      .addMethod(route.method, integration, {
        ...this.authorization(access),
        ...(validated ? { requestValidator: this.requestValidator } : {}),
        ...(Object.keys(requestParameters).length > 0 ? { requestParameters } : {}),
        ...(route.bodyModel
          ? { requestModels: { 'application/json': this.bodyModel(route.bodyModel) } }
          : {}),
      });
    if (access === 'open' || access === 'session') {
      Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason: AUTHORIZATION_REASONS[access] });
    }
    Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason: AUTHORIZATION_REASONS[access] });
  }

  private authorization(access: Access): apigw.MethodOptions {
    switch (access) {
      case 'open':
      case 'session':
        return { authorizationType: apigw.AuthorizationType.NONE };
      case 'token':
        return { authorizationType: apigw.AuthorizationType.CUSTOM, authorizer: this.tokenAuthorizer };
      case 'iam':
        return { authorizationType: apigw.AuthorizationType.IAM };
    }
  }

  /** One API Gateway model per body model, however many routes use it. */
  private bodyModel(model: BodyModel): apigw.Model {
    let created = this.bodyModels.get(model.name);
    if (!created) {
      created = this.api.addModel(model.name, {
        contentType: 'application/json',
        modelName: model.name,
        // BodySchema is the draft-04 subset apigw.JsonSchema renders: the same keys, and type names that
        // are JsonSchemaType's values.
        schema: {
          schema: apigw.JsonSchemaVersion.DRAFT4,
          title: model.name,
          ...(model.schema as apigw.JsonSchema),
        },
      });
      this.bodyModels.set(model.name, created);
    }
    return created;
  }
}

/**
 * Functions behind the API (proxy integrations, the authorizer) are invoked synchronously: Lambda never
 * queues their events, so a dead-letter queue would never receive one (cdk-nag Serverless-LambdaDLQ).
 */
function acknowledgeSynchronousOnly(fn: LedgerFunction): void {
  Validations.of(fn.function).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'Invoked only synchronously by API Gateway (proxy integration or authorizer), so Lambda never queues an event to dead-letter: failures go back to the caller, who may simply send the request again (ingest is idempotent by eventId).',
  });
}

/** One JSON object per request; every value is a string, so the line stays valid JSON whatever it holds. */
const ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(
  JSON.stringify({
    requestId: apigw.AccessLogField.contextRequestId(),
    extendedRequestId: apigw.AccessLogField.contextExtendedRequestId(),
    requestTime: apigw.AccessLogField.contextRequestTime(),
    httpMethod: apigw.AccessLogField.contextHttpMethod(),
    resourcePath: apigw.AccessLogField.contextResourcePath(),
    path: apigw.AccessLogField.contextPath(),
    status: apigw.AccessLogField.contextStatus(),
    protocol: apigw.AccessLogField.contextProtocol(),
    responseLength: apigw.AccessLogField.contextResponseLength(),
    responseLatency: apigw.AccessLogField.contextResponseLatency(),
    integrationLatency: apigw.AccessLogField.contextIntegrationLatency(),
    integrationStatus: apigw.AccessLogField.contextIntegrationStatus(),
    errorType: apigw.AccessLogField.contextErrorResponseType(),
    errorMessage: apigw.AccessLogField.contextErrorMessage(),
    authorizerError: apigw.AccessLogField.contextAuthorizerError(),
    authorizerLatency: apigw.AccessLogField.contextAuthorizerLatency(),
    principalId: apigw.AccessLogField.contextAuthorizerPrincipalId(),
    userArn: apigw.AccessLogField.contextIdentityUserArn(),
    sourceIp: apigw.AccessLogField.contextIdentitySourceIp(),
    userAgent: apigw.AccessLogField.contextIdentityUserAgent(),
    xrayTraceId: apigw.AccessLogField.contextXrayTraceId(),
  }),
);

interface JsonGatewayResponse {
  readonly type: apigw.ResponseType;
  /** Overrides API Gateway's status code; otherwise the type's own code stands. */
  readonly statusCode?: string;
  readonly error: string;
  /** A VTL expression that renders a quoted JSON string, or plain text (quoted for you). */
  readonly message: { readonly vtl: string } | string;
  readonly issues?: boolean;
  readonly headers?: Record<string, string>;
}

/**
 * API Gateway's own answers (validation, auth, size, throttling, its own faults) in the SPEC's error
 * shape `{"error", "message"}`, plus `requestId` for support. Answers from the handlers are theirs.
 */
export const GATEWAY_RESPONSES: readonly JsonGatewayResponse[] = [
  {
    type: apigw.ResponseType.BAD_REQUEST_BODY,
    error: 'invalid_request',
    message: { vtl: '"$context.error.validationErrorString"' },
    issues: true,
  },
  {
    type: apigw.ResponseType.BAD_REQUEST_PARAMETERS,
    error: 'invalid_request',
    message: { vtl: '$context.error.messageString' },
    issues: true,
  },
  {
    type: apigw.ResponseType.UNAUTHORIZED,
    statusCode: '401',
    error: 'unauthorized',
    message:
      'Missing or invalid credentials: send "Authorization: Bearer <token>", or sign the request with SigV4 on /iam/ routes.',
    headers: { 'WWW-Authenticate': "'Bearer'" },
  },
  {
    type: apigw.ResponseType.INVALID_SIGNATURE,
    statusCode: '401',
    error: 'unauthorized',
    message: { vtl: '$context.error.messageString' },
  },
  {
    type: apigw.ResponseType.EXPIRED_TOKEN,
    statusCode: '401',
    error: 'unauthorized',
    message: { vtl: '$context.error.messageString' },
  },
  {
    type: apigw.ResponseType.ACCESS_DENIED,
    statusCode: '403',
    error: 'forbidden',
    message: 'These credentials are not allowed to call this route.',
  },
  {
    // API Gateway's answer for a path or method that does not exist (and, on /iam/ routes, for a request
    // that carries no SigV4 signature at all).
    type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    statusCode: '404',
    error: 'not_found',
    message: 'No route matches this method and path (on /iam/ routes: or the request is not SigV4-signed).',
  },
  {
    type: apigw.ResponseType.REQUEST_TOO_LARGE,
    statusCode: '413',
    error: 'payload_too_large',
    message: 'The request body is too large: send at most 1 MiB and 500 events per request.',
  },
  {
    type: apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE,
    statusCode: '415',
    error: 'unsupported_media_type',
    message: 'Send the body as JSON with "Content-Type: application/json".',
  },
  {
    type: apigw.ResponseType.THROTTLED,
    statusCode: '429',
    error: 'throttled',
    message: 'Too many requests: retry with exponential backoff.',
  },
  {
    type: apigw.ResponseType.QUOTA_EXCEEDED,
    statusCode: '429',
    error: 'throttled',
    message: 'Request quota exceeded: retry later.',
  },
  {
    type: apigw.ResponseType.DEFAULT_4XX,
    error: 'request_rejected',
    message: { vtl: '$context.error.messageString' },
  },
  {
    // The token authorizer threw something other than `Unauthorized` (its table did not answer): API
    // Gateway's default is a bare 500; a 503 tells clients (and OTLP exporters) that a retry may help,
    // and never reads as a bad token. The local gateway answers the same (local-stack/api-server.ts).
    type: apigw.ResponseType.AUTHORIZER_FAILURE,
    statusCode: '503',
    error: 'service_unavailable',
    message: 'The credentials could not be checked right now; nothing was stored, and retrying is safe.',
    headers: { 'Retry-After': "'1'" },
  },
  {
    type: apigw.ResponseType.DEFAULT_5XX,
    error: 'internal_error',
    message: 'The ledger could not answer this request; retrying it is safe.',
  },
];

export function gatewayResponseBody(response: JsonGatewayResponse): string {
  const message =
    typeof response.message === 'string' ? JSON.stringify(response.message) : response.message.vtl;
  const issues = response.issues ? ',"issues":[]' : '';
  return `{"error":"${response.error}","message":${message}${issues},"requestId":"$context.requestId"}`;
}

function addJsonGatewayResponses(api: apigw.RestApi): void {
  for (const response of GATEWAY_RESPONSES) {
    api.addGatewayResponse(`${response.type.responseType}Response`, {
      type: response.type,
      statusCode: response.statusCode,
      responseHeaders: response.headers,
      templates: { 'application/json': gatewayResponseBody(response) },
    });
  }
}
