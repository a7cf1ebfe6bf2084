// Transactions with a row-level security scope. The app always runs as
// pulse_app; these helpers say which tenant rows a transaction may touch (see
// migrations/0001_init.sql). Forgetting the scope is safe: a plain
// transaction sees no tenant rows at all.

import type { Ctx } from "../lib/ctx.ts";
import { settleAll } from "../lib/settle.ts";
import type { Db, Sql } from "./db.ts";

/**
 * A transaction whose first statement sets its scope. fn's statements go out
 * right behind it on the same connection rather than after its answer (one
 * round trip less, which under load is worth milliseconds); the scope is
 * still in force before the first of them runs. Both settle before the
 * transaction ends, so nothing of fn runs after a commit or rollback.
 */
function scoped<T>(db: Db, scopeSql: string, params: readonly unknown[], fn: (tx: Sql) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    const [, out] = await settleAll([tx.query(scopeSql, params), fn(tx)]);
    return out;
  });
}

/** Run fn in a transaction that sees and changes only ctx.tenantId's rows. */
export function withTenant<T>(db: Db, ctx: Pick<Ctx, "tenantId">, fn: (tx: Sql) => Promise<T>): Promise<T> {
  if (!ctx.tenantId) throw new Error("db: withTenant needs a tenant id");
  return scoped(db, "select set_config('pulse.tenant_id', $1, true)", [ctx.tenantId], fn);
}

/**
 * Read every tenant's rows (operators). The caller records the access in the
 * operator audit log; writes are still refused by the policies.
 */
export function withCrossTenantRead<T>(db: Db, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return scoped(db, "select set_config('pulse.cross_tenant', 'read', true)", [], fn);
}

/** The statement that gives a transaction the system scope (see withSystem). */
const SYSTEM_SCOPE_SQL = "select set_config('pulse.cross_tenant', 'all', true)";

/** System work across tenants: the ingest writer, sweeps, schedulers. Never for request handling. */
export function withSystem<T>(db: Db, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return scoped(db, SYSTEM_SCOPE_SQL, [], fn);
}

/** DDL that needs the owner role (partition maintenance), as the connecting user, across tenants. */
export function asOwner<T>(db: Db, fn: (tx: Sql) => Promise<T>): Promise<T> {
  // FORCE ROW LEVEL SECURITY holds the owner too, so it needs the system scope as well.
  return scoped(db, "select set_config('role', session_user, true), set_config('pulse.cross_tenant', 'all', true)", [], fn);
}
