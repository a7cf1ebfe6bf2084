// Routing rules: which alert changes reach which channel. The list says each
// rule's filters in words (severity and above, alert types, sites and tags,
// transitions, throttle, active hours); the form has every field, with the
// service's refusals next to the field they name.

import { Hono, type Context } from "hono";
import { SEVERITIES, SEVERITY_RANK } from "../../src/alerts/evaluate.ts";
import { ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import { listSiteChoices } from "../../src/fleet/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can, requirePermission } from "../../src/lib/ctx.ts";
import { notFound } from "../../src/lib/errors.ts";
import { ROUTED_EVENTS } from "../../src/notify/routing.ts";
import { deleteNotificationRoute, listNotificationChannels, listNotificationRoutes, saveNotificationRoute, type Channel } from "../../src/notify/service.ts";
import type { RouteRow } from "../../src/notify/store.ts";
import { Badge, SeverityBadge } from "../components/badges.ts";
import { TypeMark } from "../components/channel-forms.ts";
import { EmptyState } from "../components/empty.ts";
import { DurationField, durationSeconds, durationValues, FieldShell, fieldAria } from "../components/field.ts";
import { CheckboxField, ConfirmAction, CsrfField, emptyForm, FormAlert, formError, redirectWithError, SelectField, TextField, type FormState } from "../components/form.ts";
import { humanDuration } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { postedValues, scopeFromForm, scopeText, scopeValues } from "../components/scope.ts";
import { DataTable, parseSort, type Column } from "../components/table.ts";
import { timeZoneChoices } from "../components/when.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";
import { needsTenant, NotifyTabs, sortRows, type NotifyPageDeps } from "./notifications-common.ts";

type Route = RouteRow & { channel_enabled: boolean; channel_type: string };

const WEEK = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const;
const DAY_LABEL: Record<string, string> = { MO: "Mon", TU: "Tue", WE: "Wed", TH: "Thu", FR: "Fri", SA: "Sat", SU: "Sun" };
const TYPE_LABEL: Record<string, string> = { THRESHOLD: "Threshold rules", NO_HEARTBEAT: "No heartbeat" };
const TRANSITION_LABEL: Record<string, string> = { triggered: "Triggered (and re-opened)", acknowledged: "Acknowledged", resolved: "Resolved (and closed)" };

// Service field names → the form's inputs.
const FIELD_MAP: Record<string, string> = {
  "scope.sites": "sites",
  "scope.tags": "tags",
  scope: "sites",
  throttle_seconds: "throttle",
  "active_hours.start": "hours_start",
  "active_hours.end": "hours_end",
  "active_hours.timezone": "hours_zone",
  "active_hours.days": "hours_days",
  active_hours: "hours_start",
};
const KNOWN = ["name", "channel_id", "min_severity", "alert_types", "sites", "tags", "transitions", "throttle", "hours_start", "hours_end", "hours_zone", "hours_days", "enabled"];

const list = (v: string | undefined) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean);

/** The service's input from the posted form (numbers that do not read stay NaN so the service names the field). */
export function routeInputFrom(f: Record<string, string | undefined>): Record<string, unknown> {
  const scope = scopeFromForm({ sites: f.sites, tags: f.tags });
  const days = list(f.hours_days);
  return {
    name: f.name ?? "",
    channel_id: f.channel_id ?? "",
    min_severity: f.min_severity || "INFO",
    alert_types: list(f.alert_types),
    scope,
    transitions: list(f.transitions),
    throttle_seconds: durationSeconds(f.throttle, f.throttle_unit) ?? 0,
    active_hours: f.hours_on === "on" ? { start: f.hours_start ?? "", end: f.hours_end ?? "", timezone: f.hours_zone ?? "", ...(days.length ? { days } : {}) } : null,
    enabled: f.enabled === "on",
  };
}

/** A stored rule as the form's values. */
function routeValues(r: RouteRow): Record<string, string> {
  return {
    name: r.name,
    channel_id: r.channel_id,
    min_severity: r.min_severity,
    alert_types: r.alert_types.join(","),
    ...scopeValues(r.scope),
    transitions: r.transitions.join(","),
    ...durationValues("throttle", r.throttle_seconds),
    hours_on: r.active_hours ? "on" : "",
    hours_start: r.active_hours?.start ?? "08:00",
    hours_end: r.active_hours?.end ?? "18:00",
    hours_zone: r.active_hours?.timezone ?? "",
    hours_days: (r.active_hours?.days ?? []).join(","),
    enabled: r.enabled ? "on" : "",
  };
}

/** "Mon–Fri 08:00–18:00 Europe/Berlin", or "Always". */
export function activeHoursText(h: RouteRow["active_hours"]): string {
  if (!h) return "Always";
  const days = h.days?.length ? WEEK.filter((d) => h.days!.includes(d)).map((d) => DAY_LABEL[d]).join(", ") + " " : "";
  return `${days}${h.start}–${h.end} ${h.timezone}`;
}

export function routePages(env: PageEnv, deps: NotifyPageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const { auth, notify } = deps;
  const fleet = { db: auth.db, clock: auth.clock };

  app.get("/notifications/routes", async (c) => {
    const blocked = needsTenant(c, env, "routes");
    if (blocked) return blocked;
    const ctx = ctxFrom(c);
    const admin = can(ctx, "admin");
    const [routes, channels, sites] = await Promise.all([listNotificationRoutes(notify, ctx), listNotificationChannels(notify, ctx), listSiteChoices(fleet, ctx)]);
    const channelOf = new Map(channels.map((ch) => [ch.id, ch]));
    const siteNames = new Map(sites.map((s) => [s.id, s.name]));
    const columns: Column<Route>[] = [
      { key: "name", label: "Name", sort: true, class: "name-col", cell: (r) => html`<a class="person-name" href=${`/notifications/routes/${r.id}`}>${r.name}</a>` },
      {
        key: "channel",
        label: "Channel",
        sort: true,
        class: "name-col",
        cell: (r) => {
          const ch = channelOf.get(r.channel_id);
          return html`<span class="person">
            <a href=${`/notifications/channels/${r.channel_id}`}>${ch?.name ?? r.channel_id}</a>
            <span class="person-sub muted">${TypeMark({ type: r.channel_type })}${r.channel_enabled ? null : " · channel disabled"}</span>
          </span>`;
        },
      },
      { key: "severity", label: "Severity", sort: true, cell: (r) => html`<span class="nowrap">${SeverityBadge({ severity: r.min_severity })}${r.min_severity === "CRITICAL" ? " only" : r.min_severity === "INFO" ? " or any" : " and above"}</span>` },
      { key: "types", label: "Alerts", cell: (r) => (r.alert_types.length ? r.alert_types.map((t) => TYPE_LABEL[t] ?? t).join(", ") : "Every type") },
      { key: "scope", label: "Devices", class: "hide-narrow", cell: (r) => scopeText(r.scope, siteNames) },
      { key: "transitions", label: "When", cell: (r) => r.transitions.join(", ") },
      { key: "throttle", label: "Throttle", class: "hide-narrow", cell: (r) => (r.throttle_seconds ? `once per ${humanDuration(r.throttle_seconds)}` : html`<span class="muted">none</span>`) },
      { key: "hours", label: "Active", class: "hide-narrow", cell: (r) => activeHoursText(r.active_hours) },
      { key: "state", label: "State", cell: (r) => (r.enabled ? Badge({ tone: "ok", text: "ENABLED", icon: "check" }) : Badge({ tone: "idle", text: "DISABLED", icon: "dash" })) },
      ...(admin
        ? [
            {
              key: "actions",
              label: "",
              class: "actions-col",
              cell: (r: Route) => html`<div class="row-actions">
                <a class="btn btn-sm" href=${`/notifications/routes/${r.id}`}>Edit</a>
                ${ConfirmAction({ c, label: "Delete", small: true, action: `/notifications/routes/${r.id}/delete`, message: html`Delete <strong>${r.name}</strong>? Alerts it matched stop reaching its channel (unless another rule sends them there).`, confirm: "Delete rule" })}
              </div>`,
            },
          ]
        : []),
    ];
    const sort = parseSort(c.req.url, columns, { key: "name", dir: "asc" });
    const sortKey: Record<string, (r: Route) => string | number> = {
      name: (r) => r.name.toLowerCase(),
      channel: (r) => (channelOf.get(r.channel_id)?.name ?? "").toLowerCase(),
      severity: (r) => SEVERITY_RANK[r.min_severity],
    };
    const rows = sortRows(routes, sortKey[sort.key] ?? sortKey.name!, sort.dir);
    return renderPage(
      c,
      env,
      { title: "Routing rules", active: "notifications" },
      html`${PageHeader({
          title: "Notifications",
          description: "Each routing rule sends the alert changes it matches to one channel. An alert matching several rules goes to each of their channels.",
          actions: admin && channels.length ? html`<a class="btn btn-primary" href="/notifications/routes/new">New routing rule</a>` : undefined,
        })}
        ${NotifyTabs({ current: "routes" })}
        ${DataTable({
          label: "Routing rules",
          columns,
          rows,
          sort,
          url: c.req.url,
          rowKey: (r) => r.id,
          empty: {
            title: "No routing rules yet",
            body: channels.length
              ? admin
                ? "Add one to send alerts to a channel: pick the channel, the lowest severity, and optionally sites, tags and hours."
                : "A tenant-admin adds them. Until then no alert is sent anywhere."
              : "Add a channel first, then a rule that sends alerts to it.",
            actions: admin ? [channels.length ? { label: "New routing rule", href: "/notifications/routes/new", primary: true } : { label: "New channel", href: "/notifications/channels/new", primary: true }] : [],
          },
        })}`,
    );
  });

  const NEW: Record<string, string> = { min_severity: "HIGH", transitions: "triggered,resolved", throttle: "0", throttle_unit: "min", hours_start: "08:00", hours_end: "18:00", hours_days: "MO,TU,WE,TH,FR", enabled: "on" };

  app.get("/notifications/routes/new", async (c) => {
    requirePermission(ctxFrom(c), "admin", "add routing rules");
    return routePage(c, undefined, emptyForm({ ...NEW, channel_id: c.req.query("channel") ?? "" }));
  });

  app.get("/notifications/routes/:id", async (c) => {
    const route = await findRoute(c, c.req.param("id"));
    return routePage(c, route, emptyForm(routeValues(route)));
  });

  const save = async (c: Context<HttpEnv>, id: string | undefined) => {
    const ctx = ctxFrom(c);
    const values = await postedValues(c);
    const current = id ? await findRoute(c, id) : undefined;
    try {
      const r = await saveNotificationRoute(notify, ctx, id, routeInputFrom(values));
      return redirectWithFlash(c, "/notifications/routes", { kind: "ok", text: `${id ? "Saved" : "Created"} “${r.name}”.` });
    } catch (err) {
      const state = formError(err, values, FIELD_MAP, KNOWN);
      if (state.errors.transitions) state.errors.transitions = "Tick at least one: triggered, acknowledged or resolved.";
      return routePage(c, current, state, 400);
    }
  };
  app.post("/notifications/routes", (c) => save(c, undefined));
  app.post("/notifications/routes/:id", (c) => save(c, c.req.param("id")));

  app.post("/notifications/routes/:id/delete", async (c) => {
    const id = c.req.param("id");
    const route = await findRoute(c, id).catch(() => undefined);
    try {
      await deleteNotificationRoute(notify, ctxFrom(c), id);
    } catch (err) {
      return redirectWithError(c, "/notifications/routes", err);
    }
    return redirectWithFlash(c, "/notifications/routes", { kind: "ok", text: `Deleted “${route?.name ?? "the routing rule"}”.` });
  });

  async function findRoute(c: Context<HttpEnv>, id: string): Promise<Route> {
    const route = (await listNotificationRoutes(notify, ctxFrom(c))).find((r) => r.id === id);
    if (!route) throw notFound(`routing rule ${id}`);
    return route;
  }

  async function routePage(c: Context<HttpEnv>, route: Route | undefined, form: FormState, status = 200): Promise<Response> {
    const ctx = ctxFrom(c);
    const admin = can(ctx, "admin");
    const [channels, sites, zone] = await Promise.all([listNotificationChannels(notify, ctx), listSiteChoices(fleet, ctx), viewerTimeZone(auth, principalOf(c))]);
    const title = route ? route.name : "New routing rule";
    return renderPage(
      c,
      env,
      { title, active: "notifications", status },
      html`<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="/notifications">Notifications</a><span aria-hidden="true"> / </span><a href="/notifications/routes">Routing rules</a><span aria-hidden="true"> / </span><span>${route ? "Edit" : "New"}</span></nav>
        ${PageHeader({
          title,
          description: "Alert changes that match every filter below go to the channel.",
          actions:
            route && admin
              ? ConfirmAction({ c, label: "Delete", action: `/notifications/routes/${route.id}/delete`, message: html`Delete <strong>${route.name}</strong>? Alerts it matched stop reaching its channel.`, confirm: "Delete rule" })
              : undefined,
        })}
        ${channels.length
          ? RouteForm({ c, route, form, admin, channels, sites, zone })
          : EmptyState({ title: "No channels yet", body: "A routing rule sends alerts to a channel: add the channel first.", actions: admin ? [{ label: "New channel", href: "/notifications/channels/new", primary: true }] : [] })}`,
    );
  }

  return app;
}

function Checks(p: { id: string; name: string; label: string; form: FormState; choices: ReadonlyArray<{ value: string; label: string }>; hint?: string }): VNode {
  const on = new Set(list(p.form.values[p.name]));
  return FieldShell({
    id: p.id,
    label: p.label,
    name: p.name,
    form: p.form,
    hint: p.hint,
    children: html`<div class="choice-row" id=${p.id} role="group" aria-label=${p.label}>
      ${p.choices.map((o) => html`<label class="choice"><input type="checkbox" name=${p.name} value=${o.value} checked=${on.has(o.value)} /> ${o.label}</label>`)}
    </div>`,
  });
}

function RouteForm(p: { c: Context<HttpEnv>; route?: Route; form: FormState; admin: boolean; channels: Channel[]; sites: Array<{ id: string; name: string }>; zone: string }): VNode {
  const f = p.form;
  const id = "rt";
  const selectedSites = new Set(list(f.values.sites));
  const zone = f.values.hours_zone || p.zone;
  const input = (name: string, label: string, type: string) =>
    FieldShell({ id: `${id}-${name}`, label, name, form: f, children: html`<input id=${`${id}-${name}`} name=${name} type=${type} value=${f.values[name] ?? ""} ...${fieldAria({ id: `${id}-${name}`, name, form: f })} />` });
  return html`<form method="post" action=${p.route ? `/notifications/routes/${p.route.id}` : "/notifications/routes"} class="form route-form card" novalidate>
    ${CsrfField(p.c)} ${FormAlert({ form: f })}
    <fieldset class="plain-fieldset" disabled=${!p.admin}>
      ${p.admin ? null : html`<p class="hint">Read-only: tenant-admins change routing rules.</p>`}
      <div class="form-grid">
        ${TextField({ name: "name", label: "Name", form: f, idPrefix: id, placeholder: "Critical to on-call", maxlength: 200 })}
        ${SelectField({
          name: "channel_id",
          label: "Channel",
          form: f,
          idPrefix: id,
          options: [{ value: "", label: "Choose a channel…" }, ...p.channels.map((ch) => ({ value: ch.id, label: `${ch.name} (${ch.type})${ch.enabled ? "" : " — disabled"}` }))],
        })}
        ${SelectField({
          name: "min_severity",
          label: "Lowest severity",
          form: f,
          idPrefix: id,
          options: SEVERITIES.map((s) => ({ value: s, label: s === "CRITICAL" ? "CRITICAL only" : s === "INFO" ? "INFO and above (everything)" : `${s} and above` })),
        })}
      </div>
      ${Checks({ id: `${id}-alert_types`, name: "alert_types", label: "Alert types", form: f, choices: Object.entries(TYPE_LABEL).map(([value, label]) => ({ value, label })), hint: "None ticked: every type." })}
      ${Checks({ id: `${id}-transitions`, name: "transitions", label: "Notify when an alert is", form: f, choices: ROUTED_EVENTS.map((t) => ({ value: t, label: TRANSITION_LABEL[t] ?? t })) })}
      <fieldset class="plain-fieldset scope-fields">
        <legend class="label-like">Which devices</legend>
        <p class="hint">Leave both empty for every device; otherwise a device must match each one given.</p>
        ${p.sites.length
          ? FieldShell({
              id: `${id}-sites`,
              label: "Sites",
              name: "sites",
              form: f,
              optional: true,
              hint: "Hold Ctrl (⌘ on a Mac) to pick several.",
              children: html`<select id=${`${id}-sites`} name="sites" multiple size=${Math.min(5, Math.max(3, p.sites.length))} ...${fieldAria({ id: `${id}-sites`, name: "sites", form: f, hint: true })}>
                ${p.sites.map((s) => html`<option value=${s.id} selected=${selectedSites.has(s.id)}>${s.name}${s.name !== s.id ? ` (${s.id})` : ""}</option>`)}
              </select>`,
            })
          : html`<input type="hidden" name="sites" value=${f.values.sites ?? ""} />`}
        ${FieldShell({
          id: `${id}-tags`,
          label: "Tags",
          name: "tags",
          form: f,
          optional: true,
          hint: html`<code>key=value</code> pairs, separated by commas: <code>zone=north, line=2</code>`,
          children: html`<input id=${`${id}-tags`} name="tags" type="text" value=${f.values.tags ?? ""} autocomplete="off" ...${fieldAria({ id: `${id}-tags`, name: "tags", form: f, hint: true })} />`,
        })}
      </fieldset>
      ${DurationField({ name: "throttle", label: "Throttle", form: f, idPrefix: id, hint: "At most one notification per alert in this time (0: every change)." })}
      <fieldset class="plain-fieldset scope-fields active-hours">
        <legend class="label-like">Active hours</legend>
        ${CheckboxField({ name: "hours_on", label: "Only at certain times (outside them, matching alerts are not sent here)", form: f, idPrefix: id })}
        <div class="hours-fields">
          <div class="form-grid">
            ${input("hours_start", "From", "time")} ${input("hours_end", "Until", "time")}
            ${FieldShell({
              id: `${id}-hours_zone`,
              label: "Time zone",
              name: "hours_zone",
              form: f,
              children: html`<select id=${`${id}-hours_zone`} name="hours_zone" ...${fieldAria({ id: `${id}-hours_zone`, name: "hours_zone", form: f })}>
                ${timeZoneChoices().map((z) => html`<option value=${z} selected=${z === zone}>${z}</option>`)}
              </select>`,
            })}
          </div>
          ${Checks({ id: `${id}-hours_days`, name: "hours_days", label: "Days", form: f, choices: WEEK.map((d) => ({ value: d, label: DAY_LABEL[d]! })), hint: "None ticked: every day. A span past midnight belongs to the day it starts." })}
        </div>
      </fieldset>
      ${CheckboxField({ name: "enabled", label: "Enabled", form: f, idPrefix: id })}
    </fieldset>
    <div class="actions">
      ${p.admin
        ? html`<button class="btn btn-primary" type="submit">${p.route ? "Save routing rule" : "Create routing rule"}</button>
            <a class="btn btn-ghost" href="/notifications/routes">Cancel</a>`
        : html`<a class="btn" href="/notifications/routes">Back to the routing rules</a>`}
    </div>
  </form>`;
}
