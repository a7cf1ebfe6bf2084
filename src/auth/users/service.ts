// Users and their roles: local accounts (argon2id passwords under the ASVS
// rules), tenant memberships (customer or tenant-admin), platform roles
// (operator, operator-admin), disabling, password changes. Invites and
// password resets live in invites.ts.

import { recordAuditIn } from "../../audit/service.ts";
import type { Db } from "../../db/db.ts";
import { withCrossTenantRead, withSystem, withTenant } from "../../db/scope.ts";
import type { Clock } from "../../lib/clock.ts";
import { can, requirePermission, TENANT_ROLES, type Caller, type Ctx, type PlatformRole, type TenantRole } from "../../lib/ctx.ts";
import { AppError, conflict, invalid, notFound } from "../../lib/errors.ts";
import { requireEmail, requireText } from "../../lib/validate.ts";
import { passwordProblem } from "../password-policy.ts";
import { hashPassword, verifyPassword } from "../passwords.ts";
import { revokeUserCredentials } from "../sessions/store.ts";
import {
  countActiveOperatorAdmins,
  countTenantAdmins,
  deleteMembership,
  findMembership,
  findTenantStatus,
  findUserById,
  insertUser,
  listAllUsers,
  listMembers,
  listMembershipsOfUser,
  updateUser,
  upsertMembership,
  type UserRow,
} from "./store.ts";

export interface UserDeps {
  db: Db;
  clock: Clock;
}

export interface User {
  id: string;
  username: string;
  email: string | null;
  name: string;
  platformRole: PlatformRole | null;
  status: UserRow["status"];
  mustChangePassword: boolean;
  hasPassword: boolean;
  createdAt: Date;
  lastLoginAt: Date | null;
}

export interface Member extends User {
  role: TenantRole;
  memberSince: Date;
}

export const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  email: r.email,
  name: r.name,
  platformRole: r.platform_role,
  status: r.status,
  mustChangePassword: r.must_change_password,
  hasPassword: r.password_hash !== null,
  createdAt: r.created_at,
  lastLoginAt: r.last_login_at,
});

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

export function requireRole(field: string, v: unknown): TenantRole {
  if (!TENANT_ROLES.includes(v as TenantRole)) throw invalid(field, `${field}: must be customer or tenant-admin`);
  return v as TenantRole;
}

/** Check a new password against the rules, naming the field on failure. */
export function checkNewPassword(password: unknown, context: { username?: string; email?: string | null }, field = "password"): string {
  if (typeof password !== "string") throw invalid(field, `${field}: required`);
  const problem = passwordProblem(password, context);
  if (problem) throw invalid(field, `${field}: ${problem}`);
  return password;
}

export interface NewUser {
  username?: unknown;
  email?: unknown;
  name?: unknown;
  password?: unknown;
  platformRole?: unknown;
  /** Make them a member of this tenant with this role. */
  tenant?: { id: string; role: unknown };
  /** Their first sign-in asks for a new password (the given one was generated). */
  mustChangePassword?: boolean;
}

/**
 * Create a local user. Operator-admins create anyone (platform roles too);
 * tenant-admins create members of their own tenant.
 */
export async function createUser(deps: UserDeps, caller: Caller, input: NewUser): Promise<User> {
  const platformRole = input.platformRole === undefined || input.platformRole === null ? null : input.platformRole;
  if (platformRole !== null && platformRole !== "operator" && platformRole !== "operator-admin") {
    throw invalid("platform_role", "platform_role: must be operator or operator-admin");
  }
  if (platformRole || !input.tenant || input.tenant.id !== caller.tenantId) requirePermission(caller, "platform-admin", "create this user");
  else requirePermission(caller, "admin", "create users");
  const email = input.email === undefined || input.email === null || input.email === "" ? null : requireEmail("email", input.email);
  const username = input.username === undefined ? email : input.username;
  if (typeof username !== "string" || !USERNAME.test(username)) throw invalid("username", "username: 1–128 letters, digits or . _ @ + - (starting with a letter or digit)");
  const name = input.name === undefined ? username : requireText("name", input.name);
  const role = input.tenant ? requireRole("role", input.tenant.role) : undefined;
  const password = input.password === undefined ? undefined : checkNewPassword(input.password, { username, email });
  const hash = password ? await hashPassword(password) : null;
  const now = deps.clock.now();
  return withSystem(deps.db, async (tx) => {
    const row = await insertUser(tx, { username, email, name, passwordHash: hash, platformRole: platformRole as PlatformRole | null, mustChangePassword: input.mustChangePassword, now });
    if (!row) throw conflict(`a user with username ${username}${email ? ` or email ${email}` : ""} already exists`, "username");
    if (input.tenant && role) {
      const tenant = await findTenantStatus(tx, input.tenant.id);
      if (!tenant || tenant.status === "DELETED") throw notFound(`tenant ${input.tenant.id}`);
      await upsertMembership(tx, { tenantId: input.tenant.id, userId: row.id, role, now });
    }
    await recordAuditIn(tx, deps.clock, {
      tenantId: input.tenant?.id ?? null,
      actor: caller.actor,
      action: "user.created",
      target: { kind: "user", id: row.id },
      ip: caller.ip,
      requestId: caller.requestId,
      details: { username, platform_role: platformRole, role: role ?? null },
    });
    return toUser(row);
  });
}

/** Members of the caller's tenant (tenant-admins; operators read any tenant they work in). */
export async function listTenantMembers(deps: UserDeps, ctx: Ctx): Promise<Member[]> {
  if (!can(ctx, "admin") && !can(ctx, "platform-read")) throw new AppError("forbidden", `your role (${ctx.role}) may not list users`);
  const rows = await withTenant(deps.db, ctx, (tx) => listMembers(tx));
  return rows.map((r) => ({ ...toUser(r), role: r.role, memberSince: r.member_since }));
}

/** Every user on the platform (operators). */
export async function listAllPlatformUsers(deps: UserDeps, caller: Caller): Promise<User[]> {
  requirePermission(caller, "platform-read", "list all users");
  return (await withCrossTenantRead(deps.db, (tx) => listAllUsers(tx))).map(toUser);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function getUser(deps: UserDeps, caller: Caller, userId: string): Promise<User> {
  if (!UUID.test(userId)) throw notFound(`user ${userId}`);
  if (caller.actor.kind === "user" && caller.actor.id === userId) {
    const row = await withSystem(deps.db, (tx) => findUserById(tx, userId));
    if (row) return toUser(row);
  }
  if (can(caller, "platform-read")) {
    const row = await withCrossTenantRead(deps.db, (tx) => findUserById(tx, userId));
    if (row) return toUser(row);
    throw notFound(`user ${userId}`);
  }
  // Inside a tenant, only its members exist.
  if (!caller.tenantId || !can(caller, "admin")) throw notFound(`user ${userId}`);
  const member = await withTenant(deps.db, { tenantId: caller.tenantId }, async (tx) =>
    (await findMembership(tx, caller.tenantId!, userId)) ? findUserById(tx, userId) : undefined,
  );
  if (!member) throw notFound(`user ${userId}`);
  return toUser(member);
}

/** Tenants a user belongs to, for sign-in and the tenant switcher. */
export async function userTenants(deps: UserDeps, userId: string) {
  return withSystem(deps.db, (tx) => listMembershipsOfUser(tx, userId));
}

/** Change a member's role in the caller's tenant. The last tenant-admin cannot be demoted. */
export async function changeMemberRole(deps: UserDeps, ctx: Ctx, userId: string, roleInput: unknown): Promise<Member> {
  requirePermission(ctx, "admin", "change roles");
  if (!UUID.test(userId)) throw notFound(`user ${userId}`);
  const role = requireRole("role", roleInput);
  const now = deps.clock.now();
  return withTenant(deps.db, ctx, async (tx) => {
    const m = await findMembership(tx, ctx.tenantId, userId);
    if (!m) throw notFound(`user ${userId}`);
    if (m.role === "tenant-admin" && role !== "tenant-admin" && (await countTenantAdmins(tx, ctx.tenantId)) <= 1) {
      throw conflict("this is the tenant's last tenant-admin; make someone else tenant-admin first", "role");
    }
    await upsertMembership(tx, { tenantId: ctx.tenantId, userId, role, now });
    await recordAuditIn(tx, deps.clock, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: "user.role_changed",
      target: { kind: "user", id: userId },
      ip: ctx.ip,
      requestId: ctx.requestId,
      details: { from: m.role, to: role },
    });
    const user = (await findUserById(tx, userId))!;
    return { ...toUser(user), role, memberSince: m.created_at };
  });
}

/** Remove a member from the caller's tenant; their sessions and tokens for it end. */
export async function removeMember(deps: UserDeps, ctx: Ctx, userId: string): Promise<void> {
  requirePermission(ctx, "admin", "remove users");
  if (!UUID.test(userId)) throw notFound(`user ${userId}`);
  const now = deps.clock.now();
  await withTenant(deps.db, ctx, async (tx) => {
    const m = await findMembership(tx, ctx.tenantId, userId);
    if (!m) throw notFound(`user ${userId}`);
    if (m.role === "tenant-admin" && (await countTenantAdmins(tx, ctx.tenantId)) <= 1) {
      throw conflict("this is the tenant's last tenant-admin; make someone else tenant-admin first");
    }
    await deleteMembership(tx, ctx.tenantId, userId);
    await recordAuditIn(tx, deps.clock, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: "user.removed",
      target: { kind: "user", id: userId },
      ip: ctx.ip,
      requestId: ctx.requestId,
    });
  });
  await withSystem(deps.db, (tx) => revokeUserCredentials(tx, userId, now, { tenantId: ctx.tenantId }));
}

/** Disable or re-enable an account platform-wide (operator-admin). Disabling signs it out everywhere. */
export async function setUserStatus(deps: UserDeps, caller: Caller, userId: string, status: "ACTIVE" | "DISABLED"): Promise<User> {
  requirePermission(caller, "platform-admin", "disable accounts");
  if (!UUID.test(userId)) throw notFound(`user ${userId}`);
  if (caller.actor.kind === "user" && caller.actor.id === userId && status === "DISABLED") throw conflict("you cannot disable your own account");
  const now = deps.clock.now();
  return withSystem(deps.db, async (tx) => {
    const row = await updateUser(tx, userId, { status }, now);
    if (!row) throw notFound(`user ${userId}`);
    if (status === "DISABLED") await revokeUserCredentials(tx, userId, now);
    await recordAuditIn(tx, deps.clock, {
      tenantId: null,
      actor: caller.actor,
      action: status === "DISABLED" ? "user.disabled" : "user.enabled",
      target: { kind: "user", id: userId },
      ip: caller.ip,
      requestId: caller.requestId,
    });
    return toUser(row);
  });
}

/** Give or take a platform role (operator-admin). */
export async function setPlatformRole(deps: UserDeps, caller: Caller, userId: string, role: PlatformRole | null): Promise<User> {
  requirePermission(caller, "platform-admin", "change platform roles");
  if (!UUID.test(userId)) throw notFound(`user ${userId}`);
  const now = deps.clock.now();
  return withSystem(deps.db, async (tx) => {
    const before = await findUserById(tx, userId);
    if (!before) throw notFound(`user ${userId}`);
    if (before.platform_role === "operator-admin" && role !== "operator-admin") {
      if ((await countActiveOperatorAdmins(tx)) <= 1) throw conflict("this is the last operator-admin; make someone else operator-admin first", "platform_role");
    }
    const row = (await updateUser(tx, userId, { platform_role: role }, now))!;
    await recordAuditIn(tx, deps.clock, {
      tenantId: null,
      actor: caller.actor,
      action: "user.platform_role_changed",
      target: { kind: "user", id: userId },
      ip: caller.ip,
      requestId: caller.requestId,
      details: { from: before.platform_role, to: role },
    });
    return toUser(row);
  });
}

/** A signed-in user changes their own password; other sessions end. */
export async function changeOwnPassword(
  deps: UserDeps,
  caller: Caller,
  input: { current: unknown; next: unknown; keepSession?: string },
): Promise<void> {
  if (caller.actor.kind !== "user") throw new AppError("forbidden", "only people have passwords");
  const user = await withSystem(deps.db, (tx) => findUserById(tx, caller.actor.id));
  if (!user) throw notFound("user");
  if (user.password_hash && (typeof input.current !== "string" || !(await verifyPassword(input.current, user.password_hash)))) {
    throw invalid("current_password", "current_password: does not match");
  }
  const next = checkNewPassword(input.next, { username: user.username, email: user.email }, "new_password");
  if (typeof input.current === "string" && next === input.current) throw invalid("new_password", "new_password: must differ from the current one");
  await setPassword(deps, user.id, next, { actor: caller, keepSession: input.keepSession, action: "user.password_changed" });
}

/** Store a new password hash, end other sessions and tokens, and audit it. */
export async function setPassword(
  deps: UserDeps,
  userId: string,
  password: string,
  opts: { actor: Pick<Caller, "actor" | "ip" | "requestId">; keepSession?: string; action: string; mustChange?: boolean },
): Promise<void> {
  const hash = await hashPassword(password);
  const now = deps.clock.now();
  await withSystem(deps.db, async (tx) => {
    await updateUser(tx, userId, { password_hash: hash, password_changed_at: now, must_change_password: opts.mustChange ?? false }, now);
    await revokeUserCredentials(tx, userId, now, { exceptSession: opts.keepSession });
    await recordAuditIn(tx, deps.clock, {
      tenantId: null,
      actor: opts.actor.actor,
      action: opts.action,
      target: { kind: "user", id: userId },
      ip: opts.actor.ip,
      requestId: opts.actor.requestId,
    });
  });
}

/** Update name or email of one's own account. */
export async function updateOwnProfile(deps: UserDeps, caller: Caller, input: { name?: unknown; email?: unknown }): Promise<User> {
  if (caller.actor.kind !== "user") throw new AppError("forbidden", "only people have profiles");
  const patch: { name?: string; email?: string | null } = {};
  if (input.name !== undefined) patch.name = requireText("name", input.name);
  if (input.email !== undefined) patch.email = input.email === "" || input.email === null ? null : requireEmail("email", input.email);
  try {
    const row = await withSystem(deps.db, (tx) => updateUser(tx, caller.actor.id, patch, deps.clock.now()));
    if (!row) throw notFound("user");
    return toUser(row);
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw conflict("that email belongs to another account", "email");
    throw err;
  }
}
