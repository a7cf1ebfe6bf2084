// The provider's machine endpoints: discovery, JWKS, token, userinfo,
// revocation. The pages (authorize with its sign-in form, consent,
// end-session) are in web/pages/auth.ts.

import { Hono, type Context } from "hono";
import type { HttpEnv } from "../../http/env.ts";
import { AppError } from "../../lib/errors.ts";
import type { Auth } from "../index.ts";
import { principalOf } from "../middleware.ts";
import { exchangeCode, OAuthError, refreshTokens, revokeToken, SUPPORTED_SCOPES, type ClientCredentials } from "./provider.ts";

export function oidcRoutes(auth: Auth): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();

  app.get("/.well-known/openid-configuration", (c) => {
    const iss = auth.issuer();
    c.header("Cache-Control", "public, max-age=300");
    return c.json({
      issuer: iss,
      authorization_endpoint: `${iss}/oauth/authorize`,
      token_endpoint: `${iss}/oauth/token`,
      userinfo_endpoint: `${iss}/oauth/userinfo`,
      jwks_uri: `${iss}/oauth/jwks`,
      end_session_endpoint: `${iss}/oauth/end-session`,
      revocation_endpoint: `${iss}/oauth/revoke`,
      response_types_supported: ["code"],
      response_modes_supported: ["query"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256"],
      token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
      revocation_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
      code_challenge_methods_supported: ["S256"],
      scopes_supported: SUPPORTED_SCOPES,
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "preferred_username", "email", "tenant_id", "role", "platform_role"],
      authorization_response_iss_parameter_supported: true,
    });
  });

  app.get("/oauth/jwks", async (c) => {
    c.header("Cache-Control", "public, max-age=300");
    return c.json(await auth.keys.jwks());
  });

  app.post("/oauth/token", async (c) => {
    c.header("Cache-Control", "no-store");
    c.header("Pragma", "no-cache");
    try {
      const form = await formOf(c);
      const creds = clientCredentials(c, form);
      const grant = form.grant_type;
      if (grant === "authorization_code") {
        const { tokens } = await exchangeCode(auth.provider, { ...creds, code: form.code, redirectUri: form.redirect_uri, codeVerifier: form.code_verifier });
        return c.json(tokens);
      }
      if (grant === "refresh_token") return c.json(await refreshTokens(auth.provider, { ...creds, refreshToken: form.refresh_token, scope: form.scope }));
      throw new OAuthError("unsupported_grant_type", `grant_type ${grant ?? "(missing)"} is not supported`);
    } catch (err) {
      return oauthError(c, err);
    }
  });

  app.post("/oauth/revoke", async (c) => {
    try {
      const form = await formOf(c);
      await revokeToken(auth.provider, { ...clientCredentials(c, form), token: form.token });
      return c.body(null, 200);
    } catch (err) {
      return oauthError(c, err);
    }
  });

  const userinfo = (c: Context<HttpEnv>) => {
    const p = principalOf(c);
    if (p.via !== "token") throw new AppError("unauthorized", "userinfo needs an access token");
    return c.json({
      sub: p.id,
      name: p.displayName,
      preferred_username: p.name,
      ...(p.email ? { email: p.email } : {}),
      ...(p.tenantId ? { tenant_id: p.tenantId } : {}),
      ...(p.tenantRole ? { role: p.tenantRole } : {}),
      ...(p.platformRole ? { platform_role: p.platformRole } : {}),
    });
  };
  app.get("/oauth/userinfo", userinfo);
  app.post("/oauth/userinfo", userinfo);
  return app;
}

async function formOf(c: Context<HttpEnv>): Promise<Record<string, string | undefined>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) throw new OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded");
  const body = await c.req.parseBody();
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}

/** client_secret_basic (Authorization: Basic) or client_secret_post / none (form fields). */
function clientCredentials(c: Context<HttpEnv>, form: Record<string, string | undefined>): ClientCredentials {
  const header = c.req.header("authorization");
  if (header?.toLowerCase().startsWith("basic ")) {
    const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
    const i = decoded.indexOf(":");
    if (i < 0) throw new OAuthError("invalid_client", "malformed Basic credentials");
    return { clientId: decodeURIComponent(decoded.slice(0, i)), clientSecret: decodeURIComponent(decoded.slice(i + 1)) };
  }
  return { clientId: form.client_id, clientSecret: form.client_secret };
}

function oauthError(c: Context<HttpEnv>, err: unknown): Response {
  if (err instanceof OAuthError) {
    if (err.status === 401) c.header("WWW-Authenticate", 'Basic realm="pulse"');
    return c.json({ error: err.error, error_description: err.description }, err.status as 400);
  }
  throw err;
}
