// SQL for the fleet overview and the alert inbox's read model: connectivity
// counts from device_state, active alerts ranked by severity, recently seen
// devices, and the names behind device and site ids. Read-only; the caller
// picks the scope (one tenant under RLS, or every tenant for operators).
// Nothing here touches telemetry.

import type { Sql } from "../db/db.ts";
import type { AlertFilter, AlertRow } from "../alerts/store.ts";

export type Connectivity = "ONLINE" | "STALE" | "OFFLINE";

/** Devices counted by tenant, registry status and connectivity (never seen = OFFLINE). */
export async function deviceCounts(sql: Sql): Promise<Array<{ tenant_id: string; status: string; connectivity: Connectivity; n: number }>> {
  return sql.query(
    `select d.tenant_id, d.status, coalesce(s.connectivity, 'OFFLINE') as connectivity, count(*)::int as n
       from devices d
       join tenants t on t.id = d.tenant_id and t.status <> 'DELETED'
       left join device_state s on s.tenant_id = d.tenant_id and s.device_id = d.id
      where d.status <> 'REVOKED'
      group by 1, 2, 3`,
  );
}

/** Open and acknowledged alerts by tenant, severity and status. */
export async function activeAlertCounts(sql: Sql): Promise<Array<{ tenant_id: string; severity: string; status: string; n: number }>> {
  return sql.query(
    `select a.tenant_id, a.severity, a.status, count(*)::int as n
       from alerts a join tenants t on t.id = a.tenant_id and t.status <> 'DELETED'
      where a.status <> 'CLOSED' group by 1, 2, 3`,
  );
}

export interface RankedAlert extends AlertRow {
  device_name: string | null;
  site_name: string | null;
  tenant_name: string;
}

const SEVERITY_ORDER = "case a.severity when 'CRITICAL' then 1 when 'HIGH' then 2 when 'MEDIUM' then 3 when 'LOW' then 4 else 5 end";

/** The most severe active alerts, newest first within a severity. */
export async function topActiveAlerts(sql: Sql, limit: number): Promise<RankedAlert[]> {
  return sql.query<RankedAlert>(
    `select a.*, nullif(d.name, '') as device_name, si.name as site_name, t.name as tenant_name
       from alerts a
       join tenants t on t.id = a.tenant_id and t.status <> 'DELETED'
       left join devices d on d.tenant_id = a.tenant_id and d.id = a.device_id
       left join sites si on si.tenant_id = a.tenant_id and si.id = a.site_id
      where a.status <> 'CLOSED'
      order by ${SEVERITY_ORDER}, a.opened_at desc, a.id
      limit $1`,
    [limit],
  );
}

export interface SeenDeviceRow {
  tenant_id: string;
  tenant_name: string;
  device_id: string;
  device_name: string | null;
  site_id: string;
  site_name: string | null;
  connectivity: Connectivity;
  last_seen_at: Date;
}

/** Devices by when they were last heard from, most recent first. */
export async function recentlySeen(sql: Sql, limit: number): Promise<SeenDeviceRow[]> {
  return sql.query<SeenDeviceRow>(
    `select s.tenant_id, t.name as tenant_name, s.device_id, nullif(d.name, '') as device_name, d.site_id, si.name as site_name, s.connectivity, s.last_seen_at
       from device_state s
       join devices d on d.tenant_id = s.tenant_id and d.id = s.device_id and d.status = 'ACTIVE'
       join tenants t on t.id = s.tenant_id and t.status <> 'DELETED'
       left join sites si on si.tenant_id = d.tenant_id and si.id = d.site_id
      where s.last_seen_at is not null
      order by s.last_seen_at desc
      limit $1`,
    [limit],
  );
}

/** Tenants that are part of the platform (not deleted), by name. */
export async function listLiveTenants(sql: Sql): Promise<Array<{ id: string; name: string; status: string }>> {
  return sql.query("select id, name, status from tenants where status <> 'DELETED' order by lower(name), id");
}

/** Names of the given devices and their sites (ids that do not exist are left out). */
export async function deviceLabels(sql: Sql, ids: readonly string[]): Promise<Array<{ id: string; name: string | null; site_id: string; site_name: string | null }>> {
  if (!ids.length) return [];
  return sql.query(
    `select d.id, nullif(d.name, '') as name, d.site_id, si.name as site_name
       from devices d left join sites si on si.tenant_id = d.tenant_id and si.id = d.site_id
      where d.id = any($1::text[])`,
    [[...new Set(ids)]],
  );
}

/** The tenant's sites for filter choices, by name. */
export async function siteChoices(sql: Sql, limit: number): Promise<Array<{ id: string; name: string }>> {
  return sql.query("select id, name from sites order by lower(name), id limit $1", [limit]);
}

/** Alerts matching a filter, counted by severity (the inbox's tabs). */
export async function countAlertsBySeverity(sql: Sql, f: Omit<AlertFilter, "severity" | "before" | "limit">): Promise<Array<{ severity: string; n: number }>> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: string, v: unknown) => {
    params.push(v);
    where.push(cond.replace("?", `$${params.length}`));
  };
  if (f.status === "ACTIVE") where.push("status <> 'CLOSED'");
  else if (f.status && f.status !== "ALL") add("status = ?", f.status);
  if (f.deviceId) add("device_id = ?", f.deviceId);
  if (f.siteId) add("site_id = ?", f.siteId);
  if (f.type) add("alert_type = ?", f.type);
  if (f.from) add("opened_at >= ?", f.from);
  if (f.to) add("opened_at < ?", f.to);
  return sql.query(`select severity, count(*)::int as n from alerts ${where.length ? "where " + where.join(" and ") : ""} group by 1`, params);
}
