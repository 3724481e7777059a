import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type ErrorMetrics, type ErrorPresenter, httpErrorBoundary } from './http.ts';
import { logger, metrics } from './powertools.ts';

/**
 * The middy stacks every function shares, with the Powertools tracer as a parameter: this module does
 * not load the X-Ray SDK, so a function that runs without the tracer (ingest) does not bundle it.
 * `handlers.ts` gives the traced stacks most functions use.
 */

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
 * The Lambda handler of an API route: the `## index.handler` X-Ray subsegment when given a tracer, the
 * Lambda context in every log line, metrics when the function emits any, and the error boundary, which
 * answers whatever `handler` throws (a domain error with its status, anything else with a 500).
 */
export function httpStack(
  tracer: Tracer | undefined,
  handler: HttpRouteHandler,
  options: HttpHandlerOptions = {},
) {
  const stack = middy<APIGatewayProxyEvent, APIGatewayProxyResult>();
  if (tracer) stack.use(captureLambdaHandler(tracer));
  stack.use(injectLambdaContext(logger));
  if (options.errorMetrics) stack.use(logMetrics(metrics));
  return stack.use(httpErrorBoundary(options.errorMetrics, options.presentError)).handler(handler);
}

/**
 * The Lambda handler of a function invoked with anything but an API request: the X-Ray subsegment when
 * given a tracer and the Lambda context in every log line. What `handler` throws reaches the invoker.
 */
export function eventStack<TEvent, TResult>(
  tracer: Tracer | undefined,
  handler: (event: TEvent, context: Context) => Promise<TResult>,
) {
  const stack = middy<TEvent, TResult>();
  if (tracer) stack.use(captureLambdaHandler(tracer));
  return stack.use(injectLambdaContext(logger)).handler(handler);
}
