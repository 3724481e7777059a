// The client from plain JavaScript, as a service without TypeScript uses it: through the package's
// `exports` (`agent-ledger/client`, the built dist/client/index.js). Spawned by client.test.ts; prints JSON.
import { LedgerClient } from 'agent-ledger/client';

const { LEDGER_API, LEDGER_TOKEN, UNIT_ID } = process.env;
const client = new LedgerClient({ endpoint: LEDGER_API, token: LEDGER_TOKEN });
const unit = client.unit('support-triage', UNIT_ID);
unit.action({ lane: 'hitl', agent: { id: 'plain-js-bot' }, usage: { inputTokens: 3, outputTokens: 1 } });
unit.completed('resolved');
const stats = await client.close();
const autonomy = await client.autonomy('support-triage');
process.stdout.write(JSON.stringify({ stats, autonomy }));
