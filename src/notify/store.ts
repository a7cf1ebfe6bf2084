// SQL for notification channels, routes, the outbox and delivery attempts.
import type { Sql } from "../db/db.ts";
import type { Severity } from "../alerts/evaluate.ts";
import type { Recipient } from "./personal.ts";

export interface ChannelRow {
  id: string;
  tenant_id: string;
  name: string;
  type: string;
  config: Record<string, unknown>;
  secrets: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  consecutive_failures: number;
  circuit_open_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

export async function insertChannel(sql: Sql, c: { tenantId: string; name: string; type: string; config: unknown; secrets: string; enabled: boolean; now: Date }): Promise<ChannelRow> {
  const [row] = await sql.query<ChannelRow>(
    "insert into notification_channels (tenant_id, name, type, config, secrets, enabled, created_at, updated_at) values ($1, $2, $3, $4::jsonb, $5, $6, $7, $7) returning *",
    [c.tenantId, c.name, c.type, JSON.stringify(c.config), c.secrets, c.enabled, c.now],
  );
  return row!;
}

export async function updateChannel(sql: Sql, id: string, patch: Partial<Pick<ChannelRow, "name" | "config" | "secrets" | "enabled" | "disabled_reason" | "consecutive_failures" | "circuit_open_until">>, now: Date): Promise<ChannelRow | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [id, now];
  for (const [k, v] of Object.entries(patch)) {
    params.push(k === "config" ? JSON.stringify(v) : v);
    sets.push(`${k} = $${params.length}${k === "config" ? "::jsonb" : ""}`);
  }
  const [row] = await sql.query<ChannelRow>(`update notification_channels set ${[...sets, "updated_at = $2"].join(", ")} where id = $1 returning *`, params);
  return row;
}

export async function findChannel(sql: Sql, id: string): Promise<ChannelRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<ChannelRow>("select * from notification_channels where id = $1", [id]);
  return row;
}

export async function listChannels(sql: Sql): Promise<ChannelRow[]> {
  return sql.query<ChannelRow>("select * from notification_channels order by name");
}

export async function deleteChannel(sql: Sql, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  return (await sql.query("delete from notification_channels where id = $1 returning id", [id])).length === 1;
}

export interface RouteRow {
  id: string;
  tenant_id: string;
  channel_id: string;
  name: string;
  min_severity: Severity;
  alert_types: string[];
  scope: { sites?: string[]; tags?: Record<string, string> };
  transitions: string[];
  throttle_seconds: number;
  active_hours: { days?: string[]; start: string; end: string; timezone: string } | null;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export type RouteFields = Pick<RouteRow, "channel_id" | "name" | "min_severity" | "alert_types" | "scope" | "transitions" | "throttle_seconds" | "active_hours" | "enabled">;

export async function insertRoute(sql: Sql, tenantId: string, r: RouteFields, now: Date): Promise<RouteRow> {
  const [row] = await sql.query<RouteRow>(
    `insert into notification_routes (tenant_id, channel_id, name, min_severity, alert_types, scope, transitions, throttle_seconds, active_hours, enabled, created_at, updated_at)
     values ($1, $2, $3, $4, $5::text[], $6::jsonb, $7::text[], $8, $9::jsonb, $10, $11, $11) returning *`,
    [tenantId, r.channel_id, r.name, r.min_severity, r.alert_types, JSON.stringify(r.scope), r.transitions, r.throttle_seconds, r.active_hours ? JSON.stringify(r.active_hours) : null, r.enabled, now],
  );
  return row!;
}

export async function updateRoute(sql: Sql, id: string, r: RouteFields, now: Date): Promise<RouteRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<RouteRow>(
    `update notification_routes set channel_id = $2, name = $3, min_severity = $4, alert_types = $5::text[], scope = $6::jsonb, transitions = $7::text[],
            throttle_seconds = $8, active_hours = $9::jsonb, enabled = $10, updated_at = $11 where id = $1 returning *`,
    [id, r.channel_id, r.name, r.min_severity, r.alert_types, JSON.stringify(r.scope), r.transitions, r.throttle_seconds, r.active_hours ? JSON.stringify(r.active_hours) : null, r.enabled, now],
  );
  return row;
}

export async function deleteRoute(sql: Sql, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  return (await sql.query("delete from notification_routes where id = $1 returning id", [id])).length === 1;
}

/** Routes (with their channel) of one tenant, for routing and for the UI. */
export async function listRoutes(sql: Sql, tenantId?: string): Promise<Array<RouteRow & { channel_enabled: boolean; channel_type: string }>> {
  return sql.query(
    `select r.*, c.enabled as channel_enabled, c.type as channel_type from notification_routes r join notification_channels c on c.id = r.channel_id
      where ($1::text is null or r.tenant_id = $1) order by r.name`,
    [tenantId ?? null],
  );
}

/** Throttle: claim the right to notify this (channel, fingerprint) unless it was notified within the window. */
export async function claimThrottle(sql: Sql, tenantId: string, channelId: string, fingerprint: string, now: Date, windowSeconds: number): Promise<boolean> {
  const rows = await sql.query(
    `insert into notification_throttle as t (tenant_id, channel_id, fingerprint, last_at) values ($1, $2, $3, $4)
     on conflict (channel_id, fingerprint) do update set last_at = excluded.last_at
       where t.last_at <= $4::timestamptz - make_interval(secs => $5)
     returning channel_id`,
    [tenantId, channelId, fingerprint, now, windowSeconds],
  );
  return rows.length === 1;
}

export interface OutboxRow {
  id: number;
  tenant_id: string;
  /** null for a page to one person (recipient). */
  channel_id: string | null;
  alert_id: string | null;
  event: string;
  idempotency_key: string;
  payload: Record<string, unknown>;
  status: "pending" | "delivered" | "dead";
  attempts: number;
  next_attempt_at: Date;
  leased_until: Date | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
  give_up_at: Date;
  /** Where a page to one person goes (see personal.ts), with its URL secrets sealed. */
  recipient: Recipient | null;
  recipient_secrets: string | null;
}

/** Queue a notification for a channel, or (channelId null) for one person's contact (recipient). */
export async function insertOutbox(
  sql: Sql,
  o: { tenantId: string; channelId: string | null; recipient?: { to: Recipient; sealed: string | null }; alertId: string | null; event: string; key: string; payload: unknown; now: Date; giveUpAt: Date },
): Promise<number> {
  const [row] = await sql.query<{ id: number }>(
    `insert into notification_outbox (tenant_id, channel_id, alert_id, event, idempotency_key, payload, next_attempt_at, created_at, give_up_at, recipient, recipient_secrets)
     values ($1, $2, $3, $4, $5, $6::jsonb, $7, $7, $8, $9::jsonb, $10) returning id`,
    [o.tenantId, o.channelId, o.alertId, o.event, o.key, JSON.stringify(o.payload), o.now, o.giveUpAt, o.recipient ? JSON.stringify(o.recipient.to) : null, o.recipient?.sealed ?? null],
  );
  return row!.id;
}

/** Claim due rows (any node may run this): SKIP LOCKED, and a lease that expires if this node dies mid-delivery. */
export async function claimDue(sql: Sql, now: Date, limit: number, leaseSeconds: number): Promise<Array<OutboxRow & { channel: ChannelRow | null }>> {
  // Each row comes with its channel (as JSON, timestamps as text): the worker
  // needs both, and one statement is a round trip before every delivery less.
  const rows = await sql.query<OutboxRow & { channel: (Omit<ChannelRow, "circuit_open_until" | "created_at" | "updated_at"> & Record<"circuit_open_until" | "created_at" | "updated_at", string | null>) | null }>(
    `with claimed as (update notification_outbox set leased_until = $1::timestamptz + make_interval(secs => $3), attempts = attempts + 1
      where id in (
        select o.id from notification_outbox o left join notification_channels c on c.id = o.channel_id
         where o.status = 'pending' and o.next_attempt_at <= $1 and (o.leased_until is null or o.leased_until < $1)
           and (c.circuit_open_until is null or c.circuit_open_until <= $1)
           -- One alert's notifications to one channel go out in order: a row waits while an
           -- earlier one is pending (being retried), so a receiver never hears "resolved"
           -- before "triggered" (PagerDuty would then open an incident nothing resolves).
           and not exists (select 1 from notification_outbox p
                            where p.alert_id = o.alert_id and p.channel_id = o.channel_id and p.status = 'pending' and p.id < o.id)
         order by o.next_attempt_at limit $2 for update of o skip locked)
      returning *)
     select claimed.*, to_jsonb(c) as channel from claimed left join notification_channels c on c.id = claimed.channel_id`,
    [now, limit, leaseSeconds],
  );
  const date = (v: string | null) => (v === null ? null : new Date(v));
  return rows.map((r) => ({
    ...r,
    channel: r.channel && { ...r.channel, circuit_open_until: date(r.channel.circuit_open_until), created_at: date(r.channel.created_at)!, updated_at: date(r.channel.updated_at)! },
  }));
}

export interface AttemptResult {
  id: number;
  tenantId: string;
  channelId: string | null;
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  response: string | null;
  error: string | null;
  /** delivered | pending (retry at nextAttemptAt) | dead */
  status: "delivered" | "pending" | "dead";
  nextAttemptAt: Date | null;
  at: Date;
}

/** Write the results of a delivery round in one go. */
export async function saveResults(sql: Sql, results: AttemptResult[]): Promise<void> {
  if (!results.length) return;
  await sql.query(
    `update notification_outbox o set status = r.status, leased_until = null, last_error = r.error,
            next_attempt_at = coalesce(r.next_at, o.next_attempt_at), delivered_at = case when r.status = 'delivered' then r.at else o.delivered_at end
       from unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) as r(id, status, error, next_at, at)
      where o.id = r.id`,
    [results.map((r) => r.id), results.map((r) => r.status), results.map((r) => r.error), results.map((r) => r.nextAttemptAt), results.map((r) => r.at)],
  );
  await sql.query(
    `insert into notification_attempts (tenant_id, outbox_id, time, ok, status_code, latency_ms, response, error)
     select * from unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::boolean[], $5::int[], $6::int[], $7::text[], $8::text[])`,
    [
      results.map((r) => r.tenantId),
      results.map((r) => r.id),
      results.map((r) => r.at),
      results.map((r) => r.ok),
      results.map((r) => r.statusCode),
      results.map((r) => r.latencyMs),
      results.map((r) => r.response),
      results.map((r) => r.error),
    ],
  );
}

export interface DeliveryFilter {
  status?: OutboxRow["status"];
  channelId?: string;
  alertId?: string;
  beforeId?: number;
  limit: number;
}

export async function listDeliveries(sql: Sql, f: DeliveryFilter): Promise<Array<OutboxRow & { channel_name: string; channel_type: string }>> {
  // Pages to one person have no channel: their recipient names the way instead.
  return sql.query(
    `select o.*, coalesce(c.name, o.recipient->>'label') as channel_name, coalesce(c.type, o.recipient->>'kind') as channel_type
       from notification_outbox o left join notification_channels c on c.id = o.channel_id
      where ($1::text is null or o.status = $1) and ($2::uuid is null or o.channel_id = $2) and ($3::uuid is null or o.alert_id = $3) and ($4::bigint is null or o.id < $4)
      order by o.id desc limit $5`,
    [f.status ?? null, f.channelId ?? null, f.alertId ?? null, f.beforeId ?? null, f.limit],
  );
}

/** What a notification says about its alert beyond the alert row: the device's tags, the tenant's and the rule's names (three lookups pipelined on the transaction's connection). */
export async function alertContext(sql: Sql, tenantId: string, deviceId: string, ruleId: string | null): Promise<{ deviceTags?: Record<string, string>; tenantName?: string; ruleName?: string }> {
  const [[device], [tenant], [rule]] = await Promise.all([
    sql.query<{ tags: Record<string, string> }>("select tags from devices where tenant_id = $1 and id = $2", [tenantId, deviceId]),
    sql.query<{ name: string }>("select name from tenants where id = $1", [tenantId]),
    ruleId ? sql.query<{ name: string }>("select name from alert_rules where id = $1", [ruleId]) : Promise.resolve([]),
  ]);
  return { deviceTags: device?.tags, tenantName: tenant?.name, ruleName: rule?.name };
}

/** Whether a delivery is visible in the scope (RLS hides other tenants' rows). */
export async function deliveryExists(sql: Sql, id: number): Promise<boolean> {
  const [row] = await sql.query("select id from notification_outbox where id = $1", [id]);
  return !!row;
}

export async function listAttempts(sql: Sql, outboxId: number): Promise<Array<{ time: Date; ok: boolean; status_code: number | null; latency_ms: number; response: string | null; error: string | null }>> {
  return sql.query("select time, ok, status_code, latency_ms, response, error from notification_attempts where outbox_id = $1 order by id", [outboxId]);
}

/** Put a dead delivery back in the queue (same idempotency key). */
export async function replayDelivery(sql: Sql, id: number, now: Date, giveUpAt: Date): Promise<boolean> {
  const rows = await sql.query("update notification_outbox set status = 'pending', next_attempt_at = $2, give_up_at = $3, leased_until = null where id = $1 and status = 'dead' returning id", [id, now, giveUpAt]);
  return rows.length === 1;
}

/** Record a channel's success or failure for the circuit breaker; returns the failures now. */
export async function recordChannelOutcome(sql: Sql, channelId: string, ok: boolean, now: Date, breakAfter: number): Promise<void> {
  if (ok) {
    await sql.query("update notification_channels set consecutive_failures = 0, circuit_open_until = null where id = $1 and consecutive_failures <> 0", [channelId]);
    return;
  }
  // After breakAfter failures in a row the circuit opens for 1, 2, 4 … up to 30 minutes.
  await sql.query(
    `update notification_channels set consecutive_failures = consecutive_failures + 1,
       circuit_open_until = case when consecutive_failures + 1 >= $3
         then $2::timestamptz + make_interval(secs => least(1800, 60 * power(2, consecutive_failures + 1 - $3)))
         else circuit_open_until end
     where id = $1`,
    [channelId, now, breakAfter],
  );
}

function isUuid(v: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
}
