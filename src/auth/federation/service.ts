// Signing in through a company's own identity provider (Keycloak, Entra ID,
// Google…): Pulse is an OpenID Connect client of it, with PKCE, state and
// nonce. Claims map to a tenant and role by the provider's rules; unknown
// people are created on first sign-in (just in time) when the provider allows
// it. Tenant-admins configure their tenant's providers; operator-admins
// configure platform-wide ones. Every request to a provider goes through
// discovery.ts, which keeps tenant providers off private networks.

import { jwtVerify, type JWTPayload } from "jose";
import { recordAudit, recordAuditIn } from "../../audit/service.ts";
import type { Db } from "../../db/db.ts";
import { withCrossTenantRead, withSystem, withTenant } from "../../db/scope.ts";
import type { Clock } from "../../lib/clock.ts";
import { can, requirePermission, type Caller, type TenantRole } from "../../lib/ctx.ts";
import { AppError, conflict, invalid, notFound } from "../../lib/errors.ts";
import { base64url, randomSecret } from "../../lib/ids.ts";
import type { SecretBox } from "../../lib/secrets.ts";
import { requireText } from "../../lib/validate.ts";
import { findTenantStatus, findUserStatus, insertUser, setUserPlatformRole, upsertMembership } from "../users/store.ts";
import { discover, isGuarded, upstreamFetch, type UpstreamDeps } from "./discovery.ts";
import { deleteProvider, findLinkedUser, findProvider, findProviderBySlug, insertProvider, linkIdentity, listProviders, updateProvider, type MappingRule, type ProviderRow } from "./store.ts";

export interface FederationDeps extends UpstreamDeps {
  db: Db;
  clock: Clock;
  secrets: SecretBox;
  publicUrl: () => string;
}

export const CALLBACK_PATH = "/auth/federated/callback";

export interface IdentityProvider {
  id: string;
  slug: string;
  name: string;
  tenantId: string | null;
  issuer: string;
  clientId: string;
  hasSecret: boolean;
  scopes: string;
  mappings: MappingRule[];
  defaultRole: TenantRole | null;
  jit: boolean;
  enabled: boolean;
}

const toProvider = (r: ProviderRow): IdentityProvider => ({
  id: r.id,
  slug: r.slug,
  name: r.name,
  tenantId: r.tenant_id,
  issuer: r.issuer,
  clientId: r.client_id,
  hasSecret: r.client_secret !== null,
  scopes: r.scopes,
  mappings: r.mappings,
  defaultRole: r.default_role,
  jit: r.jit,
  enabled: r.enabled,
});

export interface ProviderInput {
  slug?: unknown;
  name?: unknown;
  issuer?: unknown;
  clientId?: unknown;
  clientSecret?: unknown;
  scopes?: unknown;
  mappings?: unknown;
  defaultRole?: unknown;
  jit?: unknown;
  enabled?: unknown;
  /** "platform" (operator-admin) or the caller's tenant (default). */
  scope?: unknown;
}

function checkMappings(v: unknown, platform: boolean): MappingRule[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 50) throw invalid("mappings", "mappings: a list of at most 50 rules");
  return v.map((r, i) => {
    const f = `mappings.${i}`;
    if (typeof r !== "object" || r === null) throw invalid(f, `${f}: must be an object`);
    const rule = r as Record<string, unknown>;
    if (typeof rule.claim !== "string" || !/^[A-Za-z0-9_.:-]{1,100}$/.test(rule.claim)) throw invalid(`${f}.claim`, `${f}.claim: a claim name`);
    if (typeof rule.equals !== "string" || rule.equals.length > 500) throw invalid(`${f}.equals`, `${f}.equals: the value to match`);
    const out: MappingRule = { claim: rule.claim, equals: rule.equals };
    if (rule.role !== undefined) {
      if (rule.role !== "customer" && rule.role !== "tenant-admin") throw invalid(`${f}.role`, `${f}.role: customer or tenant-admin`);
      out.role = rule.role;
    }
    if (rule.tenant !== undefined) {
      if (!platform) throw invalid(`${f}.tenant`, `${f}.tenant: only platform providers map to tenants`);
      if (typeof rule.tenant !== "string") throw invalid(`${f}.tenant`, `${f}.tenant: a tenant id`);
      out.tenant = rule.tenant;
    }
    if (rule.platform_role !== undefined) {
      if (!platform) throw invalid(`${f}.platform_role`, `${f}.platform_role: only platform providers grant platform roles`);
      if (rule.platform_role !== "operator" && rule.platform_role !== "operator-admin") throw invalid(`${f}.platform_role`, `${f}.platform_role: operator or operator-admin`);
      out.platform_role = rule.platform_role;
    }
    if (!out.role && !out.platform_role) throw invalid(f, `${f}: must grant a role or a platform_role`);
    if (platform && out.role && !out.tenant) throw invalid(`${f}.tenant`, `${f}.tenant: platform rules that grant a role name the tenant`);
    return out;
  });
}

function checkIssuer(v: unknown): string {
  if (typeof v !== "string") throw invalid("issuer", "issuer: required");
  try {
    const u = new URL(v);
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error();
  } catch {
    throw invalid("issuer", "issuer: an http(s) URL, e.g. https://keycloak.example.com/realms/ops");
  }
  return v.replace(/\/+$/, "");
}

/** Add a provider; its discovery document must be reachable and name the same issuer. */
export async function createProvider(deps: FederationDeps, caller: Caller, input: ProviderInput): Promise<IdentityProvider> {
  const platform = input.scope === "platform";
  if (platform) requirePermission(caller, "platform-admin", "add platform identity providers");
  else requirePermission(caller, "admin", "add identity providers");
  const tenantId = platform ? null : caller.tenantId;
  if (!platform && !tenantId) throw new AppError("forbidden", "choose a tenant first");
  const slug = input.slug;
  if (typeof slug !== "string" || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug)) throw invalid("slug", "slug: lowercase letters, digits and -, e.g. acme-keycloak");
  const issuer = checkIssuer(input.issuer);
  // Before anything is stored: a tenant's issuer on a private address is a 400 naming issuer.
  await discover(deps, issuer, isGuarded(deps, tenantId ?? null), true);
  const row = {
    tenant_id: tenantId ?? null,
    slug,
    name: requireText("name", input.name),
    issuer,
    client_id: requireText("client_id", input.clientId, 500),
    client_secret: typeof input.clientSecret === "string" && input.clientSecret ? await deps.secrets.encrypt(input.clientSecret) : null,
    scopes: typeof input.scopes === "string" && input.scopes.trim() ? input.scopes.trim() : "openid profile email",
    mappings: checkMappings(input.mappings, platform),
    // Omitted: tenant providers default to customer. Explicit null: no default, only the rules grant roles.
    default_role: input.defaultRole === undefined ? (platform ? null : "customer") : input.defaultRole === null ? null : (checkRole(input.defaultRole, platform) as TenantRole | null),
    jit: input.jit !== false,
    enabled: input.enabled !== false,
    now: deps.clock.now(),
  };
  if (!row.scopes.split(" ").includes("openid")) throw invalid("scopes", "scopes: must include openid");
  const created = await withSystem(deps.db, async (tx) => {
    const r = await insertProvider(tx, row);
    if (!r) throw conflict(`an identity provider with slug ${slug} exists`, "slug");
    await recordAuditIn(tx, deps.clock, { tenantId: tenantId ?? null, actor: caller.actor, action: "idp.created", target: { kind: "idp", id: r.id }, ip: caller.ip, requestId: caller.requestId, details: { slug, issuer } });
    return r;
  });
  return toProvider(created);
}

function checkRole(v: unknown, platform: boolean): TenantRole | null {
  if (platform) throw invalid("default_role", "default_role: platform providers map roles by rules only");
  if (v !== "customer" && v !== "tenant-admin") throw invalid("default_role", "default_role: customer or tenant-admin");
  return v;
}

/** Providers the caller manages: their tenant's, or all for operators. */
export async function listIdentityProviders(deps: FederationDeps, caller: Caller): Promise<IdentityProvider[]> {
  if (can(caller, "platform-read")) return (await withCrossTenantRead(deps.db, (tx) => listProviders(tx))).map(toProvider);
  requirePermission(caller, "admin", "see identity providers");
  return (await withTenant(deps.db, { tenantId: caller.tenantId! }, (tx) => listProviders(tx))).map(toProvider);
}

async function ownedProvider(deps: FederationDeps, caller: Caller, id: string): Promise<ProviderRow> {
  const row = await withSystem(deps.db, (tx) => findProvider(tx, id));
  const mine = row && (row.tenant_id === null ? can(caller, "platform-admin") : (row.tenant_id === caller.tenantId && can(caller, "admin")) || can(caller, "platform-admin"));
  if (!row || !mine) throw notFound(`identity provider ${id}`);
  return row;
}

export async function updateIdentityProvider(deps: FederationDeps, caller: Caller, id: string, input: ProviderInput): Promise<IdentityProvider> {
  const row = await ownedProvider(deps, caller, id);
  const platform = row.tenant_id === null;
  const patch: Parameters<typeof updateProvider>[2] = {};
  if (input.name !== undefined) patch.name = requireText("name", input.name);
  if (input.issuer !== undefined) {
    patch.issuer = checkIssuer(input.issuer);
    await discover(deps, patch.issuer, isGuarded(deps, row.tenant_id), true);
  }
  if (input.clientId !== undefined) patch.client_id = requireText("client_id", input.clientId, 500);
  if (typeof input.clientSecret === "string") patch.client_secret = input.clientSecret ? await deps.secrets.encrypt(input.clientSecret) : null;
  if (input.scopes !== undefined) patch.scopes = requireText("scopes", input.scopes);
  if (input.mappings !== undefined) patch.mappings = checkMappings(input.mappings, platform);
  if (input.defaultRole !== undefined) patch.default_role = input.defaultRole === null ? null : checkRole(input.defaultRole, platform);
  if (input.jit !== undefined) patch.jit = input.jit === true;
  if (input.enabled !== undefined) patch.enabled = input.enabled === true;
  const updated = await withSystem(deps.db, async (tx) => {
    const r = (await updateProvider(tx, id, patch, deps.clock.now()))!;
    await recordAuditIn(tx, deps.clock, { tenantId: row.tenant_id, actor: caller.actor, action: "idp.updated", target: { kind: "idp", id }, ip: caller.ip, requestId: caller.requestId, details: { fields: Object.keys(patch) } });
    return r;
  });
  return toProvider(updated);
}

export async function deleteIdentityProvider(deps: FederationDeps, caller: Caller, id: string): Promise<void> {
  const row = await ownedProvider(deps, caller, id);
  await withSystem(deps.db, async (tx) => {
    await deleteProvider(tx, id);
    await recordAuditIn(tx, deps.clock, { tenantId: row.tenant_id, actor: caller.actor, action: "idp.deleted", target: { kind: "idp", id }, ip: caller.ip, requestId: caller.requestId, details: { slug: row.slug } });
  });
}

/** Providers shown on the sign-in page: platform-wide ones, or one tenant's. */
export async function signInProviders(deps: FederationDeps, tenantId?: string): Promise<Array<{ slug: string; name: string }>> {
  const rows = await withSystem(deps.db, (tx) => listProviders(tx, tenantId ? { tenantId, enabledOnly: true } : { platformOnly: true, enabledOnly: true }));
  return rows.map((r) => ({ slug: r.slug, name: r.name }));
}

/** What survives the round trip to the upstream provider (sealed in a cookie). */
export interface FederatedState {
  slug: string;
  state: string;
  nonce: string;
  verifier: string;
  /** The pending authorization request at Pulse's own provider, to resume afterwards. */
  resume: string;
}

/** Where to send the browser, and the state to keep. */
export async function beginFederatedSignIn(deps: FederationDeps, slug: string, resume: string): Promise<{ url: string; state: FederatedState }> {
  const row = await withSystem(deps.db, (tx) => findProviderBySlug(tx, slug));
  if (!row || !row.enabled) throw notFound(`identity provider ${slug}`);
  const { doc } = await discover(deps, row.issuer, isGuarded(deps, row.tenant_id));
  const st: FederatedState = { slug, state: randomSecret(16), nonce: randomSecret(16), verifier: randomSecret(32), resume };
  const u = new URL(doc.authorization_endpoint);
  u.searchParams.set("response_type", "code");
  u.searchParams.set("client_id", row.client_id);
  u.searchParams.set("redirect_uri", deps.publicUrl() + CALLBACK_PATH);
  u.searchParams.set("scope", row.scopes);
  u.searchParams.set("state", st.state);
  u.searchParams.set("nonce", st.nonce);
  u.searchParams.set("code_challenge", base64url(new Uint8Array(new Bun.CryptoHasher("sha256").update(st.verifier).digest())));
  u.searchParams.set("code_challenge_method", "S256");
  return { url: u.toString(), state: st };
}

/**
 * Finish the upstream sign-in: exchange the code, verify the ID token, map
 * claims, find or create the user. Returns the Pulse user and tenant.
 */
export async function completeFederatedSignIn(
  deps: FederationDeps,
  st: FederatedState,
  query: { code?: string; state?: string; error?: string; error_description?: string },
  meta: { ip?: string; requestId?: string },
): Promise<{ userId: string; tenantId: string | null }> {
  if (query.error) throw new AppError("unauthorized", `the identity provider refused: ${query.error_description ?? query.error}`);
  if (!query.code || query.state !== st.state) throw new AppError("unauthorized", "sign-in state does not match; start again");
  const row = await withSystem(deps.db, (tx) => findProviderBySlug(tx, st.slug));
  if (!row || !row.enabled) throw notFound(`identity provider ${st.slug}`);
  const guarded = isGuarded(deps, row.tenant_id);
  const { doc, jwks } = await discover(deps, row.issuer, guarded);
  const secret = row.client_secret ? await deps.secrets.decrypt(row.client_secret) : undefined;
  const body = new URLSearchParams({ grant_type: "authorization_code", code: query.code, redirect_uri: deps.publicUrl() + CALLBACK_PATH, code_verifier: st.verifier, client_id: row.client_id });
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
  if (secret) headers.authorization = "Basic " + Buffer.from(`${encodeURIComponent(row.client_id)}:${encodeURIComponent(secret)}`).toString("base64");
  const res = await upstreamFetch(deps, guarded)(doc.token_endpoint, { method: "POST", headers, body }).catch((err) => {
    throw new AppError("unavailable", `the identity provider did not answer (${(err as Error).message})`);
  });
  const tokens = (await res.json().catch(() => ({}))) as { id_token?: string; error?: string; error_description?: string };
  if (!res.ok || !tokens.id_token) throw new AppError("unauthorized", `the identity provider refused the code: ${tokens.error_description ?? tokens.error ?? res.status}`);
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(tokens.id_token, jwks, { issuer: doc.issuer, audience: row.client_id, currentDate: deps.clock.now(), clockTolerance: 60 }));
  } catch (err) {
    throw new AppError("unauthorized", `the identity provider's ID token is not valid (${(err as Error).message})`);
  }
  if (claims.nonce !== st.nonce) throw new AppError("unauthorized", "the identity provider's ID token has the wrong nonce");
  if (!claims.sub) throw new AppError("unauthorized", "the identity provider's ID token has no subject");

  const grant = mapClaims(row, claims);
  const now = deps.clock.now();
  const result = await withSystem(deps.db, async (tx) => {
    let userId = await findLinkedUser(tx, row.id, claims.sub!);
    if (!userId) {
      if (!row.jit) throw new AppError("forbidden", "you have no Pulse account yet; ask an administrator to invite you");
      if (!grant.tenant && !grant.platformRole) throw new AppError("forbidden", "your identity provider account maps to no tenant or role in Pulse");
      const email = typeof claims.email === "string" ? claims.email.toLowerCase() : null;
      const base = usernameFrom(claims, row.slug);
      let user;
      for (let i = 0; i < 5 && !user; i++) {
        user = await insertUser(tx, { username: i ? `${base}-${i + 1}` : base, email: i ? null : email, name: typeof claims.name === "string" ? claims.name : base, passwordHash: null, platformRole: grant.platformRole ?? null, now });
      }
      if (!user) throw conflict("cannot pick a unique username for this account");
      userId = user.id;
      await recordAuditIn(tx, deps.clock, { tenantId: grant.tenant?.id ?? null, actor: { kind: "user", id: userId, name: user.username }, action: "user.created_jit", target: { kind: "user", id: userId }, ip: meta.ip, requestId: meta.requestId, details: { idp: row.slug } });
    }
    if (grant.tenant) {
      const t = await findTenantStatus(tx, grant.tenant.id);
      if (t?.status !== "ACTIVE") throw new AppError("forbidden", `the tenant ${grant.tenant.id} your account maps to is not available`);
    }
    // Roles follow the provider on every sign-in, so a change upstream takes effect here.
    if (grant.tenant) await upsertMembership(tx, { tenantId: grant.tenant.id, userId, role: grant.tenant.role, now });
    if (grant.platformRole) await setUserPlatformRole(tx, userId, grant.platformRole);
    await linkIdentity(tx, row.id, claims.sub!, userId, now);
    const u = await findUserStatus(tx, userId);
    if (u?.status !== "ACTIVE") throw new AppError("unauthorized", "this account is disabled");
    return { userId, username: u.username };
  });
  await recordAudit(deps, { tenantId: grant.tenant?.id ?? null, actor: { kind: "user", id: result.userId, name: result.username }, action: "auth.login", ip: meta.ip, requestId: meta.requestId, details: { method: "federated", idp: row.slug } });
  return { userId: result.userId, tenantId: grant.tenant?.id ?? null };
}

/** The first matching rule wins; a tenant provider falls back to its default role. */
export function mapClaims(row: Pick<ProviderRow, "tenant_id" | "mappings" | "default_role">, claims: JWTPayload): { tenant?: { id: string; role: TenantRole }; platformRole?: "operator" | "operator-admin" } {
  const matches = (rule: MappingRule) => {
    const v = claims[rule.claim];
    return Array.isArray(v) ? v.map(String).includes(rule.equals) : v !== undefined && String(v) === rule.equals;
  };
  const out: ReturnType<typeof mapClaims> = {};
  for (const rule of row.mappings) {
    if (!matches(rule)) continue;
    if (rule.platform_role && !out.platformRole) out.platformRole = rule.platform_role;
    if (rule.role && !out.tenant) out.tenant = { id: rule.tenant ?? row.tenant_id!, role: rule.role };
  }
  if (!out.tenant && row.tenant_id && row.default_role) out.tenant = { id: row.tenant_id, role: row.default_role };
  return out;
}

function usernameFrom(claims: JWTPayload, slug: string): string {
  const candidates = [claims.preferred_username, typeof claims.email === "string" ? claims.email : undefined, `${slug}-${claims.sub}`];
  for (const c of candidates) {
    if (typeof c === "string") {
      const clean = c.replace(/[^A-Za-z0-9._@+-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 100);
      if (clean) return clean;
    }
  }
  return `${slug}-user`;
}
