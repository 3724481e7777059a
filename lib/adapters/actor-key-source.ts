import { readFileSync } from 'node:fs';
import { callJson, SECRETS_MANAGER } from '#lib/aws/json-service.ts';
import { FUNCTION_ENV, type FunctionEnvName } from '#lib/deployment/environment.ts';

/**
 * Where the ledger's keys live: Secrets Manager in the cloud (a secret's ARN in the environment), a file
 * the local stack generates locally (hex). Read once per cold start.
 */
export async function loadKeyMaterial(
  what: string,
  names: { readonly secretArn: FunctionEnvName; readonly file: FunctionEnvName },
  env: NodeJS.ProcessEnv = process.env,
): Promise<Buffer> {
  const secretArn = env[names.secretArn];
  const file = env[names.file];
  if (secretArn) {
    // Only Lambda functions read secrets: through the lean client, with the function's credentials.
    const secret = await callJson<{ SecretString?: string }>(SECRETS_MANAGER, 'GetSecretValue', {
      SecretId: secretArn,
    });
    if (!secret.SecretString) throw new Error(`the ${what} secret has no string value`);
    return Buffer.from(secret.SecretString, 'utf8');
  }
  // Synchronous: one small file, read once per cold start; and `node:fs` is loaded already, where
  // `node:fs/promises` would add to every function's import time.
  if (file) return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  throw new Error(`set ${names.secretArn} (cloud) or ${names.file} (local) for the ${what}`);
}

/** The actor-hash HMAC key (`ACTOR_HASH_KEY_SECRET_ARN`, or `ACTOR_HASH_KEY_FILE` locally). */
export function loadActorHashKey(env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  return loadKeyMaterial(
    'actor hash key',
    { secretArn: FUNCTION_ENV.actorHashKeySecretArn, file: FUNCTION_ENV.actorHashKeyFile },
    env,
  );
}
