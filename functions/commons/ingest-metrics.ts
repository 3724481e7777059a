import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { IngestResult } from '#lib/ingest/ingest-events.ts';
import type { SpanIngestResult } from '#lib/ingest/ingest-spans.ts';
import type { ViolationKind } from '#lib/ports.ts';

/**
 * The CloudWatch metrics the ingest function emits (EMF, dimension `service`), and the one place their
 * names are written: the CDK dashboard and alarms (`infra/constructs/dashboard.ts`) read these constants.
 */
export const INGEST_METRICS = {
  accepted: 'EventsAccepted',
  duplicates: 'EventsDuplicate',
  conflicts: 'EventsConflict',
  boundaryViolations: 'BoundaryViolations',
  killSwitchViolations: 'KillSwitchViolations',
  rolloutPhaseViolations: 'RolloutPhaseViolations',
  /** A request answered 4xx: something the client sent (counted by the error boundary). */
  rejected: 'IngestRejected',
  /** A request answered 5xx: the ledger failed (counted by the error boundary). */
  failed: 'IngestFailed',
  /** `/v1/traces`: spans that became events, that could not be placed or were refused, that were not agent spans. */
  spansStored: 'SpansStored',
  spansRejected: 'SpansRejected',
  spansIgnored: 'SpansIgnored',
} as const;

/** A request's counts, and its violations by kind (0 when it had none). Flushed after the request. */
export function addIngestMetrics(metrics: Pick<Metrics, 'addMetric'>, result: IngestResult): void {
  metrics.addMetric(INGEST_METRICS.accepted, MetricUnit.Count, result.accepted);
  metrics.addMetric(INGEST_METRICS.duplicates, MetricUnit.Count, result.duplicates);
  metrics.addMetric(INGEST_METRICS.conflicts, MetricUnit.Count, result.conflicts);
  const count = (kind: ViolationKind) =>
    result.violations?.filter((violation) => violation.kind === kind).length ?? 0;
  metrics.addMetric(INGEST_METRICS.boundaryViolations, MetricUnit.Count, count('boundary'));
  metrics.addMetric(INGEST_METRICS.killSwitchViolations, MetricUnit.Count, count('kill-switch'));
  metrics.addMetric(INGEST_METRICS.rolloutPhaseViolations, MetricUnit.Count, count('rollout-phase'));
}

/** A `/v1/traces` request's counts: its spans, and the counts of the events they became. */
export function addSpanIngestMetrics(metrics: Pick<Metrics, 'addMetric'>, result: SpanIngestResult): void {
  metrics.addMetric(INGEST_METRICS.spansStored, MetricUnit.Count, result.storedSpans);
  metrics.addMetric(INGEST_METRICS.spansRejected, MetricUnit.Count, result.rejected.length);
  metrics.addMetric(INGEST_METRICS.spansIgnored, MetricUnit.Count, result.ignoredSpans);
  metrics.addMetric(INGEST_METRICS.accepted, MetricUnit.Count, result.events.accepted);
  metrics.addMetric(INGEST_METRICS.duplicates, MetricUnit.Count, result.events.duplicates);
  metrics.addMetric(INGEST_METRICS.conflicts, MetricUnit.Count, result.events.conflicts);
}
