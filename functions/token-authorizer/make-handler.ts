import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { formatWorkflowScope } from '#lib/auth/caller.ts';
import { bearerToken, type TokenStore, verifyToken } from '#lib/auth/tokens.ts';

/**
 * The API's TOKEN authorizer: a known bearer token gets an Allow for the whole stage (so API Gateway's
 * cache serves every route) and its workflows in the context; anything else is `Unauthorized` (401).
 */
export function makeTokenAuthorizer(deps: { tokens: TokenStore }) {
  return async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const token = bearerToken(event.authorizationToken);
    const caller = token ? await verifyToken(token, deps.tokens) : undefined;
    if (!caller) throw new Error('Unauthorized'); // API Gateway's contract for a 401
    return {
      principalId: caller.principal,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) },
        ],
      },
      context: { workflows: formatWorkflowScope(caller.workflows) },
    };
  };
}

/** `arn:…:execute-api:region:account:apiId/stage/METHOD/path` → `arn:…:apiId/stage/*`. */
export function stageWildcard(methodArn: string): string {
  const [apiArn, stage] = methodArn.split('/');
  return `${apiArn}/${stage}/*`;
}
