import { parquetWriteBuffer } from 'hyparquet-writer';
import { AUDIT_FIELDS } from '#lib/kpi/audit.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';

/**
 * The finance report (SPEC "Finance"): one Parquet file per workflow and week under
 * `cost-per-unit/week=YYYY-Www/workflow=<id>/`. Columns are the KPI record's fields in snake_case (the
 * cost breakdown and missing-field counts flattened); `week` and `workflow` are the partitions in the path. This list is the one
 * source for the Parquet schema and the Glue table's columns.
 */
export const COST_PER_UNIT_PREFIX = 'cost-per-unit/';

type ColumnType = 'STRING' | 'INT64' | 'DOUBLE' | 'BOOLEAN';
interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /** The Glue/Athena type of the same column. */
  readonly glueType: 'string' | 'bigint' | 'double' | 'boolean';
  readonly value: (record: KpiRecord) => string | number | boolean | null;
}

const int = (name: string, value: Column['value']): Column => ({
  name,
  type: 'INT64',
  glueType: 'bigint',
  value,
});
const dbl = (name: string, value: Column['value']): Column => ({
  name,
  type: 'DOUBLE',
  glueType: 'double',
  value,
});
const str = (name: string, value: Column['value']): Column => ({
  name,
  type: 'STRING',
  glueType: 'string',
  value,
});

export const COST_PER_UNIT_COLUMNS: readonly Column[] = [
  str('workflow_id', (r) => r.workflowId),
  str('week_start', (r) => r.weekStart),
  str('week_end', (r) => r.weekEnd),
  int('throughput', (r) => r.throughput),
  dbl('cycle_time_median_seconds', (r) => r.cycleTimeMedianSeconds),
  dbl('cycle_time_p90_seconds', (r) => r.cycleTimeP90Seconds),
  int('reviewed_units', (r) => r.reviewedUnits),
  int('defective_units', (r) => r.defectiveUnits),
  dbl('defect_rate', (r) => r.defectRate),
  int('escaped_units', (r) => r.escapedUnits),
  dbl('escape_rate', (r) => r.escapeRate),
  int('escalated_units', (r) => r.escalatedUnits),
  dbl('escalation_rate', (r) => r.escalationRate),
  dbl('cost_model_usd', (r) => r.cost.modelUsd),
  dbl('cost_tool_usd', (r) => r.cost.toolUsd),
  dbl('cost_human_review_usd', (r) => r.cost.humanReviewUsd),
  dbl('cost_total_usd', (r) => r.cost.totalUsd),
  dbl('cost_per_unit_usd', (r) => r.costPerUnitUsd),
  str('unpriced_models', (r) => r.unpriced.models.join(',')),
  str('unpriced_tools', (r) => r.unpriced.tools.join(',')),
  {
    name: 'unpriced_human_review',
    type: 'BOOLEAN',
    glueType: 'boolean',
    value: (r) => r.unpriced.humanReview,
  },
  int('actions', (r) => r.actions),
  int('replayable_actions', (r) => r.replayableActions),
  dbl('audit_coverage', (r) => r.auditCoverage),
  int('kill_switch_violations', (r) => r.killSwitchViolations),
  int('boundary_violations', (r) => r.boundaryViolations),
  // missingFields, one column per replay field: `toolCalls[].endpoint` → missing_tool_calls_endpoint.
  ...AUDIT_FIELDS.map((field) => int(`missing_${snakeCase(field)}`, (r) => r.missingFields[field])),
];

function snakeCase(field: string): string {
  return field
    .replace(/\[\]/g, '')
    .replace(/\./g, '_')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

export function costPerUnitKey(week: string, workflowId: string): string {
  return `${COST_PER_UNIT_PREFIX}week=${week}/workflow=${workflowId}/cost-per-unit.parquet`;
}

/** One row per record (one record per object today; the format takes more). */
export function costPerUnitParquet(records: readonly KpiRecord[]): Uint8Array {
  const buffer = parquetWriteBuffer({
    columnData: COST_PER_UNIT_COLUMNS.map((column) => ({
      name: column.name,
      type: column.type,
      data: records.map((record) => {
        const value = column.value(record);
        return column.type === 'INT64' && typeof value === 'number' ? BigInt(value) : value;
      }),
    })),
  });
  return new Uint8Array(buffer);
}
