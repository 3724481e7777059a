import { parseArgs } from 'node:util';
import { SNSClient } from '@aws-sdk/client-sns';
import { makeDocumentClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbEvalStore } from '#lib/adapters/dynamodb-eval-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbPostmortemStore } from '#lib/adapters/dynamodb-postmortem-store.ts';
import { S3ReportStore } from '#lib/adapters/s3-report-store.ts';
import { SnsNotifier } from '#lib/adapters/sns-notifier.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { type Notifier, runDriftJob } from '#lib/drift/job.ts';
import { LOCAL_ENVIRONMENT } from '#lib/kill-switch/names.ts';
import { runKpiJobs, weeksToCompute } from '#lib/kpi/job.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { InvalidWeekError } from '#lib/kpi/weeks.ts';
import { formatRate, formatUsd } from '#lib/presentation/format.ts';
import type { ArchiveTier } from '#lib/read/tiered-events.ts';
import { runReportsJob } from '#lib/reports/job.ts';
import { hotIndexDaysFrom } from '#lib/storage/ledger-table.ts';
import { UsageError } from '../errors.ts';
import {
  deployedRegistry,
  drillStore,
  explainTargetFailure,
  registeredWorkflow,
  resolveTarget,
  type Target,
} from '../target.ts';
import { priceStore } from './prices.ts';

export const JOBS_HELP = `agent-ledger jobs — run the scheduled jobs now (the same code the cloud schedules run)

  agent-ledger jobs kpi [--week YYYY-Www] [--workflow <id>] [--stage <name>]
  agent-ledger jobs drift [--week YYYY-Www] [--stage <name>]
  agent-ledger jobs reports [--week YYYY-Www] [--stage <name>]   governance reports and runbooks

Without --week: the last complete ISO week (Monday 00:00 UTC to Monday 00:00 UTC).`;

const options = {
  week: { type: 'string' },
  workflow: { type: 'string' },
  stage: { type: 'string' },
} as const;

export async function jobsCommand(args: string[], print: (line: string) => void): Promise<void> {
  const [job, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options });
  if (positionals.length > 0) throw new UsageError(`jobs ${job} takes no arguments, got '${positionals[0]}'`);
  if (job === 'reports') {
    await reportsJob(values, print);
    return;
  }
  let weeks: string[];
  try {
    weeks = weeksToCompute(values.week ? { week: values.week } : {}, Date.now());
  } catch (error) {
    if (error instanceof InvalidWeekError) throw new UsageError(error.message);
    throw error;
  }

  if (job === 'kpi') {
    const target = await resolveTarget(values.stage);
    const registry = values.workflow
      ? await registeredWorkflow(target, values.workflow)
      : (await deployedRegistry(target)).registry;
    const documents = makeDocumentClient(target.dynamodb);
    const store = priceStore(target);
    const { s3, bucket } = await target.reports();
    let started = Date.now();
    // The scheduled KPI function's run (lib/kpi/job.ts), printing each record as it is stored.
    await runKpiJobs(
      {
        ...(values.week ? { week: values.week } : {}),
        ...(values.workflow ? { workflowId: values.workflow } : {}),
      },
      {
        index: new DynamoDbEventIndex(documents, target.tableName),
        archive: await archiveTier(target),
        prices: store,
        kpis: store,
        reports: new S3ReportStore(s3, bucket),
        registry,
        clock: () => new Date(),
        evals: new DynamoDbEvalStore(documents, target.tableName),
      },
      (record) => {
        print(`${kpiSummaryLine(record)}  (${Date.now() - started} ms)`);
        started = Date.now();
      },
    ).catch((error) => explainTargetFailure(error, target));
    print(
      `Stored in ${target.description}; read them at GET /v1/workflows/<id>/kpis?week=${weeks.at(-1)} or with agent-ledger query.`,
    );
    return;
  }

  if (job === 'drift') {
    const target = await resolveTarget(values.stage);
    const { registry } = await deployedRegistry(target);
    const { writer } = await target.killSwitch().catch((error) => explainTargetFailure(error, target));
    const notifier: Notifier = target.isLocal
      ? {
          publish: async (subject, message) =>
            print(`NOTIFY ${subject}\n  ${message.replace(/\n/g, '\n  ')}`),
        }
      : new SnsNotifier(new SNSClient({}), await target.driftTopic());
    const outcomes = await runDriftJob(values.week, {
      kpis: priceStore(target),
      flags: writer,
      notifier,
      registry,
      clock: () => new Date(),
    }).catch((error) => explainTargetFailure(error, target));
    for (const outcome of outcomes)
      print(`${outcome.workflowId} ${outcome.week}: ${outcome.action} — ${outcome.reason}`);
    return;
  }
  throw new UsageError(job ? `unknown job '${job}'\n\n${JOBS_HELP}` : JOBS_HELP);
}

/**
 * The target's archive read as events, with the hot window the stage runs with (its `hotIndexDays`, here
 * LEDGER_HOT_INDEX_DAYS): a window set shorter only reads more from the archive.
 */
async function archiveTier(target: Target): Promise<ArchiveTier> {
  return {
    events: await target.archivedEvents(),
    hotIndexDays: hotIndexDaysFrom(process.env[FUNCTION_ENV.hotIndexDays]),
  };
}

/** What `jobs kpi` prints of a computed week, with the figures written as the dashboard and reports write them. */
export function kpiSummaryLine(record: KpiRecord): string {
  const unpriced = [...record.unpriced.models, ...record.unpriced.tools];
  return [
    `${record.workflowId} ${record.week}:`,
    `throughput ${record.throughput},`,
    `cost/unit ${formatUsd(record.costPerUnitUsd)} (total ${formatUsd(record.cost.totalUsd)}),`,
    `defect rate ${formatRate(record.defectRate)} of ${record.reviewedUnits} reviewed,`,
    `audit coverage ${formatRate(record.auditCoverage)}`,
    unpriced.length > 0 ? `— UNPRICED: ${unpriced.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** The weekly Agent Ops Review, the month's Autonomy + Risk Review, the quarter's Vendor/Model review, runbooks. */
async function reportsJob(
  values: { week?: string; stage?: string },
  print: (line: string) => void,
): Promise<void> {
  const target = await resolveTarget(values.stage);
  const { registry } = await deployedRegistry(target);
  const documents = makeDocumentClient(target.dynamodb);
  const store = priceStore(target);
  const { s3, bucket } = await target.reports();
  const { reader } = await target.killSwitch().catch((error) => explainTargetFailure(error, target));
  let result: Awaited<ReturnType<typeof runReportsJob>>;
  try {
    result = await runReportsJob(values.week ? { week: values.week } : {}, {
      index: new DynamoDbEventIndex(documents, target.tableName),
      archive: await archiveTier(target),
      kpis: store,
      prices: store,
      drills: drillStore(target),
      evals: new DynamoDbEvalStore(documents, target.tableName),
      postmortems: new DynamoDbPostmortemStore(documents, target.tableName),
      registry,
      flags: reader,
      reports: new S3ReportStore(s3, bucket),
      clock: () => new Date(),
      ...(values.stage
        ? { stage: values.stage, killSwitchEnvironment: values.stage }
        : { killSwitchEnvironment: LOCAL_ENVIRONMENT }),
    });
  } catch (error) {
    if (error instanceof InvalidWeekError) throw new UsageError(error.message);
    explainTargetFailure(error, target);
  }
  print(
    `Wrote ${result.keys.length} report files for ${result.week} to the reports bucket of ${target.description}:`,
  );
  for (const key of result.keys.filter((key) => key.endsWith('.html'))) print(`  ${key}`);
  if (!result.indexUpdated)
    print(`(${result.week} is not the latest complete week, so the reports index still links the latest.)`);
}
