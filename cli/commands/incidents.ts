import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeDocumentClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbPostmortemStore } from '#lib/adapters/dynamodb-postmortem-store.ts';
import { messageOf, UnknownIncidentError } from '#lib/errors.ts';
import { impactSummary, incidentImpact } from '#lib/incidents/incidents.ts';
import {
  InvalidPostmortemError,
  POSTMORTEM_MARKDOWN_HELP,
  parsePostmortemMarkdown,
} from '#lib/incidents/postmortem.ts';
import {
  findIncident,
  type IncidentDependencies,
  type IncidentWithPostmortem,
  incidentsWithPostmortems,
  writePostmortem,
} from '#lib/incidents/service.ts';
import { CliError, UsageError } from '../errors.ts';
import { deployedRegistry, explainTargetFailure, resolveTarget, type Target } from '../target.ts';

export const INCIDENTS_HELP = `agent-ledger incidents — lanes switched off other than by a drill, and their no-blame postmortems

  agent-ledger incidents list [--json] [--workflow <id>] [--stage <name>]
  agent-ledger incidents show <incidentId> [--json] [--stage <name>]
  agent-ledger incidents postmortem <incidentId> --file <postmortem.md> [--as <who>] [--stage <name>]

Every kill-switch flip turning a lane (or the master flag) off, except a drill's, opens an incident; the
next flip back on closes it. Incidents come from the ledger's rollback events; postmortems are stored.
Writing a postmortem again replaces it (its version counts up).
${POSTMORTEM_MARKDOWN_HELP}`;

const options = {
  json: { type: 'boolean' },
  workflow: { type: 'string' },
  stage: { type: 'string' },
  file: { type: 'string' },
  as: { type: 'string' },
} as const;

function incidentDeps(target: Target): IncidentDependencies {
  const documents = makeDocumentClient(target.dynamodb);
  return {
    index: new DynamoDbEventIndex(documents, target.tableName),
    postmortems: new DynamoDbPostmortemStore(documents, target.tableName),
    clock: () => new Date(),
  };
}

/** The row `list --json` prints per incident. */
function listRow(incident: IncidentWithPostmortem) {
  return {
    incidentId: incident.incidentId,
    workflowIds: incident.workflowIds,
    scope: incident.scope,
    openedAt: incident.openedAt,
    openedBy: incident.openedBy,
    cause: incident.cause,
    reason: incident.reason,
    closedAt: incident.closedAt,
    postmortem: incident.postmortem !== null,
  };
}

export async function incidentsCommand(args: string[], print: (line: string) => void): Promise<void> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options });
  if (action === 'list') {
    if (positionals.length > 0)
      throw new UsageError(`incidents list takes no arguments, got '${positionals[0]}'`);
    const target = await resolveTarget(values.stage);
    const { registry } = await deployedRegistry(target);
    if (values.workflow !== undefined && !registry.get(values.workflow))
      throw new UsageError(`unknown workflow ${values.workflow}; registered: ${registry.ids().join(', ')}`);
    const only = values.workflow;
    const shows = only === undefined ? undefined : (workflowId: string) => workflowId === only;
    const incidents = await incidentsWithPostmortems(registry.ids(), incidentDeps(target), shows).catch(
      (error) => explainTargetFailure(error, target),
    );
    if (values.json) {
      for (const incident of incidents) print(JSON.stringify(listRow(incident)));
      return;
    }
    if (incidents.length === 0) {
      print(`No incidents on ${target.description}: no lane was switched off other than by a drill.`);
      return;
    }
    print(`Incidents on ${target.description}, newest first:`);
    for (const incident of incidents) {
      print(
        `  ${incident.incidentId}  ${incident.workflowIds.join(',')}  opened ${incident.openedAt} by ${incident.openedBy}  ${incident.closedAt ? `closed ${incident.closedAt}` : 'STILL OFF'}  ${incident.postmortem ? `postmortem v${incident.postmortem.version}` : 'NO POSTMORTEM'}`,
      );
      print(`      ${incident.cause}: ${incident.reason}`);
    }
    return;
  }
  if (action === 'show' || action === 'postmortem') {
    const [incidentId, extra] = positionals;
    if (!incidentId)
      throw new UsageError(`usage: agent-ledger incidents ${action} <incidentId>\n\n${INCIDENTS_HELP}`);
    if (extra) throw new UsageError(`incidents ${action} takes one incident, got '${extra}' too`);
    if (action === 'postmortem' && !values.file)
      throw new UsageError(`--file <postmortem.md> is required\n\n${POSTMORTEM_MARKDOWN_HELP}`);
    // Read and check the file before touching the stack: a bad file is named without a stack running.
    const content = action === 'postmortem' ? readPostmortemFile(values.file as string) : undefined;
    const target = await resolveTarget(values.stage);
    const { registry } = await deployedRegistry(target);
    const deps = incidentDeps(target);
    const incident = await findIncident(incidentId, registry.ids(), deps).catch((error) => {
      if (error instanceof UnknownIncidentError) throw new CliError(error.message);
      return explainTargetFailure(error, target);
    });
    if (content) {
      const who = values.as ?? (await target.whoAmI());
      const stored = await writePostmortem(incident, content, who, deps).catch((error) =>
        explainTargetFailure(error, target),
      );
      print(
        `Postmortem v${stored.version} of ${incidentId} stored on ${target.description} (by ${stored.writtenBy}, ${stored.followUps.length} follow-up action(s)).`,
      );
      return;
    }
    const impacts = await incidentImpact(incident, deps.index, deps.clock().getTime()).catch((error) =>
      explainTargetFailure(error, target),
    );
    if (values.json) {
      print(JSON.stringify({ ...listRow(incident), impact: impacts, postmortem: incident.postmortem }));
      return;
    }
    print(
      `Incident ${incident.incidentId} (${incident.scope === 'all-workflows' ? 'master flag: ' : ''}${incident.workflowIds.join(', ')})`,
    );
    print(`  opened ${incident.openedAt} by ${incident.openedBy} (${incident.cause})`);
    print(`  cause  ${incident.reason}`);
    print(`  closed ${incident.closedAt ?? 'not yet: the lane is still off'}`);
    for (const impact of impacts)
      print(
        `  ${impact.workflowId}: ${impact.eventsAround} event(s) in the hour before to 15 min after; ${impact.units} unit(s) while off, ${impact.escapedDefects} escaped defect(s)`,
      );
    const postmortem = incident.postmortem;
    if (!postmortem) {
      print(`No postmortem yet. Impact from the ledger:\n${impactSummary(impacts)}`);
      print(`Write one: agent-ledger incidents postmortem ${incident.incidentId} --file postmortem.md`);
      return;
    }
    print(`Postmortem v${postmortem.version}, by ${postmortem.writtenBy} at ${postmortem.writtenAt}`);
    print(
      `## What happened\n${postmortem.whatHappened}\n## Impact\n${postmortem.impact}\n## The fix\n${postmortem.fix}\n## Follow-up actions`,
    );
    for (const followUp of postmortem.followUps) print(`- ${followUp.action} — ${followUp.owner}`);
    return;
  }
  throw new UsageError(action ? `unknown incidents action '${action}'\n\n${INCIDENTS_HELP}` : INCIDENTS_HELP);
}

function readPostmortemFile(file: string) {
  let markdown: string;
  try {
    markdown = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${messageOf(error)}`, 2);
  }
  try {
    return parsePostmortemMarkdown(markdown);
  } catch (error) {
    if (error instanceof InvalidPostmortemError)
      throw new CliError(
        `${file} is not a valid postmortem: ${error.message}\n\n${POSTMORTEM_MARKDOWN_HELP}`,
        2,
      );
    throw error;
  }
}
