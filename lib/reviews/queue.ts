import type { Lane } from '#lib/registry/workflows.ts';

/** A sampled unit awaiting (or done with) human review. */
export interface ReviewItem {
  readonly workflowId: string;
  readonly unitId: string;
  readonly status: 'pending' | 'reviewed';
  /**
   * The unit's lane when it was sampled (lib/reviews/lane.ts): `shadow` for a unit whose actions all ran
   * in the shadow lane (onboarding reviews). null when its actions named no lane, or it was queued before
   * lanes were recorded.
   */
  readonly lane: Lane | null;
  readonly completedAt: string;
  readonly sampledAt: string;
  readonly reviewedAt?: string;
  readonly reviewerId?: string;
  readonly verdict?: 'pass' | 'defect';
}

export interface ReviewQueue {
  /** Adds a sampled unit as pending unless it is already queued (idempotent). */
  enqueue(item: {
    workflowId: string;
    unitId: string;
    completedAt: string;
    sampledAt: string;
    lane: Lane | null;
  }): Promise<void>;
  /** Closes a queued unit with its verdict; a unit that was not sampled is left alone (idempotent). */
  close(review: {
    workflowId: string;
    unitId: string;
    reviewedAt: string;
    reviewerId: string;
    verdict: 'pass' | 'defect';
  }): Promise<void>;
  list(query: {
    workflowId: string;
    status: 'pending' | 'reviewed';
    /** Only units of this lane. */
    lane?: Lane;
    limit: number;
    after?: string;
  }): Promise<{
    items: ReviewItem[];
    after?: string;
  }>;
}
