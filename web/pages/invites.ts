// The public pages of one-time links: accepting an invitation (create an
// account, or join with the signed-in one), choosing a new password from a
// reset link, and asking for a reset link by email. They run without an app
// session, so their forms carry the double-submit form token.

import { Hono, type Context } from "hono";
import type { Auth } from "../../src/auth/index.ts";
import { switchSessionTenant } from "../../src/auth/sessions/service.ts";
import { acceptInvite, INVITE_DAYS, requestPasswordReset, RESET_MINUTES, resetLinkValid, resetPassword, viewInvite, type InviteView } from "../../src/auth/users/invites.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { AppError } from "../../src/lib/errors.ts";
import type { Assets } from "../assets.ts";
import { renderAuthPage } from "../components/auth-shell.ts";
import { FormAlert, formError, TextField, type FormState } from "../components/form.ts";
import { formCsrfOk, formFields, formToken } from "../components/form-token.ts";
import { redirectWithFlash } from "../components/page.ts";
import { html, type VNode } from "../render.ts";
import { PASSWORD_HINT } from "./account.ts";

export function invitePages(auth: Auth, assets: Assets): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const deps = { db: auth.db, clock: auth.clock };
  const meta = (c: Context<HttpEnv>) => ({ ip: c.get("ip"), requestId: c.get("requestId") });
  const page = (c: Context<HttpEnv>, title: string, body: VNode, status = 200) => {
    // Pages behind one-time links are never cached.
    c.header("Cache-Control", "no-store");
    return renderAuthPage(c, assets, title, body, status);
  };
  const expiredForm = (c: Context<HttpEnv>) =>
    page(c, "Form expired", html`<h1>The form expired</h1><p>Go back, reload the page and try again.</p>`, 400);

  // Invitations

  const inviteGone = (c: Context<HttpEnv>) =>
    page(
      c,
      "Invitation not valid",
      html`<h1>This invitation cannot be used</h1>
        <p>It has been used already, was revoked, or has expired (invitations last ${INVITE_DAYS} days).</p>
        <p class="muted">Ask the person who invited you for a new one.</p>
        <div class="actions"><a class="btn" href="/login">Sign in</a></div>`,
      404,
    );

  async function invitePage(c: Context<HttpEnv>, token: string, view: InviteView, form: FormState = { values: {}, errors: {} }, status = 200): Promise<Response> {
    const formTok = await formToken(c, auth.cookies);
    const p = c.get("principal");
    const signedIn = p?.via === "session" ? p : undefined;
    const intro = html`<h1>Join ${view.tenantName} on Pulse</h1>
      <p>You are invited as <strong>${view.role}</strong> of <strong>${view.tenantName}</strong>, for <strong>${view.email}</strong>.</p>`;
    let body: VNode;
    if (signedIn && signedIn.email?.toLowerCase() === view.email.toLowerCase()) {
      body = html`${intro}
        <p>You are signed in as ${signedIn.displayName} (${signedIn.name}).</p>
        <form method="post" action=${`/invite/${token}`}>
          <input type="hidden" name="_form" value=${formTok} />
          <input type="hidden" name="action" value="accept" />
          ${FormAlert({ form })}
          <div class="actions"><button class="btn btn-primary" type="submit">Accept and join ${view.tenantName}</button></div>
        </form>`;
    } else if (signedIn) {
      body = html`${intro}
        <div class="flash flash-info" role="status">
          You are signed in as ${signedIn.displayName}${signedIn.email ? ` (${signedIn.email})` : ""}, not as ${view.email}. Sign out, then open the invitation link again.
        </div>
        <form method="post" action="/logout">
          <input type="hidden" name="_form" value=${formTok} />
          <div class="actions"><button class="btn" type="submit">Sign out</button></div>
        </form>`;
    } else if (view.existingUser) {
      body = html`${intro}
        <p>An account for ${view.email} exists already. Sign in with it, then accept.</p>
        <div class="actions"><a class="btn btn-primary" href=${`/login?next=${encodeURIComponent(`/invite/${token}`)}`}>Sign in to accept</a></div>`;
    } else {
      const values = { username: view.email, ...form.values };
      const state = { ...form, values };
      body = html`${intro}
        <p>Create your account:</p>
        <form method="post" action=${`/invite/${token}`} class="form">
          <input type="hidden" name="_form" value=${formTok} />
          ${FormAlert({ form })}
          ${TextField({ name: "username", label: "Username", form: state, autocomplete: "username", hint: "You sign in with it (or with your email)." })}
          ${TextField({ name: "name", label: "Your name", form: state, autocomplete: "name", autofocus: true, hint: "As colleagues will see it." })}
          ${TextField({ name: "password", label: "Password", type: "password", form: state, autocomplete: "new-password", hint: PASSWORD_HINT })}
          ${TextField({ name: "confirm_password", label: "Password, again", type: "password", form: state, autocomplete: "new-password" })}
          <div class="actions"><button class="btn btn-primary" type="submit">Create account and join</button></div>
        </form>`;
    }
    return page(c, `Join ${view.tenantName}`, body, status);
  }

  app.get("/invite/:token", async (c) => {
    const token = c.req.param("token");
    const view = await viewInvite(deps, token).catch(notFoundOr);
    if (!view) return inviteGone(c);
    return invitePage(c, token, view);
  });

  app.post("/invite/:token", async (c) => {
    const token = c.req.param("token");
    const form = await formFields(c);
    if (!(await formCsrfOk(c, auth.cookies, form))) return expiredForm(c);
    const view = await viewInvite(deps, token).catch(notFoundOr);
    if (!view) return inviteGone(c);
    const p = c.get("principal");
    if (form.action === "accept") {
      if (p?.via !== "session" || !p.sessionIdHash) return invitePage(c, token, view, { values: {}, errors: {}, general: "Sign in first." }, 401);
      try {
        await acceptInvite(deps, token, { userId: p.id }, meta(c));
      } catch (err) {
        return invitePage(c, token, view, formError(err, {}), (err as AppError).status ?? 400);
      }
      // Straight into the tenant they just joined.
      await switchSessionTenant(auth.sessions, p.sessionIdHash, view.tenantId);
      return redirectWithFlash(c, "/", { kind: "ok", text: `You joined ${view.tenantName} as ${view.role}.` });
    }
    if ((form.password ?? "") !== (form.confirm_password ?? "")) {
      return invitePage(c, token, view, { values: form, errors: { confirm_password: "The two passwords differ." } }, 400);
    }
    let username: string;
    try {
      ({ user: { username } } = await acceptInvite(deps, token, { username: form.username ?? "", name: form.name ?? "", password: form.password ?? "" }, meta(c)));
    } catch (err) {
      if (err instanceof AppError && err.code === "not_found") return inviteGone(c);
      return invitePage(c, token, view, formError(err, form, {}, ["username", "name", "password"]), 400);
    }
    return redirectWithFlash(c, "/login", { kind: "ok", text: `Your account is ready and you are a member of ${view.tenantName}. Sign in as ${username}.` });
  });

  // Password reset from a link

  const resetGone = (c: Context<HttpEnv>) =>
    page(
      c,
      "Reset link not valid",
      html`<h1>This reset link cannot be used</h1>
        <p>It has been used already or has expired (reset links last ${RESET_MINUTES} minutes).</p>
        <div class="actions"><a class="btn btn-primary" href="/forgot-password">Ask for a new link</a><a class="btn" href="/login">Sign in</a></div>`,
      404,
    );

  async function resetPage(c: Context<HttpEnv>, token: string, form: FormState = { values: {}, errors: {} }, status = 200): Promise<Response> {
    const formTok = await formToken(c, auth.cookies);
    return page(
      c,
      "Choose a new password",
      html`<h1>Choose a new password</h1>
        <p class="muted">Signing in with it ends every other session of your account.</p>
        <form method="post" action=${`/reset-password/${token}`} class="form">
          <input type="hidden" name="_form" value=${formTok} />
          ${FormAlert({ form })}
          ${TextField({ name: "password", label: "New password", type: "password", form, autocomplete: "new-password", autofocus: true, hint: PASSWORD_HINT })}
          ${TextField({ name: "confirm_password", label: "New password, again", type: "password", form, autocomplete: "new-password" })}
          <div class="actions"><button class="btn btn-primary" type="submit">Set new password</button></div>
        </form>`,
      status,
    );
  }

  app.get("/reset-password/:token", async (c) => {
    const token = c.req.param("token");
    if (!(await resetLinkValid(deps, token))) return resetGone(c);
    return resetPage(c, token);
  });

  app.post("/reset-password/:token", async (c) => {
    const token = c.req.param("token");
    const form = await formFields(c);
    if (!(await formCsrfOk(c, auth.cookies, form))) return expiredForm(c);
    if ((form.password ?? "") !== (form.confirm_password ?? "")) return resetPage(c, token, { values: {}, errors: { confirm_password: "The two passwords differ." } }, 400);
    try {
      await resetPassword(deps, token, form.password ?? "", meta(c));
    } catch (err) {
      if (err instanceof AppError && err.code === "not_found") return resetGone(c);
      return resetPage(c, token, formError(err, {}, {}, ["password"]), 400);
    }
    return redirectWithFlash(c, "/login", { kind: "ok", text: "Your password is changed. Sign in with it." });
  });

  // Forgot password

  async function forgotPage(c: Context<HttpEnv>, form: FormState = { values: {}, errors: {} }, status = 200): Promise<Response> {
    if (!auth.users.mailer.configured) {
      return page(
        c,
        "Forgot password",
        html`<h1>Forgot your password?</h1>
          <div class="flash flash-info" role="status" data-mail-off>
            Email is not configured on this server, so Pulse cannot send you a reset link. Ask an administrator of your tenant to make one for you (Users → Reset link); they
            pass it on to you.
          </div>
          <div class="actions"><a class="btn" href="/login">Back to sign-in</a></div>`,
        status,
      );
    }
    const formTok = await formToken(c, auth.cookies);
    return page(
      c,
      "Forgot password",
      html`<h1>Forgot your password?</h1>
        <p>Enter the email of your account and we send you a link to choose a new password.</p>
        <form method="post" action="/forgot-password" class="form">
          <input type="hidden" name="_form" value=${formTok} />
          ${FormAlert({ form })}
          ${TextField({ name: "email", label: "Email", type: "email", form, autocomplete: "email", autofocus: true })}
          <div class="actions"><button class="btn btn-primary" type="submit">Send reset link</button><a href="/login">Back to sign-in</a></div>
        </form>`,
      status,
    );
  }

  app.get("/forgot-password", (c) => forgotPage(c));

  app.post("/forgot-password", async (c) => {
    const form = await formFields(c);
    if (!(await formCsrfOk(c, auth.cookies, form))) return expiredForm(c);
    if (!auth.users.mailer.configured) return forgotPage(c);
    try {
      await requestPasswordReset(auth.users, form.email ?? "", meta(c));
    } catch (err) {
      // Too many requests from this address: 429 with when to try again, like the sign-in form.
      if (err instanceof AppError && err.code === "rate_limited") {
        if (err.retryAfterSeconds) c.header("Retry-After", String(err.retryAfterSeconds));
        return forgotPage(c, formError(err, form, {}, ["email"]), err.status);
      }
      return forgotPage(c, formError(err, form, {}, ["email"]), 400);
    }
    // The same answer whether or not the account exists.
    return page(
      c,
      "Check your email",
      html`<h1>Check your email</h1>
        <p data-forgot-sent>If an account with that email exists, we sent it a link to choose a new password. The link works once, for ${RESET_MINUTES} minutes.</p>
        <p class="muted">Nothing arrived? Check the spam folder, or ask an administrator of your tenant for a reset link.</p>
        <div class="actions"><a class="btn" href="/login">Back to sign-in</a></div>`,
    );
  });

  return app;
}

function notFoundOr(err: unknown): undefined {
  if (err instanceof AppError && err.code === "not_found") return undefined;
  throw err;
}
