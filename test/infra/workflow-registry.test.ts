import { createRequire } from 'node:module';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { KILL_SWITCH_PROFILE } from '#lib/kill-switch/names.ts';
import { defaultRegistry, demoWorkflows } from '#lib/registry/default-registry.ts';
import { registryDocument, registryJsonSchema } from '#lib/registry/document.ts';
import {
  REGISTRY_PROFILE,
  REGISTRY_STALE_LOG,
  REGISTRY_STALE_METRIC,
  REGISTRY_UNAVAILABLE_LOG,
} from '#lib/registry/names.ts';
import { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { FLAG_SYNC_RESOURCE_TYPE } from '../../infra/constructs/kill-switch.ts';
import { defineLedgerApp } from '../../infra/ledger-app.ts';
import {
  type CfnProperties,
  cdkJsonContext,
  onlyResource,
  SKIP_BUNDLING,
  synthesizeLedger,
} from './helpers.ts';

// ajv-draft-04 is CommonJS: its class is the module's `default`.
const { default: Ajv } = createRequire(import.meta.url)('ajv-draft-04') as typeof import('ajv-draft-04');

// Prepare (once: the tests read the same stateful stack)
const { statefulTemplate: stateful } = synthesizeLedger();

const only = (type: string, properties?: CfnProperties) => onlyResource(stateful, type, properties);

const [profileId, profile] = only('AWS::AppConfig::ConfigurationProfile', { Name: REGISTRY_PROFILE });
const [versionId, version] = only('AWS::AppConfig::HostedConfigurationVersion');
const [deploymentId, deployment] = only('AWS::AppConfig::Deployment');

describe('WorkflowRegistryConfig: the registry as a freeform AppConfig profile', () => {
  it('is a hosted freeform profile in the kill switch application, with a JSON Schema validator', () => {
    expect(profile.Properties).toMatchObject({
      ApplicationId: { Ref: only('AWS::AppConfig::Application')[0] },
      Type: 'AWS.Freeform',
      LocationUri: 'hosted',
      Validators: [{ Type: 'JSON_SCHEMA', Content: registryJsonSchema() }],
    });
    // AppConfig takes at most 32,768 characters of validator content.
    expect(registryJsonSchema().length).toBeLessThanOrEqual(32_768);
  });

  it('hosts the validated registry, every default filled in, as JSON', () => {
    expect(version.Properties).toMatchObject({
      ConfigurationProfileId: { Ref: profileId },
      ContentType: 'application/json',
    });
    expect(JSON.parse(version.Properties.Content)).toEqual(defaultRegistry.all());
    expect(WorkflowRegistry.parse(JSON.parse(version.Properties.Content)).all()).toEqual(
      defaultRegistry.all(),
    );
  });

  it('deploys that version to the stage environment with the immediate strategy', () => {
    expect(deployment.Properties).toMatchObject({
      ApplicationId: { Ref: only('AWS::AppConfig::Application')[0] },
      EnvironmentId: { Ref: only('AWS::AppConfig::Environment')[0] },
      ConfigurationProfileId: { Ref: profileId },
      ConfigurationVersion: { 'Fn::GetAtt': [versionId, 'VersionNumber'] },
      DeploymentStrategyId: { Ref: only('AWS::AppConfig::DeploymentStrategy')[0] },
    });
  });

  it('keeps the profile and every earlier version when the registry changes or the stack goes', () => {
    for (const [id, resource] of [
      [profileId, profile],
      [versionId, version],
    ] as const) {
      expect(resource, id).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  it('deploys before the kill-switch flag sync: AppConfig runs one deployment per environment at a time', () => {
    const [, sync] = only(FLAG_SYNC_RESOURCE_TYPE);
    expect(sync.DependsOn).toContain(deploymentId);
  });

  it('is kept apart from the kill-switch profile', () => {
    const [killSwitchProfileId] = only('AWS::AppConfig::ConfigurationProfile', { Name: KILL_SWITCH_PROFILE });
    expect(killSwitchProfileId).not.toBe(profileId);
  });

  it('publishes the profile ID for the CLI', () => {
    stateful.hasOutput('RegistryProfileId', { Value: { Ref: profileId } });
  });

  it('deploys the registry it is given, e.g. one read with -c registryFile', () => {
    // Prepare
    const extended = WorkflowRegistry.parse([
      ...demoWorkflows,
      { ...demoWorkflows[1], workflowId: 'invoice-matching', unitOfValue: 'invoice matched' },
    ]);
    const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });

    // Act
    const ledger = defineLedgerApp(app, { nag: false, registry: extended });

    // Assess
    const content = Object.values(
      Template.fromStack(ledger.stateful).findResources('AWS::AppConfig::HostedConfigurationVersion'),
    )[0]?.Properties.Content;
    expect(content).toBe(registryDocument(extended));
  });
});

describe("the registry's JSON Schema (what AppConfig checks before a version deploys)", () => {
  const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(registryJsonSchema()));

  it('accepts the shipped registry as written, and as deployed', () => {
    expect(validate(demoWorkflows), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(JSON.parse(registryDocument(defaultRegistry))), JSON.stringify(validate.errors)).toBe(
      true,
    );
  });

  it.each([
    ['a misspelt key', [{ ...demoWorkflows[0], onwer: 'x' }]],
    ['a missing owner', [{ ...demoWorkflows[0], owner: undefined }]],
    ['a retention the archive has no class for', [{ ...demoWorkflows[0], retentionMonths: 6 }]],
    ['a sample rate above 10%', [{ ...demoWorkflows[0], reviewSampleRate: 0.5 }]],
    ['an unknown rollout phase', [{ ...demoWorkflows[0], rolloutPhase: 'yolo' }]],
    ['an object instead of a list', { 'support-triage': demoWorkflows[0] }],
  ])('refuses %s', (_, document) => {
    expect(validate(JSON.parse(JSON.stringify(document)))).toBe(false);
  });
});

describe('RegistryStale: a registry the handlers cannot use pages someone', () => {
  const { statelessTemplate: stateless } = synthesizeLedger();

  it('counts the stale and unavailable log lines of every function that reads the registry', () => {
    const filters = Object.values(stateless.findResources('AWS::Logs::MetricFilter')).filter(
      (filter) => filter.Properties.MetricTransformations[0].MetricName === REGISTRY_STALE_METRIC,
    );
    // ingest, traces, read-events, autonomy, kill-switch, flip-recorder, kpis, reviews, console and the
    // three jobs
    expect(filters).toHaveLength(12);
    for (const filter of filters) {
      expect(filter.Properties.FilterPattern).toBe(
        `{ ($.message = "${REGISTRY_STALE_LOG}") || ($.message = "${REGISTRY_UNAVAILABLE_LOG}") }`,
      );
      expect(filter.Properties.MetricTransformations).toEqual([
        { MetricNamespace: 'AgentLedger', MetricName: REGISTRY_STALE_METRIC, MetricValue: '1' },
      ]);
    }
  });

  it('alarms on any of them within 5 minutes', () => {
    const [, alarm] = onlyResource(stateless, 'AWS::CloudWatch::Alarm', {
      AlarmName: 'agent-ledger-dev-registry-stale',
    });
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AgentLedger',
      MetricName: REGISTRY_STALE_METRIC,
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarm.Properties.Dimensions).toBeUndefined();
  });
});
