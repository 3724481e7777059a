/**
 * The queries finance starts from, saved in the Athena workgroup by the CDK and runnable as they are
 * locally with `agent-ledger query` (DuckDB): plain SQL both engines accept, over `cost_per_unit`
 * whose partitions are `week` ('YYYY-Www', sorts in time order) and `workflow`.
 */
export interface SavedQuery {
  readonly name: string;
  readonly description: string;
  readonly sql: string;
}

export const SAVED_QUERIES: readonly SavedQuery[] = [
  {
    name: 'cost-per-unit-by-workflow-over-time',
    description: 'Cost per unit of value and throughput, per workflow and week',
    sql: `SELECT workflow_id, week, throughput, cost_total_usd, cost_per_unit_usd, defect_rate
FROM cost_per_unit
ORDER BY workflow_id, week`,
  },
  {
    name: 'cost-breakdown',
    description: 'Model, tool and human-review cost per workflow and week, with what could not be priced',
    sql: `SELECT workflow_id, week, cost_model_usd, cost_tool_usd, cost_human_review_usd, cost_total_usd,
       unpriced_models, unpriced_tools, unpriced_human_review
FROM cost_per_unit
ORDER BY workflow_id, week`,
  },
  {
    name: 'week-over-week-change',
    description: 'Change in cost per unit and defect rate against the previous week, per workflow',
    sql: `SELECT workflow_id, week, cost_per_unit_usd,
       cost_per_unit_usd - LAG(cost_per_unit_usd) OVER (PARTITION BY workflow_id ORDER BY week) AS cost_per_unit_change_usd,
       defect_rate,
       defect_rate - LAG(defect_rate) OVER (PARTITION BY workflow_id ORDER BY week) AS defect_rate_change
FROM cost_per_unit
ORDER BY workflow_id, week`,
  },
];
