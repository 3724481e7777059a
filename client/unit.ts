import type { LedgerClient } from './ledger-client.ts';
import type { UnitActionInput, UnitEventFields } from './types.ts';

/** One unit of value (a ticket, a pull request) of one workflow: its lifecycle events and its actions. */
export class UnitHandle {
  private started = false;

  constructor(
    private readonly client: LedgerClient,
    readonly workflowId: string,
    readonly unitId: string,
  ) {}

  /** Logs `unit.started` (once per handle; later calls return undefined). */
  start(fields: UnitEventFields = {}): string | undefined {
    if (this.started) return undefined;
    this.started = true;
    return this.client.log({ ...fields, type: 'unit.started', ...this.ids() });
  }

  /** Logs an `action` of this unit. */
  action(action: UnitActionInput): string {
    return this.client.log({ ...action, type: 'action', ...this.ids() });
  }

  /** Logs `unit.completed`. */
  completed(outcome?: string, fields: UnitEventFields = {}): string {
    return this.client.log({
      ...fields,
      type: 'unit.completed',
      ...this.ids(),
      ...(outcome === undefined ? {} : { outcome }),
    });
  }

  /** Logs `unit.escalated`: routed to a human after an agent attempt. */
  escalated(reason: string, fields: UnitEventFields = {}): string {
    return this.client.log({ ...fields, type: 'unit.escalated', ...this.ids(), reason });
  }

  private ids() {
    return { workflowId: this.workflowId, unitId: this.unitId };
  }
}
