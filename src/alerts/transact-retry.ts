// An alert transaction that failed because its connection went away (a
// Postgres restart or failover, a terminated backend, a reset socket) is run
// again: otherwise the crossing it held would wait for the device's next
// message, perhaps an hour away. Safe even when the connection died during
// COMMIT and it did commit: raising an open alert again counts a repeat (which
// notifies nobody), resolving a closed one does nothing, and the states are
// upserts. Any other failure is the caller's (the engine reloads the tenant's
// state from the database).

import { isTransientDbError } from "../db/transient.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { ApplyChanges } from "./apply.ts";

/** Waits before each new try; after the last, the failure stands. */
const RETRY_DELAYS_MS = [20, 200, 1_000];

export function retryOnLostConnection(transact: ApplyChanges, deps: { metrics: Metrics; log: Logger }): ApplyChanges {
  const retries = deps.metrics.counter("pulse_alert_write_retries_total", "Alert transactions run again after their database connection went away.");
  return async (states, actions) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await transact(states, actions);
      } catch (err) {
        if (attempt >= RETRY_DELAYS_MS.length || !isTransientDbError(err)) throw err;
        retries.inc();
        deps.log.warn("alerts: an alert transaction lost its connection; trying again", { attempt: attempt + 1, error: err });
        await Bun.sleep(RETRY_DELAYS_MS[attempt]!);
      }
    }
  };
}
