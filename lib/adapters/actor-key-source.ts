import { readFile } from 'node:fs/promises';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';

/**
 * Where the actor-hash HMAC key lives: Secrets Manager in the cloud (`ACTOR_HASH_KEY_SECRET_ARN`), a file
 * the local stack generates (`ACTOR_HASH_KEY_FILE`) locally. Read once per cold start.
 */
export async function loadActorHashKey(env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const secretArn = env[FUNCTION_ENV.actorHashKeySecretArn];
  const file = env[FUNCTION_ENV.actorHashKeyFile];
  if (secretArn) {
    const client = new SecretsManagerClient({});
    const secret = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (!secret.SecretString) throw new Error('the actor hash key secret has no string value');
    return Buffer.from(secret.SecretString, 'utf8');
  }
  if (file) return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  throw new Error(
    `set ${FUNCTION_ENV.actorHashKeySecretArn} (cloud) or ${FUNCTION_ENV.actorHashKeyFile} (local)`,
  );
}
