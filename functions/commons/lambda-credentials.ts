import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { DefaultProviderInit } from '@aws-sdk/credential-provider-node';

/**
 * What the Lambda bundles get for `@aws-sdk/credential-provider-node` (an esbuild alias, in
 * `infra/constructs/lambda-bundling.ts`): Lambda hands a function its role's credentials in environment
 * variables, the first place the SDK's default chain looks, so in Lambda the chain always ends there. The
 * rest of it (SSO, INI profiles, processes, web identity, container and instance metadata, with the STS,
 * SSO and sign-in clients they carry) is ~100 KiB of bundle and import time that a function never uses.
 */
export const defaultProvider = (init: DefaultProviderInit = {}) => fromEnv(init);
