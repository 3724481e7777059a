import { describeEventIndexContract } from '../support/contracts/event-index.contract.ts';
import { InMemoryEventIndex } from '../support/in-memory-stores.ts';

// The fake the unit tests use keeps the port's promises: the same suite runs on DynamoDB Local
// (test/integration/event-index.contract.test.ts).
describeEventIndexContract('InMemoryEventIndex', () => new InMemoryEventIndex());
