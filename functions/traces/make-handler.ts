import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ingestSpans } from '#lib/ingest/ingest-spans.ts';
import { decodeTraceRequest, otlpEncodingOf } from '#lib/otlp/decode.ts';
import { encodeStatus, encodeTraceResponse } from '#lib/otlp/response.ts';
import type { OtlpEncoding } from '#lib/otlp/spans.ts';
import { resolveCaller } from '../commons/caller.ts';
import { HttpError, header } from '../commons/http.ts';
import { addSpanIngestMetrics } from '../commons/ingest-metrics.ts';
import type { HttpRouteHandler } from '../commons/middy-stack.ts';
import { logger, metrics } from '../commons/powertools.ts';
import { readBodyBytes } from '../commons/request-body.ts';
import type { IngestHandlerDependencies } from '../ingest/make-handler.ts';

/**
 * The largest OTLP request body, as sent and once decompressed. Lambda takes at most 6 MB of request, and
 * API Gateway hands the function a binary body (protobuf) base64-encoded, 4/3 of its size; API Gateway
 * decompresses gzip before the function, so the limit holds for the decompressed body.
 */
export const MAX_TRACE_BODY_BYTES = 4 * 1024 * 1024;

/** How many reasons `partialSuccess.errorMessage` spells out; the count covers all of them. */
const REASONS_IN_MESSAGE = 5;

/** What `/v1/events` is wired with: the spans go down the same path. */
export type TracesHandlerDependencies = IngestHandlerDependencies;

/**
 * POST /v1/traces (OTLP/HTTP, protobuf or JSON, gzip or not): spans → ledger events, stored like
 * `/v1/events`, answered with an `ExportTraceServiceResponse` in the request's encoding. Spans that cannot
 * be placed or are not allowed are counted in `partialSuccess`; the rest are stored.
 */
export function makeTracesHandler(deps: TracesHandlerDependencies): HttpRouteHandler {
  return async (event) => {
    const caller = await resolveCaller(event, deps.grants);
    const encoding = requestEncoding(event);
    const spans = decodeTraceRequest(readBodyBytes(event, MAX_TRACE_BODY_BYTES), encoding);
    const result = await ingestSpans(spans, caller, { ...deps, registry: await deps.registry.current() });
    addSpanIngestMetrics(metrics, result);
    // Counts only: span contents (and so user IDs) never reach the logs.
    logger.info('traces ingested', {
      caller: caller.principal,
      spans: spans.length,
      storedSpans: result.storedSpans,
      rejectedSpans: result.rejected.length,
      ignoredSpans: result.ignoredSpans,
      ...result.events,
    });
    const partial =
      result.rejected.length === 0
        ? undefined
        : {
            rejectedSpans: result.rejected.length,
            errorMessage: result.rejected
              .slice(0, REASONS_IN_MESSAGE)
              .map(({ spanId, reason }) => `span ${spanId}: ${reason}`)
              .join('; ')
              .concat(result.rejected.length > REASONS_IN_MESSAGE ? '; …' : ''),
          };
    return otlpResponse(200, encodeTraceResponse(partial, encoding), encoding);
  };
}

/** The encoding the request declares (415 for anything but OTLP's two). */
function requestEncoding(event: APIGatewayProxyEvent): OtlpEncoding {
  const encoding = otlpEncodingOf(header(event, 'content-type'));
  if (!encoding) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      'send OTLP/HTTP: Content-Type application/x-protobuf or application/json',
    );
  }
  return encoding;
}

function otlpResponse(statusCode: number, body: Uint8Array, encoding: OtlpEncoding): APIGatewayProxyResult {
  return {
    statusCode,
    headers: {
      'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
      'cache-control': 'no-store',
    },
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
  };
}

/** gRPC status codes for the HTTP statuses the boundary answers (OTLP/HTTP error bodies are `google.rpc.Status`). */
const RPC_CODE_OF_STATUS: Readonly<Record<number, number>> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  413: 3,
  415: 3,
  429: 8, // RESOURCE_EXHAUSTED
  503: 14, // UNAVAILABLE
};

/**
 * The error boundary's answer as OTLP/HTTP wants it: a `google.rpc.Status` in the request's encoding (JSON
 * for a request whose encoding is unknown), with the same status code and headers (`Retry-After`). The
 * JSON form keeps the ledger's `error` and `issues` beside `code` and `message`: decoders ignore them.
 */
export function presentOtlpError(
  response: APIGatewayProxyResult,
  event: APIGatewayProxyEvent,
): APIGatewayProxyResult {
  const encoding = otlpEncodingOf(header(event, 'content-type')) ?? 'json';
  const ledgerBody = JSON.parse(response.body) as { error: string; message: string; issues?: unknown };
  const code = RPC_CODE_OF_STATUS[response.statusCode] ?? 13; // INTERNAL
  const message = ledgerBody.message;
  const body =
    encoding === 'protobuf'
      ? Buffer.from(encodeStatus(code, message, 'protobuf'))
      : Buffer.from(JSON.stringify({ code, message, error: ledgerBody.error, issues: ledgerBody.issues }));
  const answer = otlpResponse(response.statusCode, body, encoding);
  return { ...answer, headers: { ...response.headers, ...answer.headers } };
}
