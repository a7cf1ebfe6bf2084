// One alert transaction: the (rule, device) states judged, the alert changes
// they set off, and what must commit with each change (the bus's hooks: outbox
// rows, escalation; a live NOTIFY). Run by the engine on the main thread, or
// on Postgres by the alert writer thread (write-thread.ts), which hands the
// transitions back for the listeners after commit.

import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import { settleAll } from "../lib/settle.ts";
import { prefetchInTx, publishInTx, type AlertBus } from "./bus.ts";
import { runAction, type AlertAction, type Transition } from "./lifecycle.ts";
import { saveStates, type StateRow } from "./store.ts";

/** A (rule, device) state to write through to rule_state. */
export type StateChange = StateRow & { last_value: unknown; last_at: Date };

/** Writes the states and makes the changes, committing them together (nothing published after commit here). */
export type ApplyChanges = (states: StateChange[], actions: AlertAction[]) => Promise<Transition[]>;

/**
 * Changes to different alerts go out together, pipelined on the transaction's
 * connection, rather than one query after another: under load each round trip
 * also waits for a busy event loop. Changes to one alert (fingerprint) stay in
 * order.
 */
export function applyChanges(db: Db, bus: AlertBus, states: StateChange[], actions: AlertAction[]): Promise<Transition[]> {
  return withSystem(db, async (tx) => {
    const groups = new Map<string, number[]>();
    actions.forEach((a, i) => {
      const g = groups.get(a.fingerprint);
      if (g) g.push(i);
      else groups.set(a.fingerprint, [i]);
    });
    const results: Array<Transition | undefined> = new Array(actions.length);
    // Sent behind the changes' first statements, in the same round trip.
    queueMicrotask(() => {
      for (const a of actions) prefetchInTx(bus, tx, a.subject);
    });
    await settleAll([
      saveStates(tx, states),
      ...[...groups.values()].map(async (g) => {
        for (const i of g) {
          const t = await runAction(tx, actions[i]!);
          if (t) {
            await publishInTx(bus, tx, t);
            results[i] = t;
          }
        }
      }),
    ]);
    return results.filter((t): t is Transition => t !== undefined);
  });
}
