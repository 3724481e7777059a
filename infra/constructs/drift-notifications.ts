import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface DriftNotificationsProps {
  /** Names the topic's display name. */
  readonly stage: string;
}

/**
 * Where operators hear that drift paused an autonomous lane (SPEC "Drift"): an SNS topic they subscribe
 * to (email, chat, pager), encrypted with a key of its own and refusing publishes without TLS. Its own
 * key keeps the ledger's data key out of every notification path: a future publisher or subscriber
 * service (CloudWatch alarms, SQS) is granted on this key, never on the data key. Stateful: the topic
 * keeps its subscriptions across redeploys of the stateless stack.
 */
export class DriftNotifications extends Construct {
  public readonly key: kms.Key;
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: DriftNotificationsProps) {
    super(scope, id);

    this.key = new kms.Key(this, 'Key', {
      description: 'Agent Ledger: encrypts drift notifications (the drift SNS topic)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `Agent Ledger (${props.stage}): autonomous lane paused by drift`,
      masterKey: this.key,
      enforceSSL: true,
    });
    // Subscriptions are made by operators, outside CloudFormation: keep the topic that holds them.
    this.topic.applyRemovalPolicy(RemovalPolicy.RETAIN);
  }
}
