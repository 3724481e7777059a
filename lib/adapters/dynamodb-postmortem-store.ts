import { type Documents, isConditionalCheckFailed } from '#lib/adapters/documents.ts';
import type { Postmortem, PostmortemContent, PostmortemStore } from '#lib/incidents/postmortem.ts';

/**
 * Postmortems in the ledger table: pk `POSTMORTEM#<incidentId>`, sk `POSTMORTEM`, kind `postmortem`. One
 * item per incident, rewritten in place: each write replaces the content with the next `version`, put on
 * the condition that the version read is still the stored one, so two writes never share a version
 * number. No TTL: postmortems are kept.
 */
export class DynamoDbPostmortemStore implements PostmortemStore {
  constructor(
    private readonly documents: Documents,
    private readonly tableName: string,
  ) {}

  async getPostmortem(incidentId: string): Promise<Postmortem | undefined> {
    const { Item } = await this.documents.get({
      TableName: this.tableName,
      Key: keyOf(incidentId),
      ConsistentRead: true,
    });
    return Item ? postmortemOf(Item) : undefined;
  }

  async putPostmortem(
    incidentId: string,
    content: PostmortemContent,
    by: { writtenBy: string; writtenAt: string },
  ): Promise<Postmortem> {
    // The ledger's functions may put, never update (infra/constructs/ledger-function.ts): the next version
    // is a put conditional on the version read, retried when another write came between.
    for (let attempt = 1; ; attempt++) {
      const previous = await this.getPostmortem(incidentId);
      const postmortem: Postmortem = {
        incidentId,
        whatHappened: content.whatHappened,
        impact: content.impact,
        fix: content.fix,
        followUps: content.followUps.map(({ action, owner }) => ({ action, owner })),
        ...by,
        version: (previous?.version ?? 0) + 1,
      };
      try {
        await this.documents.put({
          TableName: this.tableName,
          Item: { ...keyOf(incidentId), kind: 'postmortem', ...postmortem },
          ...(previous
            ? {
                ConditionExpression: 'version = :previous',
                ExpressionAttributeValues: { ':previous': previous.version },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        });
        return postmortem;
      } catch (error) {
        if (!isConditionalCheckFailed(error) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }
}

/** Writes of one incident's postmortem racing each other: each is tried this often before failing. */
const MAX_ATTEMPTS = 3;

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
