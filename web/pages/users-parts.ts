// The users pages' parts: tabs, a person, status and role forms, the
// invitation form and list, and sorting the tables.

import type { Context } from "hono";
import type { listInvites } from "../../src/auth/users/invites.ts";
import { INVITE_DAYS } from "../../src/auth/users/invites.ts";
import type { Member, User } from "../../src/auth/users/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can, type Caller } from "../../src/lib/ctx.ts";
import { Badge } from "../components/badges.ts";
import { EmptyState } from "../components/empty.ts";
import { ConfirmAction, CsrfField, emptyForm, FormAlert, SelectField, TextField } from "../components/form.ts";
import { RelativeTime } from "../components/format.ts";
import type { Sort } from "../components/table.ts";
import { html, type VNode } from "../render.ts";

const ROLE_OPTIONS = [
  { value: "customer", label: "customer — uses the product" },
  { value: "tenant-admin", label: "tenant-admin — also manages users, keys and settings" },
];

export function Tabs(caller: Caller, current: "tenant" | "platform", tenantName: string | null | undefined): VNode | null {
  if (!can(caller, "platform-read")) return null;
  return html`<nav class="tabs" aria-label="Which users">
    ${caller.tenantId
      ? html`<a href="/users" aria-current=${current === "tenant" ? "page" : undefined}>Members of ${tenantName}</a>`
      : html`<span class="tab-disabled" title="Choose a tenant in the top bar to see its members">Members of a tenant</span>`}
    <a href="/users?scope=platform" aria-current=${current === "platform" ? "page" : undefined}>All accounts</a>
  </nav>`;
}

export function Person(u: User, selfId: string): VNode {
  return html`<div class="person">
    <span class="person-name">${u.name}${u.id === selfId ? html` <span class="muted">(you)</span>` : null}</span>
    <span class="person-sub muted">${u.username}${u.email && u.email !== u.username ? ` · ${u.email}` : ""}</span>
  </div>`;
}

export function StatusBadge(status: User["status"]): VNode {
  return status === "ACTIVE" ? Badge({ tone: "ok", text: "ACTIVE", icon: "check" }) : Badge({ tone: "bad", text: "DISABLED", icon: "dash" });
}

export function RoleForm(c: Context<HttpEnv>, m: Member): VNode {
  return html`<form method="post" action=${`/users/${m.id}/role`} class="inline-form compact-form">
    ${CsrfField(c)}
    <select name="role" aria-label=${`Role of ${m.username}`}>
      ${["customer", "tenant-admin"].map((r) => html`<option value=${r} selected=${m.role === r}>${r}</option>`)}
    </select>
    <button class="btn btn-sm" type="submit">Save</button>
  </form>`;
}

export function PlatformRoleForm(c: Context<HttpEnv>, u: User): VNode {
  return html`<form method="post" action=${`/users/${u.id}/platform-role`} class="inline-form compact-form">
    ${CsrfField(c)}
    <select name="platform_role" aria-label=${`Platform role of ${u.username}`}>
      <option value="" selected=${u.platformRole === null}>none</option>
      ${["operator", "operator-admin"].map((r) => html`<option value=${r} selected=${u.platformRole === r}>${r}</option>`)}
    </select>
    <button class="btn btn-sm" type="submit">Save</button>
  </form>`;
}

export function InviteForm(c: Context<HttpEnv>, mailConfigured: boolean, form = emptyForm({ role: "customer" })): VNode {
  return html`<section class="card" id="invite" aria-labelledby="invite-title">
    <h2 id="invite-title">Invite someone</h2>
    <p class="muted">
      They get a one-time link, valid ${INVITE_DAYS} days, to create their account.
      ${mailConfigured ? " It is emailed to them and shown to you." : " Email is not configured on this server: you get the link to pass on yourself."}
    </p>
    <form method="post" action="/users/invite" class="form">
      ${CsrfField(c)} ${FormAlert({ form })}
      ${TextField({ name: "email", label: "Email", type: "email", form, idPrefix: "invite", autocomplete: "off" })}
      ${SelectField({ name: "role", label: "Role", options: ROLE_OPTIONS, form, idPrefix: "invite", value: "customer" })}
      <div class="actions"><button class="btn btn-primary" type="submit">Create invitation</button></div>
    </form>
  </section>`;
}

export function InvitesList(c: Context<HttpEnv>, invites: Awaited<ReturnType<typeof listInvites>>, zone: string, now: Date): VNode {
  return html`<section class="card" aria-labelledby="invites-title" data-invites>
    <h2 id="invites-title">Pending invitations</h2>
    ${invites.length
      ? html`<ul class="item-list">
          ${invites.map(
            (i) => html`<li>
              <div>
                <strong>${i.email}</strong> · ${i.role}
                <div class="muted">
                  Invited ${RelativeTime({ t: i.createdAt, now, timeZone: zone })}, expires ${RelativeTime({ t: i.expiresAt, now, timeZone: zone })}
                </div>
              </div>
              ${ConfirmAction({
                c,
                label: "Revoke",
                small: true,
                action: `/users/invites/${i.id}/revoke`,
                message: html`Revoke the invitation for <strong>${i.email}</strong>? Its link stops working at once. You can invite them again later.`,
                confirm: "Revoke invitation",
              })}
            </li>`,
          )}
        </ul>`
      : EmptyState({ title: "No pending invitations", body: "Invite someone with the form; accepted, revoked and expired invitations leave this list.", compact: true })}
  </section>`;
}

export function sortRows<T extends User & { role?: string; memberSince?: Date }>(rows: T[], sort: Sort): T[] {
  const key: Record<string, (r: T) => string | number> = {
    name: (r) => r.name.toLowerCase() + "\u0000" + r.username.toLowerCase(),
    role: (r) => r.role ?? "",
    platform_role: (r) => r.platformRole ?? "",
    status: (r) => r.status,
    last_login: (r) => r.lastLoginAt?.getTime() ?? 0,
    since: (r) => (r.memberSince ?? r.createdAt).getTime(),
  };
  const f = key[sort.key] ?? key.name!;
  const dir = sort.dir === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = f(a);
    const y = f(b);
    return (x < y ? -1 : x > y ? 1 : 0) * dir;
  });
}
