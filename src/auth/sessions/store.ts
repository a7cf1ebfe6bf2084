// SQL for web sessions, login throttling, and revoking everything a user holds.
import type { Sql } from "../../db/db.ts";

export type SessionKind = "idp" | "app";

export interface SessionRow {
  id_hash: string;
  kind: SessionKind;
  user_id: string;
  tenant_id: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  ip: string | null;
  user_agent: string | null;
  revoked_at: Date | null;
}

export async function insertSession(
  sql: Sql,
  s: { idHash: string; kind: SessionKind; userId: string; tenantId: string | null; now: Date; expiresAt: Date; ip: string | null; userAgent: string | null },
): Promise<void> {
  await sql.query(
    "insert into sessions (id_hash, kind, user_id, tenant_id, created_at, last_seen_at, expires_at, ip, user_agent) values ($1, $2, $3, $4, $5, $5, $6, $7, $8)",
    [s.idHash, s.kind, s.userId, s.tenantId, s.now, s.expiresAt, s.ip, s.userAgent?.slice(0, 300) ?? null],
  );
}

export async function findLiveSession(sql: Sql, kind: SessionKind, idHash: string, now: Date, idleSince: Date): Promise<SessionRow | undefined> {
  const [row] = await sql.query<SessionRow>(
    "select * from sessions where id_hash = $1 and kind = $2 and revoked_at is null and expires_at > $3 and last_seen_at > $4",
    [idHash, kind, now, idleSince],
  );
  return row;
}

export async function touchSession(sql: Sql, idHash: string, now: Date): Promise<void> {
  await sql.query("update sessions set last_seen_at = $2 where id_hash = $1", [idHash, now]);
}

export async function setSessionTenant(sql: Sql, idHash: string, tenantId: string | null): Promise<void> {
  await sql.query("update sessions set tenant_id = $2 where id_hash = $1", [idHash, tenantId]);
}

export async function revokeSession(sql: Sql, idHash: string, now: Date): Promise<void> {
  await sql.query("update sessions set revoked_at = $2 where id_hash = $1 and revoked_at is null", [idHash, now]);
}

/** Sign a user out everywhere (password change, disable): sessions and refresh tokens. */
export async function revokeUserCredentials(sql: Sql, userId: string, now: Date, opts: { exceptSession?: string; tenantId?: string } = {}): Promise<void> {
  const tenant = opts.tenantId ?? null;
  await sql.query(
    `update sessions set revoked_at = $2
      where user_id = $1 and revoked_at is null and ($3::text is null or id_hash <> $3) and ($4::text is null or tenant_id = $4)`,
    [userId, now, opts.exceptSession ?? null, tenant],
  );
  await sql.query(
    "update oauth_refresh_tokens set revoked_at = $2 where user_id = $1 and revoked_at is null and ($3::text is null or tenant_id = $3)",
    [userId, now, tenant],
  );
}

export async function deleteExpiredSessions(sql: Sql, before: Date): Promise<number> {
  const rows = await sql.query("delete from sessions where expires_at < $1 or revoked_at < $1 returning id_hash", [before]);
  return rows.length;
}

// Throttling: one row per key ("user:<login>", "ip:<address>", "reset:…").

export interface ThrottleRow {
  key: string;
  failures: number;
  window_start: Date;
  locked_until: Date | null;
}

export async function findThrottles(sql: Sql, keys: string[]): Promise<ThrottleRow[]> {
  return sql.query<ThrottleRow>("select * from login_throttle where key = any($1::text[])", [keys]);
}

/**
 * The key's row, locked for this transaction. A missing row is created
 * first (0 uses): `for update` cannot lock a row that does not exist, and
 * concurrent first requests would otherwise all see none and all pass.
 */
export async function lockThrottle(sql: Sql, key: string, now: Date): Promise<ThrottleRow> {
  await sql.query("insert into login_throttle (key, failures, window_start, locked_until) values ($1, 0, $2, null) on conflict (key) do nothing", [key, now]);
  const [row] = await sql.query<ThrottleRow>("select * from login_throttle where key = $1 for update", [key]);
  return row!;
}

export async function saveThrottle(sql: Sql, t: ThrottleRow): Promise<void> {
  await sql.query(
    `insert into login_throttle (key, failures, window_start, locked_until) values ($1, $2, $3, $4)
     on conflict (key) do update set failures = excluded.failures, window_start = excluded.window_start, locked_until = excluded.locked_until`,
    [t.key, t.failures, t.window_start, t.locked_until],
  );
}

export async function clearThrottle(sql: Sql, key: string): Promise<void> {
  await sql.query("delete from login_throttle where key = $1", [key]);
}

/**
 * Give a key one use back (a sign-in that succeeded), never below zero; the
 * lock lifts when the remaining failures fall below `max`.
 */
export async function releaseThrottleUse(sql: Sql, key: string, max: number): Promise<void> {
  await sql.query("update login_throttle set failures = greatest(0, failures - 1), locked_until = case when failures - 1 < $2 then null else locked_until end where key = $1", [key, max]);
}

/** Counters whose window started before `windowStartBefore` and that are not locked at `now`. */
export async function deleteStaleThrottles(sql: Sql, windowStartBefore: Date, now: Date): Promise<void> {
  await sql.query("delete from login_throttle where window_start < $1 and (locked_until is null or locked_until < $2)", [windowStartBefore, now]);
}
