// Signing in and out. The web UI is a client of Pulse's own OpenID provider:
// /login starts an authorization code flow with PKCE; the provider's
// /oauth/authorize shows the sign-in form (and, for third-party clients, a
// consent screen); /auth/callback exchanges the code and opens the UI's
// session. /logout and /oauth/end-session end both sessions.

import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Auth } from "../../src/auth/index.ts";
import { defaultTenant, checkPassword } from "../../src/auth/login.ts";
import { safeNext, seal, unseal } from "../../src/auth/login-state.ts";
import {
  checkAuthorizationRequest,
  exchangeCode,
  grantConsent,
  issueCode,
  needsConsent,
  OAuthError,
  pkceChallenge,
  WEB_CLIENT_ID,
  WEB_REDIRECT_PATH,
  errorRedirect,
  type AuthorizationRequest,
} from "../../src/auth/oidc/provider.ts";
import { verifyIdTokenHint } from "../../src/auth/oidc/tokens.ts";
import { beginFederatedSignIn, CALLBACK_PATH as FEDERATED_CALLBACK, completeFederatedSignIn, signInProviders, type FederatedState } from "../../src/auth/federation/service.ts";
import { csrfToken, endSession, findSession, openSession } from "../../src/auth/sessions/service.ts";
import { recordAudit } from "../../src/audit/service.ts";
import { withSystem } from "../../src/db/scope.ts";
import { contentSecurityPolicy } from "../../src/http/middleware/security-headers.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { AppError } from "../../src/lib/errors.ts";
import { randomSecret } from "../../src/lib/ids.ts";
import type { Assets } from "../assets.ts";
import { ErrorBox, Field, renderAuthPage } from "../components/auth-shell.ts";
import { formCsrfOk as formCsrfOkFor, formFields, formToken as formTokenFor } from "../components/form-token.ts";
import { html } from "../render.ts";

interface LoginState {
  state: string;
  verifier: string;
  nonce: string;
  next: string;
}

// The authorization request travels through the sign-in form as these fields.
const AUTHZ_FIELDS = ["response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "prompt"] as const;

export function authPages(auth: Auth, assets: Assets): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const cookie = (c: Context<HttpEnv>, name: string, value: string, maxAgeSeconds: number) =>
    setCookie(c, name, value, { path: "/", httpOnly: true, secure: auth.cookies.secure, sameSite: "Lax", maxAge: maxAgeSeconds });
  // Double-submit token for the provider's forms (they run before any session exists).
  const formToken = (c: Context<HttpEnv>) => formTokenFor(c, auth.cookies);
  const formCsrfOk = (c: Context<HttpEnv>, form: Record<string, string | undefined>) => formCsrfOkFor(c, auth.cookies, form);

  // 1. The UI starts a sign-in as a client of the provider.
  app.get("/login", async (c) => {
    const next = safeNext(c.req.query("next"));
    if (c.get("principal")?.via === "session") return c.redirect(next, 303);
    const st: LoginState = { state: randomSecret(16), verifier: randomSecret(32), nonce: randomSecret(16), next };
    cookie(c, auth.cookies.login, await seal(auth.secrets, "login", st), 600);
    const q = new URLSearchParams({
      response_type: "code",
      client_id: WEB_CLIENT_ID,
      redirect_uri: WEB_REDIRECT_PATH,
      scope: "openid profile email",
      state: st.state,
      nonce: st.nonce,
      code_challenge: pkceChallenge(st.verifier),
      code_challenge_method: "S256",
    });
    return c.redirect(`/oauth/authorize?${q}`, 303);
  });

  // 2. The provider: who is this? (sign-in form), may the client know? (consent), then a code.
  app.get("/oauth/authorize", async (c) => {
    const check = await checkAuthorizationRequest(auth.provider, c.req.query());
    if (!check.ok) return check.redirectTo ? c.redirect(check.redirectTo, 303) : authorizeErrorPage(c, check.error);
    allowFormRedirect(c, check.req);
    const req = check.req;
    const idp = req.prompt === "login" ? undefined : await findSession(auth.sessions, "idp", getCookie(c, auth.cookies.idp));
    if (idp) return continueAuthorization(c, req, { id: idp.user_id, tenantId: idp.tenant_id, authTime: idp.created_at });
    if (req.prompt === "none") return c.redirect(errorRedirect(req.redirectUri, new OAuthError("login_required", "sign-in required"), req.state), 303);
    return signInForm(c, c.req.query());
  });

  app.post("/oauth/authorize", async (c) => {
    const form = await formFields(c);
    if (!(await formCsrfOk(c, form))) return signInForm(c, form, { error: "The form expired; please try again." }, 400);
    const check = await checkAuthorizationRequest(auth.provider, form);
    if (!check.ok) return check.redirectTo ? c.redirect(check.redirectTo, 303) : authorizeErrorPage(c, check.error);
    allowFormRedirect(c, check.req);
    try {
      const user = await checkPassword(auth.throttle, form.username, form.password, { ip: c.get("ip"), requestId: c.get("requestId") });
      const tenantId = await defaultTenant(auth.throttle, user.id);
      const opened = await openSession(auth.sessions, { kind: "idp", userId: user.id, tenantId, ip: c.get("ip"), userAgent: c.req.header("user-agent") });
      cookie(c, auth.cookies.idp, opened.token, Math.floor(auth.sessions.lifetimeMs / 1000));
      await recordAudit(auth, {
        tenantId,
        actor: { kind: "user", id: user.id, name: user.username },
        action: "auth.login",
        ip: c.get("ip"),
        requestId: c.get("requestId"),
        details: { client_id: check.req.client.id, method: "password" },
      });
      return continueAuthorization(c, check.req, { id: user.id, tenantId, authTime: auth.clock.now() });
    } catch (err) {
      if (err instanceof AppError && (err.code === "unauthorized" || err.code === "rate_limited")) {
        if (err.retryAfterSeconds) c.header("Retry-After", String(err.retryAfterSeconds));
        return signInForm(c, form, { error: err.message, username: form.username }, err.status);
      }
      throw err;
    }
  });

  app.post("/oauth/consent", async (c) => {
    const form = await formFields(c);
    if (!(await formCsrfOk(c, form))) throw new AppError("forbidden", "the form expired; start again from the application");
    const check = await checkAuthorizationRequest(auth.provider, form);
    if (!check.ok) return check.redirectTo ? c.redirect(check.redirectTo, 303) : authorizeErrorPage(c, check.error);
    allowFormRedirect(c, check.req);
    const idp = await findSession(auth.sessions, "idp", getCookie(c, auth.cookies.idp));
    if (!idp) return signInForm(c, form);
    if (form.decision !== "allow") {
      return c.redirect(errorRedirect(check.req.redirectUri, new OAuthError("access_denied", "the user declined"), check.req.state), 303);
    }
    await grantConsent(auth.provider, check.req, idp.user_id);
    return c.redirect(await issueCode(auth.provider, check.req, { id: idp.user_id, tenantId: idp.tenant_id, authTime: idp.created_at }), 303);
  });

  // 3. Back in the UI: exchange the code, open the UI's own session.
  app.get(WEB_REDIRECT_PATH, async (c) => {
    const st = await unseal<LoginState>(auth.secrets, "login", getCookie(c, auth.cookies.login));
    deleteCookie(c, auth.cookies.login, { path: "/", secure: auth.cookies.secure });
    if (c.req.query("error")) throw new AppError("unauthorized", `sign-in did not complete: ${c.req.query("error_description") ?? c.req.query("error")}`);
    if (!st || st.state !== c.req.query("state")) return c.redirect("/login", 303);
    const { userId, tenantId } = await exchangeCode(auth.provider, {
      clientId: WEB_CLIENT_ID,
      clientSecret: undefined,
      code: c.req.query("code"),
      redirectUri: WEB_REDIRECT_PATH,
      codeVerifier: st.verifier,
    }).catch((err) => {
      if (err instanceof OAuthError) throw new AppError("unauthorized", `sign-in did not complete: ${err.description}`);
      throw err;
    });
    const opened = await openSession(auth.sessions, { kind: "app", userId, tenantId, ip: c.get("ip"), userAgent: c.req.header("user-agent") });
    cookie(c, auth.cookies.session, opened.token, Math.floor(auth.sessions.lifetimeMs / 1000));
    return c.redirect(st.next, 303);
  });

  // Sign out of the UI and the provider.
  app.post("/logout", async (c) => {
    const form = await formFields(c);
    const p = c.get("principal");
    const sessionToken = p?.sessionIdHash ? await csrfToken(auth.sessions, p.sessionIdHash) : undefined;
    if (!(await formCsrfOk(c, form)) && !(sessionToken && form._csrf === sessionToken)) throw new AppError("forbidden", "missing or invalid form token; reload the page and try again");
    await signOut(c);
    return signedOutPage(c);
  });

  // RP-initiated logout for other clients (OpenID Connect RP-Initiated Logout 1.0).
  app.get("/oauth/end-session", async (c) => {
    const hint = c.req.query("id_token_hint");
    const post = c.req.query("post_logout_redirect_uri");
    const hinted = hint ? await verifyIdTokenHint({ keys: auth.keys, issuer: auth.issuer }, hint) : undefined;
    // The hint must name the person signed in in this browser; anyone else's
    // (or an old) ID token proves nothing about who clicked the link.
    const idp = await findSession(auth.sessions, "idp", getCookie(c, auth.cookies.idp));
    const signedInAs = idp?.user_id ?? c.get("principal")?.id;
    const who = hinted && hinted.sub === signedInAs ? hinted : undefined;
    if (!who) {
      // Without proof of who asks, a link must not sign anyone out: ask first.
      const token = await formToken(c);
      return renderAuthPage(
        c,
        assets,
        "Sign out",
        html`<h1>Sign out of Pulse?</h1>
          <form method="post" action="/logout">
            <input type="hidden" name="_form" value=${token} />
            <div class="actions"><button class="btn btn-primary" type="submit">Sign out</button></div>
          </form>`,
      );
    }
    await signOut(c);
    if (post) {
      const [client] = await withSystem(auth.db, (tx) =>
        tx.query<{ post_logout_redirect_uris: string[] }>("select post_logout_redirect_uris from oauth_clients where id = $1 and revoked_at is null", [who.aud]),
      );
      if (client?.post_logout_redirect_uris.includes(post)) {
        const u = new URL(post);
        const state = c.req.query("state");
        if (state) u.searchParams.set("state", state);
        return c.redirect(u.toString(), 303);
      }
    }
    return signedOutPage(c);
  });

  async function signOut(c: Context<HttpEnv>): Promise<void> {
    const p = c.get("principal");
    await endSession(auth.sessions, getCookie(c, auth.cookies.session));
    await endSession(auth.sessions, getCookie(c, auth.cookies.idp));
    deleteCookie(c, auth.cookies.session, { path: "/", secure: auth.cookies.secure });
    deleteCookie(c, auth.cookies.idp, { path: "/", secure: auth.cookies.secure });
    if (p) await recordAudit(auth, { tenantId: p.tenantId, actor: { kind: "user", id: p.id, name: p.name }, action: "auth.logout", ip: c.get("ip"), requestId: c.get("requestId") });
  }

  function signedOutPage(c: Context<HttpEnv>): Response {
    return renderAuthPage(
      c,
      assets,
      "Signed out",
      html`<h1>You are signed out</h1>
        <p class="muted">Your session has ended on this device.</p>
        <div class="actions"><a class="btn btn-primary" href="/login">Sign in again</a></div>`,
    );
  }

  async function continueAuthorization(c: Context<HttpEnv>, req: AuthorizationRequest, user: { id: string; tenantId: string | null; authTime: Date }): Promise<Response> {
    if (await needsConsent(auth.provider, req, user.id)) return consentPage(c, req);
    return c.redirect(await issueCode(auth.provider, req, user), 303);
  }

  async function consentPage(c: Context<HttpEnv>, req: AuthorizationRequest): Promise<Response> {
    const token = await formToken(c);
    const fields = { ...pick(c.req.query()), ...(c.req.method === "POST" ? pick(await formFields(c)) : {}) };
    return renderAuthPage(
      c,
      assets,
      "Allow access",
      html`<h1>Allow ${req.client.name} to use your Pulse account?</h1>
        <p>It will receive your identity (${req.scope.split(" ").join(", ")}) and may act with your role in your tenant until you revoke it.</p>
        <form method="post" action="/oauth/consent">
          ${hidden(fields)}
          <input type="hidden" name="_form" value=${token} />
          <div class="actions">
            <button class="btn btn-primary" type="submit" name="decision" value="allow">Allow</button>
            <button class="btn" type="submit" name="decision" value="deny">Deny</button>
          </div>
        </form>`,
    );
  }

  // Signing in through an upstream identity provider, then resuming the pending authorization.
  app.get("/login/sso", async (c) => {
    const tenant = c.req.query("tenant")?.trim() ?? "";
    const resume = c.req.query("resume") ?? "";
    const providers = tenant ? await signInProviders(auth.federation, tenant) : [];
    return renderAuthPage(
      c,
      assets,
      "Company sign-in",
      html`<h1>Sign in with your company</h1>
        <form method="get" action="/login/sso">
          <input type="hidden" name="resume" value=${resume} />
          <${Field} name="tenant" label="Company (tenant id)" value=${tenant} autofocus=${!tenant} hint="Ask your administrator if you do not know it." />
          <div class="actions"><button class="btn" type="submit">Find my sign-in</button></div>
        </form>
        ${tenant && providers.length === 0 ? html`<div class="flash flash-info" role="status">No single sign-on is set up for ${tenant}. Sign in with a password instead.</div>` : null}
        ${providers.length
          ? html`<ul class="sso-list">
              ${providers.map((p) => html`<li><a class="btn btn-primary" href=${`/login/sso/${p.slug}?resume=${encodeURIComponent(resume)}`}>Sign in with ${p.name}</a></li>`)}
            </ul>`
          : null}
        <p><a href=${resume ? `/oauth/authorize?${resume}` : "/login"}>Back to password sign-in</a></p>`,
    );
  });

  app.get("/login/sso/:slug", async (c) => {
    const resume = c.req.query("resume") ?? "";
    const { url, state } = await beginFederatedSignIn(auth.federation, c.req.param("slug"), resume);
    cookie(c, auth.cookies.login + "_fed", await seal(auth.secrets, "federation", state), 600);
    return c.redirect(url, 303);
  });

  app.get(FEDERATED_CALLBACK, async (c) => {
    const st = await unseal<FederatedState>(auth.secrets, "federation", getCookie(c, auth.cookies.login + "_fed"));
    deleteCookie(c, auth.cookies.login + "_fed", { path: "/", secure: auth.cookies.secure });
    if (!st) return c.redirect("/login", 303);
    const { userId, tenantId } = await completeFederatedSignIn(auth.federation, st, c.req.query(), { ip: c.get("ip"), requestId: c.get("requestId") });
    const opened = await openSession(auth.sessions, { kind: "idp", userId, tenantId: tenantId ?? (await defaultTenant(auth.throttle, userId)), ip: c.get("ip"), userAgent: c.req.header("user-agent") });
    cookie(c, auth.cookies.idp, opened.token, Math.floor(auth.sessions.lifetimeMs / 1000));
    return c.redirect(st.resume ? `/oauth/authorize?${st.resume}` : "/login", 303);
  });

  async function signInForm(c: Context<HttpEnv>, params: Record<string, string | undefined>, opts: { error?: string; username?: string } = {}, status = 200): Promise<Response> {
    const token = await formToken(c);
    const resume = new URLSearchParams(pick(params)).toString();
    const providers = await signInProviders(auth.federation);
    return renderAuthPage(
      c,
      assets,
      "Sign in",
      html`<h1>Sign in</h1>
        <${ErrorBox} message=${opts.error} />
        <form method="post" action="/oauth/authorize" class="signin">
          ${hidden(pick(params))}
          <input type="hidden" name="_form" value=${token} />
          <${Field} name="username" label="Username or email" autocomplete="username" value=${opts.username} autofocus=${true} />
          <${Field} name="password" label="Password" type="password" autocomplete="current-password" />
          <div class="actions">
            <button class="btn btn-primary" type="submit">Sign in</button>
            <a href="/forgot-password">Forgot password?</a>
          </div>
        </form>
        <div class="sso">
          ${providers.map((p) => html`<a class="btn" href=${`/login/sso/${p.slug}?resume=${encodeURIComponent(resume)}`}>Sign in with ${p.name}</a>`)}
          <a href=${`/login/sso?resume=${encodeURIComponent(resume)}`}>Sign in with your company (SSO)</a>
        </div>`,
      status,
    );
  }

  // The sign-in and consent forms end in a redirect to the client's (checked)
  // redirect_uri; Chromium blocks it unless form-action allows that origin.
  function allowFormRedirect(c: Context<HttpEnv>, req: AuthorizationRequest): void {
    if (/^https?:\/\//i.test(req.redirectUri)) c.header("Content-Security-Policy", contentSecurityPolicy([new URL(req.redirectUri).origin]));
  }

  function authorizeErrorPage(c: Context<HttpEnv>, err: OAuthError): Response {
    return renderAuthPage(
      c,
      assets,
      "Sign-in error",
      html`<h1>This sign-in request cannot be used</h1>
        <p>${err.description} <span class="muted">(${err.error})</span></p>
        <p class="muted">Go back to the application and start again, or contact its administrator.</p>`,
      400,
    );
  }

  return app;
}

function pick(params: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of AUTHZ_FIELDS) if (params[k] !== undefined) out[k] = params[k]!;
  return out;
}

function hidden(fields: Record<string, string>) {
  return Object.entries(fields).map(([k, v]) => html`<input type="hidden" name=${k} value=${v} />`);
}
