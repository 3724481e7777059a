import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { makeDocumentClient, sdkObjects } from '#lib/adapters/aws-clients.ts';
import { DynamoDbEvalStore } from '#lib/adapters/dynamodb-eval-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { S3EventArchive } from '#lib/adapters/s3-event-archive.ts';
import { S3ReportStore } from '#lib/adapters/s3-report-store.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { ingestEvents } from '#lib/ingest/ingest-events.ts';
import { readRolloutFacts } from '#lib/registry/rollout-facts.ts';
import {
  checkRolloutGates,
  DRILL_EFFECT_BOUND_MS,
  overrideEventsFor,
  type PhaseMove,
  phaseMoves,
} from '#lib/registry/rollout-gates.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { actorHashKeyFile, LOCAL_ARCHIVE_BUCKET, localSettings } from '#local-stack/settings.ts';
import { CliError } from './errors.ts';
import { drillStore, type Target } from './target.ts';

/** The gates of every later-phase move of `proposed`, judged on the target's stores. */
export async function rolloutGatesOn(
  target: Target,
  current: WorkflowRegistry | undefined,
  proposed: WorkflowRegistry,
  stage: string | undefined,
): Promise<PhaseMove[]> {
  const moved = phaseMoves(current, proposed).map((move) => move.workflowId);
  if (moved.length === 0) return [];
  const documents = makeDocumentClient(target.dynamodb);
  const { s3, bucket } = await target.reports();
  const facts = await readRolloutFacts(moved, {
    kpis: new DynamoDbKpiStore(documents, target.tableName),
    evals: new DynamoDbEvalStore(documents, target.tableName),
    drills: drillStore(target),
    index: new DynamoDbEventIndex(documents, target.tableName),
    reports: new S3ReportStore(s3, bucket),
    now: new Date(),
    drillBoundMs: target.isLocal ? DRILL_EFFECT_BOUND_MS.local : DRILL_EFFECT_BOUND_MS.cloud,
    ...(stage ? { stageOption: `--stage ${stage}` } : {}),
  });
  return checkRolloutGates(current, proposed, facts);
}

/** One line per move: what it lacks, or that its gates pass. */
export function describeGates(moves: readonly PhaseMove[]): string[] {
  if (moves.length === 0) return ['Rollout gates: no workflow moves to a later phase; nothing is gated.'];
  return moves.flatMap((move) => {
    const heading = `  ${move.workflowId}: ${move.from ?? '(new)'} → ${move.to}`;
    return move.unmet.length === 0
      ? [`${heading}: every gate passes`]
      : [`${heading}: ${move.unmet.length} unmet`, ...move.unmet.map((condition) => `    - ${condition}`)];
  });
}

/**
 * Records an override in the local stack's ledger through the ingest use case, before the registry is
 * deployed (so a failed record deploys nothing). The proposed registry validates the events: a workflow
 * new to the registry gets its override recorded too.
 */
export async function recordOverride(
  target: Target,
  moves: readonly PhaseMove[],
  proposed: WorkflowRegistry,
  override: { reason: string; who: string; source: string },
): Promise<number> {
  const at = new Date();
  const events = overrideEventsFor(moves, {
    reason: override.reason,
    initiatedBy: override.who,
    at: at.toISOString(),
    deployId: `${at.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`,
    source: override.source,
  });
  if (events.length === 0) return 0;
  if (!target.isLocal) throw new CliError('rollout-gate overrides are recorded on the local stack only');
  const documents = makeDocumentClient(target.dynamodb);
  const { s3 } = await target.reports();
  const key = Buffer.from((await readFile(actorHashKeyFile(localSettings()), 'utf8')).trim(), 'hex');
  const result = await ingestEvents(
    { events },
    { principal: 'rollout-gates', workflows: '*' },
    {
      index: new DynamoDbEventIndex(documents, target.tableName),
      archive: new S3EventArchive(sdkObjects(s3), LOCAL_ARCHIVE_BUCKET),
      registry: proposed,
      hasher: new ActorHasher(key),
      clock: () => at,
    },
  );
  return result.accepted;
}
