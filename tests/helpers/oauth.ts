// OAuth/OpenID flows against a running Pulse without a browser: register a
// tenant's public client, drive /oauth/authorize (sign-in form, consent) over
// HTTP with a cookie jar, and exchange the code at /oauth/token. For suites
// that need real tokens (attack tokens, roles) but not Chromium.

import { agent, formFields, type Agent } from "./agent.ts";
import { base64url, randomSecret } from "../../src/lib/ids.ts";

export const ALL_SCOPES = "openid profile email offline_access";

export interface TokenSet {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  id_token?: string;
  refresh_token?: string;
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** A fresh PKCE verifier and its S256 challenge. */
export function pkce(): Pkce {
  const verifier = randomSecret(32);
  const challenge = base64url(new Uint8Array(new Bun.CryptoHasher("sha256").update(verifier).digest()));
  return { verifier, challenge };
}

/** Register a public client for the signed-in tenant-admin's tenant; returns its client_id. */
export async function registerClient(admin: Agent, redirectUris: string[], name = "Integration"): Promise<string> {
  const res = await admin.send("/api/v1/oauth-clients", { method: "POST", body: JSON.stringify({ name, redirect_uris: redirectUris }) });
  if (res.status !== 201) throw new Error(`registerClient: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { client_id: string }).client_id;
}

export interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  scope?: string;
  state?: string;
  nonce?: string;
  /** Defaults to a fresh S256 pair; pass `null` to leave PKCE out. */
  pkce?: Pkce | null;
  method?: string;
  extra?: Record<string, string>;
}

/** The /oauth/authorize path with its query. */
export function authorizePath(p: AuthorizeParams & { pkce: Pkce | null }): string {
  const q = new URLSearchParams({ response_type: "code", client_id: p.clientId, redirect_uri: p.redirectUri, scope: p.scope ?? ALL_SCOPES });
  if (p.state !== undefined) q.set("state", p.state);
  if (p.nonce !== undefined) q.set("nonce", p.nonce);
  if (p.pkce) {
    q.set("code_challenge", p.pkce.challenge);
    q.set("code_challenge_method", p.method ?? "S256");
  }
  for (const [k, v] of Object.entries(p.extra ?? {})) q.set(k, v);
  return `/oauth/authorize?${q}`;
}

export interface Authorized {
  code: string;
  state: string | null;
  verifier: string;
  /** Where the provider sent the browser (the client's redirect_uri with code, state and iss). */
  location: URL;
}

/**
 * Sign in at the provider's form as `username` and allow the client when
 * asked; returns the authorization code from the redirect.
 */
export async function authorizeCode(
  baseUrl: string,
  p: AuthorizeParams & { username: string; password: string; agent?: Agent },
): Promise<Authorized> {
  const a = p.agent ?? agent(baseUrl);
  const pair = p.pkce === undefined ? pkce() : p.pkce;
  let res = await a.fetch(authorizePath({ ...p, state: p.state ?? randomSecret(8), pkce: pair }));
  if (res.status !== 200) throw new Error(`authorize: GET answered ${res.status} ${res.headers.get("location") ?? (await res.text()).slice(0, 300)}`);
  res = await a.fetch("/oauth/authorize", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...formFields(await res.text()), username: p.username, password: p.password }).toString(),
  });
  if (res.status === 200) {
    // The consent page for a client that is not first-party.
    const page = await res.text();
    if (!page.includes('action="/oauth/consent"')) throw new Error(`authorize: expected the consent page, got ${page.slice(0, 300)}`);
    res = await a.fetch("/oauth/consent", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...formFields(page), decision: "allow" }).toString(),
    });
  }
  if (res.status !== 303) throw new Error(`authorize: sign-in answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const location = new URL(res.headers.get("location")!);
  const code = location.searchParams.get("code");
  if (!code) throw new Error(`authorize: no code in ${location}`);
  return { code, state: location.searchParams.get("state"), verifier: pair?.verifier ?? "", location };
}

/** POST /oauth/token with a form. */
export function tokenRequest(baseUrl: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${baseUrl}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
}

/** Exchange a code; throws unless the provider answers 200. */
export async function exchange(baseUrl: string, clientId: string, redirectUri: string, got: Pick<Authorized, "code" | "verifier">): Promise<TokenSet> {
  const res = await tokenRequest(baseUrl, { grant_type: "authorization_code", client_id: clientId, redirect_uri: redirectUri, code: got.code, code_verifier: got.verifier });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return (await res.json()) as TokenSet;
}

/** The refresh_token grant, as a raw response. */
export function refresh(baseUrl: string, clientId: string, refreshToken: string): Promise<Response> {
  return tokenRequest(baseUrl, { grant_type: "refresh_token", client_id: clientId, refresh_token: refreshToken });
}

/** Tokens for a person through the whole code flow with PKCE. */
export async function tokensFor(baseUrl: string, clientId: string, redirectUri: string, username: string, password: string, scope = ALL_SCOPES): Promise<TokenSet> {
  return exchange(baseUrl, clientId, redirectUri, await authorizeCode(baseUrl, { clientId, redirectUri, username, password, scope }));
}

/** GET with a Bearer token. */
export function withBearer(baseUrl: string, path: string, token: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  if (typeof init.body === "string" && !headers.has("content-type")) headers.set("content-type", "application/json");
  return fetch(baseUrl + path, { ...init, headers, redirect: "manual" });
}

/** An agent whose every request comes "from" this client address (the server must trust X-Forwarded-For). */
export function agentFrom(baseUrl: string, ip: string): Agent {
  const a = agent(baseUrl);
  const inner = a.fetch;
  a.fetch = (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("x-forwarded-for", ip);
    return inner(path, { ...init, headers });
  };
  return a;
}
