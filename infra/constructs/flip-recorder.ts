import { Duration } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { functionEntry } from '../paths.ts';
import { deadLetterQueue } from './dead-letter-queue.ts';
import { type KillSwitchIds, killSwitchArns } from './kill-switch.ts';
import { LedgerFunction } from './ledger-function.ts';

export interface FlipRecorderProps {
  /** Names the AppConfig extension (extension names are per account and region). */
  readonly stageName: string;
  readonly table: dynamodb.ITable;
  readonly archiveBucket: s3.IBucket;
  readonly actorHashKey: secretsmanager.ISecret;
  /** This stage's kill switch, from the stateful stack. */
  readonly killSwitch: KillSwitchIds;
}

/**
 * Records every flip, from any source (the CLI, the API, the AppConfig console or CLI), as `rollback` events:
 * a custom AppConfig extension, associated with the kill-switch profile, calls the flip-recorder function
 * at ON_DEPLOYMENT_COMPLETE. AppConfig invokes it asynchronously (`lambda:InvokeAsync`, through a role the
 * extension names), so Lambda retries a failed recording twice and then keeps the event in a dead-letter
 * queue: an audit record is never silently dropped.
 */
export class FlipRecorder extends Construct {
  public readonly function: LedgerFunction;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly extension: appconfig.Extension;
  public readonly association: appconfig.CfnExtensionAssociation;

  constructor(scope: Construct, id: string, props: FlipRecorderProps) {
    super(scope, id);

    this.deadLetterQueue = deadLetterQueue(
      this,
      'DeadLetters',
      'AppConfig events whose recording by the flip-recorder function failed every retry, for an operator to inspect and replay',
    );

    this.function = new LedgerFunction(this, 'Function', {
      entry: functionEntry('flip-recorder'),
      description:
        'Agent Ledger: records each kill-switch flip as a rollback event (AppConfig extension, ON_DEPLOYMENT_COMPLETE)',
      memorySize: 512,
      timeout: Duration.seconds(60),
      deadLetterQueue: this.deadLetterQueue,
    })
      .useLedgerTable(props.table, 'readWrite')
      .useArchiveBucket(props.archiveBucket, 'put')
      .useActorHashKey(props.actorHashKey)
      .useKillSwitch(props.killSwitch, 'history');

    // The L2 creates the role AppConfig assumes to invoke the function (lambda:InvokeFunction and
    // lambda:InvokeAsync on this function only, assumable by appconfig.amazonaws.com only).
    this.extension = new appconfig.Extension(this, 'Extension', {
      extensionName: `agent-ledger-${props.stageName}-flip-recorder`,
      description: 'Agent Ledger: records every kill-switch flip as a rollback event in the ledger',
      actions: [
        new appconfig.Action({
          name: 'record-flips',
          description: 'Writes a rollback event per flag the completed deployment changed',
          actionPoints: [appconfig.ActionPoint.ON_DEPLOYMENT_COMPLETE],
          eventDestination: new appconfig.LambdaDestination(this.function.function),
        }),
      ],
    });
    // LambdaDestination also adds a resource policy letting appconfig.amazonaws.com invoke the function
    // with no source account or ARN, i.e. from any account's extension. AppConfig invokes through the role
    // above (either suffices, AppConfig user guide "Configuring permissions for a custom extension"), so
    // the resource policy only widens who can call: remove it.
    this.function.function.permissionsNode.tryRemoveChild('AppConfigPermission');

    // Associated with the kill-switch profile, not the whole environment: only its deployments are flips.
    this.association = new appconfig.CfnExtensionAssociation(this, 'Association', {
      extensionIdentifier: this.extension.extensionId,
      extensionVersionNumber: this.extension.extensionVersionNumber,
      resourceIdentifier: killSwitchArns(this, props.killSwitch).profile,
    });
  }
}
