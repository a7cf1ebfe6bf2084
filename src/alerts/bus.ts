// Alert transitions out: an in-process bus (notifications and escalation
// subscribe) and a NOTIFY for other nodes' live views. Consumers that must
// not lose a transition (notifications) hook into the transaction itself
// through `inTransaction`, so their rows commit with the alert change.

import { notifyChange } from "../db/bus.ts";
import type { Sql } from "../db/db.ts";
import { settleAll } from "../lib/settle.ts";
import type { Transition } from "./lifecycle.ts";
import { LIVE_CHANNEL, type LiveEvent } from "../live/hub.ts";

export type TransitionHook = (tx: Sql, t: Transition) => Promise<void>;

/** What an alert change is about, known before it is made. */
export interface AlertSubject {
  tenantId: string;
  deviceId: string;
  ruleId: string | null;
  /** A raise may open or re-open the alert; a resolve closes or clears it. */
  change: "raise" | "resolve";
}

/** Starts, in the transaction, the reads a hook will make for such a change (see db/tx-memo.ts); must not throw. */
export type TransitionPrefetch = (tx: Sql, s: AlertSubject) => void;

export interface AlertBus {
  /** Run inside the transaction that made the change (write outbox rows here). */
  inTransaction: TransitionHook[];
  /** The hooks' reads, started with the change (the engine calls these). */
  prefetch: TransitionPrefetch[];
  /** Called after commit, in-process. */
  afterCommit: Array<(t: Transition) => void>;
}

export function createAlertBus(): AlertBus {
  return { inTransaction: [], prefetch: [], afterCommit: [] };
}

/**
 * Inside the transaction: the hooks, and a live event for every node (NOTIFY
 * is sent at commit). They run side by side, their statements pipelined on
 * the transaction's connection: one round trip for all their first reads
 * rather than one each. So a hook must not depend on another's writes, and
 * must take what it needs of `t.alert` before its first await (a hook may
 * update the alert in place for the listeners after commit).
 */
export async function publishInTx(bus: AlertBus, tx: Sql, t: Transition): Promise<void> {
  const e: LiveEvent = { type: "alerts.changed", tenantId: t.alert.tenant_id, data: { alert_id: t.alert.id, kind: t.kind, severity: t.alert.severity } };
  await settleAll([notifyChange(tx, LIVE_CHANNEL, JSON.stringify(e)), ...bus.inTransaction.map((hook) => hook(tx, t))]);
}

/** Start the hooks' reads for a change about to be made in tx. */
export function prefetchInTx(bus: AlertBus, tx: Sql, s: AlertSubject): void {
  for (const p of bus.prefetch) p(tx, s);
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
