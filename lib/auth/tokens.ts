import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Caller, parseWorkflowScope } from '#lib/auth/caller.ts';

/**
 * Bearer tokens for callers outside AWS. A token is `alt_<tokenId>_<secret>`; the ledger stores only its
 * SHA-256 hash, so a leaked table never yields a usable token. The tokenId lets an operator revoke one
 * token without ever seeing it again.
 */
export interface TokenRecord {
  readonly tokenId: string;
  readonly tokenHash: string;
  /** `'*'` or a comma-separated list of workflow IDs. */
  readonly workflows: string;
  /**
   * The person's console roles on those workflows (`viewer`, `reviewer`, `operator`, comma-separated);
   * absent for an agent service's token, which cannot sign in (lib/auth/people.ts).
   */
  readonly roles?: string;
  /** For a person's token, their name: what verdicts and flips record as who. */
  readonly label?: string;
  readonly createdAt: string;
}

export interface TokenStore {
  putToken(record: TokenRecord): Promise<void>;
  getToken(tokenId: string): Promise<TokenRecord | undefined>;
  /** True when a token was there to delete. */
  deleteToken(tokenId: string): Promise<boolean>;
  listTokens(): Promise<TokenRecord[]>;
}

/** Which workflows an IAM principal (a role, by its plain role ARN) may touch. */
export interface AccessGrant {
  readonly principal: string;
  readonly workflows: string;
  readonly createdAt: string;
}

export interface GrantStore {
  putGrant(grant: AccessGrant): Promise<void>;
  getGrant(principal: string): Promise<AccessGrant | undefined>;
  deleteGrant(principal: string): Promise<boolean>;
}

const TOKEN_PATTERN = /^alt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function issueToken(input: { workflows: string; roles?: string; label?: string; now: Date }): {
  token: string;
  record: TokenRecord;
} {
  const tokenId = randomBytes(8).toString('hex');
  const token = `alt_${tokenId}_${randomBytes(32).toString('base64url')}`;
  return {
    token,
    record: {
      tokenId,
      tokenHash: hashToken(token),
      workflows: input.workflows,
      ...(input.roles ? { roles: input.roles } : {}),
      ...(input.label ? { label: input.label } : {}),
      createdAt: input.now.toISOString(),
    },
  };
}

/** The caller a bearer token stands for, or undefined when it is malformed, unknown or revoked. */
export async function verifyToken(token: string, store: TokenStore): Promise<Caller | undefined> {
  const match = TOKEN_PATTERN.exec(token);
  if (!match?.[1]) return undefined;
  const record = await store.getToken(match[1]);
  if (!record) return undefined;
  const expected = Buffer.from(record.tokenHash, 'hex');
  const actual = Buffer.from(hashToken(token), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  return { principal: `token:${record.tokenId}`, workflows: parseWorkflowScope(record.workflows) };
}

/** `Bearer <token>` → token; anything else → undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * API Gateway reports an assumed role as `arn:aws:sts::<account>:assumed-role/<role>/<session>`; grants
 * name the role itself (`arn:aws:iam::<account>:role/<role>`), whatever the session.
 */
export function normalizeIamPrincipal(arn: string): string {
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  if (assumed) return `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}`;
  return arn;
}
