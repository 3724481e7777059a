/** One kill-switch drill: flip off, wait until agents see it, flip back, wait again (SPEC "Kill switch"). */
export interface DrillRecord {
  readonly drillId: string;
  readonly workflowId: string;
  readonly startedAt: string;
  readonly by: string;
  readonly target: string;
  /** Milliseconds from issuing the flip until `/autonomy` showed the lane off. */
  readonly offEffectMs: number;
  /** Milliseconds from issuing the flip back until `/autonomy` showed the lane on again. */
  readonly onEffectMs: number;
  readonly outcome: 'passed' | 'failed';
  readonly detail?: string;
}

export interface DrillStore {
  putDrill(record: DrillRecord): Promise<void>;
  /** Newest first. */
  listDrills(workflowId: string, limit: number): Promise<DrillRecord[]>;
}
