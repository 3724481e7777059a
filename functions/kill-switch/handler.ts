import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { httpErrorBoundary } from '../commons/http.ts';
import { flagWriterFromEnvironment } from '../commons/kill-switch.ts';
import { logger, tracer } from '../commons/powertools.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { makeKillSwitchHandler } from './make-handler.ts';

const writer = flagWriterFromEnvironment();

// Read from AppConfig per invocation, through a cache shared by the container's invocations.
const registry = registryFromEnvironment();

export const handler = middy()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(httpErrorBoundary())
  .handler(makeKillSwitchHandler({ writer, registry }));
