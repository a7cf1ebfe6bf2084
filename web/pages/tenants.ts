// Tenants: operator-admins create, rename, suspend, resume, delete and
// restore them; operators read. A tenant's own admin may open its page to
// change the name and time zone. Deleting is soft: refused at once, purged
// after the grace period unless restored.

import { Hono, type Context } from "hono";
import type { Auth } from "../../src/auth/index.ts";
import { callerFrom, principalOf } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can } from "../../src/lib/ctx.ts";
import { changeTenantStatus, createTenant, DELETE_GRACE_DAYS, getTenant, listTenants, updateTenantDetails, type Tenant } from "../../src/tenants/service.ts";
import { Badge, type Tone } from "../components/badges.ts";
import { ConfirmAction, CsrfField, emptyForm, FormAlert, formError, redirectWithError, SelectField, TextField, type FormState, type Option } from "../components/form.ts";
import { formFields } from "../components/form-token.ts";
import { absoluteTime, RelativeTime } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { DataTable, FilterBar, parseSort, type Column } from "../components/table.ts";
import { html, type VNode } from "../render.ts";

const STATUS_TONE: Record<Tenant["status"], Tone> = { ACTIVE: "ok", SUSPENDED: "warn", DELETED: "bad" };

export function TenantStatus(p: { status: Tenant["status"] }): VNode {
  return Badge({ tone: STATUS_TONE[p.status], text: p.status, icon: p.status === "ACTIVE" ? "check" : "dash" });
}

let zones: Option[] | undefined;
/** Every IANA zone this runtime knows, UTC first. */
function timeZoneOptions(): Option[] {
  zones ??= [{ value: "UTC", label: "UTC" }, ...Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC").map((z) => ({ value: z, label: z.replaceAll("_", " ") }))];
  return zones;
}

/** "27 Dec 2025": the day a deleted tenant is purged. */
export function day(t: Date, timeZone = "UTC"): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, day: "numeric", month: "short", year: "numeric" }).format(t);
}

export function tenantPages(env: PageEnv, auth: Auth): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const deps = { db: auth.db, clock: auth.clock };

  app.get("/tenants", async (c) => {
    const caller = callerFrom(c);
    const url = new URL(c.req.url);
    const manage = can(caller, "platform-admin");
    const statusFilter = url.searchParams.get("status") ?? "";
    const q = (url.searchParams.get("q") ?? "").trim().toLowerCase();
    const all = await listTenants(deps, caller, { includeDeleted: true });
    const now = auth.clock.now();
    const columns: Column<Tenant>[] = [
      { key: "name", label: "Tenant", sort: true, cell: (t) => html`<span class="person-name">${t.name}</span> <span class="muted mono">${t.id}</span>` },
      { key: "status", label: "Status", sort: true, cell: (t) => TenantStatus({ status: t.status }) },
      { key: "timezone", label: "Time zone", sort: true, class: "hide-narrow", cell: (t) => t.timezone },
      { key: "created", label: "Created", sort: "desc", cell: (t) => RelativeTime({ t: t.createdAt, now, timeZone: t.timezone }) },
      {
        key: "note",
        label: "Note",
        cell: (t) =>
          t.status === "DELETED" && t.purgeAfter
            ? html`<span class="tone-bad">Purged on ${day(t.purgeAfter, t.timezone)} unless restored</span>`
            : t.status === "SUSPENDED" && t.suspendedAt
              ? html`<span class="tone-warn">Suspended ${RelativeTime({ t: t.suspendedAt, now, timeZone: t.timezone })}</span>`
              : null,
      },
    ];
    const sort = parseSort(url, columns, { key: "name", dir: "asc" });
    const pick: Record<string, (t: Tenant) => string | number> = {
      name: (t) => t.name.toLowerCase(),
      status: (t) => t.status,
      timezone: (t) => t.timezone,
      created: (t) => t.createdAt.getTime(),
    };
    const f = pick[sort.key] ?? pick.name!;
    const rows = all
      .filter((t) => (!statusFilter || t.status === statusFilter) && (!q || t.id.toLowerCase().includes(q) || t.name.toLowerCase().includes(q)))
      .sort((a, b) => (f(a) < f(b) ? -1 : f(a) > f(b) ? 1 : 0) * (sort.dir === "asc" ? 1 : -1));
    return renderPage(
      c,
      env,
      { title: "Tenants", active: "tenants" },
      html`${PageHeader({
          title: "Tenants",
          description: manage ? "Every customer organisation on this server." : "Every customer organisation on this server (read-only).",
          actions: manage ? html`<a class="btn btn-primary" href="/tenants/new">New tenant</a>` : undefined,
        })}
        ${FilterBar({
          url,
          search: { label: "Search tenants", placeholder: "Search id or name" },
          selects: [
            {
              name: "status",
              label: "Status",
              options: [
                { value: "", label: "Any" },
                { value: "ACTIVE", label: "Active" },
                { value: "SUSPENDED", label: "Suspended" },
                { value: "DELETED", label: "Deleted (restorable)" },
              ],
            },
          ],
        })}
        ${DataTable({
          label: "Tenants",
          columns,
          rows,
          url,
          sort,
          rowHref: (t) => `/tenants/${t.id}`,
          rowKey: (t) => t.id,
          filters: ["q", "status"],
          empty: {
            title: "No tenants yet",
            body: manage ? "Create the first tenant, then invite its admin from Users." : "An operator-admin creates tenants here or with `pulse tenant add`.",
            actions: manage ? [{ label: "New tenant", href: "/tenants/new", primary: true }] : [],
          },
        })}`,
    );
  });

  app.get("/tenants/new", (c) => newTenantPage(c, emptyForm({ timezone: "UTC" })));

  function newTenantPage(c: Context<HttpEnv>, form: FormState, status = 200): Response {
    const caller = callerFrom(c);
    if (!can(caller, "platform-admin")) return redirectWithFlash(c, "/tenants", { kind: "error", text: `Your role (${caller.role}) may not create tenants.` });
    return renderPage(
      c,
      env,
      { title: "New tenant", active: "tenants", status },
      html`${PageHeader({ title: "New tenant", description: html`<a href="/tenants">Back to tenants</a>` })}
        <section class="card narrow">
          <form method="post" action="/tenants" class="form">
            ${CsrfField(c)} ${FormAlert({ form })}
            ${TextField({
              name: "id",
              label: "Tenant id",
              form,
              autofocus: true,
              hint: "Short and permanent: used in MQTT topics, URLs and sign-in. Letters, digits, '.', '_' or '-', e.g. acme.",
              autocomplete: "off",
            })}
            ${TextField({ name: "name", label: "Name", form, required: false, hint: "What people see, e.g. Acme Corp. Defaults to the id." })}
            ${SelectField({ name: "timezone", label: "Time zone", form, options: timeZoneOptions(), hint: "Times, reports and schedules of this tenant use it." })}
            <div class="actions"><button class="btn btn-primary" type="submit">Create tenant</button><a class="btn btn-ghost" href="/tenants">Cancel</a></div>
          </form>
        </section>`,
    );
  }

  app.post("/tenants", async (c) => {
    const form = await formFields(c);
    let t: Tenant;
    try {
      t = await createTenant(deps, callerFrom(c), { id: form.id ?? "", name: form.name ? form.name : undefined, timezone: form.timezone || undefined });
    } catch (err) {
      return newTenantPage(c, formError(err, form, {}, ["id", "name", "timezone"]), 400);
    }
    return redirectWithFlash(c, `/tenants/${t.id}`, { kind: "ok", text: `Tenant ${t.name} created. Next: work in it and invite its first admin.` });
  });

  app.get("/tenants/:id", (c) => tenantPage(c));

  async function tenantPage(c: Context<HttpEnv>, edit?: FormState, status = 200): Promise<Response> {
    const caller = callerFrom(c);
    const p = principalOf(c);
    const t = await getTenant(deps, caller, c.req.param("id")!);
    const manage = can(caller, "platform-admin");
    const editable = t.status !== "DELETED" && (manage || (caller.tenantId === t.id && can(caller, "admin")));
    const now = auth.clock.now();
    const purgeOn = day(new Date(now.getTime() + DELETE_GRACE_DAYS * 86_400_000), t.timezone);
    const form = edit ?? emptyForm({ name: t.name, timezone: t.timezone });
    const canWorkHere = !!p.platformRole && t.status === "ACTIVE" && p.tenantId !== t.id;
    return renderPage(
      c,
      env,
      { title: t.name, active: "tenants", status },
      html`${PageHeader({
          title: t.name,
          description: html`${TenantStatus({ status: t.status })} <span class="mono muted">${t.id}</span> · ${can(caller, "platform-read") ? html`<a href="/tenants">All tenants</a>` : null}`,
          actions: canWorkHere
            ? html`<form method="post" action="/session/tenant" class="inline-form">
                ${CsrfField(c)}<input type="hidden" name="tenant" value=${t.id} /><input type="hidden" name="next" value="/users" />
                <button class="btn btn-primary" type="submit">Work in ${t.name}</button>
              </form>`
            : p.tenantId === t.id
              ? html`<a class="btn" href="/users">Members and invitations</a>`
              : undefined,
        })}
        <div class="columns">
          <section class="card" aria-labelledby="facts-title">
            <h2 id="facts-title">Details</h2>
            <dl class="facts" data-facts="tenant">
              <dt>Id</dt>
              <dd class="mono">${t.id}</dd>
              <dt>Status</dt>
              <dd>${TenantStatus({ status: t.status })}</dd>
              <dt>Time zone</dt>
              <dd>${t.timezone}</dd>
              <dt>Created</dt>
              <dd>${absoluteTime(t.createdAt, t.timezone)}</dd>
              ${t.suspendedAt ? html`<dt>Suspended</dt><dd>${absoluteTime(t.suspendedAt, t.timezone)}</dd>` : null}
              ${t.deletedAt ? html`<dt>Deleted</dt><dd>${absoluteTime(t.deletedAt, t.timezone)}</dd>` : null}
              ${t.purgeAfter ? html`<dt>Purged on</dt><dd class="tone-bad">${day(t.purgeAfter, t.timezone)} unless restored</dd>` : null}
            </dl>
          </section>
          ${editable
            ? html`<section class="card" aria-labelledby="edit-title">
                <h2 id="edit-title">Name and time zone</h2>
                <form method="post" action=${`/tenants/${t.id}`} class="form">
                  ${CsrfField(c)} ${FormAlert({ form })}
                  ${TextField({ name: "name", label: "Name", form })}
                  ${SelectField({ name: "timezone", label: "Time zone", form, options: timeZoneOptions() })}
                  <div class="actions"><button class="btn btn-primary" type="submit">Save</button></div>
                </form>
              </section>`
            : null}
          ${manage ? StatusCard(c, t, purgeOn) : null}
        </div>`,
    );
  }

  app.post("/tenants/:id", async (c) => {
    const form = await formFields(c);
    const id = c.req.param("id");
    try {
      await updateTenantDetails(deps, callerFrom(c), id, { name: form.name ?? "", timezone: form.timezone ?? "" });
    } catch (err) {
      return tenantPage(c, formError(err, form, {}, ["name", "timezone"]), 400);
    }
    return redirectWithFlash(c, `/tenants/${id}`, { kind: "ok", text: "Tenant saved." });
  });

  const DONE: Record<string, (t: Tenant) => string> = {
    suspend: (t) => `${t.name} is suspended: its people cannot sign in and its data is refused until you resume it.`,
    resume: (t) => `${t.name} is active again.`,
    delete: (t) => `${t.name} is deleted: sign-ins and data are refused. It is purged on ${day(t.purgeAfter!, t.timezone)} unless restored.`,
    restore: (t) => `${t.name} is restored (${t.status}).`,
  };
  for (const action of ["suspend", "resume", "delete", "restore"] as const) {
    app.post(`/tenants/:id/${action}`, async (c) => {
      const id = c.req.param("id");
      let t: Tenant;
      try {
        t = await changeTenantStatus(deps, callerFrom(c), id, action);
      } catch (err) {
        return redirectWithError(c, `/tenants/${id}`, err);
      }
      return redirectWithFlash(c, action === "delete" ? "/tenants" : `/tenants/${id}`, { kind: "ok", text: DONE[action]!(t) });
    });
  }

  return app;
}

function StatusCard(c: Context<HttpEnv>, t: Tenant, purgeOn: string): VNode {
  return html`<section class="card" aria-labelledby="status-title" data-status-actions>
    <h2 id="status-title">Status</h2>
    ${t.status === "ACTIVE"
      ? html`<div class="action-row">
          <p>Suspend to stop sign-ins and refuse the tenant's data for a while (unpaid bills, an incident); nothing is lost.</p>
          ${ConfirmAction({
            c,
            label: "Suspend…",
            action: `/tenants/${t.id}/suspend`,
            message: html`Suspend <strong>${t.name}</strong>? Its people can no longer sign in, its API keys stop working and its devices' data is refused, at once, until you resume it. Nothing is deleted.`,
            confirm: `Suspend ${t.name}`,
          })}
        </div>`
      : null}
    ${t.status === "SUSPENDED"
      ? html`<div class="action-row">
          <p>Resume to let its people sign in and its data in again.</p>
          <form method="post" action=${`/tenants/${t.id}/resume`} class="inline-form">${CsrfField(c)}<button class="btn btn-primary" type="submit">Resume ${t.name}</button></form>
        </div>`
      : null}
    ${t.status === "DELETED"
      ? html`<div class="action-row">
          <p>Deleted. Restore it before ${day(t.purgeAfter!, t.timezone)} to bring it back as it was.</p>
          <form method="post" action=${`/tenants/${t.id}/restore`} class="inline-form">${CsrfField(c)}<button class="btn btn-primary" type="submit">Restore ${t.name}</button></form>
        </div>`
      : html`<div class="action-row">
          <p>Delete when the customer leaves: refused at once, purged for good after ${DELETE_GRACE_DAYS} days.</p>
          ${ConfirmAction({
            c,
            label: "Delete…",
            action: `/tenants/${t.id}/delete`,
            message: html`Delete <strong>${t.name}</strong>? Sign-ins and data are refused at once; everything is purged on <strong>${purgeOn}</strong> unless restored.`,
            confirm: `Delete ${t.name}`,
          })}
        </div>`}
  </section>`;
}
