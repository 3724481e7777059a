import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { FlagWriter } from '#lib/kill-switch/ports.ts';
import { logger } from '../commons/powertools.ts';

export const PHYSICAL_RESOURCE_ID = 'kill-switch-flags';

/**
 * A CloudFormation custom resource (behind the CDK Provider framework): on Create and Update it adds a
 * flag for each registered workflow the deployed document lacks, leaving every existing flag as it is.
 * A redeploy, even one that registers a new workflow, therefore never turns a paused lane back on.
 * Delete keeps the flags: they are the kill switch's state, retained like the table.
 */
export function makeKillSwitchSync(deps: { writer: FlagWriter }) {
  return async (event: CloudFormationCustomResourceEvent) => {
    if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
    const workflowIds = event.ResourceProperties.WorkflowIds;
    if (!Array.isArray(workflowIds) || !workflowIds.every((id) => typeof id === 'string')) {
      throw new Error('WorkflowIds must be a list of workflow IDs');
    }
    const added = await deps.writer.ensureFlags(workflowIds);
    logger.info('kill-switch flags synced', { added });
    return { PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { Added: added.join(',') } };
  };
}
