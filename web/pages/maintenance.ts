// Maintenance windows: planned work during which alerts are recorded but
// marked suppressed and not notified. One-off (a start and an end in the
// tenant's zone) or recurring (daily, or weekly on chosen days, at a local
// time in any zone, for a duration), over sites, tags or devices. The list
// says which are active now and when each happens next.

import { Hono, type Context } from "hono";
import { deleteMaintenanceWindow, listMaintenanceWindows, saveMaintenanceWindow, type MaintenanceWindow, type WindowInput } from "../../src/alerts/maintenance.ts";
import { WEEKDAY_CODES, type WeekdayCode } from "../../src/alerts/windows.ts";
import type { Auth } from "../../src/auth/index.ts";
import { callerFrom, ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import { listSiteChoices } from "../../src/fleet/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can } from "../../src/lib/ctx.ts";
import { addDays, instantOrAfterGap, localParts } from "../../src/lib/zoned.ts";
import { Badge } from "../components/badges.ts";
import { EmptyState } from "../components/empty.ts";
import { DurationField, durationSeconds, durationValues, FieldShell, fieldAria } from "../components/field.ts";
import { ConfirmAction, CsrfField, emptyForm, FormAlert, formError, redirectWithError, SelectField, TextField, type FormState } from "../components/form.ts";
import { humanDuration, RelativeTime, zonedTimeToDate } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { postedValues, SCOPE_FIELDS, ScopeFields, scopeFromForm, scopeText, scopeValues } from "../components/scope.ts";
import { withQuery } from "../components/table.ts";
import { localDateValue, localInputValue, timeZoneChoices } from "../components/when.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";

const DAY_LABEL: Record<WeekdayCode, string> = { MO: "Mon", TU: "Tue", WE: "Wed", TH: "Thu", FR: "Fri", SA: "Sat", SU: "Sun" };
const WEEK: WeekdayCode[] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/** The next occurrence that starts after `now` (ms), looking up to two weeks ahead; undefined when there is none. */
export function nextOccurrence(w: Pick<MaintenanceWindow, "starts_at" | "ends_at" | "recurrence">, now: number): { start: number; end: number } | undefined {
  const startsAt = w.starts_at.getTime();
  const endsAt = w.ends_at?.getTime() ?? null;
  if (!w.recurrence) return startsAt > now ? { start: startsAt, end: endsAt ?? Infinity } : undefined;
  const r = w.recurrence;
  const [hh, mm] = r.start.split(":").map(Number) as [number, number];
  const first = localParts(startsAt, r.timezone);
  const firstKey = first.year * 10_000 + first.month * 100 + first.day;
  const today = localParts(now, r.timezone);
  for (let i = 0; i <= 15; i++) {
    const day = addDays(today, i);
    if (day.year * 10_000 + day.month * 100 + day.day < firstKey) continue;
    const weekday = new Date(Date.UTC(day.year, day.month - 1, day.day)).getUTCDay();
    if (r.freq === "weekly" && !(r.days ?? []).includes(WEEKDAY_CODES[weekday]!)) continue;
    const start = instantOrAfterGap({ ...day, hour: hh, minute: mm }, r.timezone);
    if (endsAt !== null && start >= endsAt) return undefined;
    if (start > now) return { start, end: start + r.durationMinutes * 60_000 };
  }
  return undefined;
}

/** "27 Nov 2025, 02:00 CET": a window's edges, to the minute. */
function minuteTime(t: Date, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone: zone, day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" }).format(t);
}

/** "27 Nov 2025": a recurring window's first or last day. */
function dayOf(t: Date, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone: zone, day: "numeric", month: "short", year: "numeric" }).format(t);
}

/** "Weekly on Mon, Wed at 02:00 for 2 h (Europe/Berlin)". */
function recurrenceText(r: NonNullable<MaintenanceWindow["recurrence"]>): string {
  const days = r.freq === "weekly" ? ` on ${WEEK.filter((d) => r.days?.includes(d)).map((d) => DAY_LABEL[d]).join(", ")}` : "";
  return `${r.freq === "daily" ? "Daily" : "Weekly"}${days} at ${r.start} for ${humanDuration(r.durationMinutes * 60)} (${r.timezone})`;
}

function windowValues(w: MaintenanceWindow, zone: string): Record<string, string> {
  const scope = scopeValues(w.scope);
  if (!w.recurrence) return { name: w.name, kind: "once", starts: localInputValue(w.starts_at, zone), ends: w.ends_at ? localInputValue(w.ends_at, zone) : "", ...scope, timezone: zone, freq: "daily", rec_start: "02:00", duration: "2", duration_unit: "h" };
  const r = w.recurrence;
  return {
    name: w.name,
    kind: "recurring",
    freq: r.freq,
    days: (r.days ?? []).join(","),
    rec_start: r.start,
    ...durationValues("duration", r.durationMinutes * 60),
    timezone: r.timezone,
    from: localDateValue(w.starts_at, r.timezone),
    until: w.ends_at ? localDateValue(new Date(w.ends_at.getTime() - 1), r.timezone) : "",
    ...scope,
  };
}

/** The service's input from the form: times are wall-clock in the tenant's zone (one-off) or the window's own zone (recurring). */
export function windowInputFrom(f: Record<string, string | undefined>, tenantZone: string): WindowInput {
  const base = { name: f.name ?? "", scope: scopeFromForm(f) };
  if (f.kind !== "recurring") {
    const at = (v: string | undefined) => (v ? (zonedTimeToDate(v, tenantZone)?.toISOString() ?? "unreadable") : "");
    return { ...base, startsAt: at(f.starts), endsAt: f.ends ? at(f.ends) : null };
  }
  const zone = f.timezone || tenantZone;
  const seconds = durationSeconds(f.duration, f.duration_unit);
  const day = (v: string | undefined) => (v ? zonedTimeToDate(v, zone) : undefined);
  const until = day(f.until);
  return {
    ...base,
    startsAt: (day(f.from) ?? new Date()).toISOString(),
    // The last day is included: the window may start until the end of it.
    endsAt: until ? new Date(until.getTime() + 86_400_000).toISOString() : null,
    recurrence: {
      freq: f.freq,
      ...(f.freq === "weekly" ? { days: (f.days ?? "").split(",").filter(Boolean) } : {}),
      start: f.rec_start ?? "",
      duration_minutes: seconds === undefined ? undefined : seconds / 60,
      timezone: zone,
    },
  };
}

function fieldMap(kind: string | undefined): Record<string, string> {
  const recurring = kind === "recurring";
  return {
    ...SCOPE_FIELDS,
    starts_at: recurring ? "from" : "starts",
    ends_at: recurring ? "until" : "ends",
    "recurrence.freq": "freq",
    "recurrence.start": "rec_start",
    "recurrence.duration_minutes": "duration",
    "recurrence.timezone": "timezone",
    "recurrence.days": "days",
  };
}
const KNOWN = ["name", "starts", "ends", "from", "until", "freq", "rec_start", "duration", "timezone", "days", "sites", "tags", "devices"];

export function maintenancePages(env: PageEnv, auth: Auth): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const deps = { db: auth.db, clock: auth.clock };

  app.get("/maintenance", async (c) => {
    if (!callerFrom(c).tenantId) {
      return renderPage(
        c,
        env,
        { title: "Maintenance", active: "maintenance" },
        html`${PageHeader({ title: "Maintenance windows" })} ${EmptyState({ title: "Maintenance windows belong to a tenant", body: "Choose a tenant in the top bar to see its maintenance windows." })}`,
      );
    }
    const ctx = ctxFrom(c);
    const url = new URL(c.req.url);
    const ended = url.searchParams.get("ended") === "1";
    const zone = await viewerTimeZone(auth, principalOf(c));
    const [windows, sites] = await Promise.all([listMaintenanceWindows(deps, ctx, { includeEnded: ended }), listSiteChoices(deps, ctx)]);
    const siteNames = new Map(sites.map((s) => [s.id, s.name]));
    const plan = can(ctx, "use");
    const now = auth.clock.now();
    return renderPage(
      c,
      env,
      { title: "Maintenance", active: "maintenance" },
      html`${PageHeader({
          title: "Maintenance windows",
          description: "Planned work: alerts raised inside a window are recorded and marked suppressed, but nobody is notified.",
          actions: html`<a class="btn" href=${withQuery(url, { ended: ended ? null : "1" })}>${ended ? "Hide ended windows" : "Show ended windows"}</a>${plan
            ? html`<a class="btn btn-primary" href="/maintenance/new">Plan maintenance</a>`
            : null}`,
        })}
        ${windows.length
          ? html`<div class="table-wrap">
              <table class="data" data-table="Maintenance windows" aria-label="Maintenance windows">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">When</th>
                    <th scope="col" class="hide-narrow">Covers</th>
                    <th scope="col">Status</th>
                    ${plan ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}
                  </tr>
                </thead>
                <tbody>
                  ${windows.map((w) => WindowRow({ c, w, now, zone, siteNames, plan }))}
                </tbody>
              </table>
            </div>`
          : EmptyState({
              title: ended ? "No maintenance windows" : "No maintenance planned",
              body: plan ? "Plan one before work on a site, so the alerts it causes wake nobody up." : "Customers and tenant-admins plan maintenance here.",
              actions: plan ? [{ label: "Plan maintenance", href: "/maintenance/new", primary: true }] : [],
            })}`,
    );
  });

  app.get("/maintenance/new", async (c) => {
    const zone = await viewerTimeZone(auth, principalOf(c));
    const now = auth.clock.now();
    const start = new Date(Math.ceil(now.getTime() / 900_000) * 900_000);
    return formPage(
      c,
      undefined,
      emptyForm({
        kind: "once",
        starts: localInputValue(start, zone),
        ends: localInputValue(new Date(start.getTime() + 2 * 3_600_000), zone),
        freq: "weekly",
        days: "SU",
        rec_start: "02:00",
        duration: "2",
        duration_unit: "h",
        timezone: zone,
        from: localDateValue(now, zone),
      }),
    );
  });

  app.get("/maintenance/:id", async (c) => {
    const w = await findWindow(c, c.req.param("id"));
    if (!w) return c.notFound();
    return formPage(c, w, emptyForm(windowValues(w, await viewerTimeZone(auth, principalOf(c)))));
  });

  async function findWindow(c: Context<HttpEnv>, id: string): Promise<MaintenanceWindow | undefined> {
    return (await listMaintenanceWindows(deps, ctxFrom(c), { includeEnded: true })).find((w) => w.id === id);
  }

  const save = async (c: Context<HttpEnv>, id: string | undefined) => {
    const ctx = ctxFrom(c);
    const values = await postedValues(c);
    const zone = await viewerTimeZone(auth, principalOf(c));
    const current = id ? await findWindow(c, id) : undefined;
    if (id && !current) return c.notFound();
    try {
      const w = await saveMaintenanceWindow(deps, ctx, id, windowInputFrom(values, zone));
      return redirectWithFlash(c, "/maintenance", {
        kind: "ok",
        text: `${id ? "Saved" : "Planned"} “${w.name}”${w.activeNow ? ": it is active now, alerts on the devices it covers are not notified" : ""}.`,
      });
    } catch (err) {
      return formPage(c, current, formError(err, values, fieldMap(values.kind), KNOWN), 400);
    }
  };
  app.post("/maintenance", (c) => save(c, undefined));
  app.post("/maintenance/:id", (c) => save(c, c.req.param("id")));

  app.post("/maintenance/:id/delete", async (c) => {
    const ctx = ctxFrom(c);
    const id = c.req.param("id");
    const w = await findWindow(c, id).catch(() => undefined);
    try {
      await deleteMaintenanceWindow(deps, ctx, id);
    } catch (err) {
      return redirectWithError(c, "/maintenance", err);
    }
    return redirectWithFlash(c, "/maintenance", { kind: "ok", text: `Removed “${w?.name ?? "the window"}”: alerts on its devices are notified again.` });
  });

  async function formPage(c: Context<HttpEnv>, w: MaintenanceWindow | undefined, form: FormState, status = 200): Promise<Response> {
    const ctx = ctxFrom(c);
    const zone = await viewerTimeZone(auth, principalOf(c));
    const sites = await listSiteChoices(deps, ctx);
    const title = w ? w.name : "Plan maintenance";
    return renderPage(
      c,
      env,
      { title, active: "maintenance", status },
      html`<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="/maintenance">Maintenance</a><span aria-hidden="true"> / </span><span>${w ? "Edit" : "New"}</span></nav>
        ${PageHeader({ title, description: "Alerts on the covered devices are recorded during the window and marked suppressed; nobody is notified." })}
        ${WindowForm({ c, w, form, zone, sites, plan: can(ctx, "use") })}`,
    );
  }

  return app;
}

function WindowRow(p: { c: Context<HttpEnv>; w: MaintenanceWindow; now: Date; zone: string; siteNames: Map<string, string>; plan: boolean }): VNode {
  const w = p.w;
  const next = w.activeNow ? undefined : nextOccurrence(w, p.now.getTime());
  const ended = !w.activeNow && !next;
  return html`<tr class="row-link" data-window=${w.name}>
    <td><a class="row-anchor" href=${`/maintenance/${w.id}`}>${w.name}</a></td>
    <td>
      ${w.recurrence
        ? html`${recurrenceText(w.recurrence)}
            <div class="muted small">
              from ${dayOf(w.starts_at, w.recurrence.timezone)}${w.ends_at ? ` until ${dayOf(new Date(w.ends_at.getTime() - 1), w.recurrence.timezone)}` : ""}
            </div>`
        : html`${minuteTime(w.starts_at, p.zone)} → ${w.ends_at ? minuteTime(w.ends_at, p.zone) : "open end"}
            <div class="muted small">${w.ends_at ? humanDuration((w.ends_at.getTime() - w.starts_at.getTime()) / 1000) : ""}</div>`}
    </td>
    <td class="hide-narrow">${scopeText(w.scope, p.siteNames)}</td>
    <td data-window-status>
      ${w.activeNow
        ? html`${Badge({ tone: "accent", text: "ACTIVE NOW", icon: "check" })}
            <div class="muted small">${w.activeNow.end ? html`ends ${RelativeTime({ t: w.activeNow.end, now: p.now, timeZone: p.zone })}` : "no end"}</div>`
        : next
          ? html`<span class="muted">Next</span> ${RelativeTime({ t: new Date(next.start), now: p.now, timeZone: p.zone })}
              <div class="muted small">${minuteTime(new Date(next.start), p.zone)}</div>`
          : Badge({ tone: "idle", text: ended ? "ENDED" : "—" })}
    </td>
    ${p.plan
      ? html`<td>
          <div class="row-actions">
            <a class="btn btn-sm" href=${`/maintenance/${w.id}`}>Edit</a>
            ${ConfirmAction({
              c: p.c,
              label: "Delete",
              small: true,
              action: `/maintenance/${w.id}/delete`,
              message: html`Remove <strong>${w.name}</strong>?${w.activeNow ? " It is active now: alerts on its devices are notified again from this moment." : " It will not suppress alerts any more."}`,
              confirm: "Remove window",
            })}
          </div>
        </td>`
      : null}
  </tr>`;
}

function WindowForm(p: { c: Context<HttpEnv>; w?: MaintenanceWindow; form: FormState; zone: string; sites: Array<{ id: string; name: string }>; plan: boolean }): VNode {
  const f = p.form;
  const id = "mw";
  const kind = f.values.kind === "recurring" ? "recurring" : "once";
  const days = new Set((f.values.days ?? "").split(","));
  const zones = timeZoneChoices();
  return html`<form method="post" action=${p.w ? `/maintenance/${p.w.id}` : "/maintenance"} class="form card maintenance-form" novalidate>
    ${CsrfField(p.c)} ${FormAlert({ form: f })}
    <fieldset class="plain-fieldset" disabled=${!p.plan}>
      ${TextField({ name: "name", label: "Name", form: f, idPrefix: id, placeholder: "Firmware rollout, plant 2", maxlength: 200 })}
      <fieldset class="plain-fieldset">
        <legend class="label-like">Happens</legend>
        <div class="choice-row">
          <label class="choice"><input type="radio" name="kind" value="once" checked=${kind === "once"} /> Once</label>
          <label class="choice"><input type="radio" name="kind" value="recurring" checked=${kind === "recurring"} /> Repeatedly</label>
        </div>
      </fieldset>
      <fieldset class="plain-fieldset kind-once">
        <legend class="label-like">Once — in ${p.zone}</legend>
        <div class="form-grid">
          ${LocalTimeField({ id: `${id}-starts`, name: "starts", label: "Starts", form: f, type: "datetime-local" })}
          ${LocalTimeField({ id: `${id}-ends`, name: "ends", label: "Ends", form: f, type: "datetime-local" })}
        </div>
      </fieldset>
      <fieldset class="plain-fieldset kind-recurring">
        <legend class="label-like">Repeatedly</legend>
        <div class="form-grid">
          ${SelectField({ name: "freq", label: "Every", form: f, idPrefix: id, options: [{ value: "daily", label: "day" }, { value: "weekly", label: "week, on the days below" }] })}
          ${LocalTimeField({ id: `${id}-rec_start`, name: "rec_start", label: "Starting at", form: f, type: "time" })}
          ${DurationField({ name: "duration", label: "For", form: f, idPrefix: id })}
          ${FieldShell({
            id: `${id}-timezone`,
            label: "Time zone",
            name: "timezone",
            form: f,
            children: html`<select id=${`${id}-timezone`} name="timezone" ...${fieldAria({ id: `${id}-timezone`, name: "timezone", form: f })}>
              ${zones.map((z) => html`<option value=${z} selected=${z === (f.values.timezone ?? p.zone)}>${z}</option>`)}
            </select>`,
          })}
        </div>
        ${FieldShell({
          id: `${id}-days`,
          label: "Days (weekly)",
          name: "days",
          form: f,
          children: html`<div class="choice-row" id=${`${id}-days`} role="group" aria-label="Days of the week">
            ${WEEK.map((d) => html`<label class="choice"><input type="checkbox" name="days" value=${d} checked=${days.has(d)} /> ${DAY_LABEL[d]}</label>`)}
          </div>`,
        })}
        <div class="form-grid">
          ${LocalTimeField({ id: `${id}-from`, name: "from", label: "From (first day)", form: f, type: "date" })}
          ${LocalTimeField({ id: `${id}-until`, name: "until", label: "Until (last day)", form: f, type: "date", optional: true })}
        </div>
      </fieldset>
      ${ScopeFields({ form: f, sites: p.sites, idPrefix: id, legend: "Covers" })}
    </fieldset>
    <div class="actions">
      ${p.plan ? html`<button class="btn btn-primary" type="submit">${p.w ? "Save window" : "Plan maintenance"}</button>` : null}
      <a class="btn btn-ghost" href="/maintenance">Cancel</a>
    </div>
  </form>`;
}

function LocalTimeField(p: { id: string; name: string; label: string; form: FormState; type: "datetime-local" | "date" | "time"; optional?: boolean }): VNode {
  return FieldShell({
    id: p.id,
    label: p.label,
    name: p.name,
    form: p.form,
    optional: p.optional,
    children: html`<input id=${p.id} name=${p.name} type=${p.type} value=${p.form.values[p.name] ?? ""} ...${fieldAria({ id: p.id, name: p.name, form: p.form })} />`,
  });
}
