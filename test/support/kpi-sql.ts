import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { LedgerEvent } from '#lib/events/schema.ts';
import type { PriceTable } from '#lib/pricing/price-table.ts';
import type { KpiRow } from './kpi-data.ts';

/**
 * The SPEC's KPIs ("KPIs: per workflow, per ISO week") computed a second, independent way: in DuckDB SQL,
 * written from the SPEC's definitions, not from `lib/kpi`. Only the data types (events, price tables) are
 * shared. Events are loaded from NDJSON (`{"e": event, "t": stored occurredAtMs, "v": killSwitchViolation}`)
 * and flattened in SQL, including the parse of `occurredAt` (DuckDB's own RFC 3339 reader), ISO weeks
 * (`date_trunc('week')`, `strftime('%G-W%V')`) and pricing (an ASOF join on `effectiveFrom`).
 */

/** The replay fields the SPEC lists for `auditCoverage`, in its words. */
export const SPEC_AUDIT_FIELDS = [
  'prompt.templateVersion',
  'model.name',
  'model.version',
  'retrieval',
  'toolCalls',
  'toolCalls[].endpoint',
  'toolCalls[].parameters',
  'toolCalls[].outcome',
  'output',
  'flag',
  'approval',
] as const;

/** The SQL column holding each field's "missing" flag. */
const MISSING_COLUMNS: Record<(typeof SPEC_AUDIT_FIELDS)[number], string> = {
  'prompt.templateVersion': 'm_template_version',
  'model.name': 'm_model_name',
  'model.version': 'm_model_version',
  retrieval: 'm_retrieval',
  toolCalls: 'm_tool_calls',
  'toolCalls[].endpoint': 'm_call_endpoint',
  'toolCalls[].parameters': 'm_call_parameters',
  'toolCalls[].outcome': 'm_call_outcome',
  output: 'm_output',
  flag: 'm_flag',
  approval: 'm_approval',
};

/** The columns of a tool call's replay fields: the only ones a trace's tool or agent span is counted for. */
const CALL_COLUMNS = [
  MISSING_COLUMNS['toolCalls[].endpoint'],
  MISSING_COLUMNS['toolCalls[].parameters'],
  MISSING_COLUMNS['toolCalls[].outcome'],
];

/** The same shape as the KPI record, so the two can be compared field by field. */
export interface SqlKpis {
  workflowId: string;
  week: string;
  weekStart: string;
  weekEnd: string;
  throughput: number;
  cycleTimeMedianSeconds: number | null;
  cycleTimeP90Seconds: number | null;
  reviewedUnits: number;
  defectiveUnits: number;
  defectRate: number | null;
  escapedUnits: number;
  escapeRate: number | null;
  escalatedUnits: number;
  escalationRate: number | null;
  cost: { modelUsd: number; toolUsd: number; humanReviewUsd: number; totalUsd: number };
  costPerUnitUsd: number | null;
  unpriced: { models: string[]; tools: string[]; humanReview: boolean };
  actions: number;
  replayableActions: number;
  auditCoverage: number | null;
  missingFields: Record<string, number>;
  killSwitchViolations: number;
  boundaryViolations: number;
  catches: number;
  catchesByReviewer: Record<string, number>;
  unlistedToolActions: number;
  unlistedTools: string[];
  evalDue: null;
}

/**
 * One NDJSON line per stored event: `e` the event, `t` when it occurred, `v` and `b` its violation flags,
 * `u` the tools its boundary does not list.
 */
export function eventLine(row: KpiRow): string {
  return `{"e":${JSON.stringify(row.event)},"t":${row.occurredAtMs},"v":${row.killSwitchViolation === true},"b":${row.boundaryViolation === true},"u":${JSON.stringify(row.unlistedTools ?? [])}}\n`;
}

/** The row an `eventLine` was written from (the flags only when set, as the event index returns them). */
export function parseEventLine(text: string): KpiRow {
  const line = JSON.parse(text) as { e: LedgerEvent; t: number; v: boolean; b: boolean; u?: string[] };
  return {
    event: line.e,
    occurredAtMs: line.t,
    ...(line.v ? { killSwitchViolation: true } : {}),
    ...(line.b ? { boundaryViolation: true } : {}),
    ...(line.u?.length ? { unlistedTools: line.u } : {}),
  };
}

export function writeEventsNdjson(rows: Iterable<KpiRow>, path: string): void {
  const lines: string[] = [];
  for (const row of rows) lines.push(eventLine(row));
  writeFileSync(path, lines.join(''));
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * The JSON shape read from each event: only the fields the KPIs need, typed; DuckDB parses each line once
 * into it and ignores every other key. A missing field (or object) reads as NULL; `[]` stays an empty list.
 */
const EVENT_STRUCT = `STRUCT(
  eventId VARCHAR, type VARCHAR, workflowId VARCHAR, unitId VARCHAR, occurredAt VARCHAR, lane VARCHAR,
  flag JSON,
  prompt STRUCT(templateId VARCHAR, templateVersion VARCHAR),
  model STRUCT(provider VARCHAR, name VARCHAR, version VARCHAR),
  retrieval JSON,
  toolCalls STRUCT(name VARCHAR, endpoint VARCHAR, parameters JSON, outcome VARCHAR)[],
  output STRUCT(text VARCHAR, ref VARCHAR, contentHash VARCHAR),
  usage STRUCT(inputTokens BIGINT, outputTokens BIGINT, cachedInputTokens BIGINT),
  approval JSON,
  reviewMinutes DOUBLE, verdict VARCHAR, escaped BOOLEAN, reviewerId VARCHAR,
  metadata JSON
)`;

/** NDJSON events → one flat row per event with what the KPIs need. */
export function flattenEventsSql(ndjsonPath: string | readonly string[], table = 'kpi_events'): string {
  const paths = typeof ndjsonPath === 'string' ? [ndjsonPath] : ndjsonPath;
  return `
CREATE OR REPLACE TABLE ${table} AS
SELECT
  e.eventId AS event_id,
  e.type AS type,
  e.workflowId AS workflow_id,
  e.unitId AS unit_id,
  epoch_ms(CAST(e.occurredAt AS TIMESTAMPTZ)) AS occurred_at_ms,
  t AS stored_occurred_at_ms,
  coalesce(v, false) AS kill_switch_violation,
  coalesce(b, false) AS boundary_violation,
  coalesce(u, []) AS unlisted_tools,
  e.lane AS lane,
  e.model.provider AS model_provider,
  e.model.name AS model_name,
  e.model.version AS model_version,
  e.usage IS NOT NULL AS has_usage,
  e.usage.inputTokens AS input_tokens,
  e.usage.outputTokens AS output_tokens,
  e.usage.cachedInputTokens AS cached_input_tokens,
  e.prompt.templateVersion IS NOT NULL AS has_prompt_template_version,
  e.retrieval IS NOT NULL AS has_retrieval,
  e.toolCalls IS NOT NULL AS has_tool_calls,
  list_transform(
    e.toolCalls,
    lambda c: {
      'name': c.name,
      'has_endpoint': c.endpoint IS NOT NULL,
      'has_parameters': c.parameters IS NOT NULL,
      'has_outcome': c.outcome IS NOT NULL
    }
  ) AS tool_calls,
  e.output.text IS NOT NULL AS has_output_text,
  e.output.ref IS NOT NULL AS has_output_ref,
  e.output.contentHash IS NOT NULL AS has_output_content_hash,
  e.flag IS NOT NULL AS has_flag,
  e.approval IS NOT NULL AS has_approval,
  -- An agent step unless a trace marked the action as a tool or agent span (SPEC-side rule of the OTLP map).
  coalesce(e.metadata->>'$.otel.kind' NOT IN ('tool', 'agent'), true) AS is_step,
  e.reviewMinutes AS review_minutes,
  e.verdict AS verdict,
  e.escaped AS escaped,
  e.reviewerId AS reviewer_id
FROM read_json([${paths.map(quote).join(', ')}], format = 'newline_delimited',
  columns = {e: '${EVENT_STRUCT.replaceAll('\n', ' ')}', t: 'BIGINT', v: 'BOOLEAN', b: 'BOOLEAN', u: 'VARCHAR[]'}, maximum_object_size = 1048576);`;
}

/** Price tables (the SPEC's file format) → tables, model prices and tool prices. */
export function priceTablesSql(jsonPath: string): string {
  return `
CREATE OR REPLACE TABLE price_tables AS
SELECT row_number() OVER (ORDER BY effectiveFrom) AS table_no,
  epoch_ms(CAST(CAST(effectiveFrom AS DATE) AS TIMESTAMP)) AS from_ms,
  humanReviewPerHour AS human_review_per_hour, models, tools
FROM read_json(${quote(jsonPath)}, format = 'newline_delimited',
  columns = {effectiveFrom: 'VARCHAR', currency: 'VARCHAR', models: 'JSON', tools: 'JSON', humanReviewPerHour: 'DOUBLE'});
CREATE OR REPLACE TABLE model_prices AS
SELECT table_no, m.key AS model_key,
  CAST(m.value->>'$.inputPerMillion' AS DOUBLE) AS input_pm,
  CAST(m.value->>'$.outputPerMillion' AS DOUBLE) AS output_pm,
  CAST(m.value->>'$.cachedInputPerMillion' AS DOUBLE) AS cached_pm
FROM (SELECT table_no, unnest(map_entries(CAST(models AS MAP(VARCHAR, JSON)))) AS m FROM price_tables);
CREATE OR REPLACE TABLE tool_prices AS
SELECT table_no, t.key AS tool, CAST(t.value->>'$.perCall' AS DOUBLE) AS per_call
FROM (SELECT table_no, unnest(map_entries(CAST(tools AS MAP(VARCHAR, JSON)))) AS t FROM price_tables);`;
}

/**
 * The KPIs of every workflow in `source` for every week from `fromMs` (a Monday 00:00 UTC) up to `toMs`.
 * `source` is a table or a table function such as `read_parquet('…')` with the flat columns above.
 */
export function kpiSql(source: string, fromMs: number, toMs: number): string {
  const missing = Object.values(MISSING_COLUMNS);
  return `
WITH
ev AS (
  SELECT *, date_trunc('week', make_timestamp(occurred_at_ms * 1000)) AS week_start FROM ${source}
),
calendar AS (
  SELECT range AS week_start
  FROM range(make_timestamp(${fromMs}::BIGINT * 1000), make_timestamp(${toMs}::BIGINT * 1000), INTERVAL 7 DAY)
),
grid AS (SELECT workflow_id, week_start FROM (SELECT DISTINCT workflow_id FROM ev) CROSS JOIN calendar),

-- Units: everything the SPEC asks of a unit, over all its events whenever they occurred.
units AS (
  SELECT workflow_id, unit_id,
    min(occurred_at_ms) FILTER (WHERE type = 'unit.started') AS started_ms,
    min(occurred_at_ms) AS first_ms,
    bool_or(type = 'review.verdict') AS reviewed,
    bool_or(type = 'review.verdict' AND verdict = 'defect') AS defective,
    bool_or(type = 'review.verdict' AND verdict = 'defect' AND escaped IS TRUE) AS escaped,
    bool_or(type = 'unit.escalated') AS escalated,
    list(DISTINCT reviewer_id) FILTER (WHERE type = 'review.verdict' AND verdict = 'defect') AS defect_finders
  FROM ev GROUP BY workflow_id, unit_id
),
-- The cohort of a week: units with a unit.completed in it (completedAt: the last one in the week).
cohort AS (
  SELECT c.workflow_id, c.week_start, u.reviewed, u.defective, u.escaped, u.escalated, u.defect_finders,
    (c.completed_ms - coalesce(u.started_ms, u.first_ms)) / 1000.0 AS cycle_s
  FROM (
    SELECT workflow_id, week_start, unit_id, max(occurred_at_ms) AS completed_ms
    FROM ev WHERE type = 'unit.completed' GROUP BY workflow_id, week_start, unit_id
  ) c
  JOIN units u ON u.workflow_id = c.workflow_id AND u.unit_id = c.unit_id
),
unit_kpis AS (
  SELECT workflow_id, week_start,
    count(*)::INTEGER AS throughput,
    quantile_cont(cycle_s, 0.5) AS cycle_median,
    quantile_cont(cycle_s, 0.9) AS cycle_p90,
    count(*) FILTER (WHERE reviewed)::INTEGER AS reviewed_units,
    count(*) FILTER (WHERE defective)::INTEGER AS defective_units,
    count(*) FILTER (WHERE escaped)::INTEGER AS escaped_units,
    count(*) FILTER (WHERE escalated)::INTEGER AS escalated_units,
    count(*) FILTER (WHERE defective AND NOT escaped)::INTEGER AS catches
  FROM cohort GROUP BY workflow_id, week_start
),
-- Catches: cohort units with a defect found in review that did not escape, per reviewer who found one.
catch_lines AS (
  SELECT workflow_id, week_start, unnest(defect_finders) AS reviewer
  FROM cohort WHERE defective AND NOT escaped
),
catchers AS (
  SELECT workflow_id, week_start, list({'reviewer': reviewer, 'n': n} ORDER BY reviewer) AS by_reviewer
  FROM (SELECT workflow_id, week_start, reviewer, count(*)::INTEGER AS n FROM catch_lines GROUP BY ALL)
  GROUP BY workflow_id, week_start
),

-- Cost: every event that occurred in the week, priced by the newest table effective at its instant.
priced AS (
  SELECT x.*, p.table_no, p.human_review_per_hour
  FROM (SELECT * FROM ev WHERE type IN ('action', 'review.verdict')) x
  ASOF LEFT JOIN price_tables p ON x.occurred_at_ms >= p.from_ms
),
model_lines AS (
  SELECT a.workflow_id, a.week_start, a.model_key, m.model_key IS NOT NULL AS is_priced,
    (a.input_tokens * m.input_pm + a.output_tokens * m.output_pm
      + coalesce(a.cached_input_tokens, 0) * coalesce(m.cached_pm, m.input_pm)) / 1e6 AS usd
  FROM (
    SELECT *, coalesce(model_provider, 'unknown') || '/' || coalesce(model_name, 'unknown') AS model_key
    FROM priced WHERE type = 'action' AND has_usage
  ) a
  LEFT JOIN model_prices m ON m.table_no = a.table_no AND m.model_key = a.model_key
),
model_cost AS (
  SELECT workflow_id, week_start, sum(usd) AS model_usd,
    list(DISTINCT model_key) FILTER (WHERE NOT is_priced) AS unpriced_models
  FROM model_lines GROUP BY workflow_id, week_start
),
tool_lines AS (
  SELECT a.workflow_id, a.week_start, a.tc.name AS tool, t.per_call
  FROM (SELECT workflow_id, week_start, table_no, unnest(tool_calls) AS tc FROM priced WHERE type = 'action') a
  LEFT JOIN tool_prices t ON t.table_no = a.table_no AND t.tool = a.tc.name
),
tool_cost AS (
  SELECT workflow_id, week_start, sum(per_call) AS tool_usd,
    list(DISTINCT tool) FILTER (WHERE per_call IS NULL) AS unpriced_tools
  FROM tool_lines GROUP BY workflow_id, week_start
),
review_cost AS (
  SELECT workflow_id, week_start,
    sum(review_minutes * human_review_per_hour / 60) AS human_review_usd,
    bool_or(table_no IS NULL AND review_minutes > 0) AS unpriced_human_review
  FROM priced WHERE type = 'review.verdict' GROUP BY workflow_id, week_start
),

-- Audit coverage: agent steps that occurred in the week, and which replay fields each lacks. A trace's
-- tool and agent spans are no steps: they add only their tool calls' missing fields.
audit_lines AS (
  SELECT workflow_id, week_start, is_step,
    NOT has_prompt_template_version AS m_template_version,
    model_name IS NULL AS m_model_name,
    model_version IS NULL AS m_model_version,
    NOT has_retrieval AS m_retrieval,
    NOT has_tool_calls AS m_tool_calls,
    coalesce(list_bool_or(list_transform(tool_calls, lambda c: NOT c.has_endpoint)), false) AS m_call_endpoint,
    coalesce(list_bool_or(list_transform(tool_calls, lambda c: NOT c.has_parameters)), false) AS m_call_parameters,
    coalesce(list_bool_or(list_transform(tool_calls, lambda c: NOT c.has_outcome)), false) AS m_call_outcome,
    NOT (has_output_text OR (has_output_ref AND has_output_content_hash)) AS m_output,
    NOT has_flag AS m_flag,
    coalesce(lane = 'hitl' AND NOT has_approval, false) AS m_approval
  FROM ev WHERE type = 'action'
),
audit AS (
  SELECT workflow_id, week_start,
    count(*) FILTER (WHERE is_step)::INTEGER AS actions,
    count(*) FILTER (WHERE is_step AND NOT (${missing.join(' OR ')}))::INTEGER AS replayable,
    ${missing
      .map((column) =>
        CALL_COLUMNS.includes(column)
          ? `count(*) FILTER (WHERE ${column})::INTEGER AS ${column}`
          : `count(*) FILTER (WHERE is_step AND ${column})::INTEGER AS ${column}`,
      )
      .join(',\n    ')}
  FROM audit_lines GROUP BY workflow_id, week_start
),
violations AS (
  SELECT workflow_id, week_start, count(*)::INTEGER AS violations
  FROM ev WHERE kill_switch_violation GROUP BY workflow_id, week_start
),
boundary AS (
  SELECT workflow_id, week_start, count(*)::INTEGER AS violations
  FROM ev WHERE type = 'action' AND boundary_violation GROUP BY workflow_id, week_start
),
unlisted AS (
  SELECT workflow_id, week_start, count(*)::INTEGER AS actions,
    list_sort(list_distinct(flatten(list(unlisted_tools)))) AS tools
  FROM ev WHERE type = 'action' AND len(unlisted_tools) > 0 GROUP BY workflow_id, week_start
)

SELECT
  g.workflow_id,
  strftime(g.week_start, '%G-W%V') AS week,
  epoch_ms(g.week_start)::DOUBLE AS week_start_ms,
  epoch_ms(g.week_start + INTERVAL 7 DAY)::DOUBLE AS week_end_ms,
  coalesce(u.throughput, 0) AS throughput,
  u.cycle_median, u.cycle_p90,
  coalesce(u.reviewed_units, 0) AS reviewed_units,
  coalesce(u.defective_units, 0) AS defective_units,
  CASE WHEN coalesce(u.reviewed_units, 0) > 0 THEN u.defective_units / u.reviewed_units END AS defect_rate,
  coalesce(u.escaped_units, 0) AS escaped_units,
  u.escaped_units / u.throughput AS escape_rate,
  coalesce(u.escalated_units, 0) AS escalated_units,
  u.escalated_units / u.throughput AS escalation_rate,
  round(coalesce(mc.model_usd, 0), 6) AS model_usd,
  round(coalesce(tc.tool_usd, 0), 6) AS tool_usd,
  round(coalesce(rc.human_review_usd, 0), 6) AS human_review_usd,
  round(coalesce(mc.model_usd, 0) + coalesce(tc.tool_usd, 0) + coalesce(rc.human_review_usd, 0), 6) AS total_usd,
  round((coalesce(mc.model_usd, 0) + coalesce(tc.tool_usd, 0) + coalesce(rc.human_review_usd, 0)) / u.throughput, 6)
    AS cost_per_unit_usd,
  coalesce(mc.unpriced_models, []) AS unpriced_models,
  coalesce(tc.unpriced_tools, []) AS unpriced_tools,
  coalesce(rc.unpriced_human_review, false) AS unpriced_human_review,
  coalesce(a.actions, 0) AS actions,
  coalesce(a.replayable, 0) AS replayable_actions,
  a.replayable / a.actions AS audit_coverage,
  ${missing.map((column) => `coalesce(a.${column}, 0) AS ${column}`).join(',\n  ')},
  coalesce(v.violations, 0) AS kill_switch_violations,
  coalesce(bv.violations, 0) AS boundary_violations,
  coalesce(u.catches, 0) AS catches,
  coalesce(ca.by_reviewer, []) AS catches_by_reviewer,
  coalesce(ul.actions, 0) AS unlisted_tool_actions,
  coalesce(ul.tools, []) AS unlisted_tools
FROM grid g
LEFT JOIN unit_kpis u USING (workflow_id, week_start)
LEFT JOIN model_cost mc USING (workflow_id, week_start)
LEFT JOIN tool_cost tc USING (workflow_id, week_start)
LEFT JOIN review_cost rc USING (workflow_id, week_start)
LEFT JOIN audit a USING (workflow_id, week_start)
LEFT JOIN violations v USING (workflow_id, week_start)
LEFT JOIN boundary bv USING (workflow_id, week_start)
LEFT JOIN catchers ca USING (workflow_id, week_start)
LEFT JOIN unlisted ul USING (workflow_id, week_start)
ORDER BY g.workflow_id, g.week_start`;
}

type Json = Record<string, unknown>;
const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/** A row of `kpiSql` as a KPI-record-shaped object. */
export function toSqlKpis(row: Json): SqlKpis {
  const sorted = (value: unknown) => [...((value as string[] | null) ?? [])].sort();
  return {
    workflowId: row.workflow_id as string,
    week: row.week as string,
    weekStart: new Date(Number(row.week_start_ms)).toISOString(),
    weekEnd: new Date(Number(row.week_end_ms)).toISOString(),
    throughput: Number(row.throughput),
    cycleTimeMedianSeconds: num(row.cycle_median),
    cycleTimeP90Seconds: num(row.cycle_p90),
    reviewedUnits: Number(row.reviewed_units),
    defectiveUnits: Number(row.defective_units),
    defectRate: num(row.defect_rate),
    escapedUnits: Number(row.escaped_units),
    escapeRate: num(row.escape_rate),
    escalatedUnits: Number(row.escalated_units),
    escalationRate: num(row.escalation_rate),
    cost: {
      modelUsd: Number(row.model_usd),
      toolUsd: Number(row.tool_usd),
      humanReviewUsd: Number(row.human_review_usd),
      totalUsd: Number(row.total_usd),
    },
    costPerUnitUsd: num(row.cost_per_unit_usd),
    unpriced: {
      models: sorted(row.unpriced_models),
      tools: sorted(row.unpriced_tools),
      humanReview: row.unpriced_human_review === true,
    },
    actions: Number(row.actions),
    replayableActions: Number(row.replayable_actions),
    auditCoverage: num(row.audit_coverage),
    missingFields: Object.fromEntries(
      Object.entries(MISSING_COLUMNS).map(([field, column]) => [field, Number(row[column])]),
    ),
    killSwitchViolations: Number(row.kill_switch_violations),
    boundaryViolations: Number(row.boundary_violations),
    catches: Number(row.catches),
    catchesByReviewer: Object.fromEntries(
      (row.catches_by_reviewer as { reviewer: string; n: unknown }[]).map(({ reviewer, n }) => [
        reviewer,
        Number(n),
      ]),
    ),
    unlistedToolActions: Number(row.unlisted_tool_actions),
    unlistedTools: sorted(row.unlisted_tools),
    // Not a fact of the events: the KPI job judges it from the eval runs (lib/evals/due.ts), and
    // WeeklyKpis, which this SQL checks, always leaves it null.
    evalDue: null,
  };
}

/** A DuckDB connection with the price tables loaded. */
export async function openKpiDuckDb(
  workDir: string,
  priceTables: readonly PriceTable[],
): Promise<{ connection: DuckDBConnection; close: () => void }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const pricesPath = join(workDir, 'price-tables.ndjson');
  writeFileSync(pricesPath, priceTables.map((table) => `${JSON.stringify(table)}\n`).join(''));
  await connection.run(priceTablesSql(pricesPath));
  return {
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

export async function queryRows(connection: DuckDBConnection, sql: string): Promise<Json[]> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Json[];
}

/** Everything in one call: rows → NDJSON → flat table → KPIs per workflow and week. */
export async function computeKpisInDuckDb(options: {
  readonly workDir: string;
  readonly rows: readonly KpiRow[];
  readonly priceTables: readonly PriceTable[];
  readonly fromMs: number;
  readonly toMs: number;
}): Promise<{ kpis: SqlKpis[]; parseMismatches: Json[] }> {
  const db = await openKpiDuckDb(options.workDir, options.priceTables);
  try {
    const eventsPath = join(options.workDir, 'events.ndjson');
    writeEventsNdjson(options.rows, eventsPath);
    await db.connection.run(flattenEventsSql(eventsPath));
    const parseMismatches = await queryRows(
      db.connection,
      `SELECT event_id, occurred_at_ms::DOUBLE AS duck, stored_occurred_at_ms::DOUBLE AS stored
       FROM kpi_events WHERE occurred_at_ms IS DISTINCT FROM stored_occurred_at_ms LIMIT 20`,
    );
    const rows = await queryRows(db.connection, kpiSql('kpi_events', options.fromMs, options.toMs));
    return { kpis: rows.map(toSqlKpis), parseMismatches };
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Comparison

const USD_TOLERANCE = 1.000_001e-6; // the record rounds USD to micro-dollars
const RELATIVE_TOLERANCE = 1e-6;

/**
 * Differences between a KPI record and the SQL result, as readable lines (empty: they agree). Numbers agree
 * within 1e-6 relative; USD amounts (rounded to micro-dollars on both sides, summed in different orders)
 * also within one micro-dollar; nulls only with nulls; lists exactly.
 */
export function diffKpis(record: unknown, sql: unknown, path = ''): string[] {
  if (record === null || sql === null || typeof record !== 'object' || typeof sql !== 'object') {
    if (typeof record === 'number' && typeof sql === 'number') {
      const scale = Math.max(Math.abs(record), Math.abs(sql));
      const usd = /^cost\.|^costPerUnitUsd$/.test(path);
      const ok =
        record === sql ||
        Math.abs(record - sql) <= RELATIVE_TOLERANCE * scale ||
        (usd && Math.abs(record - sql) <= USD_TOLERANCE);
      return ok ? [] : [`${path}: WeeklyKpis ${record} vs SQL ${sql}`];
    }
    return Object.is(record, sql)
      ? []
      : [`${path}: WeeklyKpis ${JSON.stringify(record)} vs SQL ${JSON.stringify(sql)}`];
  }
  if (Array.isArray(record) || Array.isArray(sql)) {
    return JSON.stringify(record) === JSON.stringify(sql)
      ? []
      : [`${path}: WeeklyKpis ${JSON.stringify(record)} vs SQL ${JSON.stringify(sql)}`];
  }
  const keys = new Set([...Object.keys(record), ...Object.keys(sql)]);
  return [...keys].flatMap((key) =>
    diffKpis((record as Json)[key], (sql as Json)[key], path ? `${path}.${key}` : key),
  );
}
