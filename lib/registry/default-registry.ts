import { fileURLToPath } from 'node:url';
// Imported as a module (not read from disk) so it travels with any bundle; handlers do not use it: they
// read the deployed registry from AppConfig.
import shipped from '../../config/workflow-registry.json' with { type: 'json' };
import { type WorkflowInput, WorkflowRegistry } from './workflows.ts';

/** The registry the repository ships: the two demo workflows of SPEC "Two homes, one code path". */
export const DEFAULT_REGISTRY_FILE = fileURLToPath(
  new URL('../../config/workflow-registry.json', import.meta.url),
);

/** The shipped registry as written (fields with defaults may be left out). */
export const demoWorkflows = shipped as unknown as WorkflowInput[];

/** The shipped registry, validated: what the CDK deploys by default and the local stack provisions. */
export const defaultRegistry = WorkflowRegistry.parse(demoWorkflows);
