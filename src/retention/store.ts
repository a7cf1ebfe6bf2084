// SQL for retention. Each function deletes at most `limit` rows past `before`
// and returns how many it deleted, so the job can run it in short transactions
// until nothing is left: a year of backlog never holds a long lock.
//
// Children go with their parents through ON DELETE CASCADE (delivery attempts
// with their outbox row, alert events with their alert; see migrations 0005,
// 0006). Each walks an index on its cut-off column, oldest first (migration
// 0008), so a batch reads only rows it deletes and the last one reads nothing.
import type { Sql } from "../db/db.ts";

async function count(sql: Sql, text: string, params: readonly unknown[]): Promise<number> {
  const [row] = await sql.query<{ n: number }>(`with gone as (${text} returning 1) select count(*)::int as n from gone`, params);
  return row?.n ?? 0;
}

/** Delivered notifications (and their attempts) delivered before `before`. */
export function deleteDeliveredOutbox(sql: Sql, before: Date, limit: number): Promise<number> {
  return count(
    sql,
    `delete from notification_outbox where id in (
       select id from notification_outbox where status = 'delivered' and delivered_at < $1 order by delivered_at limit $2)`,
    [before, limit],
  );
}

/**
 * Dead letters (and their attempts) whose last attempt was before `before`.
 * A dead row keeps the next_attempt_at of the attempt that killed it; a replay
 * resets it (and the status) to now, so a replayed row is never taken early.
 * The status is checked again in the outer delete in case a replay won the race.
 */
export function deleteDeadOutbox(sql: Sql, before: Date, limit: number): Promise<number> {
  return count(
    sql,
    `delete from notification_outbox where status = 'dead' and next_attempt_at < $1 and id in (
       select id from notification_outbox where status = 'dead' and next_attempt_at < $1 order by next_attempt_at limit $2)`,
    [before, limit],
  );
}

/** Throttle markers last set before `before` (older than any throttle window). */
export function deleteThrottleMarks(sql: Sql, before: Date, limit: number): Promise<number> {
  // The outer condition again: a marker claimed meanwhile has a new last_at and stays.
  return count(
    sql,
    `delete from notification_throttle where last_at < $1 and (channel_id, fingerprint) in (
       select channel_id, fingerprint from notification_throttle where last_at < $1 limit $2)`,
    [before, limit],
  );
}

/** Device events (timeline entries) from before `before`. */
export function deleteDeviceEvents(sql: Sql, before: Date, limit: number): Promise<number> {
  return count(sql, "delete from device_events where id in (select id from device_events where time < $1 order by time limit $2)", [before, limit]);
}

/** Closed alerts (and their events) closed before `before`. A reopened alert is OPEN again and stays. */
export function deleteClosedAlerts(sql: Sql, before: Date, limit: number): Promise<number> {
  return count(
    sql,
    `delete from alerts where status = 'CLOSED' and closed_at < $1 and id in (
       select id from alerts where status = 'CLOSED' and closed_at < $1 order by closed_at limit $2)`,
    [before, limit],
  );
}

/** Device activation codes that expired before `before`, used or not. */
export function deleteExpiredActivationCodes(sql: Sql, before: Date, limit: number): Promise<number> {
  return count(sql, "delete from activation_codes where code_hash in (select code_hash from activation_codes where expires_at < $1 limit $2)", [before, limit]);
}

/** Invites that expired before `before`, whether accepted, revoked or never used. */
export function deleteExpiredInvites(sql: Sql, before: Date, limit: number): Promise<number> {
  return count(sql, "delete from invites where token_hash in (select token_hash from invites where expires_at < $1 limit $2)", [before, limit]);
}

/**
 * Audit entries from before `before`. The append-only trigger refuses this to
 * pulse_app: only a transaction running as the owner (asOwner) gets through.
 */
export function deleteAuditEntries(sql: Sql, before: Date, limit: number): Promise<number> {
  return count(sql, "delete from audit_log where id in (select id from audit_log where time < $1 order by time limit $2)", [before, limit]);
}
