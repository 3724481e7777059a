import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { isStoreUnavailable } from '#lib/adapters/store-errors.ts';
import {
  InvalidRequestError,
  KpisNotComputedError,
  RegistryUnavailableError,
  UnknownIncidentError,
  UnknownWorkflowError,
  WorkflowNotAllowedError,
} from '#lib/errors.ts';
import type { ValidationIssue } from '#lib/events/validate.ts';
import { REGISTRY_UNAVAILABLE_LOG } from '#lib/registry/names.ts';
import { logger, metrics } from './powertools.ts';

/** An HTTP answer decided in the handler layer (auth, media type, size, routing). */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

export function errorBody(code: string, message: string, issues?: readonly ValidationIssue[]) {
  return { error: code, message, ...(issues ? { issues } : {}) };
}

/** A domain error the API answers with a status of its own: 4xx with the error's message, or a 5xx. */
interface DomainErrorStatus {
  readonly type: abstract new (...args: never[]) => Error;
  readonly statusCode: number;
  readonly code: string;
  /** Answered instead of the error's message, which is then for operators only (logged as `log`). */
  readonly publicMessage?: { readonly message: string; readonly log: string };
}

/** The domain errors (`lib/errors.ts`) mapped to HTTP statuses: here, and nowhere else. */
const DOMAIN_ERROR_STATUSES: readonly DomainErrorStatus[] = [
  { type: InvalidRequestError, statusCode: 400, code: 'invalid_request' },
  { type: WorkflowNotAllowedError, statusCode: 403, code: 'forbidden' },
  { type: UnknownWorkflowError, statusCode: 404, code: 'not_found' },
  { type: KpisNotComputedError, statusCode: 404, code: 'not_found' },
  { type: UnknownIncidentError, statusCode: 404, code: 'not_found' },
  {
    // The cause (AppConfig's answer, or which fields of the deployed registry are wrong) is for operators.
    type: RegistryUnavailableError,
    statusCode: 503,
    code: 'service_unavailable',
    publicMessage: {
      message:
        'the workflow registry cannot be read right now; nothing was stored, and retrying later is safe',
      log: REGISTRY_UNAVAILABLE_LOG,
    },
  },
];

/** Counted once per request the boundary answers: a 4xx as `rejected`, a 5xx as `failed`. */
export interface ErrorMetrics {
  readonly rejected: string;
  readonly failed: string;
}

/**
 * The error boundary every HTTP handler ends with (`httpHandler` installs it): make-handlers throw, and
 * this answers. Client errors are answered with what is wrong; anything else is logged and answered with
 * a bare 500 that says a retry is safe.
 */
export function httpErrorBoundary(
  errorMetrics?: ErrorMetrics,
  presentError?: ErrorPresenter,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request) => {
      const response = toErrorResponse(request.error);
      if (errorMetrics) {
        const metric = response.statusCode < 500 ? errorMetrics.rejected : errorMetrics.failed;
        metrics.addMetric(metric, MetricUnit.Count, 1);
      }
      request.response = presentError ? presentError(response, request.event) : response;
    },
  };
}

/** Re-encodes an error answer of `toErrorResponse` for a route's clients (see `HttpHandlerOptions`). */
export type ErrorPresenter = (
  response: APIGatewayProxyResult,
  event: APIGatewayProxyEvent,
) => APIGatewayProxyResult;

export function toErrorResponse(error: unknown): APIGatewayProxyResult {
  if (error instanceof HttpError) return json(error.statusCode, errorBody(error.code, error.message));
  const domain = DOMAIN_ERROR_STATUSES.find(({ type }) => error instanceof type);
  if (domain && error instanceof Error) {
    if (!domain.publicMessage) {
      const issues = error instanceof InvalidRequestError ? error.issues : undefined;
      return json(domain.statusCode, errorBody(domain.code, error.message, issues));
    }
    logger.error(domain.publicMessage.log, { error });
    return json(domain.statusCode, errorBody(domain.code, domain.publicMessage.message));
  }
  if (isStoreUnavailable(error)) {
    // A store (DynamoDB, S3, AppConfig) did not answer: 503 with Retry-After, which clients and OTLP
    // exporters retry; the request left nothing half-done (archive first, then the index, both idempotent).
    logger.error('store unavailable', { error: error instanceof Error ? error : String(error) });
    const response = json(
      503,
      errorBody(
        'service_unavailable',
        'a store of the ledger did not answer; nothing of this request is lost, and retrying it is safe',
      ),
    );
    return { ...response, headers: { ...response.headers, 'retry-after': '1' } };
  }
  // Log the error's name and message only: stack frames are fine, but never the request it came from.
  logger.error('request failed', { error: error instanceof Error ? error : String(error) });
  return json(
    500,
    errorBody('internal_error', 'the ledger could not complete this request; nothing is lost by retrying it'),
  );
}

export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}
