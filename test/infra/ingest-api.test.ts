import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { API_ROUTES, accessesOf, routePath } from '#lib/api/routes.ts';
import { GATEWAY_RESPONSES, gatewayResponseBody } from '../../infra/constructs/ingest-api.ts';
import { apiMethods, REGISTRY_VARIABLES, synthesizeLedger } from './helpers.ts';

// Prepare (once: every test reads the same synthesized stateless stack)
const { statelessTemplate: template } = synthesizeLedger();
const methods = apiMethods(template);

const TOKEN_ROUTES = ['POST /v1/events', 'POST /v1/traces', 'GET /v1/workflows/{workflowId}/events'];
const IAM_ROUTES = [
  'POST /iam/v1/events',
  'POST /iam/v1/traces',
  'GET /iam/v1/workflows/{workflowId}/events',
];
/** Added to this API by KillSwitchApi (test/infra/kill-switch.test.ts). */
const KILL_SWITCH_ROUTES = [
  'GET /v1/workflows/{workflowId}/autonomy',
  'GET /iam/v1/workflows/{workflowId}/autonomy',
  'POST /iam/v1/workflows/{workflowId}/kill-switch',
];
/** Added to this API by KpiApi (test/infra/jobs.test.ts). */
const KPI_ROUTES = ['GET /v1/workflows/{workflowId}/kpis', 'GET /iam/v1/workflows/{workflowId}/kpis'];
const REVIEW_ROUTES = [
  'GET /v1/workflows/{workflowId}/reviews',
  'GET /iam/v1/workflows/{workflowId}/reviews',
];
/** Added to this API by LedgerConsole (test/infra/console.test.ts): pages for people, no /iam mirror. */
const CONSOLE_ROUTES = [
  'GET /',
  'GET /sign-in',
  'POST /sign-in',
  'GET /sign-in/callback',
  'POST /sign-out',
  'GET /reviews',
  'GET /units',
  'GET /units/{workflowId}/{unitId}',
  'POST /units/{workflowId}/{unitId}',
  'GET /kill-switch',
  'POST /kill-switch/{flag}',
  'POST /kill-switch/{flag}/drill',
  'GET /reports',
  'GET /reports/{key+}',
  'GET /incidents',
  'GET /incidents/{incidentId}',
  'POST /incidents/{incidentId}/postmortem',
  'GET /console.js',
];

describe('IngestApi: routes and auth', () => {
  it('serves exactly the health check and the ledger routes, mirrored under /iam (plus the kill switch, KPI, review and console routes)', () => {
    expect([...methods.keys()].sort()).toEqual(
      [
        'GET /healthz',
        ...TOKEN_ROUTES,
        ...IAM_ROUTES,
        ...KILL_SWITCH_ROUTES,
        ...KPI_ROUTES,
        ...REVIEW_ROUTES,
        ...CONSOLE_ROUTES,
      ].sort(),
    );
  });

  it('takes OTLP protobuf bodies as bytes: application/x-protobuf is a binary media type', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      BinaryMediaTypes: ['application/x-protobuf'],
    });
  });

  it('builds its methods from the route table, a method per route and kind of caller', () => {
    // Act
    const fromTable = API_ROUTES.flatMap((route) =>
      accessesOf(route).map((access) => `${route.method} ${routePath(route, access)}`),
    );

    // Assess
    expect(fromTable.sort()).toEqual([...methods.keys()].sort());
  });

  it('protects /v1 routes with a TOKEN authorizer on the Authorization header, cached 60 s', () => {
    // Act
    const authorizers = template.findResources('AWS::ApiGateway::Authorizer');
    const [authorizerId] = Object.keys(authorizers);

    // Assess
    expect(Object.keys(authorizers)).toHaveLength(1);
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 60,
      IdentityValidationExpression: '^Bearer [-A-Za-z0-9._~+/]+=*$',
    });
    for (const route of TOKEN_ROUTES) {
      expect(methods.get(route)).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
      });
    }
  });

  it('protects /iam/v1 routes with IAM (SigV4)', () => {
    for (const route of IAM_ROUTES) {
      expect(methods.get(route)?.AuthorizationType).toBe('AWS_IAM');
      expect(methods.get(route)?.AuthorizerId).toBeUndefined();
    }
  });

  it("leaves only /healthz and the console's pages (which check their session cookie) without gateway auth", () => {
    // Act
    const open = [...methods]
      .filter(([, method]) => method.AuthorizationType === 'NONE')
      .map(([route]) => route);

    // Assess
    expect(open.sort()).toEqual(['GET /healthz', ...CONSOLE_ROUTES].sort());
  });

  it('proxies each route to its function', () => {
    const integrationOf = (route: string): string =>
      JSON.stringify(methods.get(route)?.Integration?.Uri ?? '').match(/IngestApi(\w+?)Function/)?.[1] ?? '';
    expect(methods.get('POST /v1/events')?.Integration).toMatchObject({
      Type: 'AWS_PROXY',
      IntegrationHttpMethod: 'POST',
    });
    expect(integrationOf('POST /v1/events')).toBe('Ingest');
    expect(integrationOf('POST /iam/v1/events')).toBe('Ingest');
    expect(integrationOf('GET /v1/workflows/{workflowId}/events')).toBe('ReadEvents');
    expect(integrationOf('GET /iam/v1/workflows/{workflowId}/events')).toBe('ReadEvents');
    expect(integrationOf('GET /healthz')).toBe('Healthz');
  });
});

describe('IngestApi: request validation', () => {
  it('validates bodies and parameters', () => {
    template.resourceCountIs('AWS::ApiGateway::RequestValidator', 1);
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    const otlp = (route: string) => route.endsWith('/traces');
    for (const route of [...TOKEN_ROUTES, ...IAM_ROUTES].filter((route) => !otlp(route))) {
      expect(methods.get(route)?.RequestValidatorId).toEqual({
        Ref: expect.stringMatching(/RequestValidator/),
      });
    }
    // An OTLP body is protobuf or OTLP/JSON, which no API Gateway model describes: the function decodes it.
    for (const route of [...TOKEN_ROUTES, ...IAM_ROUTES].filter(otlp)) {
      expect(methods.get(route)?.RequestValidatorId).toBeUndefined();
    }
  });

  it('checks POST events bodies against a model: an object whose events array holds 1 to 500 objects', () => {
    // Act
    const models = Object.entries(
      template.findResources('AWS::ApiGateway::Model', { Properties: { Name: 'IngestRequest' } }),
    );

    // Assess
    expect(models).toHaveLength(1);
    const [modelId, model] = models[0] as [string, { Properties: { Schema: unknown; ContentType: string } }];
    expect(model.Properties.ContentType).toBe('application/json');
    expect(model.Properties.Schema).toMatchObject({
      type: 'object',
      required: ['events'],
      properties: { events: { type: 'array', minItems: 1, maxItems: 500, items: { type: 'object' } } },
    });
    for (const route of ['POST /v1/events', 'POST /iam/v1/events']) {
      expect(methods.get(route)?.RequestModels).toEqual({ 'application/json': { Ref: modelId } });
    }
  });

  it('requires the workflowId path parameter on reads', () => {
    for (const route of [
      'GET /v1/workflows/{workflowId}/events',
      'GET /iam/v1/workflows/{workflowId}/events',
    ]) {
      expect(methods.get(route)?.RequestParameters).toMatchObject({
        'method.request.path.workflowId': true,
        'method.request.querystring.cursor': false,
      });
    }
  });
});

describe('IngestApi: stage', () => {
  it('throttles the whole stage (rate 500, burst 1000 by default), traces with X-Ray and logs errors only', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'dev',
      TracingEnabled: true,
      MethodSettings: [
        {
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 500,
          ThrottlingBurstLimit: 1000,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: true,
        },
      ],
    });
  });

  it('writes JSON access logs to a retained log group with a retention', () => {
    // Act
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0];
    const accessLog = stage?.Properties.AccessLogSetting;
    const fields = JSON.parse(accessLog.Format);

    // Assess
    expect(fields).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      resourcePath: '$context.resourcePath',
      integrationLatency: '$context.integrationLatency',
      errorMessage: '$context.error.message',
      principalId: '$context.authorizer.principalId',
    });
    expect(JSON.stringify(accessLog.DestinationArn)).toMatch(/IngestApiAccessLogs/);
    template.hasResource('AWS::Logs::LogGroup', {
      DeletionPolicy: 'Retain',
      Properties: { RetentionInDays: 365 },
    });
  });

  it('creates the execution log group with a retention before the stage can write to it', () => {
    // Act
    const executionLogs = Object.entries(
      template.findResources('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: Match.objectLike({ 'Fn::Join': Match.anyValue() }) },
      }),
    );
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0];

    // Assess
    expect(executionLogs).toHaveLength(1);
    const [logicalId, logGroup] = executionLogs[0] as [string, { Properties: Record<string, unknown> }];
    expect(JSON.stringify(logGroup.Properties.LogGroupName)).toContain('API-Gateway-Execution-Logs_');
    expect(logGroup.Properties.RetentionInDays).toBe(365);
    expect(stage?.DependsOn).toContain(logicalId);
  });

  it('sets the account CloudWatch role that execution logging needs, and keeps it on stack deletion', () => {
    template.hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain' });
  });
});

describe('IngestApi: API Gateway errors in the SPEC error shape', () => {
  it.each([
    ['BAD_REQUEST_BODY', undefined, 'invalid_request'],
    ['UNAUTHORIZED', '401', 'unauthorized'],
    ['ACCESS_DENIED', '403', 'forbidden'],
    ['MISSING_AUTHENTICATION_TOKEN', '404', 'not_found'],
    ['REQUEST_TOO_LARGE', '413', 'payload_too_large'],
    ['UNSUPPORTED_MEDIA_TYPE', '415', 'unsupported_media_type'],
    ['THROTTLED', '429', 'throttled'],
    ['DEFAULT_5XX', undefined, 'internal_error'],
  ])('answers %s with status %s and error %s as JSON', (type, statusCode, error) => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: type,
      StatusCode: statusCode ?? Match.absent(),
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp(`^\\{"error":"${error}","message":`) },
    });
  });

  it('puts the validation error into message, with an issues list, for a body the model rejects', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      ResponseTemplates: {
        'application/json':
          '{"error":"invalid_request","message":"$context.error.validationErrorString","issues":[],"requestId":"$context.requestId"}',
      },
    });
  });

  it('renders valid JSON for every response once API Gateway fills in its variables', () => {
    for (const response of GATEWAY_RESPONSES) {
      // Prepare: API Gateway's substitutions ($context.error.messageString is itself a quoted JSON string)
      const rendered = gatewayResponseBody(response)
        .replaceAll('$context.error.messageString', '"Unauthorized"')
        .replaceAll('$context.error.validationErrorString', '[instance failed to match]')
        .replaceAll('$context.requestId', 'c0ffee');

      // Act
      const body = JSON.parse(rendered);

      // Assess
      expect(body).toMatchObject({ error: response.error, message: expect.any(String), requestId: 'c0ffee' });
    }
  });
});

describe('IngestApi: functions', () => {
  it('runs every function on Node.js 24, arm64, with active tracing, JSON logs and Powertools settings', () => {
    // Act
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));

    // Assess: these five, the kill switch's two, the flip recorder, the KPI and review routes', the console,
    // the three jobs
    expect(functions).toHaveLength(14);
    for (const [logicalId, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
        MemorySize: expect.any(Number),
        Timeout: expect.any(Number),
        Environment: {
          Variables: expect.objectContaining({
            POWERTOOLS_SERVICE_NAME: 'agent-ledger',
            POWERTOOLS_METRICS_NAMESPACE: 'AgentLedger',
            NODE_OPTIONS: '--enable-source-maps',
          }),
        },
      });
      // API Gateway's integration timeout, for every function behind the API
      if (!/^(FlipRecorder|Jobs)/.test(logicalId)) expect(fn.Properties.Timeout).toBeLessThan(29);
    }
  });

  it('gives each function only the configuration it uses', () => {
    // Act
    const variablesOf = (name: string): string[] => {
      const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) =>
        id.startsWith(`IngestApi${name}Function`),
      );
      return Object.keys(fn?.[1].Properties.Environment.Variables ?? {})
        .filter((key) => !key.startsWith('POWERTOOLS_') && key !== 'NODE_OPTIONS')
        .sort();
    };

    // Assess
    const archiveQueries = ['ARCHIVE_QUERY_DATABASE', 'ARCHIVE_QUERY_WORKGROUP'];
    expect(variablesOf('Ingest')).toEqual(
      [
        'ACTOR_HASH_KEY_SECRET_ARN',
        'ARCHIVE_BUCKET_NAME',
        ...archiveQueries,
        'LEDGER_TABLE_NAME',
        ...REGISTRY_VARIABLES,
      ].sort(),
    );
    expect(variablesOf('Traces')).toEqual(variablesOf('Ingest'));
    expect(variablesOf('ReadEvents')).toEqual(
      ['ARCHIVE_BUCKET_NAME', ...archiveQueries, 'LEDGER_TABLE_NAME', ...REGISTRY_VARIABLES].sort(),
    );
    expect(variablesOf('Healthz')).toEqual(['ARCHIVE_BUCKET_NAME', 'LEDGER_TABLE_NAME']);
    expect(variablesOf('Authorizer')).toEqual(['LEDGER_TABLE_NAME']);
  });

  it('keeps every log group for a bounded time', () => {
    for (const logGroup of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
      expect(logGroup.Properties.RetentionInDays).toEqual(expect.any(Number));
    }
  });
});

describe('StatelessStack outputs', () => {
  it('publishes the API URL for the CLI', () => {
    template.hasOutput('ApiUrl', { Value: Match.anyValue() });
  });
});
