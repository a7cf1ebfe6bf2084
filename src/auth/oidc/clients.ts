// OAuth clients registered by tenant-admins: their tenant's integrations
// (dashboards, scripts with a browser login). Each gets a client id, an
// optional secret (shown once), and exact redirect URIs. Tokens they obtain
// are always for their own tenant.

import { recordAuditIn } from "../../audit/service.ts";
import type { Db } from "../../db/db.ts";
import { withTenant } from "../../db/scope.ts";
import type { Clock } from "../../lib/clock.ts";
import { requirePermission, type Ctx } from "../../lib/ctx.ts";
import { invalid, notFound } from "../../lib/errors.ts";
import { randomSecret, sha256Hex } from "../../lib/ids.ts";
import { requireText } from "../../lib/validate.ts";
import { insertClient, listTenantClients, revokeClient, revokeClientRefreshTokens, type ClientRow } from "./store.ts";

export interface OAuthClient {
  id: string;
  name: string;
  confidential: boolean;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  createdAt: Date;
}

const toClient = (r: ClientRow): OAuthClient => ({
  id: r.id,
  name: r.name,
  confidential: r.secret_hash !== null,
  redirectUris: r.redirect_uris,
  postLogoutRedirectUris: r.post_logout_redirect_uris,
  createdAt: r.created_at,
});

/**
 * Redirect URIs must be absolute https URLs, or http on a loopback address
 * (native apps, RFC 8252), without fragments; they are matched exactly.
 */
export function checkRedirectUri(field: string, uri: unknown): string {
  if (typeof uri !== "string" || uri.length > 2000) throw invalid(field, `${field}: must be a URL`);
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw invalid(field, `${field}: must be an absolute URL`);
  }
  const loopback = /^127\.\d+\.\d+\.\d+$/.test(u.hostname) || u.hostname === "[::1]" || u.hostname === "localhost";
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback)) throw invalid(field, `${field}: must use https (http only on a loopback address)`);
  if (u.hash) throw invalid(field, `${field}: must not contain a fragment`);
  if (u.username || u.password) throw invalid(field, `${field}: must not contain credentials`);
  return uri;
}

export async function createClient(
  deps: { db: Db; clock: Clock },
  ctx: Ctx,
  input: { name: unknown; redirectUris: unknown; postLogoutRedirectUris?: unknown; confidential?: unknown },
): Promise<{ client: OAuthClient; secret?: string }> {
  requirePermission(ctx, "admin", "register OAuth clients");
  const name = requireText("name", input.name);
  if (!Array.isArray(input.redirectUris) || input.redirectUris.length === 0 || input.redirectUris.length > 10) {
    throw invalid("redirect_uris", "redirect_uris: give 1 to 10 URLs");
  }
  const redirectUris = input.redirectUris.map((u, i) => checkRedirectUri(`redirect_uris.${i}`, u));
  const post = Array.isArray(input.postLogoutRedirectUris) ? input.postLogoutRedirectUris.map((u, i) => checkRedirectUri(`post_logout_redirect_uris.${i}`, u)) : [];
  const secret = input.confidential === true ? randomSecret(32) : undefined;
  const id = `${ctx.tenantId}.${randomSecret(9)}`;
  const row = await withTenant(deps.db, ctx, async (tx) => {
    const r = await insertClient(tx, {
      id,
      tenantId: ctx.tenantId,
      name,
      firstParty: false,
      secretHash: secret ? sha256Hex(secret) : null,
      redirectUris,
      postLogoutRedirectUris: post,
      createdBy: ctx.actor.kind === "user" ? ctx.actor.id : null,
      now: deps.clock.now(),
    });
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "oauth_client.created", target: { kind: "oauth_client", id }, ip: ctx.ip, requestId: ctx.requestId, details: { name, redirect_uris: redirectUris } });
    return r;
  });
  return { client: toClient(row), secret };
}

export async function listClients(deps: { db: Db }, ctx: Ctx): Promise<OAuthClient[]> {
  requirePermission(ctx, "admin", "see OAuth clients");
  return (await withTenant(deps.db, ctx, (tx) => listTenantClients(tx))).map(toClient);
}

export async function deleteClient(deps: { db: Db; clock: Clock }, ctx: Ctx, id: string): Promise<void> {
  requirePermission(ctx, "admin", "remove OAuth clients");
  await withTenant(deps.db, ctx, async (tx) => {
    if (!(await revokeClient(tx, id, deps.clock.now()))) throw notFound(`OAuth client ${id}`);
    await revokeClientRefreshTokens(tx, id, deps.clock.now());
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "oauth_client.revoked", target: { kind: "oauth_client", id }, ip: ctx.ip, requestId: ctx.requestId });
  });
}
