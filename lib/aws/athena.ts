import { randomUUID } from 'node:crypto';
import type { AthenaQueries } from '#lib/adapters/athena-archived-events.ts';
import type { AwsClientOptions } from './aws-request.ts';
import { ATHENA, callJson } from './json-service.ts';

/** The four Athena operations the archive reader uses, on `fetch` (Athena's JSON API). */
export function fetchAthena(options: AwsClientOptions = {}): AthenaQueries {
  return {
    // A token per query, as the SDK fills it in: a retried start does not start the query twice.
    startQueryExecution: (input) =>
      callJson(
        ATHENA,
        'StartQueryExecution',
        { ...input, ClientRequestToken: input.ClientRequestToken ?? randomUUID() },
        options,
      ),
    getQueryExecution: (input) => callJson(ATHENA, 'GetQueryExecution', input, options),
    getQueryResults: (input) => callJson(ATHENA, 'GetQueryResults', input, options),
    stopQueryExecution: (input) => callJson(ATHENA, 'StopQueryExecution', input, options),
  };
}
