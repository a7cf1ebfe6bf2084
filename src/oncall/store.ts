// SQL for on-call schedules, their layer versions and overrides.
// Contact methods are in contacts-store.ts.

import type { Sql } from "../db/db.ts";
import type { Restriction, RotationKind, Weekday } from "./resolve.ts";

export function isUuid(v: unknown): v is string {
  return typeof v === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
}

export interface ScheduleRow {
  id: string;
  tenant_id: string;
  name: string;
  timezone: string;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export async function insertSchedule(sql: Sql, s: { tenantId: string; name: string; timezone: string; by: string; now: Date }): Promise<ScheduleRow | undefined> {
  const [row] = await sql.query<ScheduleRow>(
    "insert into oncall_schedules (tenant_id, name, timezone, created_by, created_at, updated_at) values ($1, $2, $3, $4, $5, $5) on conflict do nothing returning *",
    [s.tenantId, s.name, s.timezone, s.by, s.now],
  );
  return row;
}

export async function updateSchedule(sql: Sql, id: string, patch: { name: string; timezone: string }, now: Date): Promise<ScheduleRow | undefined> {
  const [row] = await sql.query<ScheduleRow>("update oncall_schedules set name = $2, timezone = $3, updated_at = $4 where id = $1 returning *", [id, patch.name, patch.timezone, now]);
  return row;
}

export async function findSchedule(sql: Sql, id: string): Promise<ScheduleRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<ScheduleRow>("select * from oncall_schedules where id = $1", [id]);
  return row;
}

export async function findScheduleByName(sql: Sql, name: string): Promise<ScheduleRow | undefined> {
  const [row] = await sql.query<ScheduleRow>("select * from oncall_schedules where lower(name) = lower($1)", [name]);
  return row;
}

/** Schedules of the tenant in scope (or the given ids), by name. */
export async function listSchedules(sql: Sql, ids?: string[]): Promise<ScheduleRow[]> {
  return sql.query<ScheduleRow>("select * from oncall_schedules where ($1::uuid[] is null or id = any($1::uuid[])) order by lower(name)", [ids ?? null]);
}

export async function deleteSchedule(sql: Sql, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  return (await sql.query("delete from oncall_schedules where id = $1 returning id", [id])).length === 1;
}

export interface LayerRow {
  id: string;
  layer_id: string;
  tenant_id: string;
  schedule_id: string;
  position: number;
  name: string;
  rotation: RotationKind;
  length_hours: number | null;
  handoff_time: string;
  handoff_weekday: Weekday | null;
  /** YYYY-MM-DD */
  start_date: string;
  users: string[];
  restrictions: Restriction[];
  effective_from: Date;
  effective_until: Date | null;
  created_by: string | null;
  created_at: Date;
}

export type LayerFields = Pick<LayerRow, "position" | "name" | "rotation" | "length_hours" | "handoff_time" | "handoff_weekday" | "start_date" | "users" | "restrictions">;

// Dates as text: the drivers would turn a date column into a Date at midnight UTC.
const LAYER_COLUMNS = `id, layer_id, tenant_id, schedule_id, position, name, rotation, length_hours, handoff_time, handoff_weekday,
  to_char(start_date, 'YYYY-MM-DD') as start_date, users::text[] as users, restrictions, effective_from, effective_until, created_by, created_at`;

/** A new version of a layer (a new layer when layerId is new), effective from `from`. */
export async function insertLayerVersion(sql: Sql, l: LayerFields & { layerId: string | null; tenantId: string; scheduleId: string; from: Date; by: string }): Promise<LayerRow> {
  const [row] = await sql.query<LayerRow>(
    `insert into oncall_layers (layer_id, tenant_id, schedule_id, position, name, rotation, length_hours, handoff_time, handoff_weekday, start_date, users, restrictions, effective_from, created_by, created_at)
     values (coalesce($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9, $10::date, $11::uuid[], $12::jsonb, $13, $14, $13)
     returning ${LAYER_COLUMNS}`,
    [l.layerId, l.tenantId, l.scheduleId, l.position, l.name, l.rotation, l.length_hours, l.handoff_time, l.handoff_weekday, l.start_date, l.users, JSON.stringify(l.restrictions), l.from, l.by],
  );
  return row!;
}

/** End the current version of a layer at `at` (locked, so two edits cannot both close it). */
export async function closeLayer(sql: Sql, scheduleId: string, layerId: string, at: Date): Promise<LayerRow | undefined> {
  if (!isUuid(layerId)) return undefined;
  const [row] = await sql.query<LayerRow>(
    `update oncall_layers set effective_until = greatest(effective_from, $3::timestamptz)
      where schedule_id = $1 and layer_id = $2 and effective_until is null returning ${LAYER_COLUMNS}`,
    [scheduleId, layerId, at],
  );
  return row;
}

export async function findCurrentLayer(sql: Sql, scheduleId: string, layerId: string): Promise<LayerRow | undefined> {
  if (!isUuid(layerId)) return undefined;
  const [row] = await sql.query<LayerRow>(`select ${LAYER_COLUMNS} from oncall_layers where schedule_id = $1 and layer_id = $2 and effective_until is null for update`, [scheduleId, layerId]);
  return row;
}

/** Layer versions of schedules that overlap [from, to) (all of them without a range), oldest first. */
export async function listLayerVersions(sql: Sql, scheduleIds: string[], range?: { from: Date; to: Date }): Promise<LayerRow[]> {
  return sql.query<LayerRow>(
    `select ${LAYER_COLUMNS} from oncall_layers
      where schedule_id = any($1::uuid[])
        and ($2::timestamptz is null or effective_until is null or effective_until > $2)
        and ($3::timestamptz is null or effective_from < $3)
      order by effective_from, id`,
    [scheduleIds, range?.from ?? null, range?.to ?? null],
  );
}

/** Current versions only (what the schedule is now). */
export async function listCurrentLayers(sql: Sql, scheduleId: string): Promise<LayerRow[]> {
  return sql.query<LayerRow>(`select ${LAYER_COLUMNS} from oncall_layers where schedule_id = $1 and effective_until is null order by position desc, name`, [scheduleId]);
}

export async function countLayers(sql: Sql, scheduleId: string): Promise<number> {
  const [row] = await sql.query<{ n: number }>("select count(*)::int as n from oncall_layers where schedule_id = $1", [scheduleId]);
  return row?.n ?? 0;
}

export interface OverrideRow {
  id: string;
  tenant_id: string;
  schedule_id: string;
  user_id: string;
  starts_at: Date;
  ends_at: Date;
  note: string | null;
  created_by: string | null;
  created_at: Date;
}

export async function insertOverride(sql: Sql, o: { tenantId: string; scheduleId: string; userId: string; startsAt: Date; endsAt: Date; note: string | null; by: string; now: Date }): Promise<OverrideRow> {
  const [row] = await sql.query<OverrideRow>(
    "insert into oncall_overrides (tenant_id, schedule_id, user_id, starts_at, ends_at, note, created_by, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8) returning *",
    [o.tenantId, o.scheduleId, o.userId, o.startsAt, o.endsAt, o.note, o.by, o.now],
  );
  return row!;
}

export async function findOverride(sql: Sql, scheduleId: string, id: string): Promise<OverrideRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<OverrideRow>("select * from oncall_overrides where schedule_id = $1 and id = $2 for update", [scheduleId, id]);
  return row;
}

/** Overrides of schedules that overlap [from, to). */
export async function listOverrides(sql: Sql, scheduleIds: string[], from: Date, to: Date): Promise<OverrideRow[]> {
  return sql.query<OverrideRow>("select * from oncall_overrides where schedule_id = any($1::uuid[]) and ends_at > $2 and starts_at < $3 order by starts_at, created_at", [scheduleIds, from, to]);
}

export async function deleteOverride(sql: Sql, id: string): Promise<void> {
  await sql.query("delete from oncall_overrides where id = $1", [id]);
}

export async function endOverride(sql: Sql, id: string, at: Date): Promise<OverrideRow> {
  const [row] = await sql.query<OverrideRow>("update oncall_overrides set ends_at = $2 where id = $1 returning *", [id, at]);
  return row!;
}

/** Active members of a tenant among these user ids. */
export async function findMembers(sql: Sql, tenantId: string, ids: string[]): Promise<Array<{ id: string; username: string; name: string; email: string | null }>> {
  const valid = [...new Set(ids.filter(isUuid))];
  if (!valid.length) return [];
  return sql.query(
    "select u.id, u.username, u.name, u.email from tenant_memberships m join users u on u.id = m.user_id where m.tenant_id = $1 and m.user_id = any($2::uuid[]) and u.status = 'ACTIVE'",
    [tenantId, valid],
  );
}

/** Active members of a tenant, by username (who can be put on call). */
export async function listActiveMembers(sql: Sql, tenantId: string): Promise<Array<{ id: string; username: string; name: string }>> {
  return sql.query(
    "select u.id, u.username, u.name from tenant_memberships m join users u on u.id = m.user_id where m.tenant_id = $1 and u.status = 'ACTIVE' order by lower(u.username)",
    [tenantId],
  );
}

/** Any users by id (names for timelines, including people who have left the tenant since). */
export async function userNames(sql: Sql, ids: string[]): Promise<Map<string, { username: string; name: string }>> {
  const valid = [...new Set(ids.filter(isUuid))];
  if (!valid.length) return new Map();
  const rows = await sql.query<{ id: string; username: string; name: string }>("select id, username, name from users where id = any($1::uuid[])", [valid]);
  return new Map(rows.map((r) => [r.id, { username: r.username, name: r.name }]));
}

/** Escalation policies whose targets name this schedule (refusing to delete it). */
export async function policiesUsingSchedule(sql: Sql, scheduleId: string): Promise<string[]> {
  const rows = await sql.query<{ name: string }>(
    `select distinct p.name from escalation_levels l join escalation_policies p on p.id = l.policy_id
      where exists (select 1 from jsonb_array_elements(l.targets) t where t->>'type' = 'schedule' and t->>'schedule_id' = $1)`,
    [scheduleId],
  );
  return rows.map((r) => r.name);
}
