import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** How long a failed event waits in a dead-letter queue for an operator. */
export const DEAD_LETTER_RETENTION = Duration.days(14);

/**
 * An encrypted, TLS-only dead-letter queue for `holds` (what lands there and what an operator does with
 * it). Nothing consumes it automatically, so cdk-nag's redrive rule is acknowledged with that reason.
 */
export function deadLetterQueue(scope: Construct, id: string, holds: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: DEAD_LETTER_RETENTION,
  });
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason: `This queue is itself a dead-letter queue: it holds ${holds}; nothing consumes it automatically, so there is nothing to redrive to.`,
  });
  return queue;
}
