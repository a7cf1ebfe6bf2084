// Checking a username (or email) and password. Throttling is consulted first,
// so a locked account or address costs no argon2 run; unknown accounts still
// cost one (against a fixed hash) so timing does not tell which exist.

import { recordAudit } from "../audit/service.ts";
import { withSystem } from "../db/scope.ts";
import { AppError } from "../lib/errors.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import { releaseAttempt, reserveAttempt, type ThrottleDeps } from "./throttle.ts";
import { findUserByLogin, listMembershipsOfUser, updateUser, type UserRow } from "./users/store.ts";

let dummyHash: Promise<string> | undefined;

export interface LoginMeta {
  ip: string;
  requestId?: string;
}

/** The user whose password this is, or a 401 / 429 AppError. */
export async function checkPassword(deps: ThrottleDeps, loginInput: unknown, passwordInput: unknown, meta: LoginMeta): Promise<UserRow> {
  const login = typeof loginInput === "string" ? loginInput.trim() : "";
  const password = typeof passwordInput === "string" ? passwordInput : "";
  if (!login || !password || login.length > 256 || password.length > 1024) throw new AppError("unauthorized", "wrong username or password");

  // Counted before hashing, atomically: a locked account or address costs no argon2 run.
  const { wait, lockedNow } = await reserveAttempt(deps, login, meta.ip);
  if (wait > 0) throw new AppError("rate_limited", `too many failed sign-ins; try again in ${Math.ceil(wait / 60)} min`, { retryAfterSeconds: wait });

  const user = await withSystem(deps.db, (tx) => findUserByLogin(tx, login));
  const ok = user?.password_hash
    ? await verifyPassword(password, user.password_hash)
    : (await verifyPassword(password, await (dummyHash ??= hashPassword("pulse-timing-equaliser"))), false);
  if (!user || !ok || user.status !== "ACTIVE") {
    const reason = !user ? "unknown account" : !ok ? "wrong password" : "account disabled";
    // Tenant-admins see attacks on their own people; operators see them all (tenant NULL).
    const tenants = user ? (await withSystem(deps.db, (tx) => listMembershipsOfUser(tx, user.id))).map((m) => m.tenant_id) : [];
    for (const tenantId of tenants.length ? tenants : [null]) {
      await recordAudit(deps, { tenantId, actor: { kind: "user", id: user?.id ?? "", name: login }, action: "auth.login_failed", ip: meta.ip, requestId: meta.requestId, details: { reason } });
    }
    if (lockedNow) await recordAudit(deps, { tenantId: tenants[0] ?? null, actor: { kind: "user", id: user?.id ?? "", name: login }, action: "auth.login_throttled", ip: meta.ip, requestId: meta.requestId });
    throw new AppError("unauthorized", user && ok ? "this account is disabled" : "wrong username or password");
  }
  await releaseAttempt(deps, login, meta.ip);
  await withSystem(deps.db, (tx) => updateUser(tx, user.id, { last_login_at: deps.clock.now() }, deps.clock.now()));
  return user;
}

/** The tenant someone starts in after signing in: their only or first active tenant, else none. */
export async function defaultTenant(deps: Pick<ThrottleDeps, "db">, userId: string): Promise<string | null> {
  const memberships = await withSystem(deps.db, (tx) => listMembershipsOfUser(tx, userId));
  return memberships.find((m) => m.tenant_status === "ACTIVE")?.tenant_id ?? null;
}
