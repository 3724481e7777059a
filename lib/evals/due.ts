import type { LedgerEvent } from '#lib/events/schema.ts';
import type { EvalRun } from './schema.ts';
import type { EvalStore } from './store.ts';

/**
 * Evals due (issue 10 §2; seed §5: "monthly, or after major prompt/tool changes"). One rule, two callers:
 * the KPI job judges from a week's actions, the console shows the judgement its latest record holds.
 */

export const EVAL_MAX_AGE_DAYS = 30;
const DAY_MS = 86_400_000;

/** What the actions ran on: the current prompt and model (those of the latest action), and every tool. */
export interface SeenVersions {
  readonly prompt: {
    readonly templateId: string | null;
    readonly version: string;
    readonly sinceMs: number;
  } | null;
  readonly model: { readonly version: string; readonly sinceMs: number } | null;
  /** Each tool called, with when it was first called in what was seen. */
  readonly tools: readonly { readonly name: string; readonly sinceMs: number }[];
}

export interface EvalDue {
  readonly due: boolean;
  /** Why, one sentence each; empty when not due. */
  readonly reasons: string[];
  /** When the latest eval run (of any of the workflow's sets) ran; null when none has. */
  readonly lastRunAt: string | null;
}

/** The model as eval runs name it: `<provider>/<name>/<version>` (lib/evals/schema.ts `modelVersion`). */
export function modelVersionOf(model: { provider?: string; name?: string; version?: string }): string {
  return [model.provider, model.name, model.version].filter((part) => part !== undefined).join('/');
}

/**
 * Collects `SeenVersions` from actions fed in any order: the current prompt and model are the latest
 * action's (ties broken by eventId), "since" is when that version was first seen among the actions fed.
 */
export class VersionsSeen {
  #latest: { atMs: number; eventId: string; prompt?: [string | null, string]; model?: string } | undefined;
  readonly #promptFirstMs = new Map<string, number>();
  readonly #modelFirstMs = new Map<string, number>();
  readonly #toolFirstMs = new Map<string, number>();

  add(event: Extract<LedgerEvent, { type: 'action' }>, occurredAtMs: number): void {
    const version = event.prompt?.templateVersion;
    const prompt: [string | null, string] | undefined =
      version === undefined ? undefined : [event.prompt?.templateId ?? null, String(version)];
    const model = event.model ? modelVersionOf(event.model) : undefined;
    if (prompt) earliest(this.#promptFirstMs, JSON.stringify(prompt), occurredAtMs);
    if (model) earliest(this.#modelFirstMs, model, occurredAtMs);
    for (const call of event.toolCalls ?? []) earliest(this.#toolFirstMs, call.name, occurredAtMs);
    const latest = this.#latest;
    if (
      (prompt || model) &&
      (!latest ||
        occurredAtMs > latest.atMs ||
        (occurredAtMs === latest.atMs && event.eventId > latest.eventId))
    ) {
      this.#latest = {
        atMs: occurredAtMs,
        eventId: event.eventId,
        ...(prompt ? { prompt } : {}),
        ...(model ? { model } : {}),
      };
    }
  }

  seen(): SeenVersions {
    const prompt = this.#latest?.prompt;
    const model = this.#latest?.model;
    return {
      prompt: prompt
        ? {
            templateId: prompt[0],
            version: prompt[1],
            sinceMs: this.#promptFirstMs.get(JSON.stringify(prompt)) as number,
          }
        : null,
      model: model ? { version: model, sinceMs: this.#modelFirstMs.get(model) as number } : null,
      tools: [...this.#toolFirstMs]
        .map(([name, sinceMs]) => ({ name, sinceMs }))
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
    };
  }
}

function earliest(map: Map<string, number>, key: string, atMs: number): void {
  const known = map.get(key);
  if (known === undefined || atMs < known) map.set(key, atMs);
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Whether an eval is due: the actions ran on a prompt or model version the latest eval run was not run
 * on, called a tool outside the run's tool set (when the run records one), or the run is over 30 days
 * old at `nowMs`. A workflow with no eval set registered is not due: there is nothing to run yet (the
 * rollout gate to `evals` asks for a set first). A set with no run is due.
 */
export function evalDue(
  seen: SeenVersions,
  latestRun: EvalRun | undefined,
  hasEvalSet: boolean,
  nowMs: number,
): EvalDue {
  if (!latestRun) {
    return hasEvalSet
      ? { due: true, reasons: ['no eval run is recorded for its eval set'], lastRunAt: null }
      : { due: false, reasons: [], lastRunAt: null };
  }
  const reasons: string[] = [];
  const { prompt, model } = seen;
  if (prompt && prompt.version !== latestRun.promptVersion) {
    const name = prompt.templateId === null ? 'prompt' : `prompt ${prompt.templateId}`;
    reasons.push(
      `${name} ${prompt.version} seen since ${day(prompt.sinceMs)}, last eval run on ${latestRun.promptVersion}`,
    );
  }
  if (model && model.version !== latestRun.modelVersion) {
    reasons.push(
      `model ${model.version} seen since ${day(model.sinceMs)}, last eval run on ${latestRun.modelVersion}`,
    );
  }
  // A run that does not say which tools it had (older runs) cannot be judged on tools.
  if (latestRun.tools) {
    const evaluated = new Set(latestRun.tools);
    const added = seen.tools.filter((tool) => !evaluated.has(tool.name));
    if (added.length > 0) {
      const since = Math.min(...added.map((tool) => tool.sinceMs));
      reasons.push(
        `tool${added.length > 1 ? 's' : ''} ${added.map((tool) => tool.name).join(', ')} called since ${day(since)}, not in the last eval run's tools`,
      );
    }
  }
  const ranAtMs = Date.parse(latestRun.ranAt);
  const ageDays = Math.floor((nowMs - ranAtMs) / DAY_MS);
  if (nowMs - ranAtMs > EVAL_MAX_AGE_DAYS * DAY_MS) {
    reasons.push(
      `last eval run ${latestRun.runId} ran on ${day(ranAtMs)}, ${ageDays} days ago (more than ${EVAL_MAX_AGE_DAYS})`,
    );
  }
  return { due: reasons.length > 0, reasons, lastRunAt: latestRun.ranAt };
}

/** The workflow's latest eval run (by `ranAt`) across its sets, and whether it has any set. */
export async function latestEvalRun(
  store: EvalStore,
  workflowId: string,
): Promise<{ run: EvalRun | undefined; hasEvalSet: boolean }> {
  const sets = await store.listSets(workflowId);
  const runs = await Promise.all(sets.map((set) => store.listRuns(workflowId, set.name, 1)));
  const latest = runs
    .flat()
    .sort((a, b) => Date.parse(b.ranAt) - Date.parse(a.ranAt) || (a.runId < b.runId ? 1 : -1))[0];
  return { run: latest, hasEvalSet: sets.length > 0 };
}
