import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notifier } from '#lib/drift/job.ts';

/** Operators' notifications in the cloud: one SNS topic they subscribe to (email, chat, pager). */
export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(subject: string, message: string): Promise<void> {
    // SNS subjects are at most 100 characters.
    await this.sns.send(
      new PublishCommand({ TopicArn: this.topicArn, Subject: subject.slice(0, 100), Message: message }),
    );
  }
}
