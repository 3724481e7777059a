// The namespace import lets the bundler leave out zod's locales and JSON Schema code (−350 KiB).
import * as z from 'zod';

/**
 * The workflow registry: which workflows the ledger accepts events for, and how long it keeps them.
 * The demo workflows ship here; a later change moves the registry to versioned AppConfig.
 */

export const RETENTION_MONTHS = [12, 18, 24] as const;
export type RetentionMonths = (typeof RETENTION_MONTHS)[number];
export const DEFAULT_RETENTION_MONTHS: RetentionMonths = 24;

export const WORKFLOW_ID_PATTERN = /^[a-z][a-z0-9-]{1,62}$/;

const workflowSchema = z.object({
  workflowId: z.string().regex(WORKFLOW_ID_PATTERN, 'workflowId must match ^[a-z][a-z0-9-]{1,62}$'),
  unitOfValue: z.string().min(1),
  retentionMonths: z.union([z.literal(12), z.literal(18), z.literal(24)]).default(DEFAULT_RETENTION_MONTHS),
  /** Drift pauses the lane only when both weeks have at least this many reviewed units (SPEC "Drift"). */
  minReviewed: z.number().int().min(1).default(20),
  /** The share of completed units sampled for human review (SPEC: 5–10%). */
  reviewSampleRate: z.number().min(0.05, 'must be at least 5%').max(0.1, 'must be at most 10%').default(0.05),
});
export type Workflow = z.infer<typeof workflowSchema>;

const registrySchema = z.array(workflowSchema).superRefine((workflows, ctx) => {
  const seen = new Set<string>();
  for (const [index, workflow] of workflows.entries()) {
    if (seen.has(workflow.workflowId)) {
      ctx.addIssue({ code: 'custom', path: [index, 'workflowId'], message: 'duplicate workflowId' });
    }
    seen.add(workflow.workflowId);
  }
});

export class InvalidRegistryError extends Error {
  override name = 'InvalidRegistryError';
}

export class WorkflowRegistry {
  readonly #byId: Map<string, Workflow>;

  constructor(workflows: readonly Workflow[]) {
    this.#byId = new Map(workflows.map((workflow) => [workflow.workflowId, workflow]));
  }

  /** Validates raw configuration; throws with every problem named by its path. */
  static parse(raw: unknown): WorkflowRegistry {
    const parsed = registrySchema.safeParse(raw);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `[${issue.path.join('.')}] ${issue.message}`);
      throw new InvalidRegistryError(`workflow registry is invalid: ${problems.join('; ')}`);
    }
    return new WorkflowRegistry(parsed.data);
  }

  get(workflowId: string): Workflow | undefined {
    return this.#byId.get(workflowId);
  }

  all(): Workflow[] {
    return [...this.#byId.values()];
  }

  ids(): string[] {
    return [...this.#byId.keys()];
  }
}

export const demoWorkflows = [
  { workflowId: 'support-triage', unitOfValue: 'ticket resolved', retentionMonths: 24, reviewSampleRate: 0.1 },
  { workflowId: 'code-review', unitOfValue: 'pull request merged', retentionMonths: 18, reviewSampleRate: 0.05 },
] satisfies z.input<typeof workflowSchema>[];

export const defaultRegistry = WorkflowRegistry.parse(demoWorkflows);
