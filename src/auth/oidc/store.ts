// SQL for the OpenID provider: signing keys, clients, authorization codes,
// refresh tokens, consents. Called in the system scope (these flows cross
// tenants by nature) except tenant client management, which is tenant-scoped.

import type { Sql } from "../../db/db.ts";

export interface SigningKeyRow {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: Record<string, unknown>;
  created_at: Date;
  retired_at: Date | null;
  expires_at: Date | null;
}

export async function listSigningKeys(sql: Sql, now: Date): Promise<SigningKeyRow[]> {
  return sql.query<SigningKeyRow>("select * from signing_keys where expires_at is null or expires_at > $1 order by created_at desc", [now]);
}

export async function insertSigningKey(sql: Sql, k: { kid: string; privateJwk: string; publicJwk: unknown; now: Date }): Promise<void> {
  await sql.query("insert into signing_keys (kid, private_jwk, public_jwk, created_at) values ($1, $2, $3, $4)", [k.kid, k.privateJwk, JSON.stringify(k.publicJwk), k.now]);
}

export async function retireSigningKeys(sql: Sql, exceptKid: string, now: Date, expiresAt: Date): Promise<void> {
  await sql.query("update signing_keys set retired_at = $2, expires_at = $3 where kid <> $1 and retired_at is null", [exceptKid, now, expiresAt]);
}

export async function deleteExpiredSigningKeys(sql: Sql, now: Date): Promise<void> {
  await sql.query("delete from signing_keys where expires_at is not null and expires_at <= $1", [now]);
}

/**
 * One key rotation at a time across nodes: a transaction-scoped advisory lock
 * (released at commit), taken before reading the current key so the loser of
 * a race sees the winner's key.
 */
export async function lockSigningKeyRotation(sql: Sql): Promise<void> {
  await sql.query("select pg_advisory_xact_lock(7202611273)");
}

export interface ClientRow {
  id: string;
  tenant_id: string | null;
  name: string;
  first_party: boolean;
  secret_hash: string | null;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  created_by: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

export async function findClient(sql: Sql, id: string): Promise<ClientRow | undefined> {
  const [row] = await sql.query<ClientRow>("select * from oauth_clients where id = $1 and revoked_at is null", [id]);
  return row;
}

export async function insertClient(
  sql: Sql,
  c: { id: string; tenantId: string | null; name: string; firstParty: boolean; secretHash: string | null; redirectUris: string[]; postLogoutRedirectUris: string[]; createdBy: string | null; now: Date },
): Promise<ClientRow> {
  const [row] = await sql.query<ClientRow>(
    `insert into oauth_clients (id, tenant_id, name, first_party, secret_hash, redirect_uris, post_logout_redirect_uris, created_by, created_at)
     values ($1, $2, $3, $4, $5, $6::text[], $7::text[], $8, $9) returning *`,
    [c.id, c.tenantId, c.name, c.firstParty, c.secretHash, c.redirectUris, c.postLogoutRedirectUris, c.createdBy, c.now],
  );
  return row!;
}

/** Clients of the tenant in scope. */
export async function listTenantClients(sql: Sql): Promise<ClientRow[]> {
  return sql.query<ClientRow>("select * from oauth_clients where revoked_at is null and tenant_id is not null order by created_at");
}

export async function revokeClient(sql: Sql, id: string, now: Date): Promise<boolean> {
  const rows = await sql.query("update oauth_clients set revoked_at = $2 where id = $1 and revoked_at is null and not first_party returning id", [id, now]);
  return rows.length === 1;
}

/** A removed client's refresh tokens stop working with it. */
export async function revokeClientRefreshTokens(sql: Sql, clientId: string, now: Date): Promise<void> {
  await sql.query("update oauth_refresh_tokens set revoked_at = $2 where client_id = $1 and revoked_at is null", [clientId, now]);
}

export interface CodeRow {
  code_hash: string;
  client_id: string;
  user_id: string;
  tenant_id: string | null;
  redirect_uri: string;
  code_challenge: string;
  scope: string;
  nonce: string | null;
  auth_time: Date;
  expires_at: Date;
  used_at: Date | null;
  refresh_family: string | null;
}

export async function insertCode(
  sql: Sql,
  c: { codeHash: string; clientId: string; userId: string; tenantId: string | null; redirectUri: string; codeChallenge: string; scope: string; nonce: string | null; authTime: Date; now: Date; expiresAt: Date },
): Promise<void> {
  await sql.query(
    `insert into oauth_codes (code_hash, client_id, user_id, tenant_id, redirect_uri, code_challenge, scope, nonce, auth_time, created_at, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [c.codeHash, c.clientId, c.userId, c.tenantId, c.redirectUri, c.codeChallenge, c.scope, c.nonce, c.authTime, c.now, c.expiresAt],
  );
}

/** The code, locked: exchanging it twice concurrently must not yield two token sets. */
export async function lockCode(sql: Sql, codeHash: string): Promise<CodeRow | undefined> {
  const [row] = await sql.query<CodeRow>("select * from oauth_codes where code_hash = $1 for update", [codeHash]);
  return row;
}

export async function markCodeUsed(sql: Sql, codeHash: string, now: Date, refreshFamily: string | null): Promise<void> {
  await sql.query("update oauth_codes set used_at = $2, refresh_family = $3 where code_hash = $1", [codeHash, now, refreshFamily]);
}

export async function deleteExpiredCodes(sql: Sql, before: Date): Promise<void> {
  await sql.query("delete from oauth_codes where expires_at < $1", [before]);
}

export interface RefreshRow {
  id: string;
  token_hash: string;
  family_id: string;
  client_id: string;
  user_id: string;
  tenant_id: string | null;
  scope: string;
  auth_time: Date;
  created_at: Date;
  expires_at: Date;
  rotated_at: Date | null;
  revoked_at: Date | null;
}

export async function insertRefreshToken(
  sql: Sql,
  r: { tokenHash: string; familyId: string; clientId: string; userId: string; tenantId: string | null; scope: string; authTime: Date; now: Date; expiresAt: Date },
): Promise<void> {
  await sql.query(
    `insert into oauth_refresh_tokens (token_hash, family_id, client_id, user_id, tenant_id, scope, auth_time, created_at, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [r.tokenHash, r.familyId, r.clientId, r.userId, r.tenantId, r.scope, r.authTime, r.now, r.expiresAt],
  );
}

export async function lockRefreshToken(sql: Sql, tokenHash: string): Promise<RefreshRow | undefined> {
  const [row] = await sql.query<RefreshRow>("select * from oauth_refresh_tokens where token_hash = $1 for update", [tokenHash]);
  return row;
}

export async function markRefreshRotated(sql: Sql, id: string, now: Date): Promise<void> {
  await sql.query("update oauth_refresh_tokens set rotated_at = $2 where id = $1", [id, now]);
}

export async function revokeRefreshFamily(sql: Sql, familyId: string, now: Date): Promise<void> {
  await sql.query("update oauth_refresh_tokens set revoked_at = $2 where family_id = $1 and revoked_at is null", [familyId, now]);
}

export async function deleteExpiredRefreshTokens(sql: Sql, before: Date): Promise<void> {
  await sql.query("delete from oauth_refresh_tokens where expires_at < $1", [before]);
}

export async function findConsent(sql: Sql, userId: string, clientId: string): Promise<{ scope: string } | undefined> {
  const [row] = await sql.query<{ scope: string }>("select scope from oauth_consents where user_id = $1 and client_id = $2", [userId, clientId]);
  return row;
}

export async function saveConsent(sql: Sql, userId: string, clientId: string, scope: string, now: Date): Promise<void> {
  await sql.query(
    "insert into oauth_consents (user_id, client_id, scope, granted_at) values ($1, $2, $3, $4) on conflict (user_id, client_id) do update set scope = excluded.scope, granted_at = excluded.granted_at",
    [userId, clientId, scope, now],
  );
}
