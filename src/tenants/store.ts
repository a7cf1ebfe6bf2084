// SQL for tenants. The tenants table is platform data (no tenant_id column).
import type { Sql } from "../db/db.ts";

export type TenantStatus = "ACTIVE" | "SUSPENDED" | "DELETED";

export interface TenantRow {
  id: string;
  name: string;
  status: TenantStatus;
  timezone: string;
  created_at: Date;
  updated_at: Date;
  suspended_at: Date | null;
  deleted_at: Date | null;
  purge_after: Date | null;
  /** Devices' default heartbeat interval. */
  heartbeat_seconds: number;
  /** Most devices (not decommissioned) the tenant may have; null = no limit. */
  device_limit: number | null;
}

export async function insertTenant(sql: Sql, t: { id: string; name: string; timezone: string; now: Date }): Promise<TenantRow | undefined> {
  const [row] = await sql.query<TenantRow>(
    "insert into tenants (id, name, timezone, created_at, updated_at) values ($1, $2, $3, $4, $4) on conflict (id) do nothing returning *",
    [t.id, t.name, t.timezone, t.now],
  );
  return row;
}

export async function findTenant(sql: Sql, id: string): Promise<TenantRow | undefined> {
  const [row] = await sql.query<TenantRow>("select * from tenants where id = $1", [id]);
  return row;
}

export async function listTenants(sql: Sql, opts: { includeDeleted: boolean; ids?: string[] }): Promise<TenantRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (!opts.includeDeleted) where.push("status <> 'DELETED'");
  if (opts.ids) {
    params.push(opts.ids);
    where.push(`id = any($${params.length}::text[])`);
  }
  return sql.query<TenantRow>(`select * from tenants ${where.length ? "where " + where.join(" and ") : ""} order by id`, params);
}

export async function updateTenant(
  sql: Sql,
  id: string,
  patch: Partial<Pick<TenantRow, "name" | "timezone" | "status" | "suspended_at" | "deleted_at" | "purge_after" | "heartbeat_seconds" | "device_limit">>,
  now: Date,
): Promise<TenantRow | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [id, now];
  for (const [k, v] of Object.entries(patch)) {
    params.push(v);
    sets.push(`${k} = $${params.length}`);
  }
  const [row] = await sql.query<TenantRow>(`update tenants set ${[...sets, "updated_at = $2"].join(", ")} where id = $1 returning *`, params);
  return row;
}

export interface PurgedTenant {
  id: string;
  name: string;
  deleted_at: Date | null;
  /** Who deleted it, from its audit trail (which goes with it). */
  deleted_by: string | null;
  /** The tenant's audit entries removed with it. */
  audit_entries: number;
}

/**
 * Tenants whose grace period has ended; their data is removed for good, their
 * audit entries too. audit_log refuses deletes to pulse_app (append-only
 * trigger), so this must run as the owner (asOwner).
 */
export async function purgeDeletedTenants(sql: Sql, now: Date): Promise<PurgedTenant[]> {
  const rows = await sql.query<{ id: string; name: string; deleted_at: Date | null }>(
    "delete from tenants where status = 'DELETED' and purge_after <= $1 returning id, name, deleted_at",
    [now],
  );
  const ids = rows.map((r) => r.id);
  if (!ids.length) return [];
  // Tables without a foreign key to tenants (append-heavy or partitioned) are cleared by hand,
  // so a tenant created later with the same id starts empty.
  for (const table of ["telemetry", "device_events", "quarantine", "rejection_counts", "alert_events", "notification_attempts", "notification_outbox", "notification_throttle", "rule_state"]) {
    await sql.query(`delete from ${table} where tenant_id = any($1::text[])`, [ids]);
  }
  // Read before the audit trail goes: the platform record of the purge keeps who deleted the tenant.
  const deleters = await sql.query<{ tenant_id: string; actor_name: string }>(
    `select distinct on (tenant_id) tenant_id, actor_name from audit_log
      where tenant_id = any($1::text[]) and action = 'tenant.deleted' order by tenant_id, id desc`,
    [ids],
  );
  const audit = await sql.query<{ tenant_id: string; n: number }>(
    "with gone as (delete from audit_log where tenant_id = any($1::text[]) returning tenant_id) select tenant_id, count(*)::int as n from gone group by tenant_id",
    [ids],
  );
  return rows.map((r) => ({
    ...r,
    deleted_by: deleters.find((d) => d.tenant_id === r.id)?.actor_name ?? null,
    audit_entries: audit.find((a) => a.tenant_id === r.id)?.n ?? 0,
  }));
}
