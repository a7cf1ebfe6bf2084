// SQL for alert rules, their evaluation state, alerts and alert events.
// Maintenance windows and heartbeat rules are in windows-store.ts.

import type { Sql } from "../db/db.ts";
import type { Operator, Scope, Severity, Threshold } from "./evaluate.ts";

export interface RuleRow {
  id: string;
  tenant_id: string;
  name: string;
  rule_type: "THRESHOLD";
  metric_name: string;
  normalized: boolean;
  operator: Operator;
  threshold: Threshold;
  clear_threshold: number | null;
  duration_seconds: number;
  severity: Severity;
  scope: Scope;
  enabled: boolean;
  auto_close: boolean;
  reopen_window_seconds: number;
  escalation_policy_id: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export type RuleFields = Omit<RuleRow, "id" | "tenant_id" | "created_at" | "updated_at" | "created_by" | "rule_type">;

export async function insertRule(sql: Sql, tenantId: string, r: RuleFields, createdBy: string, now: Date): Promise<RuleRow> {
  const [row] = await sql.query<RuleRow>(
    `insert into alert_rules (tenant_id, name, metric_name, normalized, operator, threshold, clear_threshold, duration_seconds, severity, scope, enabled, auto_close, reopen_window_seconds, escalation_policy_id, created_by, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16, $16) returning *`,
    [tenantId, r.name, r.metric_name, r.normalized, r.operator, JSON.stringify(r.threshold), r.clear_threshold, r.duration_seconds, r.severity, JSON.stringify(r.scope), r.enabled, r.auto_close, r.reopen_window_seconds, r.escalation_policy_id, createdBy, now],
  );
  return row!;
}

export async function updateRule(sql: Sql, id: string, r: RuleFields, now: Date): Promise<RuleRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<RuleRow>(
    `update alert_rules set name = $2, metric_name = $3, normalized = $4, operator = $5, threshold = $6::jsonb, clear_threshold = $7, duration_seconds = $8,
            severity = $9, scope = $10::jsonb, enabled = $11, auto_close = $12, reopen_window_seconds = $13, escalation_policy_id = $14, updated_at = $15
      where id = $1 returning *`,
    [id, r.name, r.metric_name, r.normalized, r.operator, JSON.stringify(r.threshold), r.clear_threshold, r.duration_seconds, r.severity, JSON.stringify(r.scope), r.enabled, r.auto_close, r.reopen_window_seconds, r.escalation_policy_id, now],
  );
  return row;
}

export async function deleteRule(sql: Sql, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  return (await sql.query("delete from alert_rules where id = $1 returning id", [id])).length === 1;
}

export async function findRule(sql: Sql, id: string): Promise<RuleRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<RuleRow>("select * from alert_rules where id = $1", [id]);
  return row;
}

/** Rules of the tenant in scope; `enabledOnly` for the evaluator. */
export async function listRules(sql: Sql, opts: { tenantId?: string; enabledOnly?: boolean } = {}): Promise<RuleRow[]> {
  return sql.query<RuleRow>(
    `select * from alert_rules where ($1::text is null or tenant_id = $1) and (not $2 or enabled) order by name`,
    [opts.tenantId ?? null, opts.enabledOnly ?? false],
  );
}

/** Which of these metric names the tenant has ever sent (rules on unseen metrics are flagged in the UI). */
export async function seenMetrics(sql: Sql, tenantId: string): Promise<Set<string>> {
  const rows = await sql.query<{ name: string }>("select name from metric_catalog where tenant_id = $1", [tenantId]);
  return new Set(rows.map((r) => r.name));
}

// Evaluation state

export interface StateRow {
  tenant_id: string;
  rule_id: string;
  device_id: string;
  pending_since: Date | null;
  firing: boolean;
}

export async function loadStates(sql: Sql, tenantId: string): Promise<StateRow[]> {
  return sql.query<StateRow>("select tenant_id, rule_id, device_id, pending_since, firing from rule_state where tenant_id = $1", [tenantId]);
}

export async function saveStates(sql: Sql, rows: Array<StateRow & { last_value: unknown; last_at: Date }>): Promise<void> {
  if (!rows.length) return;
  await sql.query(
    `insert into rule_state as s (tenant_id, rule_id, device_id, pending_since, firing, last_value, last_at)
     select t.tenant_id, t.rule_id, t.device_id, t.pending_since, t.firing, t.last_value, t.last_at
       from unnest($1::text[], $2::uuid[], $3::text[], $4::timestamptz[], $5::boolean[], $6::jsonb[], $7::timestamptz[])
         as t(tenant_id, rule_id, device_id, pending_since, firing, last_value, last_at)
       join alert_rules r on r.id = t.rule_id
     on conflict (rule_id, device_id) do update set pending_since = excluded.pending_since, firing = excluded.firing,
       last_value = excluded.last_value, last_at = excluded.last_at`,
    [
      rows.map((r) => r.tenant_id),
      rows.map((r) => r.rule_id),
      rows.map((r) => r.device_id),
      rows.map((r) => r.pending_since),
      rows.map((r) => r.firing),
      rows.map((r) => JSON.stringify(r.last_value ?? null)),
      rows.map((r) => r.last_at),
    ],
  );
}

/** A changed condition is judged afresh: pending (not firing) states of the rule start over. */
export async function resetPending(sql: Sql, ruleId: string): Promise<void> {
  await sql.query("update rule_state set pending_since = null where rule_id = $1 and not firing", [ruleId]);
}

/** A metric's values since `since`, per device in time order, with each device's site and tags (the rule preview). */
export async function metricHistory(
  sql: Sql,
  tenantId: string,
  metric: string,
  since: Date,
  limit: number,
): Promise<Array<{ device_id: string; time: Date; value: unknown; site_id: string; tags: Record<string, string> }>> {
  return sql.query(
    `select t.device_id, t.time, t.metrics->$1 as value, d.site_id, d.tags from telemetry t
       join devices d on d.tenant_id = t.tenant_id and d.id = t.device_id
      where t.tenant_id = $2 and t.time >= $3 and t.metrics ? $1 order by t.device_id, t.time limit $4`,
    [metric, tenantId, since, limit],
  );
}

/** The value last judged for (rule, device), or undefined when none was stored. */
export async function lastJudgedValue(sql: Sql, ruleId: string, deviceId: string): Promise<unknown> {
  const [row] = await sql.query<{ last_value: unknown }>("select last_value from rule_state where rule_id = $1 and device_id = $2", [ruleId, deviceId]);
  return row?.last_value;
}

/** The tenant's metrics that rules may judge normalized: name → [multiplier, offset]. */
export async function listNormalizations(sql: Sql, tenantId: string): Promise<Array<[string, [number, number]]>> {
  const rows = await sql.query<{ name: string; multiplier: number; offset: number | null }>(
    'select name, multiplier, "offset" from metric_catalog where tenant_id = $1 and multiplier is not null',
    [tenantId],
  );
  return rows.map((c) => [c.name, [c.multiplier, c.offset ?? 0]]);
}

/** Pending conditions whose `for` deadline has passed (all tenants: the leader's sweep). */
export async function duePending(sql: Sql, now: Date): Promise<Array<StateRow & { duration_seconds: number }>> {
  return sql.query(
    `select s.tenant_id, s.rule_id, s.device_id, s.pending_since, s.firing, r.duration_seconds
       from rule_state s join alert_rules r on r.id = s.rule_id
      where s.pending_since is not null and not s.firing and r.enabled
        and s.pending_since + make_interval(secs => r.duration_seconds) <= $1`,
    [now],
  );
}

// Alerts

export type AlertStatus = "OPEN" | "ACKNOWLEDGED" | "CLOSED";

export interface AlertRow {
  id: string;
  tenant_id: string;
  fingerprint: string;
  alert_type: "THRESHOLD" | "NO_HEARTBEAT";
  rule_id: string | null;
  device_id: string;
  site_id: string | null;
  severity: Severity;
  status: AlertStatus;
  summary: string;
  metric_name: string | null;
  last_value: unknown;
  trigger_count: number;
  opened_at: Date;
  last_triggered_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  closed_at: Date | null;
  closed_by: string | null;
  close_reason: string | null;
  silenced_until: Date | null;
  suppressed: boolean;
  escalation_level: number;
  next_escalation_at: Date | null;
}

export interface NewAlert {
  tenantId: string;
  fingerprint: string;
  type: AlertRow["alert_type"];
  ruleId: string | null;
  deviceId: string;
  siteId: string | null;
  severity: Severity;
  summary: string;
  metricName: string | null;
  value: unknown;
  suppressed: boolean;
  at: Date;
}

export async function findOpenAlert(sql: Sql, tenantId: string, fingerprint: string): Promise<AlertRow | undefined> {
  const [row] = await sql.query<AlertRow>("select * from alerts where tenant_id = $1 and fingerprint = $2 and status <> 'CLOSED' for update", [tenantId, fingerprint]);
  return row;
}

/** An alert event: one entry of an alert's timeline. */
export interface NewAlertEvent {
  time: Date;
  kind: string;
  actorKind?: string;
  actorName?: string;
  value?: unknown;
  details?: Record<string, unknown>;
}

/** The event's columns after the alert's tenant and id, as parameters from `first` on. */
function eventParams(e: NewAlertEvent): unknown[] {
  return [e.time, e.kind, e.actorKind ?? "system", e.actorName ?? "system", e.value === undefined ? null : JSON.stringify(e.value), JSON.stringify(e.details ?? {})];
}

function eventInsert(from: string, first: number): string {
  const p = (k: number) => `$${first + k}`;
  return `insert into alert_events (tenant_id, alert_id, time, kind, actor_kind, actor_name, value, details)
          select tenant_id, id, ${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}::jsonb, ${p(5)}::jsonb from ${from}`;
}

/** Change an alert and record the event that says why, in one statement. */
export async function updateAlert(sql: Sql, id: string, patch: Partial<Omit<AlertRow, "id" | "tenant_id">>, event: NewAlertEvent): Promise<AlertRow> {
  return (await changeAlerts(sql, "id = $1", [id], patch, event))!;
}

/** The same for the open alert of a fingerprint, if there is one (undefined when none is open). */
export async function updateOpenAlert(sql: Sql, tenantId: string, fingerprint: string, patch: Partial<Omit<AlertRow, "id" | "tenant_id">>, event: NewAlertEvent): Promise<AlertRow | undefined> {
  return changeAlerts(sql, "tenant_id = $1 and fingerprint = $2 and status <> 'CLOSED'", [tenantId, fingerprint], patch, event);
}

async function changeAlerts(sql: Sql, where: string, whereParams: unknown[], patch: Partial<Omit<AlertRow, "id" | "tenant_id">>, event: NewAlertEvent): Promise<AlertRow | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [...whereParams];
  for (const [k, v] of Object.entries(patch)) {
    params.push(k === "last_value" ? JSON.stringify(v ?? null) : v);
    sets.push(`${k} = $${params.length}${k === "last_value" ? "::jsonb" : ""}`);
  }
  const [row] = await sql.query<AlertRow>(`with a as (update alerts set ${sets.join(", ")} where ${where} returning *), e as (${eventInsert("a", params.length + 1)}) select * from a`, [
    ...params,
    ...eventParams(event),
  ]);
  return row;
}

export type RaiseKind = "triggered" | "retriggered" | "reopened";

/**
 * The condition is met, in one statement (it runs in the engine's
 * transactions, where each round trip is paid under load): count a repeat of
 * the open alert of the fingerprint; or re-open the one most recently closed
 * at or after `reopenSince` (null: none is); or open a new one — each with its
 * event. Undefined only when another transaction opened it meanwhile (the
 * unique index refused the new row): the caller counts a repeat then.
 */
export async function raiseAlert(sql: Sql, a: NewAlert, reopenSince: Date | null): Promise<{ kind: RaiseKind; alert: AlertRow } | undefined> {
  const rows = await sql.query<AlertRow & { change: RaiseKind }>(
    `with o as (select id from alerts where tenant_id = $1 and fingerprint = $2 and status <> 'CLOSED' for update),
          r as (select id from alerts where $13::timestamptz is not null and tenant_id = $1 and fingerprint = $2 and status = 'CLOSED' and closed_at >= $13
                  and not exists (select 1 from o) order by closed_at desc limit 1 for update),
          re as (update alerts x set trigger_count = x.trigger_count + 1, last_triggered_at = $12, last_value = $10::jsonb
                  where x.id = (select id from o) returning x.*, 'retriggered'::text as change),
          ro as (update alerts x set status = 'OPEN', trigger_count = x.trigger_count + 1, last_triggered_at = $12, last_value = $10::jsonb, severity = $7, summary = $8,
                        closed_at = null, closed_by = null, close_reason = null, acknowledged_at = null, acknowledged_by = null, suppressed = $11, escalation_level = 0
                  where x.id = (select id from r) returning x.*, 'reopened'::text as change),
          ins as (insert into alerts (tenant_id, fingerprint, alert_type, rule_id, device_id, site_id, severity, summary, metric_name, last_value, suppressed, opened_at, last_triggered_at)
                  select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $12 where not exists (select 1 from o) and not exists (select 1 from r)
                  on conflict (tenant_id, fingerprint) where status <> 'CLOSED' do nothing returning *, 'triggered'::text as change),
          ch as (select * from re union all select * from ro union all select * from ins),
          e as (insert into alert_events (tenant_id, alert_id, time, kind, actor_kind, actor_name, value, details)
                  select tenant_id, id, $12, case change when 'retriggered' then 'TRIGGERED' when 'reopened' then 'REOPENED' else 'OPENED' end, 'system', 'system', $14::jsonb,
                         case change when 'retriggered' then '{}'::jsonb else $15::jsonb end from ch)
     select * from ch`,
    [
      a.tenantId,
      a.fingerprint,
      a.type,
      a.ruleId,
      a.deviceId,
      a.siteId,
      a.severity,
      a.summary,
      a.metricName,
      JSON.stringify(a.value ?? null),
      a.suppressed,
      a.at,
      reopenSince,
      a.value === undefined ? null : JSON.stringify(a.value),
      JSON.stringify({ summary: a.summary, suppressed: a.suppressed }),
    ],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { change, ...alert } = row;
  return { kind: change, alert };
}

export interface AlertFilter {
  status?: AlertStatus | "ALL" | "ACTIVE";
  severity?: Severity[];
  deviceId?: string;
  siteId?: string;
  type?: AlertRow["alert_type"];
  from?: Date;
  to?: Date;
  /** Keyset: alerts opened before this (opened_at, id). */
  before?: { at: Date; id: string };
  limit: number;
}

/** Alerts of the tenant in scope, newest first. */
export async function listAlerts(sql: Sql, f: AlertFilter): Promise<AlertRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: string, ...v: unknown[]) => {
    let c = cond;
    for (const x of v) {
      params.push(x);
      c = c.replace("?", `$${params.length}`);
    }
    where.push(c);
  };
  if (f.status === "ACTIVE") where.push("status <> 'CLOSED'");
  else if (f.status && f.status !== "ALL") add("status = ?", f.status);
  if (f.severity?.length) add("severity = any(?::text[])", f.severity);
  if (f.deviceId) add("device_id = ?", f.deviceId);
  if (f.siteId) add("site_id = ?", f.siteId);
  if (f.type) add("alert_type = ?", f.type);
  if (f.from) add("opened_at >= ?", f.from);
  if (f.to) add("opened_at < ?", f.to);
  if (f.before) add("(opened_at, id) < (?, ?::uuid)", f.before.at, f.before.id);
  params.push(f.limit);
  return sql.query<AlertRow>(`select * from alerts ${where.length ? "where " + where.join(" and ") : ""} order by opened_at desc, id desc limit $${params.length}`, params);
}

export async function findAlert(sql: Sql, id: string): Promise<AlertRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<AlertRow>("select * from alerts where id = $1", [id]);
  return row;
}

export async function lockAlert(sql: Sql, id: string): Promise<AlertRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<AlertRow>("select * from alerts where id = $1 for update", [id]);
  return row;
}

export interface AlertEventRow {
  id: number;
  time: Date;
  kind: string;
  actor_kind: string;
  actor_name: string;
  value: unknown;
  details: Record<string, unknown>;
}

/** What the system last said about an alert's condition (OPENED, REOPENED, TRIGGERED or CLEARED); people's actions do not count. */
export async function lastConditionEvent(sql: Sql, alertId: string): Promise<string | undefined> {
  const [row] = await sql.query<{ kind: string }>("select kind from alert_events where alert_id = $1 and kind in ('OPENED', 'REOPENED', 'TRIGGERED', 'CLEARED') order by id desc limit 1", [alertId]);
  return row?.kind;
}

export async function listAlertEvents(sql: Sql, alertId: string): Promise<AlertEventRow[]> {
  return sql.query<AlertEventRow>("select id, time, kind, actor_kind, actor_name, value, details from alert_events where alert_id = $1 order by id", [alertId]);
}

/** Open alerts by severity and status, for KPI strips. */
export async function countActive(sql: Sql): Promise<Array<{ severity: Severity; status: AlertStatus; n: number }>> {
  return sql.query("select severity, status, count(*) as n from alerts where status <> 'CLOSED' group by 1, 2");
}

export function isUuid(v: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
}
