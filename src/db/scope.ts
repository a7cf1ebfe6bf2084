// Transactions with a row-level security scope. The app always runs as
// pulse_app; these helpers say which tenant rows a transaction may touch (see
// migrations/0001_init.sql). Forgetting the scope is safe: a plain
// transaction sees no tenant rows at all.

import type { Ctx } from "../lib/ctx.ts";
import type { Db, Sql } from "./db.ts";

/** Run fn in a transaction that sees and changes only ctx.tenantId's rows. */
export function withTenant<T>(db: Db, ctx: Pick<Ctx, "tenantId">, fn: (tx: Sql) => Promise<T>): Promise<T> {
  if (!ctx.tenantId) throw new Error("db: withTenant needs a tenant id");
  return db.transaction(async (tx) => {
    await tx.query("select set_config('pulse.tenant_id', $1, true)", [ctx.tenantId]);
    return fn(tx);
  });
}

/**
 * Read every tenant's rows (operators). The caller records the access in the
 * operator audit log; writes are still refused by the policies.
 */
export function withCrossTenantRead<T>(db: Db, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query("select set_config('pulse.cross_tenant', 'read', true)");
    return fn(tx);
  });
}

/** The statement that gives a transaction the system scope (see withSystem). */
export const SYSTEM_SCOPE_SQL = "select set_config('pulse.cross_tenant', 'all', true)";

/** System work across tenants: the ingest writer, sweeps, schedulers. Never for request handling. */
export function withSystem<T>(db: Db, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query(SYSTEM_SCOPE_SQL);
    return fn(tx);
  });
}

/** DDL that needs the owner role (partition maintenance), as the connecting user, across tenants. */
export function asOwner<T>(db: Db, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    // FORCE ROW LEVEL SECURITY holds the owner too, so it needs the system scope as well.
    await tx.query("select set_config('role', session_user, true), set_config('pulse.cross_tenant', 'all', true)");
    return fn(tx);
  });
}
