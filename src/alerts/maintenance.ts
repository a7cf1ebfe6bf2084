// Maintenance windows: one-off or recurring (daily, or weekly on given days,
// at a wall-clock time in a time zone) over sites, tags or devices. Alerts
// raised inside one are recorded, marked suppressed, and not notified.

import { recordAuditIn } from "../audit/service.ts";
import { notifyChange } from "../db/bus.ts";
import type { Db } from "../db/db.ts";
import { withTenant } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import { requirePermission, type Ctx } from "../lib/ctx.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { isTimeZone, requireText } from "../lib/validate.ts";
import { RULES_CHANNEL } from "./engine.ts";
import { checkScope } from "./rules.ts";
import { deleteWindow, insertWindow, listWindows, updateWindow, type WindowFields, type WindowRow } from "./windows-store.ts";
import { occurrenceAt, WEEKDAY_CODES, type Recurrence, type WeekdayCode } from "./windows.ts";

export interface WindowInput {
  name?: unknown;
  scope?: unknown;
  startsAt?: unknown;
  endsAt?: unknown;
  recurrence?: unknown;
}

function time(field: string, v: unknown): Date {
  const d = typeof v === "string" || v instanceof Date ? new Date(v) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw invalid(field, `${field}: an ISO-8601 time`);
  return d;
}

export function checkWindow(input: WindowInput): WindowFields {
  const name = requireText("name", input.name);
  const startsAt = time("starts_at", input.startsAt);
  const endsAt = input.endsAt === undefined || input.endsAt === null || input.endsAt === "" ? null : time("ends_at", input.endsAt);
  if (endsAt && endsAt <= startsAt) throw invalid("ends_at", "ends_at: must be after starts_at");
  let recurrence: Recurrence | null = null;
  if (input.recurrence !== undefined && input.recurrence !== null) {
    const r = input.recurrence as Record<string, unknown>;
    if (r.freq !== "daily" && r.freq !== "weekly") throw invalid("recurrence.freq", "recurrence.freq: daily or weekly");
    if (typeof r.start !== "string" || !/^([01]\d|2[0-3]):[0-5]\d$/.test(r.start)) throw invalid("recurrence.start", "recurrence.start: a local time HH:MM");
    const minutes = r.duration_minutes ?? r.durationMinutes;
    if (typeof minutes !== "number" || !Number.isInteger(minutes) || minutes < 1 || minutes > 7 * 1440) throw invalid("recurrence.duration_minutes", "recurrence.duration_minutes: 1 to 10080");
    if (typeof r.timezone !== "string" || !isTimeZone(r.timezone)) throw invalid("recurrence.timezone", "recurrence.timezone: an IANA time zone");
    let days: WeekdayCode[] | undefined;
    if (r.freq === "weekly") {
      if (!Array.isArray(r.days) || r.days.length === 0 || r.days.some((d) => !WEEKDAY_CODES.includes(d as WeekdayCode))) throw invalid("recurrence.days", "recurrence.days: weekdays like [\"MO\", \"WE\"]");
      days = [...new Set(r.days as WeekdayCode[])];
    }
    recurrence = { freq: r.freq, ...(days ? { days } : {}), start: r.start, durationMinutes: minutes, timezone: r.timezone };
  } else if (!endsAt) {
    throw invalid("ends_at", "ends_at: a one-off window needs an end (or give a recurrence)");
  }
  return { name, scope: checkScope(input.scope), starts_at: startsAt, ends_at: endsAt, recurrence };
}

export interface MaintenanceWindow extends WindowRow {
  /** The occurrence running now, if any. */
  activeNow: { start: Date; end: Date | null } | null;
}

const withActive = (w: WindowRow, now: number): MaintenanceWindow => {
  const occ = occurrenceAt({ scope: w.scope, startsAt: w.starts_at.getTime(), endsAt: w.ends_at?.getTime() ?? null, recurrence: w.recurrence }, now);
  return { ...w, activeNow: occ ? { start: new Date(occ.start), end: Number.isFinite(occ.end) ? new Date(occ.end) : null } : null };
};

export async function listMaintenanceWindows(deps: { db: Db; clock: Clock }, ctx: Ctx, opts: { includeEnded?: boolean } = {}): Promise<MaintenanceWindow[]> {
  requirePermission(ctx, "read", "see maintenance windows");
  const now = deps.clock.now();
  const rows = await withTenant(deps.db, ctx, (tx) => listWindows(tx, { activeAfter: opts.includeEnded ? undefined : now }));
  return rows.map((w) => withActive(w, now.getTime()));
}

export async function saveMaintenanceWindow(deps: { db: Db; clock: Clock }, ctx: Ctx, id: string | undefined, input: WindowInput): Promise<MaintenanceWindow> {
  requirePermission(ctx, "use", "plan maintenance");
  const fields = checkWindow(input);
  const now = deps.clock.now();
  const row = await withTenant(deps.db, ctx, async (tx) => {
    const r = id ? await updateWindow(tx, id, fields, now) : await insertWindow(tx, ctx.tenantId, fields, ctx.actor.name, now);
    if (!r) throw notFound(`maintenance window ${id}`);
    // The engine caches windows with the rules.
    await notifyChange(tx, RULES_CHANNEL, ctx.tenantId);
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: id ? "maintenance.updated" : "maintenance.created", target: { kind: "maintenance_window", id: r.id }, ip: ctx.ip, requestId: ctx.requestId, details: { name: r.name } });
    return r;
  });
  return withActive(row, now.getTime());
}

export async function deleteMaintenanceWindow(deps: { db: Db; clock: Clock }, ctx: Ctx, id: string): Promise<void> {
  requirePermission(ctx, "use", "remove maintenance windows");
  await withTenant(deps.db, ctx, async (tx) => {
    if (!(await deleteWindow(tx, id))) throw notFound(`maintenance window ${id}`);
    await notifyChange(tx, RULES_CHANNEL, ctx.tenantId);
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "maintenance.deleted", target: { kind: "maintenance_window", id }, ip: ctx.ip, requestId: ctx.requestId });
  });
}
