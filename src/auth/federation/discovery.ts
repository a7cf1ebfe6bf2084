// Talking to an upstream identity provider over HTTP: its discovery
// document, its key set, its token endpoint. A tenant-admin chooses the
// issuer of her tenant's providers, so those requests go through the SSRF
// guard notifications use (no private, loopback or link-local addresses, no
// redirects) unless the operator allows private networks
// ([auth] federation_allow_private_networks). Platform providers are the
// operator's own and often on-premises (Keycloak, ADFS): trusted.

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { createRemoteJWKSet, customFetch } from "jose";
import { invalid } from "../../lib/errors.ts";
import { isPrivateAddress, type SafeFetch } from "../../notify/safe-fetch.ts";

export const FETCH_TIMEOUT_MS = 10_000;
const DISCOVERY_TTL_MS = 3_600_000;

export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

export interface Discovered {
  doc: Discovery;
  jwks: ReturnType<typeof createRemoteJWKSet>;
  at: number;
}

export interface UpstreamDeps {
  /**
   * Discovery documents and key sets, per issuer and per kind of fetch: an
   * entry a platform provider fetched unguarded must never serve a tenant
   * provider that names the same issuer (its key set would fetch unguarded).
   */
  cache: Map<string, Discovered>;
  /** HTTP for tenant providers: refuses private addresses and redirects (createSafeFetch with allowPrivate off). */
  guardedFetch: SafeFetch;
  /** [auth] federation_allow_private_networks: tenant providers are trusted like platform ones. */
  allowPrivateNetworks: boolean;
}

/** Whether requests for this provider go through the SSRF guard: tenant providers, unless the operator allows private networks. */
export function isGuarded(deps: Pick<UpstreamDeps, "allowPrivateNetworks">, tenantId: string | null): boolean {
  return tenantId !== null && !deps.allowPrivateNetworks;
}

/** The fetch to use for a provider: guarded, or plain with a timeout. */
export function upstreamFetch(deps: UpstreamDeps, guarded: boolean): SafeFetch {
  if (guarded) return deps.guardedFetch;
  return (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? FETCH_TIMEOUT_MS) });
}

/**
 * The provider's discovery document and key set, from the cache unless
 * `fresh`. Every failure is a 400 naming `issuer`, so adding a provider
 * says what is wrong with it.
 */
export async function discover(deps: UpstreamDeps, issuer: string, guarded: boolean, fresh = false): Promise<Discovered> {
  const cacheKey = `${guarded ? "guarded" : "trusted"} ${issuer}`;
  const cached = deps.cache.get(cacheKey);
  if (cached && !fresh && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached;
  const url = `${issuer}/.well-known/openid-configuration`;
  // Checked here first, for a message that names the setting; the guarded fetch checks again at every request.
  if (guarded) await requirePublicHost(url, "issuer");
  let doc: Discovery;
  try {
    const res = await upstreamFetch(deps, guarded)(url, { headers: { accept: "application/json" } });
    if (!res.ok) throw new Error(`answered ${res.status}`);
    doc = (await res.json()) as Discovery;
  } catch (err) {
    throw invalid("issuer", `issuer: cannot read ${url} (${(err as Error).message})`);
  }
  if (doc.issuer?.replace(/\/+$/, "") !== issuer) throw invalid("issuer", `issuer: the provider calls itself ${doc.issuer}, not ${issuer}`);
  if (!doc.authorization_endpoint || !doc.token_endpoint || !doc.jwks_uri) throw invalid("issuer", "issuer: the discovery document lacks endpoints");
  // The browser visits the authorization endpoint; Pulse itself calls these two, wherever the document points.
  if (guarded) {
    await requirePublicHost(doc.token_endpoint, "token_endpoint");
    await requirePublicHost(doc.jwks_uri, "jwks_uri");
  }
  let jwksUrl: URL;
  try {
    jwksUrl = new URL(doc.jwks_uri);
  } catch {
    throw invalid("issuer", `issuer: the discovery document's jwks_uri is not a URL`);
  }
  const jwks = createRemoteJWKSet(jwksUrl, { timeoutDuration: FETCH_TIMEOUT_MS, ...(guarded ? { [customFetch]: deps.guardedFetch } : {}) });
  const entry = { doc, jwks, at: Date.now() };
  deps.cache.set(cacheKey, entry);
  return entry;
}

/** A 400 naming `issuer` unless the URL is http(s) and its host resolves only to public addresses. */
async function requirePublicHost(url: string, what: "issuer" | "token_endpoint" | "jwks_uri"): Promise<void> {
  const where = what === "issuer" ? "" : `the discovery document's ${what}: `;
  let host: string;
  try {
    const u = new URL(url);
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error();
    host = u.hostname.replace(/^\[|\]$/g, "");
  } catch {
    throw invalid("issuer", `issuer: ${where}not an http(s) URL`);
  }
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    throw invalid("issuer", `issuer: ${where}cannot resolve ${host}`);
  }
  const bad = addresses.find(isPrivateAddress);
  if (bad) {
    throw invalid(
      "issuer",
      `issuer: ${where}${host} resolves to a private address (${bad}); a tenant's identity provider must be reachable on a public address, unless an operator allows private networks with [auth] federation_allow_private_networks`,
    );
  }
}
