import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { makeDocumentClient, makeDynamoDbClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { requiredEnv } from '../commons/environment.ts';
import { logger } from '../commons/powertools.ts';
import { makeTokenAuthorizer } from './make-handler.ts';

const tableName = requiredEnv('LEDGER_TABLE_NAME');
const documents = makeDocumentClient(makeDynamoDbClient());

export const handler = middy<APIGatewayTokenAuthorizerEvent, APIGatewayAuthorizerResult>()
  .use(injectLambdaContext(logger))
  .handler(
    makeTokenAuthorizer({
      tokens: new DynamoDbAccessStore(documents, tableName),
    }),
  );
