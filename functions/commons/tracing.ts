import { Tracer } from '@aws-lambda-powertools/tracer';
import type { TraceClient } from './stores.ts';

/**
 * The Powertools tracer (and with it the X-Ray SDK, ~100 KiB of bundle and much of a cold start's import
 * time), for the functions that want its subsegments: the handler's, one per `fetch` (so one per call of
 * the lean AWS clients in `lib/aws/`, named by the service's host) and one per call of an SDK client wrapped
 * by `traceClient`. Service name from POWERTOOLS_SERVICE_NAME; the local stack turns tracing off
 * (POWERTOOLS_TRACE_ENABLED=false).
 */
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'agent-ledger' });

/** An AWS SDK client whose calls become X-Ray subsegments. */
export const traceClient: TraceClient = (client) => tracer.captureAWSv3Client(client);
