// Who a request acts for, once authenticated (session cookie, access token or
// API key), and the Ctx/Caller that services take. The user's current state
// (enabled, membership, role) is read on every request, so disabling a user or
// removing them from a tenant takes effect at once, not when a token expires.

import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import type { Caller, Ctx, PlatformRole, Role, TenantRole } from "../lib/ctx.ts";
import { AppError } from "../lib/errors.ts";
import { findUserState } from "./users/store.ts";

export interface Principal {
  kind: "user" | "apikey";
  /** User id or API key id. */
  id: string;
  /** Username or API key name. */
  name: string;
  displayName: string;
  email: string | null;
  tenantId: string | null;
  tenantName: string | null;
  tenantRole: TenantRole | null;
  platformRole: PlatformRole | null;
  mustChangePassword: boolean;
  via: "session" | "token" | "apikey";
  sessionIdHash?: string;
  clientId?: string;
}

/** The role that governs what the principal may do: platform roles outrank tenant roles. */
export function roleOf(p: Principal): Role | null {
  return p.platformRole ?? p.tenantRole;
}

export function callerOf(p: Principal, meta: { ip?: string; requestId?: string }): Caller {
  const role = roleOf(p);
  if (!role) throw new AppError("forbidden", "this account has no role; ask a tenant-admin to add you to a tenant");
  return {
    actor: { kind: p.kind === "user" ? "user" : "apikey", id: p.id, name: p.name },
    role,
    tenantId: p.tenantId ?? undefined,
    ip: meta.ip,
    requestId: meta.requestId,
  };
}

/** A tenant-scoped Ctx, or 403 when the principal is not working in a tenant. */
export function ctxOf(p: Principal, meta: { ip?: string; requestId?: string }): Ctx {
  const caller = callerOf(p, meta);
  if (!caller.tenantId) throw new AppError("forbidden", "choose a tenant first (this account is not working in a tenant)");
  return caller as Ctx;
}

/**
 * A user's principal in a tenant (or none). Undefined when the account is
 * disabled or gone. A tenant they no longer belong to (and cannot read as an
 * operator) or that is suspended or deleted is dropped, not an error: they
 * are signed in without a tenant.
 */
export async function loadUserPrincipal(
  db: Db,
  userId: string,
  tenantId: string | null,
  via: Principal["via"],
  extra: Pick<Principal, "sessionIdHash" | "clientId"> = {},
): Promise<Principal | undefined> {
  const row = await withSystem(db, (tx) => findUserState(tx, userId, tenantId));
  if (!row || row.status !== "ACTIVE") return undefined;
  const tenantUsable =
    tenantId !== null && row.tenant_status !== null && (row.platform_role !== null ? row.tenant_status !== "DELETED" : row.tenant_status === "ACTIVE" && row.tenant_role !== null);
  return {
    kind: "user",
    id: row.id,
    name: row.username,
    displayName: row.name || row.username,
    email: row.email,
    tenantId: tenantUsable ? tenantId : null,
    tenantName: tenantUsable ? row.tenant_name : null,
    tenantRole: tenantUsable ? row.tenant_role : null,
    platformRole: row.platform_role,
    mustChangePassword: row.must_change_password,
    via,
    ...extra,
  };
}
