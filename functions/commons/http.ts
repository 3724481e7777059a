import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { WorkflowNotAllowedError } from '#lib/auth/caller.ts';
import { InvalidRequestError, RegistryUnavailableError, UnknownWorkflowError } from '#lib/errors.ts';
import { MAX_BODY_BYTES } from '#lib/events/schema.ts';
import type { ValidationIssue } from '#lib/events/validate.ts';
import { KpisNotComputedError } from '#lib/kpi/read-kpis.ts';
import { REGISTRY_UNAVAILABLE_LOG } from '#lib/registry/names.ts';
import { logger } from './powertools.ts';

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

/**
 * The error boundary every HTTP handler ends with: client errors are answered with what is wrong;
 * anything else is logged and answered with a bare 500 that says a retry is safe. Domain errors are
 * mapped to statuses here and nowhere else.
 */
export function httpErrorBoundary(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request) => {
      request.response = toErrorResponse(request.error);
    },
  };
}

export function toErrorResponse(error: unknown): APIGatewayProxyResult {
  if (error instanceof InvalidRequestError) {
    return json(400, errorBody('invalid_request', error.message, error.issues));
  }
  if (error instanceof WorkflowNotAllowedError) return json(403, errorBody('forbidden', error.message));
  if (error instanceof UnknownWorkflowError || error instanceof KpisNotComputedError) {
    return json(404, errorBody('not_found', error.message));
  }
  if (error instanceof HttpError) return json(error.statusCode, errorBody(error.code, error.message));
  if (error instanceof RegistryUnavailableError) {
    // The cause (AppConfig's answer, or which fields of the deployed registry are wrong) is for operators.
    logger.error(REGISTRY_UNAVAILABLE_LOG, { error });
    return json(
      503,
      errorBody(
        'service_unavailable',
        'the workflow registry cannot be read right now; nothing was stored, and retrying later is safe',
      ),
    );
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

/** The request body as parsed JSON, after the media-type and size checks of the SPEC (415, 413, 400). */
export function parseJsonBody(event: APIGatewayProxyEvent): unknown {
  const contentType = header(event, 'content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType.trim())) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      'send the body as JSON with Content-Type: application/json',
    );
  }
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw new HttpError(
      413,
      'payload_too_large',
      `the body is ${bytes.length} bytes; the limit is ${MAX_BODY_BYTES}`,
    );
  }
  if (bytes.length === 0) {
    throw new InvalidRequestError('the body is empty', [{ index: null, path: '$', message: 'is required' }]);
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    const detail = error instanceof SyntaxError ? error.message : 'unparsable';
    throw new InvalidRequestError('the body is not valid JSON', [
      { index: null, path: '$', message: detail },
    ]);
  }
}
