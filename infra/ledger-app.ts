import { type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { statefulStackName, statelessStackName } from '#lib/deployment/stacks.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { registryDocument, registryJsonSchema } from '#lib/registry/document.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { type LedgerConfig, readLedgerConfig } from './config.ts';
import { StatefulStack } from './stacks/stateful-stack.ts';
import { StatelessStack } from './stacks/stateless-stack.ts';

export interface LedgerAppOptions {
  /** Run the cdk-nag packs (AwsSolutions, Serverless) on synth. @default true */
  readonly nag?: boolean;
  /** The registered workflows: a kill-switch flag and a flip policy each. @default defaultRegistry */
  readonly registry?: WorkflowRegistry;
}

export interface LedgerApp {
  readonly config: LedgerConfig;
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

/** Adds one stage of the ledger (`-c stage=…`, default `dev`) to `app`: a stateful and a stateless stack. */
export function defineLedgerApp(app: App, options: LedgerAppOptions = {}): LedgerApp {
  const registry = options.registry ?? defaultRegistry;
  const config = readLedgerConfig(app, registry);
  const workflowIds = registry.ids();

  const stateful = new StatefulStack(app, statefulStackName(config.stage), {
    description: `Agent Ledger (${config.stage}): ledger table, event archive, actor-hash key, kill switch, finance reports, drift topic, console users`,
    terminationProtection: config.stage === 'prod',
    stage: config.stage,
    workflowIds,
    registry: { content: registryDocument(registry), jsonSchema: registryJsonSchema() },
  });
  const stateless = new StatelessStack(app, statelessStackName(config.stage), {
    description: `Agent Ledger (${config.stage}): ingest, read, KPI and kill-switch API, console, flip recorder, scheduled KPI and drift jobs, dashboard and alarms`,
    config,
    eventStore: stateful.eventStore,
    killSwitch: stateful.killSwitch,
    registry: stateful.registry,
    reportsBucket: stateful.finance.reportsBucket,
    archiveQueries: stateful.finance.archiveQueries,
    driftTopic: stateful.driftNotifications.topic,
    consoleUserPool: stateful.consoleUsers.userPool,
    workflowIds,
  });

  Tags.of(app).add('project', 'agent-ledger');
  Tags.of(app).add('stage', config.stage);

  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  }
  return { config, stateful, stateless };
}
