// What must commit with every alert change, wherever it is made (the server,
// or the CLI working on the database while the server is stopped): the
// notifications' outbox rows, and the start of escalation for an alert that
// opens. Built in one place so no path can change an alert without them.

import { prefetchPolicy, startEscalation } from "../escalation/service.ts";
import { enqueueTransition, prefetchRouting, type EnqueueDeps } from "../notify/enqueue.ts";
import type { AlertBus } from "./bus.ts";

export function attachTransitionHooks(bus: AlertBus, deps: EnqueueDeps): AlertBus {
  bus.inTransaction.push((tx, t) => enqueueTransition(deps, tx, t).then(() => {}));
  bus.inTransaction.push(startEscalation);
  bus.prefetch.push(prefetchRouting, prefetchPolicy);
  return bus;
}
