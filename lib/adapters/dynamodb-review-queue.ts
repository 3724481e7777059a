import { type Documents, isConditionalCheckFailed } from '#lib/adapters/documents.ts';
import { queryItems } from '#lib/adapters/dynamodb-pages.ts';
import type { Lane } from '#lib/registry/workflows.ts';
import { isLane } from '#lib/reviews/lane.ts';
import type { ReviewItem, ReviewQueue } from '#lib/reviews/queue.ts';
import { take } from '#lib/util/async-iterables.ts';

/**
 * The review queue in the ledger table: pk `REVIEW#<workflowId>`, sk the unitId; `lane` is absent when the
 * unit's lane is unknown.
 */
export class DynamoDbReviewQueue implements ReviewQueue {
  constructor(
    private readonly documents: Documents,
    private readonly tableName: string,
  ) {}

  async enqueue(item: {
    workflowId: string;
    unitId: string;
    completedAt: string;
    sampledAt: string;
    lane: Lane | null;
  }): Promise<void> {
    const { lane, ...rest } = item;
    try {
      await this.documents.put({
        TableName: this.tableName,
        Item: {
          pk: `REVIEW#${item.workflowId}`,
          sk: item.unitId,
          kind: 'review',
          status: 'pending',
          ...rest,
          ...(lane ? { lane } : {}),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      });
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /**
   * Get, then put the closed item: the functions' grants are put-only (no UpdateItem), and two verdicts
   * racing on one unit both close it anyway.
   */
  async close(review: {
    workflowId: string;
    unitId: string;
    reviewedAt: string;
    reviewerId: string;
    verdict: 'pass' | 'defect';
  }): Promise<void> {
    const key = { pk: `REVIEW#${review.workflowId}`, sk: review.unitId };
    const { Item } = await this.documents.get({ TableName: this.tableName, Key: key, ConsistentRead: true });
    if (!Item) return; // not sampled: nothing to close
    try {
      await this.documents.put({
        TableName: this.tableName,
        Item: {
          ...Item,
          status: 'reviewed',
          reviewedAt: review.reviewedAt,
          reviewerId: review.reviewerId,
          verdict: review.verdict,
        },
        ConditionExpression: 'attribute_exists(pk)',
      });
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async list(query: {
    workflowId: string;
    status: 'pending' | 'reviewed';
    lane?: Lane;
    limit: number;
    after?: string;
  }) {
    const pk = `REVIEW#${query.workflowId}`;
    const matching = queryItems(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: query.lane ? '#status = :status AND #lane = :lane' : '#status = :status',
      ExpressionAttributeNames: { '#status': 'status', ...(query.lane ? { '#lane': 'lane' } : {}) },
      ExpressionAttributeValues: {
        ':pk': pk,
        ':status': query.status,
        ...(query.lane ? { ':lane': query.lane } : {}),
      },
      ...(query.after ? { ExclusiveStartKey: { pk, sk: query.after } } : {}),
    });
    // One more than the page holds says whether more follow.
    const read = await take(matching, query.limit + 1);
    const items = read.slice(0, query.limit).map((item): ReviewItem => {
      const { pk: _pk, sk: _sk, kind: _kind, lane, ...review } = item;
      return { ...(review as Omit<ReviewItem, 'lane'>), lane: isLane(lane) ? lane : null };
    });
    return read.length > query.limit ? { items, after: items.at(-1)?.unitId } : { items };
  }
}
