import { readFile } from 'node:fs/promises';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * Where the actor-hash HMAC key lives: Secrets Manager in the cloud (`ACTOR_HASH_KEY_SECRET_ARN`), a file
 * the local stack generates (`ACTOR_HASH_KEY_FILE`) locally. Read once per cold start.
 */
export async function loadActorHashKey(env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  if (env.ACTOR_HASH_KEY_SECRET_ARN) {
    const client = new SecretsManagerClient({});
    const secret = await client.send(new GetSecretValueCommand({ SecretId: env.ACTOR_HASH_KEY_SECRET_ARN }));
    if (!secret.SecretString) throw new Error('the actor hash key secret has no string value');
    return Buffer.from(secret.SecretString, 'utf8');
  }
  if (env.ACTOR_HASH_KEY_FILE) {
    return Buffer.from((await readFile(env.ACTOR_HASH_KEY_FILE, 'utf8')).trim(), 'hex');
  }
  throw new Error('set ACTOR_HASH_KEY_SECRET_ARN (cloud) or ACTOR_HASH_KEY_FILE (local)');
}
