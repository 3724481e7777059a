// Node 20 is this project's local runtime; the SDK's notice about its future Node 22 floor is in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { LocalStackError } from './processes.ts';
import { TableDesignMismatchError } from './provision.ts';
import { localSettings, SettingsError } from './settings.ts';
import { startLocalStack } from './stack.ts';

/** `npm start`: the whole ledger on this machine until Ctrl-C. */
async function main(): Promise<void> {
  const settings = localSettings();
  const stack = await startLocalStack(settings, (line) => console.log(line));
  const shown = (path: string) => relative(process.cwd(), path) || path;
  const token = readFileSync(stack.devTokenFile, 'utf8').trim();
  console.log(`
Agent Ledger is running locally (data in ${shown(settings.dataDir)}).
  console   ${stack.endpoints.api}/?token=${token}
            (the sign-in link, with the dev token: every role on every workflow)
  api       ${stack.endpoints.api}
  dynamodb  ${stack.endpoints.dynamodb}
  s3        ${stack.endpoints.s3}
  appconfig ${stack.endpoints.appconfig}   (kill switch and workflow registry: AppConfig and AppConfigData)
Endpoints are in ${shown(`${settings.dataDir}/endpoints.json`)}; \`source ${shown(`${settings.dataDir}/aws-env`)}\` points the AWS CLI at them.
Dev token: ${shown(stack.devTokenFile)}

  curl -s ${stack.endpoints.api}/healthz
  curl -s -H "Authorization: Bearer ${token.slice(0, 12)}…" ${stack.endpoints.api}/v1/workflows/support-triage/events

Ctrl-C stops everything.`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack…`);
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  // A supervisor's SIGTERM to `npm start` ends npm and its shell without reaching this process; once its
  // parent is gone (it is adopted by another), the stack stops as if it had been signalled itself.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown('parent process gone');
  }, 500).unref();
}

main().catch((error: unknown) => {
  if (
    error instanceof LocalStackError ||
    error instanceof SettingsError ||
    error instanceof TableDesignMismatchError
  ) {
    console.error(`agent-ledger: ${error.message}`);
  } else {
    console.error('agent-ledger: the local stack failed to start:', error);
  }
  process.exit(1);
});
