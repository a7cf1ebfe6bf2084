// Authentication on every request: a Bearer access token or API key, or the
// web session cookie. Cookie-authenticated changes need the session's CSRF
// token (form field _csrf or header X-CSRF-Token) and a same-origin Origin.
// Operator reads of tenant data are recorded in the audit log.

import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { timingSafeEqual } from "node:crypto";
import { recordAudit } from "../audit/service.ts";
import type { HttpEnv } from "../http/env.ts";
import { AppError } from "../lib/errors.ts";
import { authenticateApiKey } from "./apikeys/service.ts";
import type { Auth } from "./index.ts";
import { verifyAccessToken } from "./oidc/tokens.ts";
import { callerOf, ctxOf, loadUserPrincipal, type Principal } from "./principal.ts";
import { csrfToken, findSession } from "./sessions/service.ts";
import type { Caller, Ctx } from "../lib/ctx.ts";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
// Sign-in, sign-out, invite and reset forms run without (or before) an app
// session and carry their own double-submit token instead.
const OWN_FORM_TOKEN = /^\/(oauth\/|auth\/|logout$|forgot-password$|invite\/|reset-password\/)/;
// Paths that never need or record authentication.
// Devices authenticate to /ingest with provision tokens, checked by ingest itself;
// the provisioning API (/api/admin/, /api/device/) checks its X-Admin-Key or activation code.
// Exact names end in $: /metrics is Prometheus, /metrics-catalog is a page that needs a session.
const PUBLIC = /^\/(healthz$|readyz$|metrics$|assets\/|favicon|ingest\/|api\/admin\/|api\/device\/)/;

export function authenticate(auth: Auth): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    if (PUBLIC.test(c.req.path)) return next();
    const header = c.req.header("authorization");
    let principal: Principal | undefined;
    // OAuth clients authenticate to the token and revocation endpoints with Basic; those routes read it themselves.
    if (header && /^basic\s/i.test(header) && c.req.path.startsWith("/oauth/")) {
      await next();
      return;
    }
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) throw unauthorized("Authorization must be 'Bearer <token>'");
      principal = await fromBearer(auth, m[1]!);
    } else {
      const token = getCookie(c, auth.cookies.session);
      const session = await findSession(auth.sessions, "app", token);
      if (session) {
        principal = await loadUserPrincipal(auth.db, session.user_id, session.tenant_id, "session", { sessionIdHash: session.id_hash });
        if (principal && UNSAFE.has(c.req.method) && !OWN_FORM_TOKEN.test(c.req.path)) await checkCsrf(auth, c, session.id_hash);
      }
    }
    if (principal) c.set("principal", principal);
    await next();
    // Every operator read of tenant data is recorded, live re-reads included: a
    // request header cannot be trusted to say "this one does not count".
    if (principal?.platformRole && c.req.method === "GET" && c.res.status < 400 && isTenantData(c.req.path)) {
      await recordAudit(auth, {
        tenantId: principal.tenantId,
        actor: { kind: "user", id: principal.id, name: principal.name },
        action: "operator.access",
        ip: c.get("ip"),
        requestId: c.get("requestId"),
        details: { method: c.req.method, path: c.req.path, status: c.res.status, cross_tenant: principal.tenantId === null },
      }).catch((err) => c.get("log").error("audit: operator access not recorded", { error: err }));
    }
  };
}

async function fromBearer(auth: Auth, token: string): Promise<Principal> {
  if (token.startsWith("pulse_")) {
    const p = await authenticateApiKey(auth.apikeys, token);
    if (!p) throw unauthorized("API key is invalid, revoked or expired");
    return p;
  }
  const claims = await verifyAccessToken({ keys: auth.keys, issuer: auth.issuer, now: () => auth.clock.now() }, token);
  const p = await loadUserPrincipal(auth.db, claims.sub, claims.tenant_id ?? null, "token", { clientId: claims.client_id });
  if (!p) throw unauthorized("the account behind this token is disabled or gone");
  // A token is for one tenant: if the user left it, the token no longer reaches it.
  if (claims.tenant_id && p.tenantId !== claims.tenant_id) throw unauthorized("the token's tenant is no longer available to this account");
  return p;
}

async function checkCsrf(auth: Auth, c: Context<HttpEnv>, sessionIdHash: string): Promise<void> {
  const origin = c.req.header("origin");
  if (origin && origin !== "null") {
    const host = c.req.header("host");
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost !== host && origin !== new URL(auth.publicUrl()).origin) throw new AppError("forbidden", "cross-origin request refused");
  }
  let presented = c.req.header("x-csrf-token");
  if (!presented) {
    const type = c.req.header("content-type") ?? "";
    if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")) {
      const body = await c.req.parseBody();
      presented = typeof body._csrf === "string" ? body._csrf : undefined;
    }
  }
  const expected = await csrfToken(auth.sessions, sessionIdHash);
  if (!presented || presented.length !== expected.length || !timingSafeEqual(Buffer.from(presented), Buffer.from(expected))) {
    throw new AppError("forbidden", "missing or invalid CSRF token; reload the page and try again");
  }
}

function isTenantData(path: string): boolean {
  if (path.startsWith("/api/v1/")) return !/^\/api\/v1\/(openapi\.json|version|me)$/.test(path);
  return !/^\/(login|logout|oauth|auth|account|api-docs|invite|reset-password|forgot-password|\.well-known)/.test(path);
}

function unauthorized(message: string): AppError {
  return new AppError("unauthorized", message);
}

/** 401 for API routes without a principal. */
export function requireApiAuth(): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    if (!c.get("principal")) {
      c.header("WWW-Authenticate", 'Bearer realm="pulse"');
      throw unauthorized("authentication required: send Authorization: Bearer <access token or API key>");
    }
    await next();
  };
}

/** The request's principal or a 401. */
export function principalOf(c: Context<HttpEnv>): Principal {
  const p = c.get("principal");
  if (!p) throw unauthorized("authentication required");
  return p;
}

export function callerFrom(c: Context<HttpEnv>): Caller {
  return callerOf(principalOf(c), { ip: c.get("ip"), requestId: c.get("requestId") });
}

export function ctxFrom(c: Context<HttpEnv>): Ctx {
  return ctxOf(principalOf(c), { ip: c.get("ip"), requestId: c.get("requestId") });
}
