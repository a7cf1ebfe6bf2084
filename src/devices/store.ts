// SQL for the device registry: devices with their latest state, provision
// tokens (hashes only), activation codes and the device timeline. Tenant
// tables under row-level security: every query sees only the tenant in scope.
import type { Sql } from "../db/db.ts";

export type DeviceStatus = "ACTIVE" | "PENDING" | "REVOKED";
export type Connectivity = "ONLINE" | "STALE" | "OFFLINE";

export interface DeviceRow {
  tenant_id: string;
  id: string;
  name: string;
  site_id: string;
  status: DeviceStatus;
  tags: Record<string, string>;
  heartbeat_seconds: number | null;
  parent_device_id: string | null;
  model: string | null;
  serial: string | null;
  lat: number | null;
  lng: number | null;
  metadata: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  decommissioned_at: Date | null;
  decommissioned_by: string | null;
  decommission_reason: string | null;
}

/** A device with its latest state (device_state) and effective heartbeat. */
export interface DeviceViewRow extends DeviceRow {
  connectivity: Connectivity;
  connectivity_since: Date | null;
  last_seen_at: Date | null;
  last_telemetry_at: Date | null;
  last_heartbeat_at: Date | null;
  last_metrics: Record<string, unknown>;
  messages: number;
  seq_gaps: number;
  effective_heartbeat_seconds: number;
  /** The sort column as text, for cursors. */
  sort_key: string;
}

export const DEVICE_COLUMNS = ["tenant_id", "id", "name", "site_id", "status", "tags", "heartbeat_seconds", "parent_device_id", "model", "serial", "lat", "lng", "metadata", "created_at", "updated_at"] as const;

export interface NewDevice {
  tenantId: string;
  id: string;
  name: string;
  siteId: string;
  status: DeviceStatus;
  tags: Record<string, string>;
  heartbeatSeconds: number | null;
  parentDeviceId: string | null;
  model: string | null;
  serial: string | null;
  lat: number | null;
  lng: number | null;
  metadata: Record<string, unknown>;
  now: Date;
}

/** A row in DEVICE_COLUMNS order (for insert and copyRows). */
export function deviceValues(d: NewDevice): unknown[] {
  return [d.tenantId, d.id, d.name, d.siteId, d.status, JSON.stringify(d.tags), d.heartbeatSeconds, d.parentDeviceId, d.model, d.serial, d.lat, d.lng, JSON.stringify(d.metadata), d.now, d.now];
}

/** The new row, or undefined when the id is taken. */
export async function insertDevice(sql: Sql, d: NewDevice): Promise<DeviceRow | undefined> {
  const [row] = await sql.query<DeviceRow>(
    `insert into devices (${DEVICE_COLUMNS.join(", ")}) values (${DEVICE_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})
     on conflict (tenant_id, id) do nothing returning *`,
    deviceValues(d),
  );
  return row;
}

/** Bulk insert (CSV import): COPY on Postgres, multi-row INSERT on PGlite. */
export async function copyDevices(sql: Sql, devices: readonly NewDevice[]): Promise<void> {
  await sql.copyRows("devices", DEVICE_COLUMNS, devices.map(deviceValues));
}

const SORTS = {
  id: { expr: "d.id", type: "text" },
  name: { expr: "d.name", type: "text" },
  site_id: { expr: "d.site_id", type: "text" },
  status: { expr: "d.status", type: "text" },
  created_at: { expr: "d.created_at", type: "timestamptz" },
  last_seen_at: { expr: "coalesce(s.last_seen_at, '-infinity'::timestamptz)", type: "timestamptz" },
} as const;
export type DeviceSort = keyof typeof SORTS;
export const DEVICE_SORTS = Object.keys(SORTS) as DeviceSort[];

const VIEW = (sortExpr: string) => `select d.*, coalesce(s.connectivity, 'OFFLINE') as connectivity, s.connectivity_since, s.last_seen_at,
    s.last_telemetry_at, s.last_heartbeat_at, coalesce(s.last_metrics, '{}'::jsonb) as last_metrics,
    coalesce(s.messages, 0) as messages, coalesce(s.seq_gaps, 0) as seq_gaps,
    coalesce(d.heartbeat_seconds, t.heartbeat_seconds) as effective_heartbeat_seconds, (${sortExpr})::text as sort_key
  from devices d
  join tenants t on t.id = d.tenant_id
  left join device_state s on s.tenant_id = d.tenant_id and s.device_id = d.id`;

export async function findDevice(sql: Sql, id: string): Promise<DeviceViewRow | undefined> {
  const [row] = await sql.query<DeviceViewRow>(`${VIEW("d.id")} where d.id = $1`, [id]);
  return row;
}

/** The bare row, locked for an update in this transaction. */
export async function lockDevice(sql: Sql, id: string): Promise<DeviceRow | undefined> {
  const [row] = await sql.query<DeviceRow>("select * from devices where id = $1 for update", [id]);
  return row;
}

export interface DeviceFilter {
  status?: DeviceStatus;
  connectivity?: Connectivity;
  siteId?: string;
  /** key=value pairs that must all match; a null value means "has the key". */
  tags?: Array<[string, string | null]>;
  /** Free text in id, name or serial. */
  q?: string;
}

export interface DevicePage {
  sort: DeviceSort;
  desc: boolean;
  limit: number;
  /** Keyset: rows after this (sort key, id). */
  after?: [string, string];
  offset?: number;
}

function filterSql(f: DeviceFilter, params: unknown[]): string[] {
  const where: string[] = [];
  const add = (cond: (p: string) => string, v: unknown) => {
    params.push(v);
    where.push(cond(`$${params.length}`));
  };
  if (f.status) add((p) => `d.status = ${p}`, f.status);
  if (f.connectivity) add((p) => `coalesce(s.connectivity, 'OFFLINE') = ${p}`, f.connectivity);
  if (f.siteId) add((p) => `d.site_id = ${p}`, f.siteId);
  for (const [k, v] of f.tags ?? []) {
    if (v === null) add((p) => `jsonb_exists(d.tags, ${p})`, k);
    else add((p) => `d.tags @> ${p}::jsonb`, JSON.stringify({ [k]: v }));
  }
  if (f.q) add((p) => `(d.id ilike ${p} or d.name ilike ${p} or d.serial ilike ${p})`, "%" + f.q.replace(/[\\%_]/g, "\\$&") + "%");
  return where;
}

/** One page of devices with their state; joins device_state only, never telemetry. */
export async function listDevices(sql: Sql, f: DeviceFilter, page: DevicePage): Promise<DeviceViewRow[]> {
  const sort = SORTS[page.sort];
  const params: unknown[] = [];
  const where = filterSql(f, params);
  const dir = page.desc ? "desc" : "asc";
  if (page.after) {
    params.push(page.after[0], page.after[1]);
    where.push(`(${sort.expr}, d.id) ${page.desc ? "<" : ">"} ($${params.length - 1}::${sort.type}, $${params.length})`);
  }
  params.push(page.limit);
  let text = `${VIEW(sort.expr)} ${where.length ? "where " + where.join(" and ") : ""} order by ${sort.expr} ${dir}, d.id ${dir} limit $${params.length}`;
  if (page.offset && !page.after) {
    params.push(page.offset);
    text += ` offset $${params.length}`;
  }
  return sql.query<DeviceViewRow>(text, params);
}

export async function countDevices(sql: Sql, f: DeviceFilter): Promise<number> {
  const params: unknown[] = [];
  const where = filterSql(f, params);
  const [row] = await sql.query<{ n: number }>(
    `select count(*)::int as n from devices d left join device_state s on s.tenant_id = d.tenant_id and s.device_id = d.id ${where.length ? "where " + where.join(" and ") : ""}`,
    params,
  );
  return row?.n ?? 0;
}

/** Devices that count against the device limit: all but decommissioned ones. */
export async function countLiveDevices(sql: Sql): Promise<number> {
  const [row] = await sql.query<{ n: number }>("select count(*)::int as n from devices where status <> 'REVOKED'");
  return row?.n ?? 0;
}

/** Serialises device-count checks of one tenant until the transaction ends. */
export async function lockTenantDevices(sql: Sql, tenantId: string): Promise<void> {
  await sql.query("select pg_advisory_xact_lock(hashtext($1))", [`pulse.devices:${tenantId}`]);
}

/** Which of these device ids exist. */
export async function existingDeviceIds(sql: Sql, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await sql.query<{ id: string }>("select id from devices where id = any($1::text[])", [ids]);
  return new Set(rows.map((r) => r.id));
}

/** The ids from `id` up its parent chain (itself first), at most 64 deep. */
export async function ancestry(sql: Sql, id: string): Promise<string[]> {
  const rows = await sql.query<{ id: string }>(
    `with recursive up (id, parent, depth) as (
       select id, parent_device_id, 1 from devices where id = $1
       union all
       select d.id, d.parent_device_id, up.depth + 1 from devices d join up on d.id = up.parent where up.depth < 64
     ) select id from up order by depth`,
    [id],
  );
  return rows.map((r) => r.id);
}

export type DevicePatch = Partial<Pick<DeviceRow, "name" | "site_id" | "tags" | "heartbeat_seconds" | "parent_device_id" | "model" | "serial" | "lat" | "lng" | "metadata">>;

export async function updateDevice(sql: Sql, id: string, patch: DevicePatch, now: Date): Promise<DeviceRow | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [id, now];
  for (const [k, v] of Object.entries(patch)) {
    params.push(k === "tags" || k === "metadata" ? JSON.stringify(v) : v);
    sets.push(`${k} = $${params.length}`);
  }
  const [row] = await sql.query<DeviceRow>(`update devices set ${[...sets, "updated_at = $2"].join(", ")} where id = $1 returning *`, params);
  return row;
}

/** Change the status; `decommissioned` records who and why (set), clears them (null) or leaves them (undefined). */
export async function setDeviceStatus(
  sql: Sql,
  id: string,
  s: { status: DeviceStatus; now: Date; decommissioned?: { by: string; reason: string | null } | null },
): Promise<DeviceRow | undefined> {
  const d = s.decommissioned;
  const mode = d === undefined ? "keep" : d === null ? "clear" : "set";
  const [row] = await sql.query<DeviceRow>(
    `update devices set status = $2, updated_at = $3,
       decommissioned_at = case $4 when 'set' then $3 when 'clear' then null else decommissioned_at end,
       decommissioned_by = case $4 when 'set' then $5 when 'clear' then null else decommissioned_by end,
       decommission_reason = case $4 when 'set' then $6 when 'clear' then null else decommission_reason end
     where id = $1 returning *`,
    [id, s.status, s.now, mode, d?.by ?? null, d?.reason ?? null],
  );
  return row;
}

// ---- provision tokens ----

export interface TokenRow {
  id: string;
  tenant_id: string;
  device_id: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const TOKEN_FIELDS = "id, tenant_id, device_id, created_at, expires_at, revoked_at, last_used_at";

export async function insertToken(sql: Sql, t: { tenantId: string; deviceId: string; hash: string; now: Date }): Promise<TokenRow> {
  const [row] = await sql.query<TokenRow>(
    `insert into device_tokens (tenant_id, device_id, token_hash, created_at) values ($1, $2, $3, $4) returning ${TOKEN_FIELDS}`,
    [t.tenantId, t.deviceId, t.hash, t.now],
  );
  return row!;
}

export async function copyTokens(sql: Sql, rows: ReadonlyArray<{ tenantId: string; deviceId: string; hash: string; now: Date }>): Promise<void> {
  await sql.copyRows("device_tokens", ["tenant_id", "device_id", "token_hash", "created_at"], rows.map((t) => [t.tenantId, t.deviceId, t.hash, t.now]));
}

/** A device's tokens, newest first, and of those made at the same instant the one valid longest (never the hash). */
export async function listTokens(sql: Sql, deviceId: string): Promise<TokenRow[]> {
  return sql.query<TokenRow>(
    `select ${TOKEN_FIELDS} from device_tokens where device_id = $1
      order by created_at desc, least(coalesce(revoked_at, 'infinity'), coalesce(expires_at, 'infinity')) desc, id`,
    [deviceId],
  );
}

/** Revoke every token of the device that is not revoked yet; returns how many. */
export async function revokeAllTokens(sql: Sql, deviceId: string, now: Date, exceptId?: string): Promise<number> {
  const rows = await sql.query(
    "update device_tokens set revoked_at = $2 where device_id = $1 and revoked_at is null and ($3::uuid is null or id <> $3::uuid) returning id",
    [deviceId, now, exceptId ?? null],
  );
  return rows.length;
}

/** Let the device's live tokens (but `exceptId`) work only until `until`. */
export async function expireTokens(sql: Sql, deviceId: string, until: Date, exceptId: string): Promise<number> {
  const rows = await sql.query(
    `update device_tokens set expires_at = least(coalesce(expires_at, $2), $2)
      where device_id = $1 and id <> $3::uuid and revoked_at is null returning id`,
    [deviceId, until, exceptId],
  );
  return rows.length;
}

export async function revokeToken(sql: Sql, deviceId: string, tokenId: string, now: Date): Promise<TokenRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(tokenId)) return undefined;
  const [row] = await sql.query<TokenRow>(
    `update device_tokens set revoked_at = coalesce(revoked_at, $3) where device_id = $1 and id = $2::uuid returning ${TOKEN_FIELDS}`,
    [deviceId, tokenId, now],
  );
  return row;
}

// ---- activation codes ----

export interface ActivationRow {
  code_hash: string;
  tenant_id: string;
  device_id: string;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

/** A new code for the device; earlier unused codes stop working. */
export async function replaceActivationCode(sql: Sql, c: { hash: string; tenantId: string; deviceId: string; now: Date; expiresAt: Date }): Promise<void> {
  await sql.query("delete from activation_codes where device_id = $1 and used_at is null", [c.deviceId]);
  await sql.query("insert into activation_codes (code_hash, tenant_id, device_id, created_at, expires_at) values ($1, $2, $3, $4, $5)", [
    c.hash,
    c.tenantId,
    c.deviceId,
    c.now,
    c.expiresAt,
  ]);
}

export async function findActivationCode(sql: Sql, hash: string, deviceId: string): Promise<ActivationRow | undefined> {
  const [row] = await sql.query<ActivationRow>("select * from activation_codes where code_hash = $1 and device_id = $2 for update", [hash, deviceId]);
  return row;
}

export async function useActivationCode(sql: Sql, hash: string, now: Date): Promise<void> {
  await sql.query("update activation_codes set used_at = $2 where code_hash = $1", [hash, now]);
}

export async function dropActivationCodes(sql: Sql, deviceId: string): Promise<void> {
  await sql.query("delete from activation_codes where device_id = $1 and used_at is null", [deviceId]);
}

// ---- timeline ----

export interface DeviceEventRow {
  id: number;
  tenant_id: string;
  device_id: string;
  time: Date;
  kind: string;
  details: Record<string, unknown>;
}

export async function insertDeviceEvent(sql: Sql, e: { tenantId: string; deviceId: string; kind: string; time: Date; details?: Record<string, unknown> }): Promise<void> {
  await sql.query("insert into device_events (tenant_id, device_id, time, kind, details) values ($1, $2, $3, $4, $5)", [e.tenantId, e.deviceId, e.time, e.kind, JSON.stringify(e.details ?? {})]);
}

export async function copyDeviceEvents(sql: Sql, rows: ReadonlyArray<{ tenantId: string; deviceId: string; kind: string; time: Date; details: Record<string, unknown> }>): Promise<void> {
  await sql.copyRows("device_events", ["tenant_id", "device_id", "time", "kind", "details"], rows.map((e) => [e.tenantId, e.deviceId, e.time, e.kind, JSON.stringify(e.details)]));
}

/** A device's events, newest first, older than `beforeId`. */
export async function listDeviceEvents(sql: Sql, deviceId: string, opts: { beforeId?: number; limit: number }): Promise<DeviceEventRow[]> {
  return sql.query<DeviceEventRow>(
    "select * from device_events where device_id = $1 and ($2::bigint is null or id < $2::bigint) order by id desc limit $3",
    [deviceId, opts.beforeId ?? null, opts.limit],
  );
}
