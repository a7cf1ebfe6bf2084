// Alert transitions out: an in-process bus (notifications and escalation
// subscribe) and a NOTIFY for other nodes' live views. Consumers that must
// not lose a transition (notifications) hook into the transaction itself
// through `inTransaction`, so their rows commit with the alert change.

import { notifyChange } from "../db/bus.ts";
import type { Sql } from "../db/db.ts";
import type { Transition } from "./lifecycle.ts";
import { LIVE_CHANNEL, type LiveEvent } from "../live/hub.ts";

export type TransitionHook = (tx: Sql, t: Transition) => Promise<void>;

export interface AlertBus {
  /** Run inside the transaction that made the change (write outbox rows here). */
  inTransaction: TransitionHook[];
  /** Called after commit, in-process. */
  afterCommit: Array<(t: Transition) => void>;
}

export function createAlertBus(): AlertBus {
  return { inTransaction: [], afterCommit: [] };
}

/** Inside the transaction: hooks, then a live event for every node (NOTIFY is sent at commit). */
export async function publishInTx(bus: AlertBus, tx: Sql, t: Transition): Promise<void> {
  for (const hook of bus.inTransaction) await hook(tx, t);
  const e: LiveEvent = { type: "alerts.changed", tenantId: t.alert.tenant_id, data: { alert_id: t.alert.id, kind: t.kind, severity: t.alert.severity } };
  await notifyChange(tx, LIVE_CHANNEL, JSON.stringify(e));
}

/** After commit: in-process listeners. */
export function publishCommitted(bus: AlertBus, transitions: readonly Transition[], onError: (err: unknown) => void): void {
  for (const t of transitions) {
    for (const fn of bus.afterCommit) {
      try {
        fn(t);
      } catch (err) {
        onError(err);
      }
    }
  }
}
