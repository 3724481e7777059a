// The namespace import lets the bundler leave out zod's locales (this module is for the CDK and the CLI).
import * as z from 'zod';
import { registrySchema, type WorkflowRegistry } from './workflows.ts';

/**
 * The registry as deployed to AppConfig: its validated form, every default filled in, so what handlers
 * read says exactly what governs each workflow.
 */
export function registryDocument(registry: WorkflowRegistry): string {
  return JSON.stringify(registry.all());
}

/**
 * The registry's JSON Schema for AppConfig's JSON_SCHEMA validator, which takes draft-04. It checks the
 * shape (types, ranges, enums, unknown keys); the checks across fields (unique IDs, operator and value
 * agreeing) run when the registry is loaded.
 */
export function registryJsonSchema(): string {
  return JSON.stringify(
    z.toJSONSchema(registrySchema, { io: 'input', target: 'draft-4', unrepresentable: 'any' }),
  );
}
