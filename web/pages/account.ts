// The signed-in person's own account: profile, password (also the page the
// web guard sends people to when a new password is required), and the tenant
// they work in. POST /session/tenant switches that tenant for this session
// only; the top bar's switcher posts there too.

import { Hono, type Context } from "hono";
import { recordAudit } from "../../src/audit/service.ts";
import type { Auth } from "../../src/auth/index.ts";
import { safeNext } from "../../src/auth/login-state.ts";
import { principalOf } from "../../src/auth/middleware.ts";
import { MAX_LENGTH, MIN_LENGTH } from "../../src/auth/password-policy.ts";
import { roleOf, type Principal } from "../../src/auth/principal.ts";
import { switchSessionTenant } from "../../src/auth/sessions/service.ts";
import { changeOwnPassword, getUser, updateOwnProfile, userTenants, type User } from "../../src/auth/users/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import type { Caller } from "../../src/lib/ctx.ts";
import { AppError } from "../../src/lib/errors.ts";
import { getTenant, listTenants } from "../../src/tenants/service.ts";
import { Badge } from "../components/badges.ts";
import { CsrfField, emptyForm, FormAlert, formError, TextField, type FormState } from "../components/form.ts";
import { formFields } from "../components/form-token.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv, type TenantChoices } from "../components/page.ts";
import { html, type VNode } from "../render.ts";

export const PASSWORD_HINT = `At least ${MIN_LENGTH} characters (at most ${MAX_LENGTH}); spaces and any characters are welcome. Not a common password, and not containing your username or email. A phrase of unrelated words works well.`;

/** The tenants a person may work in: their active memberships, or for operators every active tenant (and none). */
export async function tenantChoices(auth: Auth, p: Principal): Promise<TenantChoices> {
  if (p.platformRole) {
    const tenants = await listTenants({ db: auth.db, clock: auth.clock }, selfCaller(p));
    return { current: p.tenantId, allowNone: true, choices: tenants.filter((t) => t.status === "ACTIVE" || t.id === p.tenantId).map((t) => ({ id: t.id, name: t.name })) };
  }
  const memberships = await userTenants({ db: auth.db, clock: auth.clock }, p.id);
  return { current: p.tenantId, allowNone: false, choices: memberships.filter((m) => m.tenant_status === "ACTIVE").map((m) => ({ id: m.tenant_id, name: m.tenant_name })) };
}

/** The zone times are shown in: the tenant's, or UTC outside a tenant. */
export async function viewerTimeZone(auth: Auth, p: Principal): Promise<string> {
  if (!p.tenantId) return "UTC";
  return (await getTenant({ db: auth.db, clock: auth.clock }, selfCaller(p), p.tenantId).catch(() => undefined))?.timezone ?? "UTC";
}

/**
 * The caller for calls about one's own account. Those services check only who
 * acts, not the role, so someone without any role (removed from every
 * tenant) can still fix their password or name.
 */
function selfCaller(p: Principal, meta: { ip?: string; requestId?: string } = {}): Caller {
  return { actor: { kind: "user", id: p.id, name: p.name }, role: roleOf(p) ?? "customer", tenantId: p.tenantId ?? undefined, ...meta };
}

const meta = (c: Context<HttpEnv>) => ({ ip: c.get("ip"), requestId: c.get("requestId") });

export function accountPages(env: PageEnv, auth: Auth): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const deps = { db: auth.db, clock: auth.clock };

  async function accountPage(c: Context<HttpEnv>, forms: { profile?: FormState; password?: FormState } = {}, status = 200): Promise<Response> {
    const p = principalOf(c);
    const me = await getUser(deps, selfCaller(p), p.id);
    const choices = c.get("tenantChoices") ?? (await tenantChoices(auth, p));
    const memberships = p.platformRole ? [] : await userTenants(deps, p.id);
    return renderPage(
      c,
      env,
      { title: "Your account", status },
      html`${PageHeader({ title: "Your account", description: html`Signed in as <strong>${me.username}</strong>${p.platformRole ? html` · platform role ${p.platformRole}` : null}.` })}
        <div class="columns">
          <section class="card" aria-labelledby="profile-title">
            <h2 id="profile-title">Profile</h2>
            <form method="post" action="/account/profile" class="form">
              ${CsrfField(c)} ${FormAlert({ form: forms.profile })}
              ${TextField({ name: "name", label: "Name", value: me.name, form: forms.profile, autocomplete: "name", idPrefix: "profile" })}
              ${TextField({ name: "email", label: "Email", type: "email", value: me.email ?? "", form: forms.profile, autocomplete: "email", required: false, idPrefix: "profile", hint: "Invitations and password reset links go here." })}
              <div class="actions"><button class="btn btn-primary" type="submit">Save profile</button></div>
            </form>
          </section>
          ${PasswordCard(c, me, forms.password)}
          ${TenantCard(c, p, choices, memberships)}
          ${p.tenantId
            ? html`<section class="card" aria-labelledby="contact-title" data-contact-card>
                <h2 id="contact-title">Contact methods</h2>
                <p>How you are paged in <strong>${p.tenantName ?? p.tenantId}</strong> when an escalation reaches you: email, a personal Slack or Teams webhook, or a signed webhook, each for the alerts severe enough.</p>
                <p><a class="btn" href="/account/contact">Manage contact methods</a> <a class="btn btn-ghost" href="/oncall/me">Your on-call shifts</a></p>
              </section>`
            : null}
        </div>`,
    );
  }

  app.get("/account", (c) => accountPage(c));

  app.post("/account/profile", async (c) => {
    const p = principalOf(c);
    const form = await formFields(c);
    try {
      await updateOwnProfile(deps, selfCaller(p, meta(c)), { name: form.name ?? "", email: form.email ?? "" });
    } catch (err) {
      return accountPage(c, { profile: formError(err, form, {}, ["name", "email"]) }, 400);
    }
    return redirectWithFlash(c, "/account", { kind: "ok", text: "Profile saved." });
  });

  // The web guard sends people here while their password must change (?required=1).
  app.get("/account/password", async (c) => {
    const p = principalOf(c);
    return passwordPage(c, p, emptyForm());
  });

  async function passwordPage(c: Context<HttpEnv>, p: Principal, form: FormState, status = 200): Promise<Response> {
    const me = await getUser(deps, selfCaller(p), p.id);
    const required = p.mustChangePassword;
    return renderPage(
      c,
      env,
      { title: "Change password", status },
      html`${PageHeader({ title: required ? "Choose a new password" : "Change password", description: required ? undefined : html`<a href="/account">Back to your account</a>` })}
        ${required
          ? html`<div class="flash flash-info" role="status" data-password-required>
              A new password is required before you continue: the one you signed in with was set for you (or has been reset). Choose your own; you
              will go on to Pulse straight after.
            </div>`
          : null}
        <div class="narrow">${PasswordCard(c, me, form, true)}</div>`,
    );
  }

  app.post("/account/password", async (c) => {
    const p = principalOf(c);
    const form = await formFields(c);
    const required = p.mustChangePassword;
    if ((form.new_password ?? "") !== (form.confirm_password ?? "")) {
      const state: FormState = { values: {}, errors: { confirm_password: "The two new passwords differ." } };
      return form.from === "account" ? accountPage(c, { password: state }, 400) : passwordPage(c, p, state, 400);
    }
    try {
      await changeOwnPassword(deps, selfCaller(p, meta(c)), { current: form.current_password, next: form.new_password, keepSession: p.sessionIdHash });
    } catch (err) {
      const state = formError(err, {}, {}, ["current_password", "new_password"]);
      return form.from === "account" ? accountPage(c, { password: state }, 400) : passwordPage(c, p, state, 400);
    }
    // changeOwnPassword clears must_change_password; other sessions and tokens have ended.
    return redirectWithFlash(c, required ? "/" : "/account", { kind: "ok", text: "Password changed. Your other sessions have been signed out." });
  });

  app.post("/session/tenant", async (c) => {
    const p = principalOf(c);
    const form = await formFields(c);
    const target = form.tenant ? form.tenant : null;
    const choices = await tenantChoices(auth, p);
    const choice = target === null ? undefined : choices.choices.find((t) => t.id === target);
    if (target === null ? !choices.allowNone : !choice) throw new AppError("forbidden", `you cannot work in tenant ${target}: you are not a member of it, or it is not active`);
    if (!p.sessionIdHash) throw new AppError("forbidden", "only a signed-in browser session can switch tenants");
    await switchSessionTenant(auth.sessions, p.sessionIdHash, target);
    if (target !== p.tenantId) {
      await recordAudit(deps, {
        tenantId: target,
        actor: { kind: "user", id: p.id, name: p.name },
        action: "session.tenant_switched",
        ip: c.get("ip"),
        requestId: c.get("requestId"),
        details: { from: p.tenantId, to: target },
      });
    }
    const readOnly = p.platformRole === "operator" && target !== null ? " (read-only: your operator role can look, not change)" : "";
    const text = choice ? `You are now working in ${choice.name}${readOnly}.` : "You are now working across all tenants (platform view).";
    return redirectWithFlash(c, safeNext(form.next), { kind: "ok", text });
  });

  return app;
}

function PasswordCard(c: Context<HttpEnv>, me: User, form: FormState | undefined, standalone = false): VNode {
  return html`<section class="card" aria-labelledby="password-title">
    <h2 id="password-title">Password</h2>
    ${me.hasPassword
      ? null
      : html`<p class="muted">You sign in through your company's identity provider and have no Pulse password. Setting one also lets you sign in with your username.</p>`}
    <form method="post" action="/account/password" class="form">
      ${CsrfField(c)}
      <input type="hidden" name="from" value=${standalone ? "password" : "account"} />
      ${FormAlert({ form })}
      ${me.hasPassword ? TextField({ name: "current_password", label: "Current password", type: "password", autocomplete: "current-password", form, idPrefix: "pw", autofocus: standalone }) : null}
      ${TextField({ name: "new_password", label: "New password", type: "password", autocomplete: "new-password", form, idPrefix: "pw", hint: PASSWORD_HINT, autofocus: standalone && !me.hasPassword })}
      ${TextField({ name: "confirm_password", label: "New password, again", type: "password", autocomplete: "new-password", form, idPrefix: "pw" })}
      <p class="hint">Changing it signs you out everywhere else.</p>
      <div class="actions"><button class="btn btn-primary" type="submit">Change password</button></div>
    </form>
  </section>`;
}

function TenantCard(c: Context<HttpEnv>, p: Principal, choices: TenantChoices, memberships: Awaited<ReturnType<typeof userTenants>>): VNode {
  const currentName = p.tenantName ?? "no tenant";
  const switcher =
    choices.choices.length + (choices.allowNone ? 1 : 0) > 1
      ? html`<form method="post" action="/session/tenant" class="form inline-fields">
          ${CsrfField(c)}
          <input type="hidden" name="next" value="/account" />
          <div class="field">
            <label for="account-tenant">Work in</label>
            <select id="account-tenant" name="tenant">
              ${choices.allowNone ? html`<option value="" selected=${p.tenantId === null}>All tenants (platform view)</option>` : null}
              ${choices.choices.map((t) => html`<option value=${t.id} selected=${t.id === p.tenantId}>${t.name} (${t.id})</option>`)}
            </select>
          </div>
          <button class="btn" type="submit">Switch tenant</button>
        </form>`
      : null;
  return html`<section class="card" aria-labelledby="tenant-title" data-tenant-card>
    <h2 id="tenant-title">Tenant</h2>
    <p>You are working in <strong data-current-tenant>${currentName}</strong>${p.tenantRole ? html` as ${p.tenantRole}` : null}.</p>
    ${p.platformRole
      ? html`<p class="muted">
          As ${p.platformRole === "operator" ? "an operator you may look into any active tenant, read-only" : "an operator-admin you may work in any active tenant"}; every look is recorded in the audit log.
        </p>`
      : memberships.length
        ? html`<ul class="plain-list">
            ${memberships.map(
              (m) => html`<li>
                <strong>${m.tenant_name}</strong> <span class="muted">(${m.tenant_id})</span> · ${m.role}
                ${m.tenant_status !== "ACTIVE" ? html` ${Badge({ tone: "warn", text: m.tenant_status })}` : null}
              </li>`,
            )}
          </ul>`
        : html`<p class="muted">You belong to no tenant. Ask a tenant-admin to invite you.</p>`}
    ${switcher}
  </section>`;
}
