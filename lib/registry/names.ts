/**
 * The workflow registry's AppConfig profile: a freeform (`AWS.Freeform`) JSON profile in the kill
 * switch's application, deployed to the same environment per stage, with the kill switch's immediate
 * strategy. The CDK, the local stack and the CLI all find it by this name.
 */
export const REGISTRY_PROFILE = 'workflow-registry';
export const REGISTRY_PROFILE_TYPE = 'AWS.Freeform';
