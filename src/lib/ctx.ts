// The context every tenant-scoped service call carries: which tenant, who is
// acting, and with what role. The tenant comes only from the authenticated
// identity (session, token, API key), never from a URL, body or query.

export type TenantRole = "customer" | "tenant-admin";
export type PlatformRole = "operator" | "operator-admin";
export type Role = TenantRole | PlatformRole;

export interface Actor {
  kind: "user" | "apikey" | "system" | "device";
  id: string;
  /** For audit lines and timelines: a username, key name or "system". */
  name: string;
}

export interface Ctx {
  tenantId: string;
  actor: Actor;
  role: Role;
  requestId?: string;
  /** Client address, for the audit log. */
  ip?: string;
}

export const SYSTEM_ACTOR: Actor = { kind: "system", id: "system", name: "system" };

/** A context for work Pulse does on a tenant's behalf (sweeps, workers). */
export function systemCtx(tenantId: string): Ctx {
  return { tenantId, actor: SYSTEM_ACTOR, role: "tenant-admin" };
}

const RANK: Record<Role, number> = { customer: 1, "tenant-admin": 2, operator: 3, "operator-admin": 4 };

/** Whether `role` is at least `min` (operators outrank tenant roles for reading). */
export function roleAtLeast(role: Role, min: Role): boolean {
  return RANK[role] >= RANK[min];
}
