import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';
import { defineLedgerApp, type LedgerApp } from '../../infra/ledger-app.ts';

/** The context `cdk synth` uses (feature flags, stage, throttling), so tests see what the CLI deploys. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
  return cdkJson.context;
}

/** What `LedgerFunction.useRegistry` sets: where the deployed workflow registry is, and how often to poll it. */
export const REGISTRY_VARIABLES = [
  'KILL_SWITCH_APPLICATION_ID',
  'KILL_SWITCH_ENVIRONMENT_ID',
  'REGISTRY_POLL_SECONDS',
  'REGISTRY_PROFILE_ID',
] as const;

/** Skips esbuild: template assertions do not need the bundles, and bundling is the slow part of a synth. */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

export interface SynthesizedLedger extends LedgerApp {
  readonly app: App;
  readonly statefulTemplate: Template;
  readonly statelessTemplate: Template;
}

/** The real app, as `infra/app.ts` builds it, with cdk.json's context plus `context`. */
export function synthesizeLedger(
  options: { context?: Record<string, unknown>; nag?: boolean } = {},
): SynthesizedLedger {
  const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING, ...options.context } });
  const ledger = defineLedgerApp(app, { nag: options.nag ?? false });
  return {
    app,
    ...ledger,
    statefulTemplate: Template.fromStack(ledger.stateful),
    statelessTemplate: Template.fromStack(ledger.stateless),
  };
}

export type CfnProperties = Record<string, any>;

/** The one resource of `type` (with these properties, if given) in `template`: its logical ID and body. */
export function onlyResource(
  template: Template,
  type: string,
  properties?: CfnProperties,
): [string, CfnProperties] {
  const found = Object.entries(
    template.findResources(type, properties ? { Properties: properties } : undefined),
  );
  expect(found, type).toHaveLength(1);
  return found[0] as [string, CfnProperties];
}

/**
 * API Gateway methods by route (`POST /v1/events`), rebuilt from the Resource tree of the template:
 * a method's ResourceId points at its path's last segment, each segment at its parent.
 */
export function apiMethods(template: Template): Map<string, CfnProperties> {
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const pathOf = (reference: CfnProperties): string => {
    const logicalId = reference.Ref as string | undefined;
    const resource = logicalId === undefined ? undefined : resources[logicalId];
    if (!resource) return ''; // Fn::GetAtt RestApi.RootResourceId
    return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
  };
  const methods = new Map<string, CfnProperties>();
  for (const method of Object.values(template.findResources('AWS::ApiGateway::Method'))) {
    const properties = method.Properties as CfnProperties;
    methods.set(`${properties.HttpMethod} ${pathOf(properties.ResourceId) || '/'}`, properties);
  }
  return methods;
}

/** Every statement of every IAM policy in the template. */
export function policyStatements(template: Template): CfnProperties[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as CfnProperties[],
  );
}

export function asArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}
