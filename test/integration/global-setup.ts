import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startStackProcess, stopStackProcess } from '../support/local-stack-process.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    localStack: {
      api: string;
      dynamodb: string;
      s3: string;
      appconfig: string;
      dataDir: string;
      token: string;
    };
  }
}

/** One local stack for the whole integration run, started the way `npm start` starts it. */
export default async function setup(project: TestProject) {
  const stack = await startStackProcess();
  project.provide('localStack', { ...stack.endpoints, dataDir: stack.dataDir, token: stack.token });
  return async () => {
    await stopStackProcess(stack);
    rmSync(stack.dataDir, { recursive: true, force: true });
  };
}
