import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { resolveCaller } from '#functions/commons/caller.ts';
import { toErrorResponse } from '#functions/commons/http.ts';
import type { AccessGrant, GrantStore } from '#lib/auth/tokens.ts';
import { messageOf } from '#lib/errors.ts';

const grants: GrantStore = {
  async getGrant(principal) {
    return principal === 'arn:aws:iam::123456789012:role/triage-bot'
      ? ({ principal, workflows: 'support-triage', createdAt: '2026-11-01T00:00:00Z' } satisfies AccessGrant)
      : undefined;
  },
  putGrant: async () => {},
  deleteGrant: async () => false,
};

const withContext = (requestContext: Record<string, unknown>) =>
  ({ requestContext }) as unknown as APIGatewayProxyEvent;
const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 200,
    (error) => toErrorResponse(error).statusCode,
  );

describe('resolveCaller', () => {
  it('takes a token caller from the authorizer context', async () => {
    const caller = await resolveCaller(
      withContext({ authorizer: { principalId: 'token:ab', workflows: 'code-review' } }),
      grants,
    );
    expect(caller).toEqual({ principal: 'token:ab', workflows: new Set(['code-review']) });
  });

  it('looks up the workflows of a SigV4 caller by its role, whatever the session', async () => {
    const caller = await resolveCaller(
      withContext({ identity: { userArn: 'arn:aws:sts::123456789012:assumed-role/triage-bot/i-0abc' } }),
      grants,
    );
    expect(caller).toEqual({
      principal: 'arn:aws:iam::123456789012:role/triage-bot',
      workflows: new Set(['support-triage']),
    });
  });

  it('answers 403 for a SigV4 caller without a grant, and 401 for a request with no identity', async () => {
    const ungranted = withContext({
      identity: { userArn: 'arn:aws:sts::123456789012:assumed-role/other/s' },
    });
    expect(await statusOf(resolveCaller(ungranted, grants))).toBe(403);
    expect(await statusOf(resolveCaller(withContext({ identity: {} }), grants))).toBe(401);
  });
});

describe('messageOf', () => {
  it('reads the message of an Error, of an error-like object, or the value itself', () => {
    expect(messageOf(new TypeError('boom'))).toBe('boom');
    expect(messageOf({ message: 'socket hang up' })).toBe('socket hang up');
    expect(messageOf('plain')).toBe('plain');
    expect(messageOf(undefined)).toBe('undefined');
  });
});
