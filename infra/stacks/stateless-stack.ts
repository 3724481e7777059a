import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { LedgerConfig } from '../config.ts';
import type { EventStore } from '../constructs/event-store.ts';
import { IngestApi } from '../constructs/ingest-api.ts';

export interface StatelessStackProps extends StackProps {
  readonly config: LedgerConfig;
  /** From the stateful stack: referenced, never owned, by this one. */
  readonly eventStore: EventStore;
}

/** Code and APIs: safe to redeploy, replace or destroy at any time. */
export class StatelessStack extends Stack {
  public readonly ingestApi: IngestApi;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config, eventStore } = props;

    this.ingestApi = new IngestApi(this, 'IngestApi', {
      stageName: config.stage,
      table: eventStore.table,
      archiveBucket: eventStore.archiveBucket,
      actorHashKey: eventStore.actorHashKey,
      throttle: config.throttle,
      manageAccountCloudWatchRole: config.manageApiGatewayAccountRole,
    });

    new CfnOutput(this, 'ApiUrl', {
      value: this.ingestApi.apiUrl,
      description: 'Base URL of the ledger API (ends in /): append v1/events, healthz, …',
    });
  }
}
