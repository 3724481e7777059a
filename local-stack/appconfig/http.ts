import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type * as z from 'zod';
import { messageOf } from '#lib/errors.ts';
import { formatIssues, parseWithIssues } from '#lib/validation/zod-issues.ts';

/**
 * An error the way AWS's REST-JSON services send it: the HTTP status, the error name in
 * `x-amzn-ErrorType` (which the SDK and botocore use to pick the exception class) and a JSON body with
 * `Message` plus any of the exception's other members.
 */
export class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly members: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, members?: Record<string, unknown>) =>
  new AwsError(400, 'BadRequestException', message, members);
export const notFound = (message: string, members?: Record<string, unknown>) =>
  new AwsError(404, 'ResourceNotFoundException', message, members);
export const conflict = (message: string) => new AwsError(409, 'ConflictException', message);

/** What a handler gets: the route's path parameters (decoded), the query, the headers and the raw body. */
export interface Request {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** What a handler returns: a JSON document, or raw bytes with headers (hosted content, configuration). */
export type Reply =
  | { readonly status: number; readonly json: unknown }
  | {
      readonly status: number;
      readonly raw: Buffer;
      readonly headers: Readonly<Record<string, string | number | undefined>>;
    };

/** The JSON body checked against a schema; a malformed or wrong-shaped body is the caller's fault (400). */
export function jsonBody<T extends z.ZodType>(request: Request, schema: T): z.infer<T> {
  let parsed: unknown = {};
  if (request.body.length > 0) {
    try {
      parsed = JSON.parse(request.body.toString('utf8'));
    } catch (error) {
      throw badRequest(`the request body is not valid JSON: ${messageOf(error)}`);
    }
  }
  const result = parseWithIssues(schema, parsed);
  if (!result.success) {
    const problems = formatIssues(result.issues);
    throw badRequest(
      `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected: ${problems.join('; ')}`,
    );
  }
  return result.data;
}

export function header(request: Request, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : value;
}

/** An integer from a header, query parameter or path segment; anything else is a 400 naming the input. */
export function integer(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw badRequest(`${what} must be an integer, got '${value}'`);
  return Number(value);
}

/**
 * Reads the body, or undefined when it is over `limit` bytes (the caller answers 413). An oversized body
 * is still read to its end, unkept, so the client hears the answer instead of a reset connection.
 */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

export function sendReply(response: ServerResponse, reply: Reply): void {
  const requestId = randomUUID();
  if ('json' in reply) {
    const body = Buffer.from(JSON.stringify(reply.json));
    response.writeHead(reply.status, {
      'Content-Type': 'application/json',
      'Content-Length': body.length,
      'x-amzn-RequestId': requestId,
    });
    response.end(body);
    return;
  }
  const headers: Record<string, string | number> = {
    'Content-Length': reply.raw.length,
    'x-amzn-RequestId': requestId,
  };
  for (const [name, value] of Object.entries(reply.headers)) {
    if (value !== undefined) headers[name] = typeof value === 'number' ? value : headerSafe(value);
  }
  response.writeHead(reply.status, headers);
  response.end(reply.raw);
}

export function sendError(response: ServerResponse, error: AwsError): void {
  const body = Buffer.from(JSON.stringify({ ...error.members, Message: error.message }));
  response.writeHead(error.status, {
    'Content-Type': 'application/json',
    'Content-Length': body.length,
    'x-amzn-ErrorType': error.type,
    'x-amzn-RequestId': randomUUID(),
  });
  response.end(body);
}

/** Node refuses header values with control characters; a description echoed back must not crash us. */
function headerSafe(value: string): string {
  return value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}
