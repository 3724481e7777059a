import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { HttpError, toErrorResponse } from '#functions/commons/http.ts';
import { parseJsonBody } from '#functions/commons/request-body.ts';
import { InvalidRequestError, RegistryUnavailableError, WorkflowNotAllowedError } from '#lib/errors.ts';

const request = (body: string | null, contentType = 'application/json', isBase64Encoded = false) =>
  ({ headers: { 'Content-Type': contentType }, body, isBase64Encoded }) as unknown as APIGatewayProxyEvent;

const statusOf = (fn: () => unknown) => {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return toErrorResponse(error).statusCode;
  }
};

describe('parseJsonBody', () => {
  it('reads JSON sent with any JSON media type and charset', () => {
    expect(parseJsonBody(request('{"a":1}', 'application/json; charset=utf-8'))).toEqual({ a: 1 });
    expect(parseJsonBody(request('[1]', 'application/vnd.api+json'))).toEqual([1]);
    expect(
      parseJsonBody(request(Buffer.from('{"b":2}').toString('base64'), 'application/json', true)),
    ).toEqual({ b: 2 });
  });

  it.each([
    ['a form body', request('a=1', 'application/x-www-form-urlencoded'), 415],
    ['no content type', request('{}', ''), 415],
    ['a body over 1 MiB', request(`{"x":"${'y'.repeat(1024 * 1024)}"}`), 413],
    ['an empty body', request(null), 400],
    ['broken JSON', request('{"events": ['), 400],
  ])('answers %s with %i', (_case, event, status) => {
    expect(statusOf(() => parseJsonBody(event))).toBe(status);
  });
});

describe('toErrorResponse', () => {
  it('shows client errors with what is wrong', () => {
    const invalid = toErrorResponse(
      new InvalidRequestError('bad', [{ index: 0, path: '$.events[0]', message: 'x' }]),
    );
    expect(invalid.statusCode).toBe(400);
    expect(JSON.parse(invalid.body)).toEqual({
      error: 'invalid_request',
      message: 'bad',
      issues: [{ index: 0, path: '$.events[0]', message: 'x' }],
    });
    expect(toErrorResponse(new WorkflowNotAllowedError(['code-review'])).statusCode).toBe(403);
    expect(toErrorResponse(new HttpError(401, 'unauthorized', 'who are you')).statusCode).toBe(401);
  });

  it('hides internals behind a 500 that says a retry is safe', () => {
    const response = toErrorResponse(
      new Error('connect ECONNREFUSED 10.0.0.1:443 at Socket.x (/var/task/index.mjs)'),
    );
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('ECONNREFUSED');
    expect(JSON.parse(response.body)).toEqual({
      error: 'internal_error',
      message: expect.stringContaining('retry'),
    });
  });

  it('answers an unreadable workflow registry with a 503 that says a retry is safe, and keeps the cause for the logs', () => {
    // Act
    const response = toErrorResponse(
      new RegistryUnavailableError('the workflow registry cannot be read: $[0].owner: is required'),
    );

    // Assess
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({
      error: 'service_unavailable',
      message:
        'the workflow registry cannot be read right now; nothing was stored, and retrying later is safe',
    });
  });
});
