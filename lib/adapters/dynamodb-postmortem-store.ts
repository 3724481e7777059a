import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Postmortem, PostmortemContent, PostmortemStore } from '#lib/incidents/postmortem.ts';

/**
 * Postmortems in the ledger table: pk `POSTMORTEM#<incidentId>`, sk `POSTMORTEM`, kind `postmortem`. One
 * item per incident, rewritten in place: each write replaces the content and adds 1 to `version` in one
 * atomic update, so two writes never lose a version number. No TTL: postmortems are kept.
 */
export class DynamoDbPostmortemStore implements PostmortemStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getPostmortem(incidentId: string): Promise<Postmortem | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: keyOf(incidentId), ConsistentRead: true }),
    );
    return Item ? postmortemOf(Item) : undefined;
  }

  async putPostmortem(
    incidentId: string,
    content: PostmortemContent,
    by: { writtenBy: string; writtenAt: string },
  ): Promise<Postmortem> {
    const { Attributes } = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keyOf(incidentId),
        UpdateExpression:
          'SET kind = :kind, incidentId = :id, whatHappened = :what, impact = :impact, fix = :fix, followUps = :followUps, writtenBy = :by, writtenAt = :at ADD version :one',
        ExpressionAttributeValues: {
          ':kind': 'postmortem',
          ':id': incidentId,
          ':what': content.whatHappened,
          ':impact': content.impact,
          ':fix': content.fix,
          ':followUps': content.followUps.map(({ action, owner }) => ({ action, owner })),
          ':by': by.writtenBy,
          ':at': by.writtenAt,
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return postmortemOf(Attributes ?? {});
  }
}

const keyOf = (incidentId: string) => ({ pk: `POSTMORTEM#${incidentId}`, sk: 'POSTMORTEM' });

function postmortemOf(item: Record<string, unknown>): Postmortem {
  return {
    incidentId: String(item.incidentId),
    whatHappened: String(item.whatHappened),
    impact: String(item.impact),
    fix: String(item.fix),
    followUps: ((item.followUps as { action: string; owner: string }[] | undefined) ?? []).map(
      ({ action, owner }) => ({ action, owner }),
    ),
    writtenBy: String(item.writtenBy),
    writtenAt: String(item.writtenAt),
    version: Number(item.version),
  };
}
