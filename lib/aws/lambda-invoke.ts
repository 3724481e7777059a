import { type AwsClientOptions, type AwsService, parseJsonError, sendAwsCall } from './aws-request.ts';

const LAMBDA: AwsService = { signingName: 'lambda', endpointId: 'LAMBDA', hostPrefix: 'lambda' };

/**
 * Lambda's Invoke with `InvocationType: Event` on `fetch` (its REST API): queues `payload` for the function
 * and answers once Lambda has accepted it (202), without waiting for the run. Lambda then retries a failed
 * run twice and dead-letters it, as for any asynchronous invocation.
 */
export function fetchAsyncInvoker(
  functionName: string,
  options: AwsClientOptions = {},
): (payload: unknown) => Promise<void> {
  const path = `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
  return async (payload) => {
    await sendAwsCall(
      LAMBDA,
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'Event' },
        body: JSON.stringify(payload),
      },
      parseJsonError,
      options,
    );
  };
}
