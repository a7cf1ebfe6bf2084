// SQL for the quarantine log and the per-reason rejection counts. Reads run
// in whatever scope the caller opened: a tenant's (row-level security shows
// only its rows) or the operators' cross-tenant read, where rows of unknown
// tenants (tenant_id null) are visible too. Writes (quarantine.ts) run in the
// system scope.

import type { Sql } from "../db/db.ts";

export interface QuarantineRow {
  id: number;
  tenant_id: string | null;
  device_id: string | null;
  time: Date;
  reason: string;
  transport: string;
  topic: string | null;
  detail: string | null;
  payload: string | null;
}

export interface QuarantineFilter {
  /** Operators only narrow by tenant; "" means rows of no known tenant. */
  tenantId?: string;
  reason?: string;
  deviceId?: string;
  from?: Date;
  to?: Date;
  /** Keyset: rows older than this id. */
  beforeId?: number;
  limit: number;
}

/** Quarantined messages, newest first. */
export async function listQuarantine(sql: Sql, f: QuarantineFilter): Promise<QuarantineRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: (p: string) => string, v: unknown) => {
    params.push(v);
    where.push(cond(`$${params.length}`));
  };
  if (f.tenantId === "") where.push("tenant_id is null");
  else if (f.tenantId !== undefined) add((p) => `tenant_id = ${p}`, f.tenantId);
  if (f.reason) add((p) => `reason = ${p}`, f.reason);
  if (f.deviceId) add((p) => `device_id = ${p}`, f.deviceId);
  if (f.from) add((p) => `time >= ${p}`, f.from);
  if (f.to) add((p) => `time < ${p}`, f.to);
  if (f.beforeId !== undefined) add((p) => `id < ${p}::bigint`, f.beforeId);
  params.push(f.limit);
  const rows = await sql.query<QuarantineRow & { id: number | string }>(
    `select id, tenant_id, device_id, time, reason, transport, topic, detail, payload from quarantine
      ${where.length ? "where " + where.join(" and ") : ""} order by id desc limit $${params.length}`,
    params,
  );
  return rows.map((r) => ({ ...r, id: Number(r.id), time: new Date(r.time) }));
}

export interface RejectionCountRow {
  tenant_id: string;
  reason: string;
  count: number;
  last_at: Date;
}

/** Every (tenant, reason) count in scope, optionally of one tenant. */
export async function listRejectionCounts(sql: Sql, tenantId?: string): Promise<RejectionCountRow[]> {
  const rows = await sql.query<{ tenant_id: string; reason: string; count: number | string; last_at: Date | string }>(
    `select tenant_id, reason, count, last_at from rejection_counts where ($1::text is null or tenant_id = $1) order by tenant_id, reason`,
    [tenantId ?? null],
  );
  return rows.map((r) => ({ tenant_id: r.tenant_id, reason: r.reason, count: Number(r.count), last_at: new Date(r.last_at) }));
}

// Recording (quarantine.ts, system scope)

/** Which of these tenant ids exist. */
export async function existingTenantIds(sql: Sql, ids: readonly string[]): Promise<Set<string>> {
  const rows = ids.length ? await sql.query<{ id: string }>("select id from tenants where id = any($1::text[])", [ids]) : [];
  return new Set(rows.map((r) => r.id));
}

export interface QuarantineInsert {
  tenant_id: string | null;
  device_id: string | null;
  time: Date;
  reason: string;
  transport: string;
  topic: string | null;
  detail: string;
  payload: string | null;
}

/** All rows in one statement (column arrays through unnest). */
export async function insertQuarantine(sql: Sql, rows: readonly QuarantineInsert[]): Promise<void> {
  await sql.query(
    `insert into quarantine (tenant_id, device_id, time, reason, transport, topic, detail, payload)
         select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`,
    [
      rows.map((r) => r.tenant_id),
      rows.map((r) => r.device_id),
      rows.map((r) => r.time),
      rows.map((r) => r.reason),
      rows.map((r) => r.transport),
      rows.map((r) => r.topic),
      rows.map((r) => r.detail),
      rows.map((r) => r.payload),
    ],
  );
}

/** Add to each (tenant, reason) count in one statement; last_at is the database's now(). */
export async function addRejectionCounts(sql: Sql, counts: ReadonlyArray<{ tenant: string; reason: string; n: number }>): Promise<void> {
  await sql.query(
    `insert into rejection_counts as c (tenant_id, reason, count, last_at)
           select tenant_id, reason, n, now() from unnest($1::text[], $2::text[], $3::bigint[]) as t(tenant_id, reason, n)
           on conflict (tenant_id, reason) do update set count = c.count + excluded.count, last_at = excluded.last_at`,
    [counts.map((c) => c.tenant), counts.map((c) => c.reason), counts.map((c) => c.n)],
  );
}

/** Keep each tenant's newest `keepPerTenant` rows (rows of no tenant count as one group); returns how many went. */
export async function deleteOldQuarantine(sql: Sql, keepPerTenant: number): Promise<number> {
  const rows = await sql.query(
    `delete from quarantine q using (
         select id from (select id, row_number() over (partition by tenant_id order by id desc) as rn from quarantine) r where rn > $1
       ) old where q.id = old.id returning q.id`,
    [keepPerTenant],
  );
  return rows.length;
}
