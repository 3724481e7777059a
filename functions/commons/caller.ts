import type { APIGatewayProxyEvent } from 'aws-lambda';
import { type Caller, parseWorkflowScope } from '#lib/auth/caller.ts';
import { type GrantStore, normalizeIamPrincipal } from '#lib/auth/tokens.ts';
import { HttpError } from './http.ts';

/**
 * Who is calling. Bearer-token callers arrive with the token authorizer's context (`workflows`);
 * SigV4 callers arrive with their IAM identity, whose workflows are looked up in the grants.
 */
export async function resolveCaller(event: APIGatewayProxyEvent, grants: GrantStore): Promise<Caller> {
  const authorizer = event.requestContext.authorizer;
  if (typeof authorizer?.workflows === 'string') {
    return {
      principal: String(authorizer.principalId ?? 'token'),
      workflows: parseWorkflowScope(authorizer.workflows),
    };
  }
  const userArn = event.requestContext.identity?.userArn;
  if (userArn) {
    const principal = normalizeIamPrincipal(userArn);
    const grant = await grants.getGrant(principal);
    if (!grant) {
      throw new HttpError(
        403,
        'forbidden',
        `${principal} has no workflow grant; run: agent-ledger access grant ${principal} --workflows <ids>`,
      );
    }
    return { principal, workflows: parseWorkflowScope(grant.workflows) };
  }
  throw new HttpError(
    401,
    'unauthorized',
    'send Authorization: Bearer <token>, or sign the request with SigV4',
  );
}
