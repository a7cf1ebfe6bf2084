// Routing an alert change into the outbox, inside the transaction that made
// the change: if the process dies between the two, neither happened. A
// throttle per (channel, alert fingerprint) keeps a flapping alert from
// paging twice within the route's window.

import type { AlertSubject } from "../alerts/bus.ts";
import type { Transition } from "../alerts/lifecycle.ts";
import { notifyChange } from "../db/bus.ts";
import type { Sql } from "../db/db.ts";
import { txMemo } from "../db/tx-memo.ts";
import { settleAll } from "../lib/settle.ts";
import { buildEvent, messageId } from "./event.ts";
import { routeMatches, routedEvent } from "./routing.ts";
import { alertContext, claimThrottle, insertOutbox, listRoutes } from "./store.ts";

export interface EnqueueDeps {
  publicUrl: () => string;
  /** How long a notification is retried before it goes to the dead letters. */
  retryHorizonSeconds: number;
}

export const OUTBOX_CHANNEL = "pulse_outbox";

const routesOf = (tx: Sql, tenantId: string) => txMemo(tx, `notify.routes:${tenantId}`, () => listRoutes(tx, tenantId));
const contextOf = (tx: Sql, tenantId: string, deviceId: string, ruleId: string | null) =>
  txMemo(tx, `notify.context:${tenantId}:${deviceId}:${ruleId ?? ""}`, () => alertContext(tx, tenantId, deviceId, ruleId));

/** The reads enqueueTransition makes, started early (a TransitionPrefetch). */
export function prefetchRouting(tx: Sql, s: AlertSubject): void {
  void routesOf(tx, s.tenantId);
  void contextOf(tx, s.tenantId, s.deviceId, s.ruleId);
}

/** Write the outbox rows for one transition (a TransitionHook). Returns how many. */
export async function enqueueTransition(deps: EnqueueDeps, tx: Sql, t: Transition): Promise<number> {
  const event = routedEvent(t.kind);
  if (!event) return 0;
  // The alert as the change left it: the escalation hook, running beside this
  // one, updates t.alert in place once it has started escalating.
  const a = { ...t.alert };
  // Looked up together (pipelined): this runs inside the alert's transaction,
  // where every round trip counts; the context is wasted only for a tenant
  // without routes.
  const [allRoutes, context] = await settleAll([routesOf(tx, a.tenant_id), contextOf(tx, a.tenant_id, a.device_id, a.rule_id)]);
  const routes = allRoutes.filter((r) => r.channel_enabled);
  if (!routes.length) return 0;
  const device = context.deviceTags ? { tags: context.deviceTags } : undefined;
  const at = t.at.getTime();
  const channels = new Set<string>();
  // The rows go out one behind the other without waiting for each answer; all
  // are awaited before the transaction may commit.
  const writes: Promise<unknown>[] = [];
  for (const route of routes) {
    // Several routes to one channel send once.
    if (channels.has(route.channel_id) || !routeMatches(route, a, event, device, at)) continue;
    if (event === "triggered" && route.throttle_seconds > 0 && !(await claimThrottle(tx, a.tenant_id, route.channel_id, a.fingerprint, t.at, route.throttle_seconds))) continue;
    channels.add(route.channel_id);
    const id = messageId([a.id, event, String(a.trigger_count), a.status, t.at.toISOString(), route.channel_id]);
    writes.push(
      insertOutbox(tx, {
        tenantId: a.tenant_id,
        channelId: route.channel_id,
        alertId: a.id,
        event: `alert.${event}`,
        key: id,
        payload: buildEvent({ id, type: `alert.${event}`, at: t.at, tenantName: context.tenantName ?? a.tenant_id, alert: a, ruleName: context.ruleName, publicUrl: deps.publicUrl() }),
        now: t.at,
        giveUpAt: new Date(at + deps.retryHorizonSeconds * 1000),
      }),
    );
  }
  const n = writes.length;
  if (n) writes.push(notifyChange(tx, OUTBOX_CHANNEL, ""));
  await settleAll(writes);
  return n;
}
