// SQL for API keys (tenant table, under row-level security; lookup by prefix
// at authentication time runs in the system scope).
import type { Sql } from "../../db/db.ts";
import type { TenantRole } from "../../lib/ctx.ts";

export interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  secret_hash: string;
  role: TenantRole;
  created_by: string | null;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export async function insertApiKey(
  sql: Sql,
  k: { tenantId: string; name: string; prefix: string; secretHash: string; role: TenantRole; createdBy: string | null; now: Date; expiresAt: Date | null },
): Promise<ApiKeyRow> {
  const [row] = await sql.query<ApiKeyRow>(
    `insert into api_keys (tenant_id, name, prefix, secret_hash, role, created_by, created_at, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8) returning *`,
    [k.tenantId, k.name, k.prefix, k.secretHash, k.role, k.createdBy, k.now, k.expiresAt],
  );
  return row!;
}

export async function findApiKeyByPrefix(sql: Sql, prefix: string): Promise<(ApiKeyRow & { tenant_status: string }) | undefined> {
  const [row] = await sql.query<ApiKeyRow & { tenant_status: string }>(
    "select k.*, t.status as tenant_status from api_keys k join tenants t on t.id = k.tenant_id where k.prefix = $1",
    [prefix],
  );
  return row;
}

/** Keys of the tenant in scope, newest first. */
export async function listApiKeys(sql: Sql): Promise<ApiKeyRow[]> {
  return sql.query<ApiKeyRow>("select * from api_keys order by created_at desc");
}

export async function revokeApiKey(sql: Sql, id: string, now: Date): Promise<ApiKeyRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const [row] = await sql.query<ApiKeyRow>("update api_keys set revoked_at = coalesce(revoked_at, $2) where id = $1 returning *", [id, now]);
  return row;
}

export async function touchApiKey(sql: Sql, id: string, now: Date): Promise<void> {
  await sql.query("update api_keys set last_used_at = $2 where id = $1", [id, now]);
}
