import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  BatchWriteCommandInput,
  BatchWriteCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
  TransactWriteCommandInput,
  TransactWriteCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';

/**
 * The DynamoDB operations the ledger's stores use, on plain JavaScript items (the document client's
 * inputs and outputs). Two transports implement it: the AWS SDK's document client (`sdkDocuments`, for
 * the CLI, the bench and tests, with the SDK's whole credential chain) and a lean one over `fetch` and
 * SigV4 (`lib/aws/dynamodb-documents.ts`, for the Lambda functions: no SDK in their bundles). The types
 * are the SDK's, imported as types only.
 *
 * A failed call throws an error whose `name` is DynamoDB's error code (`ConditionalCheckFailedException`,
 * `TransactionCanceledException` with `CancellationReasons`, …), the same from both transports; test it
 * with `isConditionalCheckFailed`, never with `instanceof`.
 */
export interface Documents {
  get(input: GetCommandInput): Promise<GetCommandOutput>;
  put(input: PutCommandInput): Promise<PutCommandOutput>;
  update(input: UpdateCommandInput): Promise<UpdateCommandOutput>;
  delete(input: DeleteCommandInput): Promise<DeleteCommandOutput>;
  query(input: QueryCommandInput): Promise<QueryCommandOutput>;
  scan(input: ScanCommandInput): Promise<ScanCommandOutput>;
  batchGet(input: BatchGetCommandInput): Promise<BatchGetCommandOutput>;
  batchWrite(input: BatchWriteCommandInput): Promise<BatchWriteCommandOutput>;
  transactWrite(input: TransactWriteCommandInput): Promise<TransactWriteCommandOutput>;
}

/** Whether a call failed on its condition (a `ConditionExpression` that did not hold). */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}
