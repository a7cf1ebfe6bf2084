// SQL for users, tenant memberships, invites and password resets.
// users and password_resets are platform tables; memberships and invites are
// tenant tables under row-level security.

import type { Sql } from "../../db/db.ts";
import type { PlatformRole, TenantRole } from "../../lib/ctx.ts";

export interface UserRow {
  id: string;
  username: string;
  email: string | null;
  name: string;
  password_hash: string | null;
  platform_role: PlatformRole | null;
  status: "ACTIVE" | "DISABLED";
  must_change_password: boolean;
  created_at: Date;
  updated_at: Date;
  password_changed_at: Date | null;
  last_login_at: Date | null;
}

export interface MembershipRow {
  tenant_id: string;
  user_id: string;
  role: TenantRole;
  created_at: Date;
}

export async function insertUser(
  sql: Sql,
  u: { username: string; email: string | null; name: string; passwordHash: string | null; platformRole: PlatformRole | null; mustChangePassword?: boolean; now: Date },
): Promise<UserRow | undefined> {
  const [row] = await sql.query<UserRow>(
    `insert into users (username, email, name, password_hash, platform_role, must_change_password, created_at, updated_at, password_changed_at)
     values ($1, $2, $3, $4, $5, $6, $7::timestamptz, $7::timestamptz, case when $4::text is null then null else $7::timestamptz end)
     on conflict do nothing returning *`,
    [u.username, u.email, u.name, u.passwordHash, u.platformRole, u.mustChangePassword ?? false, u.now],
  );
  return row;
}

/**
 * The first operator-admin, "admin", made on first start. A no-op when the
 * name is taken (several nodes may start together; the settings row decides).
 */
export async function insertBootstrapAdmin(sql: Sql, passwordHash: string, mustChangePassword: boolean): Promise<void> {
  await sql.query(
    `insert into users (username, name, password_hash, platform_role, must_change_password, password_changed_at)
       values ('admin', 'Administrator', $1, 'operator-admin', $2, now())
       on conflict (lower(username)) do nothing`,
    [passwordHash, mustChangePassword],
  );
}

export async function findUserById(sql: Sql, id: string): Promise<UserRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const [row] = await sql.query<UserRow>("select * from users where id = $1", [id]);
  return row;
}

/** By username or email, case-insensitively. */
export async function findUserByLogin(sql: Sql, login: string): Promise<UserRow | undefined> {
  const [row] = await sql.query<UserRow>("select * from users where lower(username) = lower($1) or lower(email) = lower($1) order by (lower(username) = lower($1)) desc limit 1", [login]);
  return row;
}

export async function findUserByEmail(sql: Sql, email: string): Promise<UserRow | undefined> {
  const [row] = await sql.query<UserRow>("select * from users where lower(email) = lower($1)", [email]);
  return row;
}

export async function listAllUsers(sql: Sql): Promise<UserRow[]> {
  return sql.query<UserRow>("select * from users order by lower(username)");
}

export async function updateUser(
  sql: Sql,
  id: string,
  patch: Partial<Pick<UserRow, "name" | "email" | "password_hash" | "platform_role" | "status" | "must_change_password" | "password_changed_at" | "last_login_at">>,
  now: Date,
): Promise<UserRow | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [id, now];
  for (const [k, v] of Object.entries(patch)) {
    params.push(v);
    sets.push(`${k} = $${params.length}`);
  }
  const [row] = await sql.query<UserRow>(`update users set ${[...sets, "updated_at = $2"].join(", ")} where id = $1 returning *`, params);
  return row;
}

/**
 * Set a platform role as an identity provider grants it on sign-in. Unlike
 * updateUser this leaves updated_at alone.
 */
export async function setUserPlatformRole(sql: Sql, userId: string, role: PlatformRole): Promise<void> {
  await sql.query("update users set platform_role = $2 where id = $1", [userId, role]);
}

export async function findUserStatus(sql: Sql, userId: string): Promise<{ status: string; username: string } | undefined> {
  const [row] = await sql.query<{ status: string; username: string }>("select status, username from users where id = $1", [userId]);
  return row;
}

/** Operator-admins whose account is enabled (the last one must not lose the role). */
export async function countActiveOperatorAdmins(sql: Sql): Promise<number> {
  const [row] = await sql.query<{ n: number }>("select count(*) as n from users where platform_role = 'operator-admin' and status = 'ACTIVE'");
  return row?.n ?? 0;
}

/** What a request's principal is built from: the user, and their membership and the tenant's state when one is named. */
export interface UserStateRow {
  id: string;
  username: string;
  name: string;
  email: string | null;
  status: string;
  platform_role: PlatformRole | null;
  must_change_password: boolean;
  tenant_role: TenantRole | null;
  tenant_status: string | null;
  tenant_name: string | null;
}

export async function findUserState(sql: Sql, userId: string, tenantId: string | null): Promise<UserStateRow | undefined> {
  const [row] = await sql.query<UserStateRow>(
    `select u.id, u.username, u.name, u.email, u.status, u.platform_role, u.must_change_password,
              m.role as tenant_role, t.status as tenant_status, t.name as tenant_name
         from users u
         left join tenants t on t.id = $2
         left join tenant_memberships m on m.user_id = u.id and m.tenant_id = $2
        where u.id = $1`,
    [userId, tenantId],
  );
  return row;
}

/** Members of the tenant in scope (RLS limits memberships to it). */
export async function listMembers(sql: Sql): Promise<Array<UserRow & { role: TenantRole; tenant_id: string; member_since: Date }>> {
  return sql.query(
    `select u.*, m.role, m.tenant_id, m.created_at as member_since
       from tenant_memberships m join users u on u.id = m.user_id
      order by lower(u.username)`,
  );
}

export async function findMembership(sql: Sql, tenantId: string, userId: string): Promise<MembershipRow | undefined> {
  const [row] = await sql.query<MembershipRow>("select * from tenant_memberships where tenant_id = $1 and user_id = $2", [tenantId, userId]);
  return row;
}

/** All tenants a user belongs to (system scope: this crosses tenants by nature). */
export async function listMembershipsOfUser(sql: Sql, userId: string): Promise<Array<MembershipRow & { tenant_name: string; tenant_status: string }>> {
  return sql.query(
    `select m.*, t.name as tenant_name, t.status as tenant_status
       from tenant_memberships m join tenants t on t.id = m.tenant_id
      where m.user_id = $1 and t.status <> 'DELETED' order by m.tenant_id`,
    [userId],
  );
}

export async function upsertMembership(sql: Sql, m: { tenantId: string; userId: string; role: TenantRole; now: Date }): Promise<void> {
  await sql.query(
    `insert into tenant_memberships (tenant_id, user_id, role, created_at) values ($1, $2, $3, $4)
     on conflict (tenant_id, user_id) do update set role = excluded.role`,
    [m.tenantId, m.userId, m.role, m.now],
  );
}

export async function deleteMembership(sql: Sql, tenantId: string, userId: string): Promise<boolean> {
  const rows = await sql.query("delete from tenant_memberships where tenant_id = $1 and user_id = $2 returning user_id", [tenantId, userId]);
  return rows.length === 1;
}

/** Tenants other than `exceptTenantId` that the user belongs to (system scope). */
export async function countOtherMemberships(sql: Sql, userId: string, exceptTenantId: string): Promise<number> {
  const [row] = await sql.query<{ n: number }>("select count(*) as n from tenant_memberships where user_id = $1 and tenant_id <> $2", [userId, exceptTenantId]);
  return row?.n ?? 0;
}

export async function countTenantAdmins(sql: Sql, tenantId: string): Promise<number> {
  const [row] = await sql.query<{ n: number }>(
    `select count(*) as n from tenant_memberships m join users u on u.id = m.user_id
      where m.tenant_id = $1 and m.role = 'tenant-admin' and u.status = 'ACTIVE'`,
    [tenantId],
  );
  return row?.n ?? 0;
}

// Invites

export interface InviteRow {
  token_hash: string;
  tenant_id: string;
  email: string;
  role: TenantRole;
  invited_by: string | null;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
}

export async function insertInvite(sql: Sql, i: { tokenHash: string; tenantId: string; email: string; role: TenantRole; invitedBy: string | null; now: Date; expiresAt: Date }): Promise<void> {
  await sql.query(
    "insert into invites (token_hash, tenant_id, email, role, invited_by, created_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7)",
    [i.tokenHash, i.tenantId, i.email, i.role, i.invitedBy, i.now, i.expiresAt],
  );
}

export async function findInvite(sql: Sql, tokenHash: string): Promise<InviteRow | undefined> {
  const [row] = await sql.query<InviteRow>("select * from invites where token_hash = $1", [tokenHash]);
  return row;
}

/** Pending invites of the tenant in scope. */
export async function listPendingInvites(sql: Sql, now: Date): Promise<InviteRow[]> {
  return sql.query<InviteRow>("select * from invites where accepted_at is null and revoked_at is null and expires_at > $1 order by created_at desc", [now]);
}

export async function markInvite(sql: Sql, tokenHash: string, field: "accepted_at" | "revoked_at", now: Date): Promise<boolean> {
  const rows = await sql.query(`update invites set ${field} = $2 where token_hash = $1 and accepted_at is null and revoked_at is null returning token_hash`, [tokenHash, now]);
  return rows.length === 1;
}

// Password resets

export async function insertPasswordReset(sql: Sql, r: { tokenHash: string; userId: string; createdBy: string | null; now: Date; expiresAt: Date }): Promise<void> {
  await sql.query("insert into password_resets (token_hash, user_id, created_by, created_at, expires_at) values ($1, $2, $3, $4, $5)", [
    r.tokenHash,
    r.userId,
    r.createdBy,
    r.now,
    r.expiresAt,
  ]);
}

/** Use a reset token once: returns its user when it was valid and unused. */
export async function consumePasswordReset(sql: Sql, tokenHash: string, now: Date): Promise<string | undefined> {
  const [row] = await sql.query<{ user_id: string }>(
    "update password_resets set used_at = $2 where token_hash = $1 and used_at is null and expires_at > $2 returning user_id",
    [tokenHash, now],
  );
  return row?.user_id;
}

export async function findPasswordReset(sql: Sql, tokenHash: string, now: Date): Promise<{ user_id: string } | undefined> {
  const [row] = await sql.query<{ user_id: string }>("select user_id from password_resets where token_hash = $1 and used_at is null and expires_at > $2", [tokenHash, now]);
  return row;
}

export async function deleteExpiredPasswordResets(sql: Sql, before: Date): Promise<void> {
  await sql.query("delete from password_resets where expires_at < $1", [before]);
}

// Tenants, as memberships, invites and sign-ins need them. Read here rather
// than through the tenants service because they run inside this domain's
// transactions (system scope, or the tenant's own scope for invites).

export async function findTenantStatus(sql: Sql, tenantId: string): Promise<{ status: string } | undefined> {
  const [row] = await sql.query<{ status: string }>("select status from tenants where id = $1", [tenantId]);
  return row;
}

export async function findTenantName(sql: Sql, tenantId: string): Promise<{ name: string } | undefined> {
  const [row] = await sql.query<{ name: string }>("select name from tenants where id = $1", [tenantId]);
  return row;
}

export async function findTenantNameAndStatus(sql: Sql, tenantId: string): Promise<{ name: string; status: string } | undefined> {
  const [row] = await sql.query<{ name: string; status: string }>("select name, status from tenants where id = $1", [tenantId]);
  return row;
}
