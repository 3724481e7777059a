import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { flagWriterFromEnvironment } from '../commons/kill-switch.ts';
import { logger } from '../commons/powertools.ts';
import { makeKillSwitchSync } from './make-handler.ts';

export const handler = middy<CloudFormationCustomResourceEvent>()
  .use(injectLambdaContext(logger))
  .handler(makeKillSwitchSync({ writer: flagWriterFromEnvironment() }));
