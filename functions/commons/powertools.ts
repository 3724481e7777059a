import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * One logger and one metrics instance for every function (the tracer is in `tracing.ts`, for the functions
 * that load it). Service name and namespace come from POWERTOOLS_SERVICE_NAME /
 * POWERTOOLS_METRICS_NAMESPACE, set by the CDK function construct (and by the local stack, which also
 * turns tracing and metrics output off).
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'agent-ledger' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'AgentLedger',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'agent-ledger',
});
