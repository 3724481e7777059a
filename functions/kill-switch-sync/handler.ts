import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { eventHandler } from '../commons/handlers.ts';
import { flagWriterFromEnvironment } from '../commons/kill-switch.ts';
import { makeKillSwitchSync } from './make-handler.ts';

export const handler = eventHandler<CloudFormationCustomResourceEvent, unknown>(
  makeKillSwitchSync({ writer: flagWriterFromEnvironment() }),
);
