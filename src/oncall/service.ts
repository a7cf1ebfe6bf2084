// On-call schedules as people edit them: schedules (a name and a time
// zone), their layers and overrides. Edits apply from now on and never
// rewrite the past: changing a layer closes its current version and adds a
// new one, removing it closes it; overrides that already ended stay, one in
// progress is cut short. Who is on call is computed in calendar.ts.

import { recordAuditIn } from "../audit/service.ts";
import type { Db, Sql } from "../db/db.ts";
import { withTenant } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import { requirePermission, type Ctx } from "../lib/ctx.ts";
import { conflict, invalid, notFound } from "../lib/errors.ts";
import { requireText, requireTimeZone } from "../lib/validate.ts";
import { checkInstant, checkLayer, localToday, type LayerInput } from "./check.ts";
import { handoffDstNotes, type LayerVersion, type Override } from "./resolve.ts";
import {
  closeLayer,
  countLayers,
  deleteOverride,
  deleteSchedule,
  endOverride,
  findCurrentLayer,
  findMembers,
  findOverride,
  findSchedule,
  findScheduleByName,
  insertLayerVersion,
  insertOverride,
  insertSchedule,
  isUuid,
  listCurrentLayers,
  listLayerVersions,
  listOverrides,
  listSchedules,
  policiesUsingSchedule,
  updateSchedule,
  type LayerRow,
  type OverrideRow,
  type ScheduleRow,
} from "./store.ts";

export interface OnCallDeps {
  db: Db;
  clock: Clock;
}

export type { LayerRow, OverrideRow, ScheduleRow };

const audit = (tx: Sql, deps: OnCallDeps, ctx: Ctx, action: string, id: string, details: Record<string, unknown> = {}) =>
  recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action, target: { kind: "oncall_schedule", id }, ip: ctx.ip, requestId: ctx.requestId, details });

/** The resolver's view of a layer version row. */
export function toLayerVersion(r: LayerRow): LayerVersion {
  return {
    id: r.id,
    layerId: r.layer_id,
    name: r.name,
    position: r.position,
    rotation: r.rotation,
    lengthHours: r.length_hours,
    handoffTime: r.handoff_time,
    handoffWeekday: r.handoff_weekday,
    startDate: r.start_date,
    users: r.users,
    restrictions: r.restrictions,
    effectiveFrom: r.effective_from,
    effectiveUntil: r.effective_until,
  };
}

export function toOverride(r: OverrideRow): Override {
  return { id: r.id, userId: r.user_id, startsAt: r.starts_at, endsAt: r.ends_at, createdAt: r.created_at };
}

/** Layers and overrides of schedules that matter in [from, to), grouped by schedule (inside a transaction). */
export async function loadSchedulesIn(tx: Sql, scheduleIds: string[], from: Date, to: Date): Promise<Map<string, { layers: LayerVersion[]; overrides: Override[] }>> {
  const out = new Map(scheduleIds.map((id) => [id, { layers: [] as LayerVersion[], overrides: [] as Override[] }]));
  if (!scheduleIds.length) return out;
  for (const r of await listLayerVersions(tx, scheduleIds, { from, to })) out.get(r.schedule_id)?.layers.push(toLayerVersion(r));
  for (const r of await listOverrides(tx, scheduleIds, from, to)) out.get(r.schedule_id)?.overrides.push(toOverride(r));
  return out;
}

/** A schedule by id or (case-insensitive) name, in a transaction of the tenant. */
export async function scheduleIn(tx: Sql, idOrName: string): Promise<ScheduleRow> {
  const s = isUuid(idOrName) ? await findSchedule(tx, idOrName) : await findScheduleByName(tx, idOrName);
  if (!s) throw notFound(`schedule ${idOrName}`);
  return s;
}

/** Refuse people who are not (active) members of the tenant, naming the field. */
async function requireMembers(tx: Sql, tenantId: string, field: string, ids: string[]): Promise<void> {
  const found = new Set((await findMembers(tx, tenantId, ids)).map((u) => u.id));
  const missing = ids.find((id) => !found.has(id));
  if (missing) throw invalid(field, `${field}: ${missing} is not an active member of this tenant`);
}

// Schedules

export async function listOnCallSchedules(deps: OnCallDeps, ctx: Ctx): Promise<ScheduleRow[]> {
  requirePermission(ctx, "read", "see on-call schedules");
  return withTenant(deps.db, ctx, (tx) => listSchedules(tx));
}

export async function getOnCallSchedule(deps: OnCallDeps, ctx: Ctx, idOrName: string): Promise<ScheduleRow & { layers: LayerRow[] }> {
  requirePermission(ctx, "read", "see on-call schedules");
  return withTenant(deps.db, ctx, async (tx) => {
    const s = await scheduleIn(tx, idOrName);
    return { ...s, layers: await listCurrentLayers(tx, s.id) };
  });
}

/** Create a schedule: a name and the IANA zone its wall-clock times are in. */
export async function createOnCallSchedule(deps: OnCallDeps, ctx: Ctx, input: { name?: unknown; timezone?: unknown }): Promise<ScheduleRow> {
  requirePermission(ctx, "admin", "create on-call schedules");
  const name = requireText("name", input.name);
  const timezone = requireTimeZone("timezone", input.timezone);
  return withTenant(deps.db, ctx, async (tx) => {
    const row = await insertSchedule(tx, { tenantId: ctx.tenantId, name, timezone, by: ctx.actor.name, now: deps.clock.now() });
    if (!row) throw conflict(`a schedule named ${name} exists`, "name");
    await audit(tx, deps, ctx, "oncall.schedule_created", row.id, { name, timezone });
    return row;
  });
}

/** Rename a schedule; its zone changes only while it has no layers (or the past would be read in another zone). */
export async function updateOnCallSchedule(deps: OnCallDeps, ctx: Ctx, id: string, input: { name?: unknown; timezone?: unknown }): Promise<ScheduleRow> {
  requirePermission(ctx, "admin", "change on-call schedules");
  return withTenant(deps.db, ctx, async (tx) => {
    const s = await scheduleIn(tx, id);
    const name = input.name === undefined ? s.name : requireText("name", input.name);
    const timezone = input.timezone === undefined ? s.timezone : requireTimeZone("timezone", input.timezone);
    if (timezone !== s.timezone && (await countLayers(tx, s.id)) > 0) {
      throw invalid("timezone", "timezone: cannot change once the schedule has layers (past shifts would move); create a new schedule in the new zone");
    }
    if (name.toLowerCase() !== s.name.toLowerCase() && (await findScheduleByName(tx, name))) throw conflict(`a schedule named ${name} exists`, "name");
    const row = (await updateSchedule(tx, s.id, { name, timezone }, deps.clock.now()))!;
    await audit(tx, deps, ctx, "oncall.schedule_updated", s.id, { name, timezone });
    return row;
  });
}

/** Delete a schedule unless an escalation policy pages it. */
export async function deleteOnCallSchedule(deps: OnCallDeps, ctx: Ctx, id: string): Promise<void> {
  requirePermission(ctx, "admin", "delete on-call schedules");
  await withTenant(deps.db, ctx, async (tx) => {
    const s = await scheduleIn(tx, id);
    const users = await policiesUsingSchedule(tx, s.id);
    if (users.length) throw conflict(`schedule ${s.name} is paged by escalation policies: ${users.join(", ")}; remove it from them first`);
    await deleteSchedule(tx, s.id);
    await audit(tx, deps, ctx, "oncall.schedule_deleted", s.id, { name: s.name });
  });
}

// Layers

/** Current layers (history: every version, oldest first). */
export async function listScheduleLayers(deps: OnCallDeps, ctx: Ctx, scheduleId: string, opts: { history?: boolean } = {}): Promise<LayerRow[]> {
  requirePermission(ctx, "read", "see on-call schedules");
  return withTenant(deps.db, ctx, async (tx) => {
    const s = await scheduleIn(tx, scheduleId);
    return opts.history ? listLayerVersions(tx, [s.id]) : listCurrentLayers(tx, s.id);
  });
}

export interface SavedLayer {
  layer: LayerRow;
  /** DST facts about the handoff in the coming year (a time that is skipped or happens twice). */
  warnings: string[];
}

/** Add a layer, effective now. */
export async function addScheduleLayer(deps: OnCallDeps, ctx: Ctx, scheduleId: string, input: LayerInput): Promise<SavedLayer> {
  requirePermission(ctx, "admin", "change on-call schedules");
  const now = deps.clock.now();
  return withTenant(deps.db, ctx, async (tx) => {
    const s = await scheduleIn(tx, scheduleId);
    const current = await listCurrentLayers(tx, s.id);
    const fields = checkLayer(input, { timezone: s.timezone, today: localToday(now, s.timezone), nextPosition: Math.max(0, ...current.map((l) => l.position + 1)) });
    await requireMembers(tx, ctx.tenantId, "users", fields.users);
    const layer = await insertLayerVersion(tx, { ...fields, layerId: null, tenantId: ctx.tenantId, scheduleId: s.id, from: now, by: ctx.actor.name });
    await audit(tx, deps, ctx, "oncall.layer_added", s.id, { layer_id: layer.layer_id, name: layer.name });
    return { layer, warnings: handoffDstNotes(s.timezone, toLayerVersion(layer), now, 366) };
  });
}

/** Change a layer from now on: its current version ends now and a new one starts (fields not given keep their values). */
export async function updateScheduleLayer(deps: OnCallDeps, ctx: Ctx, scheduleId: string, layerId: string, input: LayerInput): Promise<SavedLayer> {
  requirePermission(ctx, "admin", "change on-call schedules");
  const now = deps.clock.now();
  return withTenant(deps.db, ctx, async (tx) => {
    const s = await scheduleIn(tx, scheduleId);
    const cur = await findCurrentLayer(tx, s.id, layerId);
    if (!cur) throw notFound(`layer ${layerId}`);
    const fields = checkLayer(input, { timezone: s.timezone, current: cur, today: localToday(now, s.timezone), nextPosition: cur.position });
    await requireMembers(tx, ctx.tenantId, "users", fields.users.filter((u) => !cur.users.includes(u)));
    await closeLayer(tx, s.id, cur.layer_id, now);
    const layer = await insertLayerVersion(tx, { ...fields, layerId: cur.layer_id, tenantId: ctx.tenantId, scheduleId: s.id, from: now, by: ctx.actor.name });
    await audit(tx, deps, ctx, "oncall.layer_changed", s.id, { layer_id: layer.layer_id, name: layer.name });
    return { layer, warnings: handoffDstNotes(s.timezone, toLayerVersion(layer), now, 366) };
  });
}

/** Remove a layer from now on (its past shifts stay in the timeline). */
export async function removeScheduleLayer(deps: OnCallDeps, ctx: Ctx, scheduleId: string, layerId: string): Promise<void> {
  requirePermission(ctx, "admin", "change on-call schedules");
  await withTenant(deps.db, ctx, async (tx) => {
    const s = await scheduleIn(tx, scheduleId);
    const closed = await closeLayer(tx, s.id, layerId, deps.clock.now());
    if (!closed) throw notFound(`layer ${layerId}`);
    await audit(tx, deps, ctx, "oncall.layer_removed", s.id, { layer_id: layerId, name: closed.name });
  });
}

// Overrides

/** Overrides overlapping [from, to) (default: from now on). */
export async function listScheduleOverrides(deps: OnCallDeps, ctx: Ctx, scheduleId: string, range: { from?: Date; to?: Date } = {}): Promise<OverrideRow[]> {
  requirePermission(ctx, "read", "see on-call schedules");
  const from = range.from ?? deps.clock.now();
  const to = range.to ?? new Date(from.getTime() + 366 * 86_400_000);
  return withTenant(deps.db, ctx, async (tx) => listOverrides(tx, [(await scheduleIn(tx, scheduleId)).id], from, to));
}

export interface OverrideInput {
  user_id?: unknown;
  starts_at?: unknown;
  ends_at?: unknown;
  /** "Take over for the next N hours": from now. */
  hours?: unknown;
  note?: unknown;
}

/**
 * Put someone on call over every layer for a while: from starts_at to
 * ends_at, or for the next `hours`. Anyone who may use the tenant can take
 * over themselves; tenant-admins can put anyone on call. The past cannot be
 * changed, so an override must not start before now.
 */
export async function addScheduleOverride(deps: OnCallDeps, ctx: Ctx, scheduleId: string, input: OverrideInput): Promise<OverrideRow> {
  requirePermission(ctx, "use", "take over on-call shifts");
  const now = deps.clock.now();
  return withTenant(deps.db, ctx, async (tx) => {
    const s = await scheduleIn(tx, scheduleId);
    const self = ctx.actor.kind === "user" ? ctx.actor.id : undefined;
    const userId = input.user_id ?? self;
    if (!isUuid(userId)) throw invalid("user_id", "user_id: who takes over (required for API keys, which are not people)");
    if (userId !== self) requirePermission(ctx, "admin", "put someone else on call");
    let startsAt: Date;
    let endsAt: Date;
    if (input.hours !== undefined) {
      if (typeof input.hours !== "number" || !Number.isFinite(input.hours) || input.hours <= 0 || input.hours > 720) throw invalid("hours", "hours: more than 0 and at most 720");
      if (input.starts_at !== undefined || input.ends_at !== undefined) throw invalid("hours", "hours: give either hours (from now) or starts_at and ends_at");
      startsAt = now;
      endsAt = new Date(now.getTime() + Math.round(input.hours * 3_600_000));
    } else {
      startsAt = checkInstant("starts_at", input.starts_at, s.timezone);
      endsAt = checkInstant("ends_at", input.ends_at, s.timezone);
      // A minute's grace for clocks and round trips; older starts would rewrite who was on call.
      if (startsAt.getTime() < now.getTime() - 60_000) throw invalid("starts_at", "starts_at: must not be in the past (who was on call is not rewritten); use hours to take over from now");
      if (startsAt < now) startsAt = now;
      if (endsAt <= startsAt) throw invalid("ends_at", "ends_at: must be after starts_at");
      if (endsAt.getTime() - startsAt.getTime() > 366 * 86_400_000) throw invalid("ends_at", "ends_at: at most a year after starts_at");
    }
    let note: string | null = null;
    if (input.note !== undefined && input.note !== null && input.note !== "") {
      if (typeof input.note !== "string" || input.note.length > 500) throw invalid("note", "note: at most 500 characters");
      note = input.note;
    }
    await requireMembers(tx, ctx.tenantId, "user_id", [userId]);
    const row = await insertOverride(tx, { tenantId: ctx.tenantId, scheduleId: s.id, userId, startsAt, endsAt, note, by: ctx.actor.name, now });
    await audit(tx, deps, ctx, "oncall.override_added", s.id, { override_id: row.id, user_id: userId, starts_at: startsAt.toISOString(), ends_at: endsAt.toISOString() });
    return row;
  });
}

/** Remove an override: a future one goes, one in progress ends now, one that ended stays (409). */
export async function removeScheduleOverride(deps: OnCallDeps, ctx: Ctx, scheduleId: string, overrideId: string): Promise<{ removed: boolean; override: OverrideRow | null }> {
  requirePermission(ctx, "use", "change on-call overrides");
  const now = deps.clock.now();
  return withTenant(deps.db, ctx, async (tx) => {
    const s = await scheduleIn(tx, scheduleId);
    const o = await findOverride(tx, s.id, overrideId);
    if (!o) throw notFound(`override ${overrideId}`);
    if (!(ctx.actor.kind === "user" && o.user_id === ctx.actor.id)) requirePermission(ctx, "admin", "change someone else's override");
    if (o.ends_at <= now) throw conflict("the override is over; past shifts are not rewritten");
    const inProgress = o.starts_at <= now;
    const result = inProgress ? { removed: false, override: await endOverride(tx, o.id, now) } : (await deleteOverride(tx, o.id), { removed: true, override: null });
    await audit(tx, deps, ctx, inProgress ? "oncall.override_ended" : "oncall.override_removed", s.id, { override_id: o.id, user_id: o.user_id });
    return result;
  });
}
