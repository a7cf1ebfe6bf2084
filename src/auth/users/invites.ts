// Invites (a tenant-admin asks someone to join) and password resets. Both are
// one-time links: a random token whose hash is stored, shown once in the UI
// and emailed when SMTP is configured.

import { recordAudit, recordAuditIn } from "../../audit/service.ts";
import { withSystem, withTenant } from "../../db/scope.ts";
import { requirePermission, type Caller, type Ctx, type TenantRole } from "../../lib/ctx.ts";
import { AppError, conflict, invalid, notFound } from "../../lib/errors.ts";
import { randomSecret, sha256Hex } from "../../lib/ids.ts";
import type { Logger } from "../../lib/logger.ts";
import { requireEmail, requireText } from "../../lib/validate.ts";
import type { Mailer } from "../../notify/mailer.ts";
import { checkNewPassword, requireRole, setPassword, toUser, type User, type UserDeps } from "./service.ts";
import {
  consumePasswordReset,
  countOtherMemberships,
  findInvite,
  findMembership,
  findPasswordReset,
  findTenantName,
  findTenantNameAndStatus,
  findUserByEmail,
  findUserById,
  insertInvite,
  insertPasswordReset,
  insertUser,
  listPendingInvites,
  markInvite,
  upsertMembership,
} from "./store.ts";
import { hashPassword } from "../passwords.ts";
import { reserveResetForAccount, reserveResetForAddress } from "../throttle.ts";

export const INVITE_DAYS = 7;
export const RESET_MINUTES = 60;

export interface LinkDeps extends UserDeps {
  mailer: Mailer;
  publicUrl: () => string;
  log: Logger;
}

export interface IssuedLink {
  /** Shown once; only its hash is stored. */
  link: string;
  expiresAt: Date;
  emailed: boolean;
}

export interface Invite {
  id: string;
  email: string;
  role: TenantRole;
  createdAt: Date;
  expiresAt: Date;
}

/** Invite someone to the caller's tenant by email (tenant-admin). */
export async function createInvite(deps: LinkDeps, ctx: Ctx, input: { email: unknown; role: unknown }): Promise<IssuedLink & { invite: Invite }> {
  requirePermission(ctx, "admin", "invite users");
  const email = requireEmail("email", input.email);
  const role = requireRole("role", input.role);
  const token = randomSecret(32);
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + INVITE_DAYS * 86_400_000);
  const tokenHash = sha256Hex(token);
  const tenantName = await withTenant(deps.db, ctx, async (tx) => {
    const existing = await findUserByEmail(tx, email);
    if (existing && (await findMembership(tx, ctx.tenantId, existing.id))) throw conflict(`${email} is already a member`, "email");
    await insertInvite(tx, { tokenHash, tenantId: ctx.tenantId, email, role, invitedBy: ctx.actor.kind === "user" ? ctx.actor.id : null, now, expiresAt });
    await recordAuditIn(tx, deps.clock, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: "user.invited",
      target: { kind: "invite", id: tokenHash.slice(0, 16) },
      ip: ctx.ip,
      requestId: ctx.requestId,
      details: { email, role },
    });
    const t = await findTenantName(tx, ctx.tenantId);
    return t?.name ?? ctx.tenantId;
  });
  const link = `${deps.publicUrl()}/invite/${token}`;
  const emailed = await sendQuietly(deps, {
    to: email,
    subject: `You are invited to ${tenantName} on Pulse`,
    text: `${ctx.actor.name} invited you to join ${tenantName} on Pulse as ${role}.\n\nAccept the invitation: ${link}\n\nThe link works once and expires on ${expiresAt.toUTCString()}.\n`,
  });
  return { link, expiresAt, emailed, invite: { id: tokenHash, email, role, createdAt: now, expiresAt } };
}

export async function listInvites(deps: UserDeps, ctx: Ctx): Promise<Invite[]> {
  requirePermission(ctx, "admin", "see invites");
  const rows = await withTenant(deps.db, ctx, (tx) => listPendingInvites(tx, deps.clock.now()));
  return rows.map((r) => ({ id: r.token_hash, email: r.email, role: r.role, createdAt: r.created_at, expiresAt: r.expires_at }));
}

export async function revokeInvite(deps: UserDeps, ctx: Ctx, id: string): Promise<void> {
  requirePermission(ctx, "admin", "revoke invites");
  await withTenant(deps.db, ctx, async (tx) => {
    if (!(await markInvite(tx, id, "revoked_at", deps.clock.now()))) throw notFound("invite");
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "user.invite_revoked", target: { kind: "invite", id: id.slice(0, 16) }, ip: ctx.ip, requestId: ctx.requestId });
  });
}

export interface InviteView {
  tenantId: string;
  tenantName: string;
  email: string;
  role: TenantRole;
  /** An account with this email exists: accepting means signing in as it. */
  existingUser: boolean;
}

/** What an invite link offers, or 404 when it is used, revoked or expired. */
export async function viewInvite(deps: UserDeps, token: string): Promise<InviteView> {
  const now = deps.clock.now();
  return withSystem(deps.db, async (tx) => {
    const inv = await findInvite(tx, sha256Hex(token));
    if (!inv || inv.accepted_at || inv.revoked_at || inv.expires_at <= now) throw notFound("invitation (it may have been used, revoked or have expired)");
    const t = await findTenantNameAndStatus(tx, inv.tenant_id);
    if (!t || t.status !== "ACTIVE") throw notFound("invitation");
    return { tenantId: inv.tenant_id, tenantName: t.name, email: inv.email, role: inv.role, existingUser: !!(await findUserByEmail(tx, inv.email)) };
  });
}

/**
 * Accept an invite: as the signed-in user whose email matches, or by creating
 * a new account (username, name, password). Returns the member.
 */
export async function acceptInvite(
  deps: UserDeps,
  token: string,
  as: { userId: string } | { username?: unknown; name?: unknown; password: unknown },
  meta: { ip?: string; requestId?: string } = {},
): Promise<{ user: User; tenantId: string }> {
  const tokenHash = sha256Hex(token);
  const now = deps.clock.now();
  const view = await viewInvite(deps, token);
  let hash: string | undefined;
  let username: string | undefined;
  let name: string | undefined;
  if (!("userId" in as)) {
    username = typeof as.username === "string" && as.username ? as.username : view.email;
    name = as.name === undefined || as.name === "" ? username : requireText("name", as.name);
    hash = await hashPassword(checkNewPassword(as.password, { username, email: view.email }));
  }
  return withSystem(deps.db, async (tx) => {
    let user;
    if ("userId" in as) {
      user = await findUserById(tx, as.userId);
      if (!user || user.email?.toLowerCase() !== view.email.toLowerCase()) throw new AppError("forbidden", `this invitation is for ${view.email}; sign in as that account`);
    } else {
      if (await findUserByEmail(tx, view.email)) throw conflict(`an account for ${view.email} exists; sign in to accept`, "email");
      user = await insertUser(tx, { username: username!, email: view.email, name: name!, passwordHash: hash!, platformRole: null, now });
      if (!user) throw conflict(`username ${username} is taken`, "username");
    }
    if (!(await markInvite(tx, tokenHash, "accepted_at", now))) throw notFound("invitation");
    await upsertMembership(tx, { tenantId: view.tenantId, userId: user.id, role: view.role, now });
    await recordAuditIn(tx, deps.clock, {
      tenantId: view.tenantId,
      actor: { kind: "user", id: user.id, name: user.username },
      action: "user.invite_accepted",
      target: { kind: "user", id: user.id },
      ip: meta.ip,
      requestId: meta.requestId,
      details: { role: view.role },
    });
    return { user: toUser(user), tenantId: view.tenantId };
  });
}

/**
 * A reset link for a user, made by an admin: tenant-admins for members of
 * their tenant, operator-admins for anyone.
 */
export async function createPasswordReset(deps: LinkDeps, caller: Caller, userId: string): Promise<IssuedLink> {
  const user = await withSystem(deps.db, async (tx) => {
    const u = await findUserById(tx, userId);
    if (!u) return undefined;
    if (caller.role === "operator-admin" || caller.actor.kind === "system") return u;
    if (caller.role !== "tenant-admin" || !caller.tenantId) return undefined;
    // A tenant-admin may reset only accounts that belong to her tenant alone:
    // resetting a platform account, or someone who also works for another
    // tenant, would be a way into places she has no business in.
    if (u.platform_role !== null || !(await findMembership(tx, caller.tenantId, userId))) return undefined;
    if ((await countOtherMemberships(tx, userId, caller.tenantId)) > 0) throw new AppError("forbidden", "this person also belongs to another tenant; only an operator-admin can reset their password");
    return u;
  });
  if (!user) {
    if (caller.role !== "tenant-admin" && caller.role !== "operator-admin") throw new AppError("forbidden", "your role may not reset passwords");
    throw notFound(`user ${userId}`);
  }
  return issueReset(deps, user, caller);
}

/**
 * "Forgot password": emails a link when the account exists and SMTP is set.
 * Answers the same either way. Throttled twice: too many requests from one
 * address are refused (429, whatever the email), and an account past its
 * mails for the hour gets none, with the same quiet answer as an unknown
 * email, so the throttle does not tell who exists.
 */
export async function requestPasswordReset(deps: LinkDeps, emailInput: unknown, meta: { ip?: string; requestId?: string }): Promise<void> {
  if (typeof emailInput !== "string" || !emailInput.includes("@")) throw invalid("email", "email: must be an email address");
  if (!deps.mailer.configured) return;
  const byAddress = await reserveResetForAddress(deps, meta.ip ?? "unknown");
  if (byAddress.wait > 0) throw new AppError("rate_limited", `too many password reset requests; try again in ${Math.ceil(byAddress.wait / 60)} min`, { retryAfterSeconds: byAddress.wait });
  const user = await withSystem(deps.db, (tx) => findUserByEmail(tx, emailInput.trim()));
  if (!user || user.status !== "ACTIVE") return;
  const actor = { kind: "user" as const, id: user.id, name: user.username };
  const byAccount = await reserveResetForAccount(deps, user.id);
  if (byAccount.wait > 0) return;
  await issueReset(deps, user, { actor, ...meta });
  // Once, when the account reaches its limit: someone may be flooding this person's mailbox.
  if (byAccount.lockedNow) await recordAudit(deps, { tenantId: null, actor, action: "auth.password_reset_throttled", target: { kind: "user", id: user.id }, ip: meta.ip, requestId: meta.requestId });
}

async function issueReset(deps: LinkDeps, user: { id: string; username: string; email: string | null }, caller: Pick<Caller, "actor" | "ip" | "requestId">): Promise<IssuedLink> {
  const token = randomSecret(32);
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + RESET_MINUTES * 60_000);
  await withSystem(deps.db, async (tx) => {
    await insertPasswordReset(tx, { tokenHash: sha256Hex(token), userId: user.id, createdBy: caller.actor.kind === "user" ? caller.actor.id : null, now, expiresAt });
    await recordAuditIn(tx, deps.clock, { tenantId: null, actor: caller.actor, action: "user.password_reset_issued", target: { kind: "user", id: user.id }, ip: caller.ip, requestId: caller.requestId });
  });
  const link = `${deps.publicUrl()}/reset-password/${token}`;
  const emailed = user.email
    ? await sendQuietly(deps, {
        to: user.email,
        subject: "Reset your Pulse password",
        text: `Someone asked to reset the password of the Pulse account ${user.username}.\n\nChoose a new password: ${link}\n\nThe link works once, for ${RESET_MINUTES} minutes. If you did not ask for this, ignore this message.\n`,
      })
    : false;
  return { link, expiresAt, emailed };
}

/** Whether a reset link is still usable (for the page that asks for the new password). */
export async function resetLinkValid(deps: UserDeps, token: string): Promise<boolean> {
  return !!(await withSystem(deps.db, (tx) => findPasswordReset(tx, sha256Hex(token), deps.clock.now())));
}

/** Use a reset link once to set a new password; every session of the account ends. */
export async function resetPassword(deps: UserDeps, token: string, password: unknown, meta: { ip?: string; requestId?: string } = {}): Promise<void> {
  const tokenHash = sha256Hex(token);
  const pending = await withSystem(deps.db, async (tx) => {
    const r = await findPasswordReset(tx, tokenHash, deps.clock.now());
    return r ? findUserById(tx, r.user_id) : undefined;
  });
  if (!pending) throw notFound("reset link (it may have been used or have expired)");
  const next = checkNewPassword(password, { username: pending.username, email: pending.email });
  const userId = await withSystem(deps.db, (tx) => consumePasswordReset(tx, tokenHash, deps.clock.now()));
  if (!userId) throw notFound("reset link (it may have been used or have expired)");
  await setPassword(deps, userId, next, { actor: { actor: { kind: "user", id: userId, name: pending.username }, ...meta }, action: "user.password_reset" });
}

async function sendQuietly(deps: LinkDeps, msg: { to: string; subject: string; text: string }): Promise<boolean> {
  if (!deps.mailer.configured) return false;
  try {
    await deps.mailer.send(msg);
    return true;
  } catch (err) {
    deps.log.warn("mail: could not send", { to: msg.to, subject: msg.subject, error: err });
    await recordAudit(deps, { tenantId: null, actor: { kind: "system", id: "system", name: "system" }, action: "mail.failed", details: { to: msg.to, subject: msg.subject } }).catch(() => {});
    return false;
  }
}
