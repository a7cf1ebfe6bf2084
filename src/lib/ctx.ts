// The context every tenant-scoped service call carries: which tenant, who is
// acting, and with what role. The tenant comes only from the authenticated
// identity (session, token, API key), never from a URL, body or query.

import { AppError } from "./errors.ts";

export type TenantRole = "customer" | "tenant-admin";
export type PlatformRole = "operator" | "operator-admin";
export type Role = TenantRole | PlatformRole;

export interface Actor {
  kind: "user" | "apikey" | "system" | "device";
  id: string;
  /** For audit lines and timelines: a username, key name or "system". */
  name: string;
}

/** Who is calling, for platform-level calls that are not about one tenant. */
export interface Caller {
  actor: Actor;
  role: Role;
  /** The tenant the caller works in, when there is one. */
  tenantId?: string;
  requestId?: string;
  /** Client address, for the audit log. */
  ip?: string;
}

/** A tenant-scoped call: the tenant is fixed. */
export interface Ctx extends Caller {
  tenantId: string;
}

export const SYSTEM_ACTOR: Actor = { kind: "system", id: "system", name: "system" };

/** A context for work Pulse does on a tenant's behalf (sweeps, workers). */
export function systemCtx(tenantId: string): Ctx {
  return { tenantId, actor: SYSTEM_ACTOR, role: "tenant-admin" };
}

export const TENANT_ROLES: readonly TenantRole[] = ["customer", "tenant-admin"];
export const PLATFORM_ROLES: readonly PlatformRole[] = ["operator", "operator-admin"];

export function isPlatformRole(role: Role): role is PlatformRole {
  return role === "operator" || role === "operator-admin";
}

/**
 * What a role may do. Operators read everything but change nothing;
 * operator-admins may do anything; inside a tenant, customers use the product
 * (acknowledge alerts…) and tenant-admins administer it (users, keys, rules).
 */
export type Permission = "read" | "use" | "admin" | "platform-read" | "platform-admin";

const GRANTS: Record<Role, readonly Permission[]> = {
  customer: ["read", "use"],
  "tenant-admin": ["read", "use", "admin"],
  operator: ["read", "platform-read"],
  "operator-admin": ["read", "use", "admin", "platform-read", "platform-admin"],
};

export function can(caller: Pick<Caller, "role">, permission: Permission): boolean {
  return GRANTS[caller.role].includes(permission);
}

/** Throw 403 unless the caller's role grants the permission. */
export function requirePermission(caller: Pick<Caller, "role">, permission: Permission, what = "do this"): void {
  if (!can(caller, permission)) throw new AppError("forbidden", `your role (${caller.role}) may not ${what}`);
}
