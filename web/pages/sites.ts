// Sites: where devices are, with their time zone, position and address, and
// how many devices each has (a link to the device list filtered to it).
// Tenant-admins create, edit and delete them; a site that devices still use
// cannot be deleted, and the page says so in the service's words.

import { Hono, type Context } from "hono";
import { callerFrom, ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can } from "../../src/lib/ctx.ts";
import { AppError } from "../../src/lib/errors.ts";
import { createSite, deleteSite, getSite, listSites, updateSite, type Site, type SiteDeps } from "../../src/sites/service.ts";
import { FieldShell, fieldAria } from "../components/field.ts";
import { ConfirmAction, CsrfField, emptyForm, FormAlert, formError, redirectWithError, TextAreaField, TextField, type FormState } from "../components/form.ts";
import { formFields } from "../components/form-token.ts";
import { formatCount, RelativeTime } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { DataTable, parseSort, type Column, type Sort } from "../components/table.ts";
import { timeZoneChoices } from "../components/when.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";
import { chooseTenantPage, type DevicePageDeps } from "./devices-common.ts";

const FIELDS = ["id", "name", "timezone", "lat", "lng", "address"];

export function sitePages(env: PageEnv, deps: DevicePageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const sd: SiteDeps = { db: deps.devices.db, clock: deps.devices.clock };

  app.get("/sites", (c) => sitesPage(c));

  async function sitesPage(c: Context<HttpEnv>, form?: FormState, status = 200): Promise<Response> {
    const caller = callerFrom(c);
    if (!caller.tenantId) return chooseTenantPage(c, env, { title: "Sites", active: "sites", what: "Sites" });
    const ctx = ctxFrom(c);
    const url = new URL(c.req.url);
    const admin = can(ctx, "admin");
    const zone = await viewerTimeZone(deps.auth, principalOf(c));
    const now = sd.clock.now();
    const q = (url.searchParams.get("q") ?? "").trim();
    const sites = await listSites(sd, ctx, { limit: 10_000, q: q || undefined });
    const columns: Column<Site>[] = [
      {
        key: "name",
        label: "Site",
        sort: true,
        cell: (s) => html`<span class="device-cell"><span class="device-name">${s.name}</span>${s.name !== s.id ? html`<span class="muted mono small">${s.id}</span>` : null}</span>`,
      },
      { key: "timezone", label: "Time zone", sort: true, cell: (s) => s.timezone },
      { key: "place", label: "Location", class: "hide-narrow", cell: (s) => Place(s) },
      {
        key: "devices",
        label: "Devices",
        sort: "desc",
        numeric: true,
        cell: (s) => html`<a href=${`/devices?site=${encodeURIComponent(s.id)}`} data-site-devices=${s.id} title=${`Devices at ${s.name}`}>${formatCount(s.deviceCount)}</a>`,
      },
      { key: "updated", label: "Changed", sort: "desc", class: "hide-narrow", cell: (s) => RelativeTime({ t: s.updatedAt, now, timeZone: zone }) },
      ...(admin
        ? [
            {
              key: "actions",
              label: "",
              cell: (s: Site) => html`<div class="row-actions">
                <a class="btn btn-sm" href=${`/sites/${encodeURIComponent(s.id)}/edit`}>Edit</a>
                ${ConfirmAction({
                  c,
                  label: "Delete",
                  small: true,
                  action: `/sites/${encodeURIComponent(s.id)}/delete`,
                  message:
                    s.deviceCount > 0
                      ? html`<strong>${s.name}</strong> still has ${formatCount(s.deviceCount)} device${s.deviceCount === 1 ? "" : "s"}: Pulse will refuse until they are moved to another site or removed.`
                      : html`Delete <strong>${s.name}</strong>? No device uses it. This cannot be undone.`,
                  confirm: `Delete ${s.id}`,
                })}
              </div>`,
            },
          ]
        : []),
    ];
    const sort = parseSort(url, columns, { key: "name", dir: "asc" });
    return renderPage(
      c,
      env,
      { title: "Sites", active: "sites", status },
      html`${PageHeader({
          title: "Sites",
          description: "Where devices are: a plant, a store, a cold room. Alert rules and maintenance windows can pick devices by site.",
          actions: admin ? html`<a class="btn btn-primary" href="#new-site">Add a site</a>` : undefined,
        })}
        <form class="filters" method="get" action="/sites" role="search">
          <label class="filter-search">
            <span class="visually-hidden">Search sites</span>
            <input type="search" name="q" value=${q} placeholder="Search id or name" data-search autocomplete="off" />
            <kbd class="filter-kbd" aria-hidden="true">/</kbd>
          </label>
          <button class="btn" type="submit">Apply</button>
          ${q ? html`<a class="btn btn-ghost" href="/sites">Clear</a>` : null}
        </form>
        ${DataTable({
          label: "Sites",
          columns,
          rows: sortSites(sites, sort),
          url,
          sort,
          rowKey: (s) => s.id,
          rowHref: (s) => `/devices?site=${encodeURIComponent(s.id)}`,
          filters: ["q"],
          empty: {
            title: "No sites yet",
            body: admin ? "Add the first one below; devices then belong to it." : "A tenant-admin adds sites; devices belong to one.",
          },
        })}
        ${admin ? html`<div class="section-gap narrow">${SiteForm(c, { action: "/sites", title: "Add a site", submit: "Add site", form: form ?? emptyForm({ timezone: "UTC" }), create: true })}</div>` : null}`,
    );
  }

  app.post("/sites", async (c) => {
    const form = await formFields(c);
    let site: Site;
    try {
      site = await createSite(sd, ctxFrom(c), siteInput(form, true));
    } catch (err) {
      if (err instanceof AppError && err.status === 403) throw err;
      return sitesPage(c, formError(err, form, {}, FIELDS), 400);
    }
    return redirectWithFlash(c, "/sites", { kind: "ok", text: `Site ${site.name} added.` });
  });

  app.get("/sites/:id/edit", async (c) => {
    const caller = callerFrom(c);
    if (!caller.tenantId) return chooseTenantPage(c, env, { title: "Sites", active: "sites", what: "Sites" });
    const site = await getSite(sd, ctxFrom(c), c.req.param("id"));
    return editPage(c, site, emptyForm(siteValues(site)));
  });

  function editPage(c: Context<HttpEnv>, site: Site, form: FormState, status = 200): Response {
    return renderPage(
      c,
      env,
      { title: `Edit ${site.name} · Sites`, active: "sites", status },
      html`<nav class="breadcrumbs" aria-label="Breadcrumb"><a href="/sites">Sites</a> <span aria-hidden="true">/</span> <span class="mono">${site.id}</span></nav>
        ${PageHeader({ title: `Edit ${site.name}`, description: html`<span class="mono">${site.id}</span> · ${formatCount(site.deviceCount)} device${site.deviceCount === 1 ? "" : "s"}` })}
        <div class="narrow">${SiteForm(c, { action: `/sites/${encodeURIComponent(site.id)}`, title: "Site", submit: "Save", form, create: false })}</div>`,
    );
  }

  app.post("/sites/:id", async (c) => {
    const ctx = ctxFrom(c);
    const id = c.req.param("id");
    const form = await formFields(c);
    try {
      await updateSite(sd, ctx, id, siteInput(form, false));
    } catch (err) {
      if (err instanceof AppError && (err.status === 403 || err.status === 404)) throw err;
      const site = await getSite(sd, ctx, id);
      return editPage(c, site, formError(err, form, {}, FIELDS), 400);
    }
    return redirectWithFlash(c, "/sites", { kind: "ok", text: "Site saved." });
  });

  app.post("/sites/:id/delete", async (c) => {
    const id = c.req.param("id");
    try {
      await deleteSite(sd, ctxFrom(c), id);
    } catch (err) {
      return redirectWithError(c, "/sites", err);
    }
    return redirectWithFlash(c, "/sites", { kind: "ok", text: `Site ${id} deleted.` });
  });

  return app;
}

/** The service's input from the form: blanks clear the optional fields. */
function siteInput(f: Record<string, string | undefined>, create: boolean) {
  const blank = (v: string | undefined) => (v === undefined || v.trim() === "" ? null : v.trim());
  return {
    ...(create ? { id: f.id?.trim() ?? "" } : {}),
    name: f.name?.trim() || (create ? (f.id?.trim() ?? "") : ""),
    timezone: f.timezone || "UTC",
    lat: blank(f.lat),
    lng: blank(f.lng),
    address: blank(f.address),
  };
}

function siteValues(s: Site): Record<string, string> {
  return { id: s.id, name: s.name, timezone: s.timezone, lat: s.lat === null ? "" : String(s.lat), lng: s.lng === null ? "" : String(s.lng), address: s.address ?? "" };
}

function SiteForm(c: Context<HttpEnv>, p: { action: string; title: string; submit: string; form: FormState; create: boolean }): VNode {
  const form = p.form;
  const tzId = `site-timezone`;
  const zone = form.values.timezone || "UTC";
  return html`<section class="card" id=${p.create ? "new-site" : undefined} aria-labelledby="site-form-title">
    <h2 id="site-form-title">${p.title}</h2>
    <form method="post" action=${p.action} class="form">
      ${CsrfField(c)} ${FormAlert({ form })}
      ${p.create ? TextField({ name: "id", label: "Site id", form, idPrefix: "site", autocomplete: "off", hint: "Letters, digits, '.', '_' or '-', e.g. plant-2. Devices name it in their messages; it cannot change." }) : null}
      ${TextField({ name: "name", label: "Name", form, idPrefix: "site", required: !p.create ? true : false, autocomplete: "off", hint: p.create ? "What people read; the id when empty." : undefined })}
      ${FieldShell({
        id: tzId,
        label: "Time zone",
        name: "timezone",
        form,
        hint: "Maintenance windows and reports at this site follow it.",
        children: html`<select id=${tzId} name="timezone" ...${fieldAria({ id: tzId, name: "timezone", form, hint: true })}>
          ${timeZoneChoices().map((z) => html`<option value=${z} selected=${z === zone}>${z}</option>`)}
        </select>`,
      })}
      <div class="inline-fields">
        ${TextField({ name: "lat", label: "Latitude", form, idPrefix: "site", required: false, placeholder: "52.52" })}
        ${TextField({ name: "lng", label: "Longitude", form, idPrefix: "site", required: false, placeholder: "13.405" })}
      </div>
      ${TextAreaField({ name: "address", label: "Address", form, idPrefix: "site", rows: 2, required: false })}
      <div class="actions"><button class="btn btn-primary" type="submit">${p.submit}</button>${p.create ? null : html`<a class="btn" href="/sites">Cancel</a>`}</div>
    </form>
  </section>`;
}

function Place(s: Site): VNode {
  const pos = s.lat !== null && s.lng !== null ? html`<span class="mono small">${s.lat.toFixed(4)}, ${s.lng.toFixed(4)}</span>` : null;
  if (!pos && !s.address) return html`<span class="muted">—</span>`;
  return html`<span class="place">${s.address ? html`<span>${s.address}</span>` : null}${pos}</span>`;
}

function sortSites(sites: Site[], sort: Sort): Site[] {
  const key: Record<string, (s: Site) => string | number> = {
    name: (s) => s.name.toLowerCase(),
    timezone: (s) => s.timezone,
    devices: (s) => s.deviceCount,
    updated: (s) => s.updatedAt.getTime(),
  };
  const f = key[sort.key] ?? key.name!;
  const dir = sort.dir === "asc" ? 1 : -1;
  return [...sites].sort((a, b) => {
    const x = f(a);
    const y = f(b);
    return (x < y ? -1 : x > y ? 1 : a.id.localeCompare(b.id)) * dir;
  });
}
