import { describeAccessStoreContract } from '../support/contracts/access-store.contract.ts';
import { describeEvalStoreContract } from '../support/contracts/eval-store.contract.ts';
import { describeEventIndexContract } from '../support/contracts/event-index.contract.ts';
import { describeKpiStoreContract } from '../support/contracts/kpi-store.contract.ts';
import { describeReviewQueueContract } from '../support/contracts/review-queue.contract.ts';
import {
  InMemoryAccessStore,
  InMemoryEvalStore,
  InMemoryEventIndex,
  InMemoryKpiStore,
  InMemoryReviewQueue,
} from '../support/in-memory-stores.ts';

// The fakes the unit tests use keep their ports' promises: the same suites run against the DynamoDB
// adapters on DynamoDB Local (test/integration/port-contracts.test.ts).
describeEventIndexContract('InMemoryEventIndex', () => new InMemoryEventIndex());
describeReviewQueueContract('InMemoryReviewQueue', () => new InMemoryReviewQueue());
describeEvalStoreContract('InMemoryEvalStore', () => new InMemoryEvalStore());
describeAccessStoreContract('InMemoryAccessStore', () => new InMemoryAccessStore());
describeKpiStoreContract('InMemoryKpiStore', () => new InMemoryKpiStore());
