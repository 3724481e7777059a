import type { Context } from 'aws-lambda';
import { eventStack, type HttpHandlerOptions, type HttpRouteHandler, httpStack } from './middy-stack.ts';
import { tracer } from './tracing.ts';

/**
 * The Lambda handler of an API route, the one middy stack they all share: X-Ray (the Powertools tracer's
 * `## index.handler` subsegment), the Lambda context in every log line, metrics when the function emits
 * any, and the error boundary, which answers whatever `handler` throws (a domain error with its status,
 * anything else with a 500).
 */
export function httpHandler(
  handler: HttpRouteHandler,
  options: HttpHandlerOptions = {},
): ReturnType<typeof httpStack> {
  return httpStack(tracer, handler, options);
}

/**
 * The Lambda handler of a function invoked with anything but an API request (the scheduled jobs, the
 * AppConfig extension, the CloudFormation custom resource, the API's authorizer): X-Ray and the Lambda
 * context in every log line. What `handler` throws reaches the invoker: Lambda retries an asynchronous
 * invocation and then dead-letters it, the authorizer's `Unauthorized` becomes API Gateway's 401.
 */
export function eventHandler<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
): ReturnType<typeof eventStack<TEvent, TResult>> {
  return eventStack(tracer, handler);
}
