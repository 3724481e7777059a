import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type ErrorMetrics, type ErrorPresenter, httpErrorBoundary } from './http.ts';
import { logger, metrics, tracer } from './powertools.ts';

/** What a make-handler returns for an API route: it answers, or throws for the error boundary to answer. */
export type HttpRouteHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

export interface HttpHandlerOptions {
  /**
   * For a function that emits metrics: they are flushed after every request, and each request the error
   * boundary answers is counted as `rejected` (4xx) or `failed` (5xx).
   */
  readonly errorMetrics?: ErrorMetrics;
  /**
   * For a route whose clients read errors in a format of their own (OTLP exporters: a `google.rpc.Status`
   * in the request's encoding): the boundary's answer, re-encoded. Status and headers stay as they are.
   */
  readonly presentError?: ErrorPresenter;
}

/**
 * The Lambda handler of an API route, the one middy stack they all share: X-Ray, the Lambda context in
 * every log line, metrics when the function emits any, and the error boundary, which answers whatever
 * `handler` throws (a domain error with its status, anything else with a 500).
 */
export function httpHandler(handler: HttpRouteHandler, options: HttpHandlerOptions = {}) {
  const stack = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger));
  if (options.errorMetrics) stack.use(logMetrics(metrics));
  return stack.use(httpErrorBoundary(options.errorMetrics, options.presentError)).handler(handler);
}

/**
 * The Lambda handler of a function invoked with anything but an API request (the scheduled jobs, the
 * AppConfig extension, the CloudFormation custom resource, the API's authorizer): X-Ray and the Lambda
 * context in every log line. What `handler` throws reaches the invoker: Lambda retries an asynchronous
 * invocation and then dead-letters it, the authorizer's `Unauthorized` becomes API Gateway's 401.
 */
export function eventHandler<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
) {
  return middy<TEvent, TResult>()
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger))
    .handler(handler);
}
