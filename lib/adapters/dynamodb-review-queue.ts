import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Lane } from '#lib/registry/workflows.ts';
import { isLane } from '#lib/reviews/lane.ts';
import type { ReviewItem, ReviewQueue } from '#lib/reviews/queue.ts';

/**
 * The review queue in the ledger table: pk `REVIEW#<workflowId>`, sk the unitId; `lane` is absent when the
 * unit's lane is unknown.
 */
export class DynamoDbReviewQueue implements ReviewQueue {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
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
      await this.documents.send(
        new PutCommand({
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
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
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
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    if (!Item) return; // not sampled: nothing to close
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...Item,
            status: 'reviewed',
            reviewedAt: review.reviewedAt,
            reviewerId: review.reviewerId,
            verdict: review.verdict,
          },
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async list(query: {
    workflowId: string;
    status: 'pending' | 'reviewed';
    lane?: Lane;
    limit: number;
    after?: string;
  }) {
    const items: ReviewItem[] = [];
    let startKey: Record<string, unknown> | undefined = query.after
      ? { pk: `REVIEW#${query.workflowId}`, sk: query.after }
      : undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: query.lane ? '#status = :status AND #lane = :lane' : '#status = :status',
          ExpressionAttributeNames: { '#status': 'status', ...(query.lane ? { '#lane': 'lane' } : {}) },
          ExpressionAttributeValues: {
            ':pk': `REVIEW#${query.workflowId}`,
            ':status': query.status,
            ...(query.lane ? { ':lane': query.lane } : {}),
          },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (items.length === query.limit) return { items, after: items.at(-1)?.unitId };
        const { pk: _pk, sk: _sk, kind: _kind, lane, ...review } = item;
        items.push({ ...(review as Omit<ReviewItem, 'lane'>), lane: isLane(lane) ? lane : null });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { items };
  }
}
