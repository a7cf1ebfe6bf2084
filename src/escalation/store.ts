// SQL for escalation policies and their levels, and for the escalation
// state of alerts (escalation owns alerts.escalation_* and next_escalation_at;
// the alert lifecycle only clears next_escalation_at when someone acts).

import type { Scope, Severity } from "../alerts/evaluate.ts";
import type { AlertRow } from "../alerts/store.ts";
import type { Sql } from "../db/db.ts";

export function isUuid(v: unknown): v is string {
  return typeof v === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
}

/** A target as stored (a webhook's URL and signing secret sealed). */
export type StoredTarget =
  | { type: "user"; user_id: string }
  | { type: "schedule"; schedule_id: string }
  | { type: "channel"; channel_id: string }
  | { type: "webhook"; id: string; display: string; sealed: string };

export interface LevelRow {
  position: number;
  delay_minutes: number;
  targets: StoredTarget[];
}

export interface PolicyRow {
  id: string;
  tenant_id: string;
  name: string;
  repeat_count: number;
  repeat_delay_minutes: number;
  is_tenant_default: boolean;
  created_at: Date;
  updated_at: Date;
}

export type PolicyWithLevels = PolicyRow & { levels: LevelRow[] };

export type PolicyFields = Pick<PolicyRow, "name" | "repeat_count" | "repeat_delay_minutes" | "is_tenant_default">;

export async function insertPolicy(sql: Sql, tenantId: string, p: PolicyFields, now: Date): Promise<PolicyRow | undefined> {
  const [row] = await sql.query<PolicyRow>(
    "insert into escalation_policies (tenant_id, name, repeat_count, repeat_delay_minutes, is_tenant_default, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6) on conflict do nothing returning *",
    [tenantId, p.name, p.repeat_count, p.repeat_delay_minutes, p.is_tenant_default, now],
  );
  return row;
}

export async function updatePolicy(sql: Sql, id: string, p: PolicyFields, now: Date): Promise<PolicyRow | undefined> {
  const [row] = await sql.query<PolicyRow>(
    "update escalation_policies set name = $2, repeat_count = $3, repeat_delay_minutes = $4, is_tenant_default = $5, updated_at = $6 where id = $1 returning *",
    [id, p.name, p.repeat_count, p.repeat_delay_minutes, p.is_tenant_default, now],
  );
  return row;
}

/** Only one default per tenant: clear it before setting another. */
export async function clearTenantDefault(sql: Sql, tenantId: string, except: string | null): Promise<void> {
  await sql.query("update escalation_policies set is_tenant_default = false where tenant_id = $1 and is_tenant_default and ($2::uuid is null or id <> $2)", [tenantId, except]);
}

export async function replaceLevels(sql: Sql, tenantId: string, policyId: string, levels: LevelRow[]): Promise<void> {
  await sql.query("delete from escalation_levels where policy_id = $1", [policyId]);
  for (const l of levels) {
    await sql.query("insert into escalation_levels (tenant_id, policy_id, position, delay_minutes, targets) values ($1, $2, $3, $4, $5::jsonb)", [tenantId, policyId, l.position, l.delay_minutes, JSON.stringify(l.targets)]);
  }
}

async function withLevels(sql: Sql, rows: PolicyRow[]): Promise<PolicyWithLevels[]> {
  if (!rows.length) return [];
  const levels = await sql.query<LevelRow & { policy_id: string }>("select policy_id, position, delay_minutes, targets from escalation_levels where policy_id = any($1::uuid[]) order by position", [rows.map((r) => r.id)]);
  return rows.map((r) => ({ ...r, levels: levels.filter((l) => l.policy_id === r.id).map(({ policy_id: _, ...l }) => l) }));
}

/** A policy of a tenant, with its levels (the tenant is explicit: workers run across tenants). */
export async function findPolicy(sql: Sql, tenantId: string, id: string): Promise<PolicyWithLevels | undefined> {
  if (!isUuid(id)) return undefined;
  const rows = await sql.query<PolicyRow>("select * from escalation_policies where tenant_id = $1 and id = $2", [tenantId, id]);
  return (await withLevels(sql, rows))[0];
}

export async function findTenantDefault(sql: Sql, tenantId: string): Promise<PolicyWithLevels | undefined> {
  const rows = await sql.query<PolicyRow>("select * from escalation_policies where tenant_id = $1 and is_tenant_default", [tenantId]);
  return (await withLevels(sql, rows))[0];
}

/**
 * The policy a threshold rule escalates by — its own, or else the tenant's
 * default — with its levels, in one statement (it runs inside the alert's
 * transaction, where each round trip counts).
 */
export async function policyForRule(sql: Sql, tenantId: string, ruleId: string): Promise<PolicyWithLevels | undefined> {
  const [row] = await sql.query<PolicyRow & { levels: LevelRow[] }>(
    `with p as (
       (select ep.*, 0 as pref from escalation_policies ep join alert_rules r on r.escalation_policy_id = ep.id where r.id = $2 and ep.tenant_id = $1)
       union all
       (select ep.*, 1 as pref from escalation_policies ep where ep.tenant_id = $1 and ep.is_tenant_default)
       order by pref limit 1)
     select p.id, p.tenant_id, p.name, p.repeat_count, p.repeat_delay_minutes, p.is_tenant_default, p.created_at, p.updated_at,
            coalesce((select jsonb_agg(jsonb_build_object('position', l.position, 'delay_minutes', l.delay_minutes, 'targets', l.targets) order by l.position)
                        from escalation_levels l where l.policy_id = p.id), '[]'::jsonb) as levels
       from p`,
    [tenantId, ruleId],
  );
  return row;
}

export async function listPolicies(sql: Sql, tenantId: string): Promise<PolicyWithLevels[]> {
  return withLevels(sql, await sql.query<PolicyRow>("select * from escalation_policies where tenant_id = $1 order by lower(name)", [tenantId]));
}

export async function deletePolicy(sql: Sql, id: string): Promise<void> {
  await sql.query("delete from escalation_policies where id = $1", [id]);
}

/** Names of the alert and heartbeat rules that use a policy. */
export async function rulesUsingPolicy(sql: Sql, tenantId: string, id: string): Promise<string[]> {
  const rows = await sql.query<{ name: string }>(
    `select name from alert_rules where tenant_id = $1 and escalation_policy_id = $2
     union all select name from heartbeat_rules where tenant_id = $1 and escalation_policy_id = $2 order by 1`,
    [tenantId, id],
  );
  return rows.map((r) => r.name);
}

// Where a new alert's policy comes from.

export async function heartbeatPolicies(sql: Sql, tenantId: string): Promise<Array<{ scope: Scope; escalation_policy_id: string | null }>> {
  return sql.query("select scope, escalation_policy_id from heartbeat_rules where tenant_id = $1", [tenantId]);
}

export async function deviceFacts(sql: Sql, tenantId: string, deviceId: string): Promise<{ site_id: string | null; tags: Record<string, string> } | undefined> {
  const [row] = await sql.query<{ site_id: string | null; tags: Record<string, string> | null }>("select site_id, tags from devices where tenant_id = $1 and id = $2", [tenantId, deviceId]);
  return row ? { site_id: row.site_id, tags: row.tags ?? {} } : undefined;
}

export async function tenantName(sql: Sql, tenantId: string): Promise<string> {
  const [row] = await sql.query<{ name: string }>("select name from tenants where id = $1", [tenantId]);
  return row?.name ?? tenantId;
}

export async function ruleName(sql: Sql, ruleId: string | null): Promise<string | null> {
  if (!ruleId) return null;
  const [row] = await sql.query<{ name: string }>("select name from alert_rules where id = $1", [ruleId]);
  return row?.name ?? null;
}

export async function channelOf(sql: Sql, tenantId: string, id: string): Promise<{ id: string; name: string; type: string; enabled: boolean } | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<{ id: string; name: string; type: string; enabled: boolean }>("select id, name, type, enabled from notification_channels where tenant_id = $1 and id = $2", [tenantId, id]);
  return row;
}

export async function scheduleName(sql: Sql, tenantId: string, id: string): Promise<string | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<{ name: string }>("select name from oncall_schedules where tenant_id = $1 and id = $2", [tenantId, id]);
  return row?.name;
}

// Alerts

/** Claim one alert whose next level is due (other nodes and runs skip it while this transaction holds it). */
export async function claimDueAlert(sql: Sql, now: Date): Promise<AlertRow | undefined> {
  const [row] = await sql.query<AlertRow>(
    "select * from alerts where next_escalation_at <= $1 and status = 'OPEN' order by next_escalation_at, id limit 1 for update skip locked",
    [now],
  );
  return row;
}

export interface EscalationState {
  escalation_policy_id: string | null;
  escalation_level: number;
  escalation_repeats: number;
  next_escalation_at: Date | null;
}

export async function setEscalation(sql: Sql, alertId: string, s: EscalationState): Promise<AlertRow> {
  const [row] = await sql.query<AlertRow>(
    "update alerts set escalation_policy_id = $2, escalation_level = $3, escalation_repeats = $4, next_escalation_at = $5 where id = $1 returning *",
    [alertId, s.escalation_policy_id, s.escalation_level, s.escalation_repeats, s.next_escalation_at],
  );
  return row!;
}

/** Put off the next level without moving on (a silenced alert). */
export async function postponeEscalation(sql: Sql, alertId: string, until: Date): Promise<void> {
  await sql.query("update alerts set next_escalation_at = $2 where id = $1", [alertId, until]);
}

/** The last escalation step of an alert that was a postponement, with the time it waits for. */
export async function lastEscalationEvent(sql: Sql, alertId: string): Promise<{ kind: string; until: string | null } | undefined> {
  const [row] = await sql.query<{ kind: string; until: string | null }>(
    "select kind, details->>'until' as until from alert_events where alert_id = $1 and kind like 'ESCALAT%' order by id desc limit 1",
    [alertId],
  );
  return row?.kind === "ESCALATION_POSTPONED" ? row : undefined;
}

/** An escalation step in the alert's timeline. */
export async function insertEscalationEvent(sql: Sql, e: { tenantId: string; alertId: string; time: Date; kind: string; details: Record<string, unknown> }): Promise<void> {
  await sql.query("insert into alert_events (tenant_id, alert_id, time, kind, actor_kind, actor_name, details) values ($1, $2, $3, $4, 'system', 'escalation', $5::jsonb)", [
    e.tenantId,
    e.alertId,
    e.time,
    e.kind,
    JSON.stringify(e.details),
  ]);
}

export type { Severity };
