import { type AwsClientOptions, type AwsService, parseJsonError, sendAwsCall } from './aws-request.ts';

/** A service of the AWS JSON protocol: one POST per operation, named by `X-Amz-Target`. */
export interface JsonService extends AwsService {
  /** `1.0` (DynamoDB) or `1.1` (Secrets Manager, Athena). */
  readonly jsonVersion: '1.0' | '1.1';
  /** The target's prefix: `DynamoDB_20120810`, `secretsmanager`, `AmazonAthena`. */
  readonly targetPrefix: string;
}

export const DYNAMODB: JsonService = {
  signingName: 'dynamodb',
  endpointId: 'DYNAMODB',
  hostPrefix: 'dynamodb',
  jsonVersion: '1.0',
  targetPrefix: 'DynamoDB_20120810',
};

export const SECRETS_MANAGER: JsonService = {
  signingName: 'secretsmanager',
  endpointId: 'SECRETS_MANAGER',
  hostPrefix: 'secretsmanager',
  jsonVersion: '1.1',
  targetPrefix: 'secretsmanager',
};

export const ATHENA: JsonService = {
  signingName: 'athena',
  endpointId: 'ATHENA',
  hostPrefix: 'athena',
  jsonVersion: '1.1',
  targetPrefix: 'AmazonAthena',
};

const decoder = new TextDecoder();

/** Calls `operation` with `input`; answers the service's JSON output. */
export async function callJson<T>(
  service: JsonService,
  operation: string,
  input: object,
  options?: AwsClientOptions,
): Promise<T> {
  const response = await sendAwsCall(
    service,
    {
      method: 'POST',
      path: '/',
      headers: {
        'content-type': `application/x-amz-json-${service.jsonVersion}`,
        'x-amz-target': `${service.targetPrefix}.${operation}`,
      },
      body: JSON.stringify(input),
    },
    parseJsonError,
    options,
  );
  const text = decoder.decode(response.body);
  return (text ? JSON.parse(text) : {}) as T;
}
