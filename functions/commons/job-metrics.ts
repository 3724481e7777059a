import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DriftOutcome } from '#lib/drift/job.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';

/**
 * The CloudWatch metrics the scheduled jobs emit (as EMF, through the shared Powertools `metrics`), and
 * the one place their names are written: the CDK dashboard and alarms (`infra/constructs/dashboard.ts`)
 * read these same constants. Powertools adds its default `service` dimension (POWERTOOLS_SERVICE_NAME), so
 * each metric's dimensions are `service` and `workflowId`.
 */
export const JOB_METRICS = {
  /** The KPI record's `costPerUnitUsd` (USD per unit of value); not emitted when throughput is 0. */
  costPerUnit: 'CostPerUnitUsd',
  /** The KPI record's `defectRate`, a share from 0 to 1; not emitted when no unit was reviewed. */
  defectRate: 'DefectRate',
  /** The KPI record's `throughput` (units completed in the week). */
  throughput: 'Throughput',
  /** 1 when the drift job paused the workflow's autonomous lane in this run, else 0. */
  driftPauses: 'DriftPauses',
  /** 1 when the KPI record says an eval is due (lib/evals/due.ts), else 0; not emitted when not judged. */
  evalDue: 'EvalDue',
} as const;

export const WORKFLOW_DIMENSION = 'workflowId';

type MetricUnitName = (typeof MetricUnit)[keyof typeof MetricUnit];

/** The part of Powertools `Metrics` the jobs use, so tests can pass their own instance. */
export interface JobMetrics {
  addDimension(name: string, value: string): unknown;
  addMetric(name: string, unit: MetricUnitName, value: number): unknown;
  addMetadata(key: string, value: string): unknown;
  publishStoredMetrics(): unknown;
}

/**
 * One EMF document per workflow: its cost per unit, defect rate and throughput for `records`' week (the
 * newest a run computed), with the week as metadata so the log line says which week the figures are of.
 */
export function publishKpiMetrics(metrics: JobMetrics, records: readonly KpiRecord[]): void {
  for (const record of records) {
    metrics.addDimension(WORKFLOW_DIMENSION, record.workflowId);
    metrics.addMetadata('week', record.week);
    metrics.addMetric(JOB_METRICS.throughput, MetricUnit.Count, record.throughput);
    if (record.costPerUnitUsd !== null)
      metrics.addMetric(JOB_METRICS.costPerUnit, MetricUnit.NoUnit, record.costPerUnitUsd);
    if (record.defectRate !== null)
      metrics.addMetric(JOB_METRICS.defectRate, MetricUnit.NoUnit, record.defectRate);
    if (record.evalDue) metrics.addMetric(JOB_METRICS.evalDue, MetricUnit.Count, record.evalDue.due ? 1 : 0);
    metrics.publishStoredMetrics();
  }
}

/** One EMF document per workflow judged: DriftPauses 1 if this run paused its lane, else 0. */
export function publishDriftMetrics(metrics: JobMetrics, outcomes: readonly DriftOutcome[]): void {
  for (const outcome of outcomes) {
    metrics.addDimension(WORKFLOW_DIMENSION, outcome.workflowId);
    metrics.addMetadata('week', outcome.week);
    metrics.addMetric(JOB_METRICS.driftPauses, MetricUnit.Count, outcome.action === 'paused' ? 1 : 0);
    metrics.publishStoredMetrics();
  }
}
