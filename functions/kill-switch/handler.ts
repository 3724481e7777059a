import { httpHandler } from '../commons/handlers.ts';
import { flagWriterFromEnvironment } from '../commons/kill-switch.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { makeKillSwitchHandler } from './make-handler.ts';

export const handler = httpHandler(
  makeKillSwitchHandler({ writer: flagWriterFromEnvironment(), registry: registryFromEnvironment() }),
);
