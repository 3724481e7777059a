/**
 * The ledger's two CloudFormation stacks per stage and the outputs the CLI reads from them (`--stage`,
 * through DescribeStacks): one place for the names, used by the CDK stacks and by `cli/target.ts`.
 */
export function statefulStackName(stage: string): string {
  return `AgentLedger-${stage}-Stateful`;
}

export function statelessStackName(stage: string): string {
  return `AgentLedger-${stage}-Stateless`;
}

/**
 * The Athena workgroup of the ledger's own reads of the archive (reads past the index's hot window), beside
 * the finance workgroup (`STATEFUL_OUTPUTS.athenaWorkgroup`) whose name it extends.
 */
export function archiveQueryWorkgroup(financeWorkgroup: string): string {
  return `${financeWorkgroup}-archive`;
}

/** Output keys of the stateful stack (`AgentLedger-<stage>-Stateful`). */
export const STATEFUL_OUTPUTS = {
  ledgerTableName: 'LedgerTableName',
  archiveBucketName: 'ArchiveBucketName',
  actorHashKeySecretArn: 'ActorHashKeySecretArn',
  killSwitchApplicationId: 'KillSwitchApplicationId',
  killSwitchEnvironmentId: 'KillSwitchEnvironmentId',
  killSwitchProfileId: 'KillSwitchProfileId',
  killSwitchStrategyId: 'KillSwitchStrategyId',
  registryProfileId: 'RegistryProfileId',
  reportsBucketName: 'ReportsBucketName',
  athenaResultsBucketName: 'AthenaResultsBucketName',
  glueDatabase: 'GlueDatabase',
  athenaWorkgroup: 'AthenaWorkgroup',
  financeReadPolicyArn: 'FinanceReadPolicyArn',
  driftTopicArn: 'DriftTopicArn',
  consoleUserPoolId: 'ConsoleUserPoolId',
} as const;

/** Output keys of the stateless stack (`AgentLedger-<stage>-Stateless`). */
export const STATELESS_OUTPUTS = {
  apiUrl: 'ApiUrl',
  dashboardName: 'DashboardName',
  consoleUrl: 'ConsoleUrl',
  /** Followed by the workflow ID in PascalCase (`FlipPolicyArnSupportTriage`), or the master flag's. */
  flipPolicyArnPrefix: 'FlipPolicyArn',
} as const;
