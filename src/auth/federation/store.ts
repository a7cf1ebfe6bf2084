// SQL for upstream identity providers and the links between their subjects
// and Pulse users. Platform providers (tenant_id NULL) are visible only to
// system work; tenant providers are tenant data.
import type { Sql } from "../../db/db.ts";

export interface MappingRule {
  claim: string;
  /** The claim equals this value, or (for arrays) contains it. */
  equals: string;
  tenant?: string;
  role?: "customer" | "tenant-admin";
  platform_role?: "operator" | "operator-admin";
}

export interface ProviderRow {
  id: string;
  tenant_id: string | null;
  slug: string;
  name: string;
  issuer: string;
  client_id: string;
  client_secret: string | null;
  scopes: string;
  mappings: MappingRule[];
  default_role: "customer" | "tenant-admin" | null;
  jit: boolean;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export async function insertProvider(
  sql: Sql,
  p: Omit<ProviderRow, "id" | "created_at" | "updated_at"> & { now: Date },
): Promise<ProviderRow | undefined> {
  const [row] = await sql.query<ProviderRow>(
    `insert into identity_providers (tenant_id, slug, name, issuer, client_id, client_secret, scopes, mappings, default_role, jit, enabled, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $12)
     on conflict (slug) do nothing returning *`,
    [p.tenant_id, p.slug, p.name, p.issuer, p.client_id, p.client_secret, p.scopes, JSON.stringify(p.mappings), p.default_role, p.jit, p.enabled, p.now],
  );
  return row;
}

export async function updateProvider(sql: Sql, id: string, patch: Partial<Omit<ProviderRow, "id" | "tenant_id" | "created_at" | "updated_at">>, now: Date): Promise<ProviderRow | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [id, now];
  for (const [k, v] of Object.entries(patch)) {
    params.push(k === "mappings" ? JSON.stringify(v) : v);
    sets.push(`${k} = $${params.length}${k === "mappings" ? "::jsonb" : ""}`);
  }
  const [row] = await sql.query<ProviderRow>(`update identity_providers set ${[...sets, "updated_at = $2"].join(", ")} where id = $1 returning *`, params);
  return row;
}

export async function findProvider(sql: Sql, id: string): Promise<ProviderRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const [row] = await sql.query<ProviderRow>("select * from identity_providers where id = $1", [id]);
  return row;
}

export async function findProviderBySlug(sql: Sql, slug: string): Promise<ProviderRow | undefined> {
  const [row] = await sql.query<ProviderRow>("select * from identity_providers where slug = $1", [slug]);
  return row;
}

/** Providers visible in scope; `platformOnly` for the public sign-in page. */
export async function listProviders(sql: Sql, opts: { platformOnly?: boolean; tenantId?: string; enabledOnly?: boolean } = {}): Promise<ProviderRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (opts.platformOnly) where.push("tenant_id is null");
  if (opts.tenantId) {
    params.push(opts.tenantId);
    where.push(`tenant_id = $${params.length}`);
  }
  if (opts.enabledOnly) where.push("enabled");
  return sql.query<ProviderRow>(`select * from identity_providers ${where.length ? "where " + where.join(" and ") : ""} order by name`, params);
}

export async function deleteProvider(sql: Sql, id: string): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
  return (await sql.query("delete from identity_providers where id = $1 returning id", [id])).length === 1;
}

export async function findLinkedUser(sql: Sql, providerId: string, subject: string): Promise<string | undefined> {
  const [row] = await sql.query<{ user_id: string }>("select user_id from federated_identities where provider_id = $1 and subject = $2", [providerId, subject]);
  return row?.user_id;
}

export async function linkIdentity(sql: Sql, providerId: string, subject: string, userId: string, now: Date): Promise<void> {
  await sql.query(
    `insert into federated_identities (provider_id, subject, user_id, created_at, last_login_at) values ($1, $2, $3, $4, $4)
     on conflict (provider_id, subject) do update set last_login_at = excluded.last_login_at`,
    [providerId, subject, userId, now],
  );
}
