/** A store the ledger needs in order to serve: `check` resolves when it answers and throws when it does not. */
export interface HealthProbe {
  check(): Promise<void>;
}

export type ProbeState = 'ok' | 'unreachable';

export interface HealthReport<Name extends string> {
  readonly healthy: boolean;
  readonly checks: Readonly<Record<Name, ProbeState>>;
}

/**
 * GET /healthz: asks every probe at once. One that throws is `unreachable`, and `onFailure` hears why (for
 * the operators' logs; the answer itself names only what failed).
 */
export async function checkHealth<Name extends string>(
  probes: Readonly<Record<Name, HealthProbe>>,
  onFailure: (name: Name, error: unknown) => void,
): Promise<HealthReport<Name>> {
  const names = Object.keys(probes) as Name[];
  const states = await Promise.all(
    names.map(async (name): Promise<ProbeState> => {
      try {
        await probes[name].check();
        return 'ok';
      } catch (error) {
        onFailure(name, error);
        return 'unreachable';
      }
    }),
  );
  const checks = Object.fromEntries(names.map((name, i) => [name, states[i]])) as Record<Name, ProbeState>;
  return { healthy: states.every((state) => state === 'ok'), checks };
}
