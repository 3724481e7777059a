import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { afterAll, describe, expect, it } from 'vitest';
import { AppConfigFlagWriter } from '#lib/adapters/appconfig-flags.ts';
import { locateKillSwitch } from '#lib/adapters/appconfig-locate.ts';
import { LOCAL_ENVIRONMENT } from '#lib/kill-switch/names.ts';
import { isListening as listening } from '#local-stack/processes.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local-stack/settings.ts';
import { apiClient } from '../support/api.ts';
import { actionEvent } from '../support/events.ts';
import { startStackProcess, stopStackProcess } from '../support/local-stack-process.ts';

describe('npm start (its own stack, apart from the shared one)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-ledger-lifecycle-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stops every child process on Ctrl-C, and keeps data, dev token and paused lanes across restarts', async () => {
    // Prepare
    const first = await startStackProcess({ dataDir });
    const event = actionEvent();
    const posted = await apiClient(first.endpoints.api, first.token).postEvents({ events: [event] });
    expect(posted.status).toBe(202);
    const killSwitch = (endpoint: string) =>
      new AppConfigClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const location = await locateKillSwitch(killSwitch(first.endpoints.appconfig), LOCAL_ENVIRONMENT);
    if (!location) throw new Error('the local stack has no kill switch');
    await new AppConfigFlagWriter(killSwitch(first.endpoints.appconfig), location).setFlag('code-review', {
      enabled: false,
      reason: 'paused before a restart',
      changedBy: 'test',
    });
    const ports = [first.port, first.port + 1, first.port + 2, first.port + 3];
    expect(await Promise.all(ports.map(listening))).toEqual([true, true, true, true]);
    // It prints every endpoint it wrote to endpoints.json (SPEC "Two homes").
    for (const [name, url] of Object.entries(first.endpoints)) {
      expect(first.output()).toMatch(new RegExp(`^  ${name} +${url}`, 'm'));
    }

    // Act
    const exitCode = await stopStackProcess(first, 'SIGINT');
    const portsAfterStop = await Promise.all(ports.map(listening));
    const endpointsAfterStop = existsSync(join(dataDir, 'endpoints.json'));
    const second = await startStackProcess({ dataDir, port: first.port });
    const readBack = await apiClient(second.endpoints.api, second.token).getEvents('support-triage', {
      unitId: event.unitId as string,
    });
    const autonomyAfterRestart = await fetch(`${second.endpoints.api}/v1/workflows/code-review/autonomy`, {
      headers: { authorization: `Bearer ${second.token}` },
    }).then((response) => response.json());
    await stopStackProcess(second, 'SIGTERM');

    // Assess
    expect(exitCode).toBe(0);
    expect(portsAfterStop).toEqual([false, false, false, false]);
    expect(endpointsAfterStop).toBe(false);
    expect(second.token).toBe(first.token);
    expect(readFileSync(join(dataDir, 'dev-token'), 'utf8').trim()).toBe(first.token);
    expect(readBack.status).toBe(200);
    expect(readBack.body.items.map((item: { eventId: string }) => item.eventId)).toEqual([event.eventId]);
    expect(autonomyAfterRestart).toMatchObject({
      autonomousAllowed: false,
      reason: 'paused before a restart',
    });
  });

  it('says what is wrong when its port is taken', async () => {
    const holder = await startStackProcess();
    try {
      const clash = await startStackProcess({ port: holder.port }).then(
        () => 'started',
        (error: Error) => error.message,
      );
      expect(clash).toContain(`port ${holder.port}`);
      expect(clash).toContain('set PORT');
      expect(clash).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await stopStackProcess(holder);
    }
  });
});
