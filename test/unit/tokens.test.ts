import { describe, expect, it } from 'vitest';
import { stageWildcard } from '#functions/token-authorizer/make-handler.ts';
import { formatWorkflowScope, mayAccess, parseWorkflowScope } from '#lib/auth/caller.ts';
import { bearerToken, issueToken, normalizeIamPrincipal, verifyToken } from '#lib/auth/tokens.ts';
import { InMemoryAccessStore } from '../support/in-memory-stores.ts';

describe('bearer tokens', () => {
  it('verify while stored, and stop once revoked', async () => {
    // Prepare
    const store = new InMemoryAccessStore();
    const { token, record } = issueToken({ workflows: 'code-review', now: new Date() });
    await store.putToken(record);

    // Act
    const caller = await verifyToken(token, store);
    await store.deleteToken(record.tokenId);
    const afterRevoke = await verifyToken(token, store);

    // Assess
    expect(caller?.principal).toBe(`token:${record.tokenId}`);
    expect(caller && mayAccess(caller, 'code-review')).toBe(true);
    expect(caller && mayAccess(caller, 'support-triage')).toBe(false);
    expect(afterRevoke).toBeUndefined();
  });

  it('are stored only as a hash', () => {
    const { token, record } = issueToken({ workflows: '*', now: new Date() });
    expect(JSON.stringify(record)).not.toContain(token.slice(22));
    expect(record.tokenHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reject a forged secret for a real token ID', async () => {
    const store = new InMemoryAccessStore();
    const { token, record } = issueToken({ workflows: '*', now: new Date() });
    await store.putToken(record);
    const forged = `${token.slice(0, -4)}AAAA`;
    expect(await verifyToken(forged, store)).toBeUndefined();
  });

  it.each([
    ['Bearer abc', 'abc'],
    ['bearer   abc ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    [undefined, undefined],
  ])('bearerToken(%s) is %s', (header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });
});

describe('workflow scopes', () => {
  it('round-trip through the authorizer context', () => {
    expect(formatWorkflowScope(parseWorkflowScope(' code-review, support-triage ,'))).toBe(
      'code-review,support-triage',
    );
    expect(parseWorkflowScope('*')).toBe('*');
  });
});

describe('IAM principals', () => {
  it('name the role behind an assumed-role session', () => {
    expect(normalizeIamPrincipal('arn:aws:sts::123456789012:assumed-role/agent-svc/session-1')).toBe(
      'arn:aws:iam::123456789012:role/agent-svc',
    );
    expect(normalizeIamPrincipal('arn:aws:iam::123456789012:user/ci')).toBe(
      'arn:aws:iam::123456789012:user/ci',
    );
  });
});

describe('the token authorizer policy', () => {
  it('allows the whole stage, so the cached answer serves every route', () => {
    expect(stageWildcard('arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v1/events')).toBe(
      'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*',
    );
  });
});
