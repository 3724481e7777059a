/**
 * The kill switch's AppConfig names, shared by the CDK stack, the local stand-in's provisioning and the
 * CLI (SPEC "Kill switch"): one application, an environment per stage, one feature-flag profile with a
 * flag per workflow plus a master flag, and a deployment strategy that takes effect at once.
 */
export const KILL_SWITCH_APPLICATION = 'agent-ledger';
export const KILL_SWITCH_PROFILE = 'kill-switch';
export const KILL_SWITCH_STRATEGY = 'agent-ledger-kill-switch-immediate';
/** Workflow IDs are lower-case only, so this flag key can never clash with a workflow's. */
export const MASTER_FLAG = 'allAutonomousLanes';
/** The stage name of the local stack, used as its AppConfig environment. */
export const LOCAL_ENVIRONMENT = 'local';
/** The flag attributes every flip sets: why, who, and when. */
export const FLAG_ATTRIBUTES = ['reason', 'changedBy', 'changedAt'] as const;
