// SQL for maintenance windows and NO_HEARTBEAT rules.
import type { Sql } from "../db/db.ts";
import type { Scope, Severity } from "./evaluate.ts";
import type { Recurrence } from "./windows.ts";
import { isUuid } from "./store.ts";

export interface WindowRow {
  id: string;
  tenant_id: string;
  name: string;
  scope: Scope;
  starts_at: Date;
  ends_at: Date | null;
  recurrence: Recurrence | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export type WindowFields = Pick<WindowRow, "name" | "scope" | "starts_at" | "ends_at" | "recurrence">;

export async function insertWindow(sql: Sql, tenantId: string, w: WindowFields, by: string, now: Date): Promise<WindowRow> {
  const [row] = await sql.query<WindowRow>(
    `insert into maintenance_windows (tenant_id, name, scope, starts_at, ends_at, recurrence, created_by, created_at, updated_at)
     values ($1, $2, $3::jsonb, $4, $5, $6::jsonb, $7, $8, $8) returning *`,
    [tenantId, w.name, JSON.stringify(w.scope), w.starts_at, w.ends_at, w.recurrence ? JSON.stringify(w.recurrence) : null, by, now],
  );
  return row!;
}

export async function updateWindow(sql: Sql, id: string, w: WindowFields, now: Date): Promise<WindowRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<WindowRow>(
    `update maintenance_windows set name = $2, scope = $3::jsonb, starts_at = $4, ends_at = $5, recurrence = $6::jsonb, updated_at = $7 where id = $1 returning *`,
    [id, w.name, JSON.stringify(w.scope), w.starts_at, w.ends_at, w.recurrence ? JSON.stringify(w.recurrence) : null, now],
  );
  return row;
}

export async function deleteWindow(sql: Sql, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  return (await sql.query("delete from maintenance_windows where id = $1 returning id", [id])).length === 1;
}

export async function findWindow(sql: Sql, id: string): Promise<WindowRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<WindowRow>("select * from maintenance_windows where id = $1", [id]);
  return row;
}

/** Windows that may matter now or later (ended ones are history). */
export async function listWindows(sql: Sql, opts: { tenantId?: string; activeAfter?: Date } = {}): Promise<WindowRow[]> {
  return sql.query<WindowRow>(
    "select * from maintenance_windows where ($1::text is null or tenant_id = $1) and ($2::timestamptz is null or ends_at is null or ends_at > $2) order by starts_at desc",
    [opts.tenantId ?? null, opts.activeAfter ?? null],
  );
}

export interface HeartbeatRuleRow {
  id: string;
  tenant_id: string;
  name: string;
  scope: Scope;
  grace_seconds: number;
  severity: Severity;
  enabled: boolean;
  auto_close: boolean;
  escalation_policy_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export type HeartbeatRuleFields = Pick<HeartbeatRuleRow, "name" | "scope" | "grace_seconds" | "severity" | "enabled" | "auto_close" | "escalation_policy_id">;

export async function insertHeartbeatRule(sql: Sql, tenantId: string, r: HeartbeatRuleFields, now: Date): Promise<HeartbeatRuleRow> {
  const [row] = await sql.query<HeartbeatRuleRow>(
    `insert into heartbeat_rules (tenant_id, name, scope, grace_seconds, severity, enabled, auto_close, escalation_policy_id, created_at, updated_at)
     values ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $9) returning *`,
    [tenantId, r.name, JSON.stringify(r.scope), r.grace_seconds, r.severity, r.enabled, r.auto_close, r.escalation_policy_id, now],
  );
  return row!;
}

export async function updateHeartbeatRule(sql: Sql, id: string, r: HeartbeatRuleFields, now: Date): Promise<HeartbeatRuleRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<HeartbeatRuleRow>(
    `update heartbeat_rules set name = $2, scope = $3::jsonb, grace_seconds = $4, severity = $5, enabled = $6, auto_close = $7, escalation_policy_id = $8, updated_at = $9 where id = $1 returning *`,
    [id, r.name, JSON.stringify(r.scope), r.grace_seconds, r.severity, r.enabled, r.auto_close, r.escalation_policy_id, now],
  );
  return row;
}

export async function deleteHeartbeatRule(sql: Sql, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  return (await sql.query("delete from heartbeat_rules where id = $1 returning id", [id])).length === 1;
}

export async function listHeartbeatRules(sql: Sql, tenantId?: string): Promise<HeartbeatRuleRow[]> {
  return sql.query<HeartbeatRuleRow>("select * from heartbeat_rules where ($1::text is null or tenant_id = $1) order by name", [tenantId ?? null]);
}

/** Devices offline with no open NO_HEARTBEAT alert, and devices back online with one (the leader's check). */
export async function heartbeatCandidates(sql: Sql): Promise<{
  offline: Array<{ tenant_id: string; device_id: string; site_id: string; tags: Record<string, string>; parent_device_id: string | null; parent_connectivity: string | null; last_seen_at: Date | null; connectivity_since: Date; interval: number }>;
  recovered: Array<{ tenant_id: string; device_id: string; site_id: string; tags: Record<string, string>; last_seen_at: Date | null }>;
}> {
  const offline = await sql.query<{
    tenant_id: string;
    device_id: string;
    site_id: string;
    tags: Record<string, string>;
    parent_device_id: string | null;
    parent_connectivity: string | null;
    last_seen_at: Date | null;
    connectivity_since: Date;
    interval: number;
  }>(
    `select s.tenant_id, s.device_id, d.site_id, d.tags, d.parent_device_id, ps.connectivity as parent_connectivity, s.last_seen_at, s.connectivity_since,
            coalesce(d.heartbeat_seconds, t.heartbeat_seconds) as interval
       from device_state s
       join devices d on d.tenant_id = s.tenant_id and d.id = s.device_id and d.status = 'ACTIVE'
       join tenants t on t.id = s.tenant_id and t.status = 'ACTIVE'
       left join device_state ps on ps.tenant_id = d.tenant_id and ps.device_id = d.parent_device_id
      where s.connectivity = 'OFFLINE' and s.last_seen_at is not null
        -- An open alert already says so, unless it was cleared (back, awaiting a person): going silent again counts anew.
        and not exists (select 1 from alerts a where a.tenant_id = s.tenant_id and a.fingerprint = 'NO_HEARTBEAT:' || s.device_id and a.status <> 'CLOSED'
                          and (select e.kind from alert_events e where e.alert_id = a.id and e.kind in ('OPENED', 'REOPENED', 'TRIGGERED', 'CLEARED')
                                order by e.id desc limit 1) is distinct from 'CLEARED')`,
  );
  const recovered = await sql.query<{ tenant_id: string; device_id: string; site_id: string; tags: Record<string, string>; last_seen_at: Date | null }>(
    `select a.tenant_id, a.device_id, d.site_id, d.tags, s.last_seen_at from alerts a
       join device_state s on s.tenant_id = a.tenant_id and s.device_id = a.device_id
       join devices d on d.tenant_id = a.tenant_id and d.id = a.device_id
      where a.alert_type = 'NO_HEARTBEAT' and a.status <> 'CLOSED' and s.connectivity = 'ONLINE'`,
  );
  return { offline, recovered };
}
