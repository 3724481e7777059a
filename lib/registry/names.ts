/**
 * The workflow registry's AppConfig profile: a freeform (`AWS.Freeform`) JSON profile in the kill
 * switch's application, deployed to the same environment per stage, with the kill switch's immediate
 * strategy. The CDK, the local stack and the CLI all find it by this name.
 */
export const REGISTRY_PROFILE = 'workflow-registry';
export const REGISTRY_PROFILE_TYPE = 'AWS.Freeform';

/**
 * The log messages of a handler that cannot use the deployed registry: it serves the last good version,
 * or (with none) answers 503. The CDK counts both into the `RegistryStale` metric and alarms on it.
 */
export const REGISTRY_STALE_LOG = 'workflow registry not refreshed: serving the last good version';
export const REGISTRY_UNAVAILABLE_LOG = 'workflow registry unavailable';
export const REGISTRY_STALE_METRIC = 'RegistryStale';
