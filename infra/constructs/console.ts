import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { API_ROUTES } from '#lib/api/routes.ts';
import { ROLES, roleGroup } from '#lib/auth/people.ts';
import { InvalidConfigError } from '../config.ts';
import { functionEntry } from '../paths.ts';
import type { ArchiveQueryIds } from './finance.ts';
import type { IngestApi } from './ingest-api.ts';
import type { KillSwitchIds } from './kill-switch.ts';
import { LedgerFunction } from './ledger-function.ts';

/*
 * The console is split the way the rest of the ledger is. The user pool holds people (their accounts,
 * passwords, MFA devices) and the groups that hold their roles: it is stateful, and lives in the stateful
 * stack, retained on deletion, with deletion protection (`ConsoleUserPool`). The app client, the managed
 * login domain and its branding are settings of that pool for this stage's API: they are stateless, and
 * live in the stateless stack (`LedgerConsole`), which also avoids a cross-stack cycle, since the client's
 * callback URL names the REST API of the stateless stack, which the stateful stack must never reference.
 */

/** The console route of `path` in the route table: the one place the console's paths are written. */
function consolePath(path: string): string {
  const route = API_ROUTES.find((candidate) => candidate.function === 'console' && candidate.path === path);
  if (!route) throw new Error(`the route table has no console route ${path}`);
  return route.path;
}

/** Where managed login sends people back with an authorization code. */
export const SIGN_IN_CALLBACK_PATH = consolePath('/sign-in/callback');
/** Where managed login sends people after signing out: the console's sign-in page. */
export const SIGNED_OUT_PATH = consolePath('/sign-in');

/** How long the ID token the console reads once, at sign-in, is valid. */
export const ID_TOKEN_VALIDITY = Duration.hours(1);

export interface ConsoleUserPoolProps {
  /** Names the pool. */
  readonly stage: string;
  /** The registered workflows: each gets a group per role, next to the roles on every workflow. */
  readonly workflowIds: readonly string[];
}

/**
 * The people who may use the console: a Cognito user pool that only administrators add users to (no
 * self sign-up), with a strong password policy and TOTP MFA required, and a group per role (`viewer`,
 * `reviewer`, `operator`: on every workflow) and per role and workflow (`reviewer:support-triage`). Which
 * groups a person is in decides what the console lets them do (`personFromGroups`, lib/auth/people.ts).
 */
export class ConsoleUserPool extends Construct {
  public readonly userPool: cognito.UserPool;
  /** By group name (`roleGroup()`). */
  public readonly groups: ReadonlyMap<string, cognito.UserPoolGroup>;

  constructor(scope: Construct, id: string, props: ConsoleUserPoolProps) {
    super(scope, id);

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `agent-ledger-${props.stage}-console`,
      // Administrators create users (AdminCreateUser: an invitation with a temporary password).
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      signInCaseSensitive: false,
      standardAttributes: { email: { required: true, mutable: true } },
      autoVerify: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // Operators stop autonomous lanes and reviewers' verdicts are audit records: a second factor for
      // everyone. TOTP only (an authenticator app, set up at first sign-in): SMS would cost per message.
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      // Essentials: the newer managed login (Lite has only the classic hosted UI); see AwsSolutions-COG8.
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        'Threat protection needs the Plus feature plan, billed per monthly active user with no free tier, for a pool of a few reviewers and operators that administrators create by hand: no self sign-up, a 14-character password policy and TOTP MFA required for everyone already shut out credential stuffing and sign-up abuse; a stage that wants adaptive authentication can switch the plan without changing anything else.',
    });

    const groups = new Map<string, cognito.UserPoolGroup>();
    const addGroup = (name: string, description: string): void => {
      const group = new cognito.UserPoolGroup(this, `Group-${name}`, {
        userPool: this.userPool,
        groupName: name,
        description,
      });
      // Deleting a group drops its memberships, and people's roles are data: the groups stay with the
      // retained pool. A workflow taken out of the registry leaves its groups behind, granting roles on a
      // workflow the console no longer shows; delete them by hand (before registering that ID again).
      group.applyRemovalPolicy(RemovalPolicy.RETAIN);
      groups.set(name, group);
    };
    for (const role of ROLES) {
      addGroup(roleGroup(role), `Agent Ledger console: ${role} on every workflow`);
    }
    for (const workflowId of props.workflowIds) {
      for (const role of ROLES) {
        addGroup(roleGroup(role, workflowId), `Agent Ledger console: ${role} on workflow ${workflowId}`);
      }
    }
    this.groups = groups;
  }
}

/**
 * `agent-ledger-<stage>-<account>`: lowercase letters, digits and hyphens (the stage pattern of
 * `readLedgerConfig` keeps it so), at most 46 characters of Cognito's 63, and never a word Cognito reserves.
 */
export function managedLoginPrefix(stage: string, account: string): string {
  const reserved = /aws|amazon|cognito/.exec(stage);
  if (reserved) {
    throw new InvalidConfigError(
      `context "stage" is "${stage}": Cognito refuses login domains containing "${reserved[0]}", so choose a stage name without it`,
    );
  }
  return `agent-ledger-${stage}-${account}`;
}

export interface LedgerConsoleProps {
  /** The API the console's routes join; its REST API ID and stage name the sign-in callback URL. */
  readonly ingestApi: IngestApi;
  /** The API Gateway stage; also names the managed login domain and the app client. */
  readonly stageName: string;
  /** From the stateful stack: the people who sign in. */
  readonly userPool: cognito.IUserPool;
  /** From the stateful stack: read, and written with review verdicts and drill records. */
  readonly table: dynamodb.ITable;
  /** From the stateful stack: verdict events are archived like every event. */
  readonly archiveBucket: s3.IBucket;
  /** From the stateful stack: how to query the archive, for units older than the index's hot window. */
  readonly archiveQueries: ArchiveQueryIds;
  /** From the stateful stack: verdict events hash the reviewer's ID like every actor's. */
  readonly actorHashKey: secretsmanager.ISecret;
  /** From the stateful stack: the governance and cost-per-unit reports the console shows. */
  readonly reportsBucket: s3.IBucket;
  /** From the stateful stack: the flags the console shows, flips and drills. */
  readonly killSwitch: KillSwitchIds;
}

/**
 * The console: server-rendered pages for reviewers and operators, served by one function behind the
 * ledger's API (every route of `API_ROUTES` with `function: 'console'`), reached without a gateway
 * authorizer; the function checks its own session cookie, sealed with a key in Secrets Manager. People
 * sign in with the user pool's managed login (OAuth 2.0 authorization code with PKCE, a public client).
 */
export class LedgerConsole extends Construct {
  public readonly function: LedgerFunction;
  public readonly client: cognito.UserPoolClient;
  public readonly domain: cognito.UserPoolDomain;
  public readonly branding: cognito.CfnManagedLoginBranding;
  /** 32 random bytes as 64 hex digits: the key the console seals session cookies with. */
  public readonly sessionKey: secretsmanager.Secret;
  /** The console's address: the API stage's root. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: LedgerConsoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { api } = props.ingestApi;

    // From the REST API's ID and the stage's name, not from `api.url`: that references the deployment
    // stage, which depends on every method, one of which is this console's, whose function would then
    // depend on the client, making a cycle.
    const stageBase = `https://${api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${props.stageName}`;

    this.domain = new cognito.UserPoolDomain(this, 'Domain', {
      userPool: props.userPool,
      // Prefix domains are unique per region across all accounts: the stage and the account make it ours.
      cognitoDomain: { domainPrefix: managedLoginPrefix(props.stageName, stack.account) },
      managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });

    this.client = new cognito.UserPoolClient(this, 'Client', {
      userPool: props.userPool,
      userPoolClientName: `agent-ledger-${props.stageName}-console`,
      // A public client: the authorization code is redeemed with PKCE (S256), never with a secret.
      generateSecret: false,
      // Managed login signs people in with SRP (the password never leaves the browser); no other flow.
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [`${stageBase}${SIGN_IN_CALLBACK_PATH}`],
        logoutUrls: [`${stageBase}${SIGNED_OUT_PATH}`],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      // The console reads the ID token once, at sign-in, then keeps its own session: short tokens, and the
      // shortest refresh token Cognito allows (the console never uses it).
      idTokenValidity: ID_TOKEN_VALIDITY,
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.minutes(60),
    });

    // The newer managed login shows an app client's pages only once the client has a branding style.
    this.branding = new cognito.CfnManagedLoginBranding(this, 'Branding', {
      userPoolId: props.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    });
    this.branding.node.addDependency(this.domain);

    this.sessionKey = new secretsmanager.Secret(this, 'SessionKey', {
      description: "Agent Ledger console: the key that seals people's session cookies (32 bytes, hex)",
      // 64 characters from 0-9a-f: 32 random bytes in hex.
      generateSecretString: {
        passwordLength: 64,
        excludePunctuation: true,
        excludeUppercase: true,
        includeSpace: false,
        excludeCharacters: 'ghijklmnopqrstuvwxyz',
      },
      // Not data: a new key only signs everyone out.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.sessionKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The key seals session cookies that expire within hours; rotating it signs every person out, which is all a compromised key calls for, and needs no rotation function: an operator puts a new value (or the stack is redeployed with a new secret), and the function reads it at its next cold start.',
    });

    this.function = new LedgerFunction(this, 'Function', {
      entry: functionEntry('console'),
      description:
        'Agent Ledger: the console, server-rendered pages for reviewers and operators (reviews, units, kill switch, reports)',
      memorySize: 1024,
      // Just under API Gateway's 29 s integration cap: a drill flips the lane off and on within the request.
      timeout: Duration.seconds(28),
    })
      // Reads everything; writes review verdicts (through the ingest use case) and drill records.
      .useLedgerTable(props.table, 'readWrite')
      .useArchiveBucket(props.archiveBucket, 'put')
      // A unit page whose events all left the index's hot window reads them in the archive (Athena).
      .useArchiveBucket(props.archiveBucket, 'read')
      .useArchiveQueries(props.archiveQueries)
      .useActorHashKey(props.actorHashKey)
      .useReportsBucket(props.reportsBucket, 'read')
      // Shows the flags as agents see them, and flips them (a flip or a drill).
      .useKillSwitch(props.killSwitch, 'read')
      .useKillSwitch(props.killSwitch, 'write')
      .useConsoleSessionKey(this.sessionKey)
      .useSignIn({ userPool: props.userPool, client: this.client, domain: this.domain });

    props.ingestApi.addRoutes({ console: this.function });
    this.url = props.ingestApi.apiUrl;
  }
}
