// The OpenID provider's rules: checking authorization requests, issuing
// single-use codes bound to PKCE (S256 only), exchanging them for tokens, and
// rotating refresh tokens with reuse detection. HTTP lives in routes.ts.

import { timingSafeEqual } from "node:crypto";
import type { Db, Sql } from "../../db/db.ts";
import { withSystem } from "../../db/scope.ts";
import type { Clock } from "../../lib/clock.ts";
import { base64url, randomSecret, sha256Hex } from "../../lib/ids.ts";
import { recordAudit } from "../../audit/service.ts";
import { loadUserPrincipal } from "../principal.ts";
import type { KeyStore } from "./keys.ts";
import {
  findClient,
  findConsent,
  insertCode,
  insertRefreshToken,
  lockCode,
  lockRefreshToken,
  markCodeUsed,
  markRefreshRotated,
  revokeRefreshFamily,
  saveConsent,
  type ClientRow,
} from "./store.ts";
import { signAccessToken, signIdToken, type TokenDeps, type TokenSubject } from "./tokens.ts";

export const WEB_CLIENT_ID = "pulse-web";
/** The web UI redirects within whatever host the browser used, so Pulse works before public_url is set. */
export const WEB_REDIRECT_PATH = "/auth/callback";
export const SUPPORTED_SCOPES = ["openid", "profile", "email", "offline_access"] as const;
const CODE_TTL_MS = 60_000;

export interface ProviderDeps {
  db: Db;
  clock: Clock;
  keys: KeyStore;
  issuer: () => string;
  accessTokenSeconds: number;
  refreshTokenDays: number;
}

export class OAuthError extends Error {
  constructor(
    readonly error: "invalid_request" | "invalid_client" | "invalid_grant" | "unauthorized_client" | "unsupported_grant_type" | "invalid_scope" | "access_denied" | "unsupported_response_type" | "login_required" | "consent_required",
    readonly description: string,
    readonly status = error === "invalid_client" ? 401 : 400,
  ) {
    super(description);
    this.name = "OAuthError";
  }
}

export interface AuthorizationRequest {
  client: ClientRow;
  redirectUri: string;
  scope: string;
  state?: string;
  nonce?: string;
  codeChallenge: string;
  prompt?: string;
}

/**
 * Check an authorization request. A bad client or redirect_uri must not
 * redirect anywhere (throws with `redirect: false`); anything else is an
 * error the client hears about at its redirect_uri.
 */
export async function checkAuthorizationRequest(
  deps: ProviderDeps,
  q: Record<string, string | undefined>,
): Promise<{ ok: true; req: AuthorizationRequest } | { ok: false; error: OAuthError; redirectTo?: string }> {
  const clientId = q.client_id;
  if (!clientId) return { ok: false, error: new OAuthError("invalid_request", "client_id is missing") };
  const client = await withSystem(deps.db, (tx) => findClient(tx, clientId));
  if (!client) return { ok: false, error: new OAuthError("invalid_client", "unknown client_id") };
  const redirectUri = q.redirect_uri;
  if (!redirectUri || !redirectAllowed(client, redirectUri)) {
    return { ok: false, error: new OAuthError("invalid_request", "redirect_uri is not registered for this client") };
  }
  const fail = (error: OAuthError) => ({ ok: false as const, error, redirectTo: errorRedirect(redirectUri, error, q.state) });
  if (q.response_type !== "code") return fail(new OAuthError("unsupported_response_type", "only response_type=code is supported"));
  if (!q.code_challenge) return fail(new OAuthError("invalid_request", "PKCE is required: code_challenge is missing"));
  if (q.code_challenge_method !== "S256") return fail(new OAuthError("invalid_request", "code_challenge_method must be S256"));
  if (!/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge)) return fail(new OAuthError("invalid_request", "code_challenge must be a base64url SHA-256"));
  const scopes = (q.scope ?? "openid").split(" ").filter(Boolean);
  const unknown = scopes.filter((s) => !(SUPPORTED_SCOPES as readonly string[]).includes(s));
  if (unknown.length) return fail(new OAuthError("invalid_scope", `unsupported scope: ${unknown.join(" ")}`));
  if ((q.state?.length ?? 0) > 500 || (q.nonce?.length ?? 0) > 500) return fail(new OAuthError("invalid_request", "state or nonce too long"));
  return {
    ok: true,
    req: { client, redirectUri, scope: [...new Set(scopes)].join(" "), state: q.state, nonce: q.nonce, codeChallenge: q.code_challenge, prompt: q.prompt },
  };
}

/** Exact match only: no prefixes, suffixes, or wildcard tricks. */
export function redirectAllowed(client: ClientRow, uri: string): boolean {
  if (client.first_party && client.id === WEB_CLIENT_ID) return uri === WEB_REDIRECT_PATH;
  return client.redirect_uris.includes(uri);
}

export function errorRedirect(redirectUri: string, err: OAuthError, state: string | undefined): string {
  const u = new URL(redirectUri, "http://relative.invalid");
  u.searchParams.set("error", err.error);
  u.searchParams.set("error_description", err.description);
  if (state !== undefined) u.searchParams.set("state", state);
  return redirectUri.startsWith("/") ? u.pathname + u.search : u.toString();
}

/** Whether the user must be asked before this client gets their identity. */
export async function needsConsent(deps: ProviderDeps, req: AuthorizationRequest, userId: string): Promise<boolean> {
  if (req.client.first_party) return false;
  const granted = await withSystem(deps.db, (tx) => findConsent(tx, userId, req.client.id));
  if (!granted) return true;
  const have = new Set(granted.scope.split(" "));
  return req.scope.split(" ").some((s) => !have.has(s));
}

export async function grantConsent(deps: ProviderDeps, req: AuthorizationRequest, userId: string): Promise<void> {
  await withSystem(deps.db, (tx) => saveConsent(tx, userId, req.client.id, req.scope, deps.clock.now()));
}

/**
 * Issue a code for a signed-in user. The tenant in the tokens: the client's
 * own tenant (the user must belong to it), else the one they work in.
 * Returns the redirect to the client.
 */
export async function issueCode(deps: ProviderDeps, req: AuthorizationRequest, user: { id: string; tenantId: string | null; authTime: Date }): Promise<string> {
  let tenantId = user.tenantId;
  if (req.client.tenant_id) {
    const p = await loadUserPrincipal(deps.db, user.id, req.client.tenant_id, "token");
    if (!p || p.tenantId !== req.client.tenant_id || !p.tenantRole) {
      return errorRedirect(req.redirectUri, new OAuthError("access_denied", "this account is not a member of the client's tenant"), req.state);
    }
    tenantId = req.client.tenant_id;
  }
  const code = randomSecret(32);
  const now = deps.clock.now();
  await withSystem(deps.db, (tx) =>
    insertCode(tx, {
      codeHash: sha256Hex(code),
      clientId: req.client.id,
      userId: user.id,
      tenantId,
      redirectUri: req.redirectUri,
      codeChallenge: req.codeChallenge,
      scope: req.scope,
      nonce: req.nonce ?? null,
      authTime: user.authTime,
      now,
      expiresAt: new Date(now.getTime() + CODE_TTL_MS),
    }),
  );
  const u = new URL(req.redirectUri, "http://relative.invalid");
  u.searchParams.set("code", code);
  if (req.state !== undefined) u.searchParams.set("state", req.state);
  u.searchParams.set("iss", deps.issuer());
  return req.redirectUri.startsWith("/") ? u.pathname + u.search : u.toString();
}

export interface TokenSet {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
  id_token?: string;
  refresh_token?: string;
}

export interface ClientCredentials {
  clientId: string | undefined;
  clientSecret: string | undefined;
}

/** Authenticate the client at the token endpoint: confidential clients need their secret. */
async function authenticateClient(sql: Sql, creds: ClientCredentials): Promise<ClientRow> {
  if (!creds.clientId) throw new OAuthError("invalid_client", "client authentication failed");
  const client = await findClient(sql, creds.clientId);
  if (!client) throw new OAuthError("invalid_client", "client authentication failed");
  if (client.secret_hash) {
    if (!creds.clientSecret || !timingSafeEqualHex(sha256Hex(creds.clientSecret), client.secret_hash)) throw new OAuthError("invalid_client", "client authentication failed");
  } else if (creds.clientSecret) {
    throw new OAuthError("invalid_client", "this client is public and has no secret");
  }
  return client;
}

/** authorization_code grant. Returns the tokens and who they are for. */
export async function exchangeCode(
  deps: ProviderDeps,
  p: ClientCredentials & { code: string | undefined; redirectUri: string | undefined; codeVerifier: string | undefined },
): Promise<{ tokens: TokenSet; userId: string; tenantId: string | null }> {
  if (!p.code) throw new OAuthError("invalid_request", "code is missing");
  if (!p.codeVerifier) throw new OAuthError("invalid_request", "code_verifier is missing (PKCE is required)");
  const now = deps.clock.now();
  const codeHash = sha256Hex(p.code);
  const outcome = await withSystem(deps.db, async (tx) => {
    const client = await authenticateClient(tx, p);
    const row = await lockCode(tx, codeHash);
    if (!row || row.client_id !== client.id) return { error: new OAuthError("invalid_grant", "code is invalid") };
    if (row.used_at) {
      // A replayed code means it leaked: whatever it bought is revoked.
      if (row.refresh_family) await revokeRefreshFamily(tx, row.refresh_family, now);
      return { error: new OAuthError("invalid_grant", "code was already used"), replay: row };
    }
    if (row.expires_at <= now) return { error: new OAuthError("invalid_grant", "code expired") };
    if (row.redirect_uri !== p.redirectUri) return { error: new OAuthError("invalid_grant", "redirect_uri does not match the authorization request") };
    if (pkceChallenge(p.codeVerifier!) !== row.code_challenge) return { error: new OAuthError("invalid_grant", "code_verifier does not match the code_challenge") };
    const family = row.scope.split(" ").includes("offline_access") ? crypto.randomUUID() : null;
    await markCodeUsed(tx, codeHash, now, family);
    return { row, client, family };
  });
  if ("error" in outcome && outcome.error) {
    if (outcome.replay) {
      await recordAudit(deps, {
        tenantId: outcome.replay.tenant_id,
        actor: { kind: "user", id: outcome.replay.user_id, name: "(code replay)" },
        action: "auth.code_replayed",
        details: { client_id: outcome.replay.client_id },
      });
    }
    throw outcome.error;
  }
  const { row, client, family } = outcome as Exclude<typeof outcome, { error: OAuthError }>;
  const tokens = await mintTokens(deps, { clientId: client.id, userId: row.user_id, tenantId: row.tenant_id, scope: row.scope, nonce: row.nonce, authTime: row.auth_time, family });
  return { tokens, userId: row.user_id, tenantId: row.tenant_id };
}

/** refresh_token grant: rotate the token; a rotated or revoked token revokes its whole family. */
export async function refreshTokens(deps: ProviderDeps, p: ClientCredentials & { refreshToken: string | undefined; scope?: string }): Promise<TokenSet> {
  if (!p.refreshToken) throw new OAuthError("invalid_request", "refresh_token is missing");
  const now = deps.clock.now();
  const outcome = await withSystem(deps.db, async (tx) => {
    const client = await authenticateClient(tx, p);
    const row = await lockRefreshToken(tx, sha256Hex(p.refreshToken!));
    if (!row || row.client_id !== client.id) return { error: new OAuthError("invalid_grant", "refresh token is invalid") };
    if (row.rotated_at || row.revoked_at) {
      await revokeRefreshFamily(tx, row.family_id, now);
      return { error: new OAuthError("invalid_grant", "refresh token was already used; every token of this sign-in is revoked"), reuse: row };
    }
    if (row.expires_at <= now) return { error: new OAuthError("invalid_grant", "refresh token expired") };
    await markRefreshRotated(tx, row.id, now);
    return { row };
  });
  if ("error" in outcome && outcome.error) {
    if (outcome.reuse) {
      await recordAudit(deps, {
        tenantId: outcome.reuse.tenant_id,
        actor: { kind: "user", id: outcome.reuse.user_id, name: "(refresh token reuse)" },
        action: "auth.refresh_reuse_detected",
        details: { client_id: outcome.reuse.client_id, family: outcome.reuse.family_id },
      });
    }
    throw outcome.error;
  }
  const { row } = outcome as { row: NonNullable<Awaited<ReturnType<typeof lockRefreshToken>>> };
  let scope = row.scope;
  if (p.scope) {
    const asked = p.scope.split(" ").filter(Boolean);
    if (asked.some((s) => !row.scope.split(" ").includes(s))) throw new OAuthError("invalid_scope", "a refresh cannot widen the scope");
    scope = asked.join(" ");
  }
  return mintTokens(deps, { clientId: row.client_id, userId: row.user_id, tenantId: row.tenant_id, scope, nonce: null, authTime: row.auth_time, family: row.family_id });
}

async function mintTokens(
  deps: ProviderDeps,
  g: { clientId: string; userId: string; tenantId: string | null; scope: string; nonce: string | null; authTime: Date; family: string | null },
): Promise<TokenSet> {
  const principal = await loadUserPrincipal(deps.db, g.userId, g.tenantId, "token");
  if (!principal) throw new OAuthError("invalid_grant", "the account is disabled or gone");
  const subject: TokenSubject = {
    userId: principal.id,
    username: principal.name,
    name: principal.displayName,
    email: principal.email,
    tenantId: principal.tenantId,
    tenantRole: principal.tenantRole,
    platformRole: principal.platformRole,
  };
  const tokenDeps: TokenDeps = { keys: deps.keys, issuer: deps.issuer, lifetimeSeconds: deps.accessTokenSeconds, now: () => deps.clock.now() };
  const scopes = g.scope.split(" ");
  const set: TokenSet = {
    access_token: await signAccessToken(tokenDeps, subject, g.clientId, g.scope),
    token_type: "Bearer",
    expires_in: deps.accessTokenSeconds,
    scope: g.scope,
  };
  if (scopes.includes("openid")) set.id_token = await signIdToken(tokenDeps, subject, g.clientId, { nonce: g.nonce, authTime: g.authTime, scope: g.scope });
  if (g.family) {
    const refresh = randomSecret(32);
    const now = deps.clock.now();
    await withSystem(deps.db, (tx) =>
      insertRefreshToken(tx, {
        tokenHash: sha256Hex(refresh),
        familyId: g.family!,
        clientId: g.clientId,
        userId: g.userId,
        tenantId: principal.tenantId,
        scope: g.scope,
        authTime: g.authTime,
        now,
        expiresAt: new Date(now.getTime() + deps.refreshTokenDays * 86_400_000),
      }),
    );
    set.refresh_token = refresh;
  }
  return set;
}

/** Revoke a refresh token (RFC 7009): its family ends. Unknown tokens are not an error. */
export async function revokeToken(deps: ProviderDeps, p: ClientCredentials & { token: string | undefined }): Promise<void> {
  if (!p.token) throw new OAuthError("invalid_request", "token is missing");
  await withSystem(deps.db, async (tx) => {
    const client = await authenticateClient(tx, p);
    const row = await lockRefreshToken(tx, sha256Hex(p.token!));
    if (row && row.client_id === client.id) await revokeRefreshFamily(tx, row.family_id, deps.clock.now());
  });
}

export function pkceChallenge(verifier: string): string {
  return base64url(new Uint8Array(new Bun.CryptoHasher("sha256").update(verifier).digest()));
}

function timingSafeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
