import { readFileSync } from 'node:fs';
import { messageOf } from '#lib/errors.ts';
import { InvalidRegistryError } from '#lib/registry/workflows.ts';
import { ACCESS_HELP, accessCommand } from './commands/access.ts';
import { DEMO_HELP, demoCommand } from './commands/demo.ts';
import { EVALS_HELP, evalsCommand } from './commands/evals.ts';
import { HOLD_HELP, holdCommand } from './commands/holds.ts';
import { INCIDENTS_HELP, incidentsCommand } from './commands/incidents.ts';
import { JOBS_HELP, jobsCommand } from './commands/jobs.ts';
import { drillCommand, KILL_SWITCH_HELP, killSwitchCommand } from './commands/kill-switch.ts';
import { PRICES_HELP, pricesCommand } from './commands/prices.ts';
import { QUERY_HELP, queryCommand } from './commands/query.ts';
import { REGISTRY_HELP, registryCommand } from './commands/registry.ts';
import { TOKENS_HELP, tokensCommand } from './commands/tokens.ts';
import { CliError } from './errors.ts';
import { terminalSafe } from './terminal.ts';

const HELP = `agent-ledger — operate the Agent Ledger

Commands:
  tokens create|revoke|list   bearer tokens for agent services outside AWS
  access grant|revoke|show    workflows an IAM role may touch (SigV4 callers)
  kill-switch off|on|status   the autonomous lane of each workflow
  drill <workflowId>          prove the kill switch works, and record how fast
  prices import|list          the price table behind cost per unit
  registry show|validate|deploy   the workflow registry (versioned, in AppConfig)
  jobs kpi|drift|reports      run the weekly KPI, drift and governance-report jobs now
  query "<SQL>"               finance SQL over the cost-per-unit reports
  evals register|record|compare|list   eval sets and runs per workflow
  incidents list|show|postmortem   lanes switched off other than by a drill, and their postmortems
  hold add|remove|list        legal hold: keep a unit's, a rollback's or an eval set's events past retention
  demo                        weeks of realistic traffic, the jobs, and where to look

Every command acts on the local stack (\`npm start\`, found through LEDGER_DATA_DIR, default .local/)
unless given --stage <name>, which targets the deployed stage with your AWS credentials.

${TOKENS_HELP}

${ACCESS_HELP}

${KILL_SWITCH_HELP}

${REGISTRY_HELP}

${PRICES_HELP}

${JOBS_HELP}

${QUERY_HELP}

${EVALS_HELP}

${INCIDENTS_HELP}

${HOLD_HELP}

${DEMO_HELP}`;

export async function run(argv: string[], write: (line: string) => void = console.log): Promise<number> {
  const print = (line: string) => write(terminalSafe(line));
  const fail = (line: string) => console.error(terminalSafe(line));
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'tokens':
        await tokensCommand(rest, print);
        return 0;
      case 'access':
        await accessCommand(rest, print);
        return 0;
      case 'kill-switch':
        await killSwitchCommand(rest, print);
        return 0;
      case 'drill':
        await drillCommand(rest, print);
        return 0;
      case 'registry':
        await registryCommand(rest, print);
        return 0;
      case 'prices':
        await pricesCommand(rest, print);
        return 0;
      case 'jobs':
        await jobsCommand(rest, print);
        return 0;
      case 'query':
        await queryCommand(rest, print);
        return 0;
      case 'evals':
        await evalsCommand(rest, print);
        return 0;
      case 'incidents':
        await incidentsCommand(rest, print);
        return 0;
      case 'hold':
        await holdCommand(rest, print);
        return 0;
      case 'demo':
        await demoCommand(rest, print);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        print(HELP);
        return command === undefined ? 2 : 0;
      case '--version':
      case '-v': {
        const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
        print(pkg.version);
        return 0;
      }
      default:
        throw new CliError(`unknown command '${command}'; run \`agent-ledger --help\``, 2);
    }
  } catch (error) {
    if (error instanceof CliError) {
      fail(`agent-ledger: ${error.message}`);
      return error.exitCode;
    }
    // A registry file that cannot be read is the caller's to fix.
    if (error instanceof InvalidRegistryError) {
      fail(`agent-ledger: ${error.message}`);
      return 2;
    }
    // parseArgs reports unknown or malformed options with this code.
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      fail(`agent-ledger: ${messageOf(error)}`);
      return 2;
    }
    fail(`agent-ledger: unexpected failure: ${messageOf(error)}`);
    return 1;
  }
}
