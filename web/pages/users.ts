// Users: the members of the tenant one works in (tenant-admins manage them,
// operators read), invitations, password reset links; and for operators every
// account on the platform (operator-admins disable, enable, and give or take
// platform roles). One-time links are rendered straight from the POST, never
// put in a URL or cookie, and never shown again.

import { Hono, type Context } from "hono";
import type { Auth } from "../../src/auth/index.ts";
import { callerFrom, ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import { createInvite, createPasswordReset, INVITE_DAYS, listInvites, revokeInvite, RESET_MINUTES, type IssuedLink } from "../../src/auth/users/invites.ts";
import { changeMemberRole, getUser, listAllPlatformUsers, listTenantMembers, removeMember, setPlatformRole, setUserStatus, type Member, type User } from "../../src/auth/users/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can, type Caller, type PlatformRole } from "../../src/lib/ctx.ts";
import { Badge } from "../components/badges.ts";
import { ConfirmAction, COPY_ISLAND, CsrfField, formError, redirectWithError, SecretOnce, type FormState } from "../components/form.ts";
import { formFields } from "../components/form-token.ts";
import { absoluteTime, RelativeTime } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { DataTable, FilterBar, parseSort, type Column } from "../components/table.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";
import { InviteForm, InvitesList, Person, PlatformRoleForm, RoleForm, sortRows, StatusBadge, Tabs } from "./users-parts.ts";

export function userPages(env: PageEnv, auth: Auth): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const deps = { db: auth.db, clock: auth.clock };
  const when = (t: Date | null, zone: string) => (t ? RelativeTime({ t, now: auth.clock.now(), timeZone: zone }) : html`<span class="muted">never</span>`);

  app.get("/users", (c) => usersPage(c));

  async function usersPage(c: Context<HttpEnv>, invite?: FormState, status = 200): Promise<Response> {
    const caller = callerFrom(c);
    const url = new URL(c.req.url);
    if (can(caller, "platform-read") && (url.searchParams.get("scope") === "platform" || !caller.tenantId)) return platformPage(c, caller, url);
    const ctx = ctxFrom(c);
    const p = principalOf(c);
    const zone = await viewerTimeZone(auth, p);
    const admin = can(ctx, "admin");
    const members = await listTenantMembers(deps, ctx);
    const invites = admin ? await listInvites(deps, ctx) : [];
    const tenantName = p.tenantName ?? ctx.tenantId;

    const q = (url.searchParams.get("q") ?? "").trim().toLowerCase();
    const roleFilter = url.searchParams.get("role") ?? "";
    const columns: Column<Member>[] = [
      { key: "name", label: "Person", sort: true, cell: (m) => Person(m, p.id) },
      { key: "role", label: "Role", sort: true, cell: (m) => (admin ? RoleForm(c, m) : Badge({ tone: m.role === "tenant-admin" ? "accent" : "idle", text: m.role })) },
      { key: "status", label: "Status", cell: (m) => StatusBadge(m.status) },
      { key: "last_login", label: "Last sign-in", sort: "desc", cell: (m) => when(m.lastLoginAt, zone) },
      { key: "since", label: "Member since", sort: "desc", class: "hide-narrow", cell: (m) => when(m.memberSince, zone) },
      ...(admin
        ? [
            {
              key: "actions",
              label: "Actions",
              cell: (m: Member) => html`<div class="row-actions">
                <form method="post" action=${`/users/${m.id}/reset-link`} class="inline-form">
                  ${CsrfField(c)}<button class="btn btn-sm" type="submit" title=${`Make a one-time password reset link for ${m.username}`}>Reset link</button>
                </form>
                ${ConfirmAction({
                  c,
                  label: "Remove",
                  small: true,
                  action: `/users/${m.id}/remove`,
                  message: html`Remove <strong>${m.name}</strong> (${m.username}) from ${tenantName}? They lose access to this tenant at once and their sessions and tokens for it end. Their account itself stays, and they can be invited again.`,
                  confirm: `Remove ${m.username}`,
                })}
              </div>`,
            },
          ]
        : []),
    ];
    const sort = parseSort(url, columns, { key: "name", dir: "asc" });
    const rows = sortRows(
      members.filter((m) => (!roleFilter || m.role === roleFilter) && (!q || [m.name, m.username, m.email ?? ""].some((v) => v.toLowerCase().includes(q)))),
      sort,
    );

    return renderPage(
      c,
      env,
      { title: "Users", active: "users", islands: [COPY_ISLAND], status },
      html`${PageHeader({
          title: "Users",
          description: html`People who work in <strong>${tenantName}</strong>${admin ? null : " (read-only)"}.${admin ? html` Tenant settings: <a href=${`/tenants/${ctx.tenantId}`}>name and time zone</a>.` : null}`,
          actions: admin ? html`<a class="btn btn-primary" href="#invite">Invite someone</a>` : undefined,
        })}
        ${Tabs(caller, "tenant", tenantName)}
        ${FilterBar({
          url,
          search: { label: "Search people", placeholder: "Search name, username or email" },
          selects: [{ name: "role", label: "Role", options: [{ value: "", label: "Any" }, { value: "customer", label: "customer" }, { value: "tenant-admin", label: "tenant-admin" }] }],
        })}
        ${DataTable({
          label: "Members",
          columns,
          rows,
          url,
          sort,
          rowKey: (m) => m.id,
          filters: ["q", "role"],
          empty: { title: "No members yet", body: admin ? "Invite the first person with the form below; they choose their own password." : "A tenant-admin invites people from this page." },
        })}
        ${admin ? html`<div class="columns section-gap">${InviteForm(c, auth.users.mailer.configured, invite)} ${InvitesList(c, invites, zone, auth.clock.now())}</div>` : null}`,
    );
  }

  async function platformPage(c: Context<HttpEnv>, caller: Caller, url: URL): Promise<Response> {
    const p = principalOf(c);
    const manage = can(caller, "platform-admin");
    const users = await listAllPlatformUsers(deps, caller);
    const q = (url.searchParams.get("q") ?? "").trim().toLowerCase();
    const statusFilter = url.searchParams.get("status") ?? "";
    const kind = url.searchParams.get("platform_role") ?? "";
    const columns: Column<User>[] = [
      { key: "name", label: "Person", sort: true, cell: (u) => Person(u, p.id) },
      {
        key: "platform_role",
        label: "Platform role",
        sort: true,
        cell: (u) => (manage ? PlatformRoleForm(c, u) : u.platformRole ? Badge({ tone: "accent", text: u.platformRole }) : html`<span class="muted">—</span>`),
      },
      { key: "status", label: "Status", sort: true, cell: (u) => StatusBadge(u.status) },
      { key: "last_login", label: "Last sign-in", sort: "desc", cell: (u) => when(u.lastLoginAt, "UTC") },
      { key: "since", label: "Created", sort: "desc", class: "hide-narrow", cell: (u) => when(u.createdAt, "UTC") },
      ...(manage
        ? [
            {
              key: "actions",
              label: "Actions",
              cell: (u: User) => html`<div class="row-actions">
                <form method="post" action=${`/users/${u.id}/reset-link`} class="inline-form">
                  ${CsrfField(c)}<input type="hidden" name="from" value="platform" /><button class="btn btn-sm" type="submit">Reset link</button>
                </form>
                ${u.status === "ACTIVE"
                  ? u.id === p.id
                    ? null
                    : ConfirmAction({
                        c,
                        label: "Disable",
                        small: true,
                        action: `/users/${u.id}/status`,
                        fields: { status: "DISABLED" },
                        message: html`Disable <strong>${u.name}</strong> (${u.username})? They are signed out everywhere at once and cannot sign in until enabled again. API keys belong to tenants and keep working; revoke them separately.`,
                        confirm: `Disable ${u.username}`,
                      })
                  : html`<form method="post" action=${`/users/${u.id}/status`} class="inline-form">
                      ${CsrfField(c)}<input type="hidden" name="status" value="ACTIVE" /><button class="btn btn-sm" type="submit">Enable</button>
                    </form>`}
              </div>`,
            },
          ]
        : []),
    ];
    const sort = parseSort(url, columns, { key: "name", dir: "asc" });
    const rows = sortRows(
      users.filter(
        (u) =>
          (!statusFilter || u.status === statusFilter) &&
          (!kind || (kind === "none" ? u.platformRole === null : u.platformRole === kind)) &&
          (!q || [u.name, u.username, u.email ?? ""].some((v) => v.toLowerCase().includes(q))),
      ),
      sort,
    );
    return renderPage(
      c,
      env,
      { title: "All accounts", active: "users", islands: [COPY_ISLAND] },
      html`${PageHeader({ title: "Users", description: manage ? "Every account on this server. Disabling one signs it out everywhere." : "Every account on this server (read-only)." })}
        ${Tabs(caller, "platform", p.tenantName)}
        ${FilterBar({
          url,
          search: { label: "Search accounts", placeholder: "Search name, username or email" },
          selects: [
            { name: "status", label: "Status", options: [{ value: "", label: "Any" }, { value: "ACTIVE", label: "Active" }, { value: "DISABLED", label: "Disabled" }] },
            {
              name: "platform_role",
              label: "Platform role",
              options: [{ value: "", label: "Any" }, { value: "none", label: "None" }, { value: "operator", label: "operator" }, { value: "operator-admin", label: "operator-admin" }],
            },
          ],
          keep: ["scope", "sort", "dir"],
        })}
        ${DataTable({
          label: "Accounts",
          columns,
          rows,
          url,
          sort,
          rowKey: (u) => u.id,
          filters: ["q", "status", "platform_role"],
          empty: { title: "No accounts", body: "Create a tenant and invite its first admin, or run `pulse user add`." },
        })}`,
    );
  }

  // Invitations

  app.post("/users/invite", async (c) => {
    const ctx = ctxFrom(c);
    const form = await formFields(c);
    let issued: Awaited<ReturnType<typeof createInvite>>;
    try {
      issued = await createInvite(auth.users, ctx, { email: form.email ?? "", role: form.role });
    } catch (err) {
      return usersPage(c, formError(err, form, {}, ["email", "role"]), 400);
    }
    const tenantName = principalOf(c).tenantName ?? ctx.tenantId;
    return oneTimeLinkPage(c, {
      title: "Invitation created",
      id: "invite-link",
      label: `Invitation link for ${issued.invite.email}`,
      issued,
      zone: await viewerTimeZone(auth, principalOf(c)),
      body: html`<p>
        <strong>${issued.invite.email}</strong> is invited to ${tenantName} as <strong>${issued.invite.role}</strong>. The link lets them create their account (or join with an
        existing one). It works once and expires in ${INVITE_DAYS} days.
      </p>`,
      emailedTo: issued.invite.email,
      actions: html`<a class="btn btn-primary" href="/users">Back to users</a><a class="btn" href="/users#invite">Invite someone else</a>`,
    });
  });

  app.post("/users/invites/:id/revoke", async (c) => {
    try {
      await revokeInvite(deps, ctxFrom(c), c.req.param("id"));
    } catch (err) {
      return redirectWithError(c, "/users", err);
    }
    return redirectWithFlash(c, "/users", { kind: "ok", text: "Invitation revoked: its link no longer works." });
  });

  // Members

  app.post("/users/:id/role", async (c) => {
    const form = await formFields(c);
    let m: Member;
    try {
      m = await changeMemberRole(deps, ctxFrom(c), c.req.param("id"), form.role);
    } catch (err) {
      return redirectWithError(c, "/users", err);
    }
    return redirectWithFlash(c, "/users", { kind: "ok", text: `${m.name} is now ${m.role}.` });
  });

  app.post("/users/:id/remove", async (c) => {
    const ctx = ctxFrom(c);
    const id = c.req.param("id");
    const user = await getUser(deps, ctx, id).catch(() => undefined);
    try {
      await removeMember(deps, ctx, id);
    } catch (err) {
      return redirectWithError(c, "/users", err);
    }
    return redirectWithFlash(c, "/users", { kind: "ok", text: `${user?.name ?? "The member"} was removed from ${principalOf(c).tenantName ?? ctx.tenantId}.` });
  });

  app.post("/users/:id/reset-link", async (c) => {
    const caller = callerFrom(c);
    const id = c.req.param("id");
    const back = (await formFields(c)).from === "platform" ? "/users?scope=platform" : "/users";
    let user: User;
    let issued: IssuedLink;
    try {
      user = await getUser(deps, caller, id);
      issued = await createPasswordReset(auth.users, caller, id);
    } catch (err) {
      return redirectWithError(c, back, err);
    }
    return oneTimeLinkPage(c, {
      title: "Password reset link",
      id: "reset-link",
      label: `Password reset link for ${user.username}`,
      issued,
      zone: await viewerTimeZone(auth, principalOf(c)),
      body: html`<p>
        With this link <strong>${user.name}</strong> (${user.username}) chooses a new password. It works once, for ${RESET_MINUTES} minutes. Their current password keeps
        working until then; when they set a new one, all their sessions end.
      </p>`,
      emailedTo: user.email,
      actions: html`<a class="btn btn-primary" href=${back}>Back to users</a>`,
    });
  });

  // Platform accounts (operator-admins)

  app.post("/users/:id/status", async (c) => {
    const form = await formFields(c);
    const status = form.status === "DISABLED" ? "DISABLED" : "ACTIVE";
    let u: User;
    try {
      u = await setUserStatus(deps, callerFrom(c), c.req.param("id"), status);
    } catch (err) {
      return redirectWithError(c, "/users?scope=platform", err);
    }
    return redirectWithFlash(c, "/users?scope=platform", {
      kind: "ok",
      text: status === "DISABLED" ? `${u.username} is disabled and signed out everywhere.` : `${u.username} is enabled and can sign in again.`,
    });
  });

  app.post("/users/:id/platform-role", async (c) => {
    const form = await formFields(c);
    const role = form.platform_role === "operator" || form.platform_role === "operator-admin" ? (form.platform_role as PlatformRole) : null;
    let u: User;
    try {
      u = await setPlatformRole(deps, callerFrom(c), c.req.param("id"), role);
    } catch (err) {
      return redirectWithError(c, "/users?scope=platform", err);
    }
    return redirectWithFlash(c, "/users?scope=platform", { kind: "ok", text: role ? `${u.username} is now ${role}.` : `${u.username} has no platform role any more.` });
  });

  function oneTimeLinkPage(
    c: Context<HttpEnv>,
    p: { title: string; id: string; label: string; issued: IssuedLink; zone: string; body: VNode; emailedTo: string | null; actions: VNode },
  ): Response {
    // Shown once: never cached, never in a URL.
    c.header("Cache-Control", "no-store");
    const mail = p.issued.emailed
      ? html`<div class="flash flash-ok" role="status" data-emailed="true">Emailed to ${p.emailedTo}. You can also pass the link on yourself.</div>`
      : html`<div class="flash flash-info" role="status" data-emailed="false">
          Not emailed: ${auth.users.mailer.configured ? "sending the email failed (see the server log)" : "email (SMTP) is not configured on this server"}. Copy the link and send it
          to ${p.emailedTo ?? "them"} yourself, over a channel you trust.
        </div>`;
    return renderPage(
      c,
      env,
      { title: p.title, active: "users", islands: [COPY_ISLAND] },
      html`${PageHeader({ title: p.title })}
        <section class="card narrow">
          ${p.body} ${mail}
          ${SecretOnce({
            id: p.id,
            label: p.label,
            value: p.issued.link,
            warning: html`Copy it now: this page is the only time Pulse shows it (only a hash is stored). Expires ${absoluteTime(p.issued.expiresAt, p.zone)}.`,
          })}
          <div class="actions">${p.actions}</div>
        </section>`,
    );
  }

  return app;
}
