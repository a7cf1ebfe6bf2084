// Alerts as people handle them: the inbox (filters, pagination), one alert
// with its timeline, and the actions — acknowledge, close, silence — one at a
// time or in bulk. Every action is an alert event and goes out on the bus.

import type { Db } from "../db/db.ts";
import { withTenant } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import { requirePermission, type Ctx } from "../lib/ctx.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { publishCommitted, publishInTx, type AlertBus } from "./bus.ts";
import { acknowledge, close, silence, type Transition } from "./lifecycle.ts";
import { countActive, findAlert, listAlertEvents, listAlerts, lockAlert, type AlertEventRow, type AlertFilter, type AlertRow } from "./store.ts";

export interface AlertDeps {
  db: Db;
  clock: Clock;
  bus: AlertBus;
  onError: (err: unknown) => void;
}

export async function listTenantAlerts(deps: Pick<AlertDeps, "db">, ctx: Ctx, filter: AlertFilter): Promise<AlertRow[]> {
  requirePermission(ctx, "read", "see alerts");
  return withTenant(deps.db, ctx, (tx) => listAlerts(tx, filter));
}

export async function getAlertWithTimeline(deps: Pick<AlertDeps, "db">, ctx: Ctx, id: string): Promise<{ alert: AlertRow; timeline: AlertEventRow[] }> {
  requirePermission(ctx, "read", "see alerts");
  return withTenant(deps.db, ctx, async (tx) => {
    const alert = await findAlert(tx, id);
    if (!alert) throw notFound(`alert ${id}`);
    return { alert, timeline: await listAlertEvents(tx, id) };
  });
}

/** Open and acknowledged alerts counted by severity, for KPI strips. */
export async function activeAlertCounts(deps: Pick<AlertDeps, "db">, ctx: Ctx): Promise<Record<string, { open: number; acknowledged: number }>> {
  requirePermission(ctx, "read", "see alerts");
  const rows = await withTenant(deps.db, ctx, (tx) => countActive(tx));
  const out: Record<string, { open: number; acknowledged: number }> = {};
  for (const r of rows) {
    const c = (out[r.severity] ??= { open: 0, acknowledged: 0 });
    if (r.status === "OPEN") c.open += r.n;
    else c.acknowledged += r.n;
  }
  return out;
}

export type AlertAction = { kind: "acknowledge"; note?: string } | { kind: "close"; reason?: string } | { kind: "silence"; until: Date | null };

/** Apply an action to several alerts in one transaction; returns the alerts after it (unchanged ones too). */
export async function actOnAlerts(deps: AlertDeps, ctx: Ctx, ids: string[], action: AlertAction): Promise<AlertRow[]> {
  requirePermission(ctx, "use", `${action.kind} alerts`);
  if (ids.length === 0 || ids.length > 500) throw invalid("ids", "ids: 1 to 500 alert ids");
  const now = deps.clock.now();
  // An unreadable time (the bulk route takes any string) is refused here rather than by the database.
  if (action.kind === "silence" && action.until && Number.isNaN(action.until.getTime())) throw invalid("until", "until: an ISO-8601 time");
  if (action.kind === "silence" && action.until && action.until <= now) throw invalid("until", "until: must be in the future");
  const transitions: Transition[] = [];
  const result = await withTenant(deps.db, ctx, async (tx) => {
    const out: AlertRow[] = [];
    for (const id of [...new Set(ids)]) {
      const alert = await lockAlert(tx, id);
      if (!alert) throw notFound(`alert ${id}`);
      const t =
        action.kind === "acknowledge"
          ? await acknowledge(tx, alert, ctx.actor, now, action.note)
          : action.kind === "close"
            ? await close(tx, alert, ctx.actor, now, action.reason)
            : await silence(tx, alert, ctx.actor, now, action.until);
      if (t) {
        await publishInTx(deps.bus, tx, t);
        transitions.push(t);
      }
      out.push(t?.alert ?? alert);
    }
    return out;
  });
  publishCommitted(deps.bus, transitions, deps.onError);
  return result;
}
