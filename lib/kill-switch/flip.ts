import * as z from 'zod';
import { InvalidRequestError, UnknownWorkflowError } from '#lib/errors.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import type { FlagWriter, FlipResult } from '#lib/kill-switch/ports.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { parseWithIssues } from '#lib/validation/zod-issues.ts';

/** The longest `reason` a flip may carry (the API's body model holds flips to the same bound). */
export const MAX_FLIP_REASON_LENGTH = 500;

export const flipRequestSchema = z.strictObject({
  enabled: z.boolean(),
  reason: z
    .string()
    .trim()
    .min(1, 'must say why')
    .max(MAX_FLIP_REASON_LENGTH, `must be at most ${MAX_FLIP_REASON_LENGTH} characters`),
});

/** The flag a flip targets: a registered workflow's, or `MASTER_FLAG` for every autonomous lane. */
export function flagFor(target: string, registry: WorkflowRegistry): string {
  if (target === MASTER_FLAG || registry.get(target)) return target;
  throw new UnknownWorkflowError(target);
}

/** One flip, with who and why: the only way this project changes a kill-switch flag. */
export async function flipKillSwitch(
  target: string,
  body: unknown,
  changedBy: string,
  deps: { writer: FlagWriter; registry: WorkflowRegistry },
): Promise<FlipResult & { flag: string; enabled: boolean }> {
  const flag = flagFor(target, deps.registry);
  const parsed = parseWithIssues(flipRequestSchema, body);
  if (!parsed.success) {
    throw new InvalidRequestError(
      'the flip request is invalid',
      parsed.issues.map((issue) => ({ index: null, ...issue })),
    );
  }
  const result = await deps.writer.setFlag(flag, { ...parsed.data, changedBy });
  return { ...result, flag, enabled: parsed.data.enabled };
}
