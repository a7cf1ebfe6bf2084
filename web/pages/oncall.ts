// On-call schedules: the list (who is on call now for each, until when, and
// whether the next two weeks have gaps) and a schedule's page — who is on
// call now with "take over for the next N hours", the 14-day timeline (one
// row per layer, overrides, and who is paged; gaps, now and DST changes
// marked), the gap and overlap report, overrides, and the layers. Layers are
// edited in oncall-layers.ts, the sections under the timeline are in
// oncall-sections.ts; "my on-call" and contact methods live in oncall-me.ts. Tenant-admins change schedules; everyone in the tenant reads
// them and may take over for themselves.

import { Hono, type Context } from "hono";
import { ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can } from "../../src/lib/ctx.ts";
import { AppError } from "../../src/lib/errors.ts";
import { instantOrAfterGap, localParts } from "../../src/lib/zoned.ts";
import { currentOnCall, listOnCallNow, listOnCallPeople, scheduleCoverage, scheduleLayerTimelines, scheduleTimeline, type Person, type ScheduleNow } from "../../src/oncall/calendar.ts";
import { addScheduleOverride, createOnCallSchedule, deleteOnCallSchedule, getOnCallSchedule, listScheduleOverrides, removeScheduleOverride, updateOnCallSchedule } from "../../src/oncall/service.ts";
import { Badge } from "../components/badges.ts";
import { ConfirmAction, CsrfField, emptyForm, FormAlert, formError, redirectWithError, SelectField, TextField, type FormState } from "../components/form.ts";
import { formFields } from "../components/form-token.ts";
import { humanDuration, relativeTime } from "../components/format.ts";
import { OnCallTimeline, TimelineLegend, zonedSpan, zonedTime, type TimelineRow } from "../components/oncall-timeline.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { DataTable, withQuery, type Column } from "../components/table.ts";
import { timeZoneChoices } from "../components/when.ts";
import { html } from "../render.ts";
import { viewerTimeZone } from "./account.ts";
import { needsTenant, OnCallTabs, serviceDeps, type OnCallPageDeps } from "./oncall-common.ts";
import { LayersSection, layerPages } from "./oncall-layers.ts";
import { CoverageCard, OverridesCard, personLabel, SettingsCard, ShiftList } from "./oncall-sections.ts";
import { myOnCallPages } from "./oncall-me.ts";

const DAYS = 14;
const TAKE_OVER_HOURS = [1, 2, 4, 8, 12, 24];
const TIMELINE_ISLAND = "islands/timeline-hover.js";

const tenantBody = "Choose a tenant in the top bar to see its on-call schedules.";


/** Local midnight of a date in the zone ("YYYY-MM-DD"), or of today's date there. */
export function windowStart(zone: string, now: Date, date?: string): Date {
  const m = date ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(date) : null;
  const l = m ? { year: +m[1]!, month: +m[2]!, day: +m[3]! } : localParts(now.getTime(), zone);
  const valid = m ? !Number.isNaN(Date.UTC(l.year, l.month - 1, l.day)) && l.month >= 1 && l.month <= 12 && l.day >= 1 && l.day <= 31 && l.year >= 2000 && l.year <= 2200 : true;
  const d = valid ? l : localParts(now.getTime(), zone);
  return new Date(instantOrAfterGap({ year: d.year, month: d.month, day: d.day, hour: 0, minute: 0 }, zone));
}

/** "Tue 20 Oct" in the zone. */
const dayLabel = (t: Date, zone: string) => new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "short", day: "numeric", month: "short" }).format(t);

/** The date N days after a window's start, for the earlier/later links. */
function shiftDate(start: Date, zone: string, days: number): string {
  const l = localParts(start.getTime(), zone);
  const d = new Date(Date.UTC(l.year, l.month - 1, l.day + days));
  return d.toISOString().slice(0, 10);
}

export function oncallPages(env: PageEnv, deps: OnCallPageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const svc = serviceDeps(deps.auth);
  const clock = deps.auth.clock;

  // Before /oncall/:id, which would take "me" for a schedule's name.
  app.route("/", myOnCallPages(env, deps));

  app.get("/oncall", async (c) => {
    const blocked = needsTenant(c, env, { title: "On-call", active: "oncall", body: tenantBody });
    if (blocked) return blocked;
    const ctx = ctxFrom(c);
    const admin = can(ctx, "admin");
    const rows = await listOnCallNow(svc, ctx);
    const now = clock.now();
    const columns: Column<ScheduleNow>[] = [
      {
        key: "name",
        label: "Schedule",
        cell: (r) => html`<span class="person"><a class="person-name" href=${`/oncall/${r.schedule.id}`}>${r.schedule.name}</a><span class="person-sub muted">${r.schedule.timezone}</span></span>`,
      },
      {
        key: "now",
        label: "On call now",
        cell: (r) =>
          r.user
            ? html`<span class="person" data-on-call-now=${r.user.username}><strong>${personLabel(r.user)}</strong><span class="person-sub muted">${r.overrideId ? "override" : r.layer ? `layer ${r.layer.name}` : ""}</span></span>`
            : r.layers
              ? html`<span data-on-call-now="">${Badge({ tone: "bad", text: "GAP", icon: "offline", title: "Nobody is on call now" })} <span class="muted">nobody</span></span>`
              : html`<span class="muted" data-on-call-now="">No layers yet</span>`,
      },
      {
        key: "until",
        label: "Until",
        cell: (r) =>
          r.until ? html`<time datetime=${r.until.toISOString()} title=${zonedTime(r.until, r.schedule.timezone)}>${zonedTime(r.until, r.schedule.timezone)} <span class="muted">(${relativeTime(r.until, now)})</span></time>` : html`<span class="muted">—</span>`,
      },
      { key: "layers", label: "Layers", numeric: true, cell: (r) => String(r.layers) },
      {
        key: "gaps",
        label: "Next 14 days",
        cell: (r) => (r.gaps ? Badge({ tone: "warn", text: `${r.gaps} GAP${r.gaps === 1 ? "" : "S"}`, icon: "stale" }) : r.layers ? Badge({ tone: "ok", text: "COVERED", icon: "check" }) : html`<span class="muted">—</span>`),
      },
    ];
    return renderPage(
      c,
      env,
      { title: "On-call schedules", active: "oncall" },
      html`${PageHeader({
          title: "On-call",
          description: "Who gets paged, and when. Each schedule rotates people through layers in its own time zone; overrides put someone on call for a while.",
          actions: admin ? html`<a class="btn btn-primary" href="/oncall/new">New schedule</a>` : undefined,
        })}
        ${OnCallTabs({ current: "schedules" })}
        ${DataTable({
          label: "On-call schedules",
          columns,
          rows,
          url: c.req.url,
          rowKey: (r) => r.schedule.id,
          empty: {
            title: "No on-call schedules yet",
            body: admin
              ? "Create one: a name and a time zone, then a layer of people who take turns (daily, weekly or every few hours). Escalation policies page whoever is on call."
              : "A tenant-admin creates them. Until then escalation policies can page people directly.",
            actions: admin ? [{ label: "New schedule", href: "/oncall/new", primary: true }] : [],
          },
        })}`,
    );
  });

  const newPage = async (c: Context<HttpEnv>, form: FormState, status = 200) => {
    const zone = form.values.timezone || (await viewerTimeZone(deps.auth, principalOf(c)));
    return renderPage(
      c,
      env,
      { title: "New schedule", active: "oncall", status },
      html`<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="/oncall">On-call</a><span aria-hidden="true"> / </span><span>New schedule</span></nav>
        ${PageHeader({ title: "New on-call schedule", description: "A name and the time zone its handoffs happen in. Layers of people come next." })}
        <form method="post" action="/oncall" class="form card" novalidate>
          ${CsrfField(c)} ${FormAlert({ form })}
          ${TextField({ name: "name", label: "Name", form, idPrefix: "sched", placeholder: "Primary", maxlength: 200 })}
          ${SelectField({ name: "timezone", label: "Time zone", form: { ...form, values: { ...form.values, timezone: zone } }, idPrefix: "sched", options: timeZoneChoices().map((z) => ({ value: z, label: z })), hint: "Handoffs happen at wall-clock time here, across DST changes." })}
          <div class="actions"><button class="btn btn-primary" type="submit">Create schedule</button><a class="btn btn-ghost" href="/oncall">Cancel</a></div>
        </form>`,
    );
  };

  app.get("/oncall/new", (c) => newPage(c, emptyForm()));

  app.post("/oncall", async (c) => {
    const values = await formFields(c);
    try {
      const s = await createOnCallSchedule(svc, ctxFrom(c), { name: values.name, timezone: values.timezone });
      return redirectWithFlash(c, `/oncall/${s.id}/layers/new`, { kind: "ok", text: `Created the schedule “${s.name}” in ${s.timezone}. Now add a layer: the people who take turns.` });
    } catch (err) {
      return newPage(c, formError(err, values, {}, ["name", "timezone"]), 400);
    }
  });

  app.route("/", layerPages(env, deps));

  app.get("/oncall/:id", (c) => schedulePage(c, {}));

  interface Forms {
    override?: FormState;
    takeover?: FormState;
    settings?: FormState;
  }

  async function schedulePage(c: Context<HttpEnv>, forms: Forms, status = 200): Promise<Response> {
    const blocked = needsTenant(c, env, { title: "On-call", active: "oncall", body: tenantBody });
    if (blocked) return blocked;
    const ctx = ctxFrom(c);
    const admin = can(ctx, "admin");
    const schedule = await getOnCallSchedule(svc, ctx, c.req.param("id")!);
    const zone = schedule.timezone;
    const now = clock.now();
    const from = windowStart(zone, now, c.req.query("from"));
    // Local midnight to local midnight (14 × 24 h would end at 23:00 or 01:00 across a DST change).
    const to = windowStart(zone, now, shiftDate(from, zone, DAYS));
    // Read two days either side, so the shifts cut by the window's edges say their real start and end on hover.
    const wide = { from: new Date(from.getTime() - 2 * 86_400_000), days: DAYS + 4 };
    const [current, final, layerRows, overridesInWindow, upcoming, report] = await Promise.all([
      currentOnCall(svc, ctx, schedule.id),
      scheduleTimeline(svc, ctx, schedule.id, wide),
      scheduleLayerTimelines(svc, ctx, schedule.id, wide),
      listScheduleOverrides(svc, ctx, schedule.id, { from, to }),
      listScheduleOverrides(svc, ctx, schedule.id),
      scheduleCoverage(svc, ctx, schedule.id, { days: DAYS }),
    ]);
    const ids = [...new Set([...schedule.layers.flatMap((l) => l.users), ...overridesInWindow.map((o) => o.user_id), ...upcoming.map((o) => o.user_id)])];
    const people = await listOnCallPeople(svc, ctx, ids);
    const byId = new Map(people.map((p) => [p.id, p]));
    const who = (id: string): Person => byId.get(id) ?? { id, username: "(deleted user)", name: "" };

    const rows: TimelineRow[] = [
      ...layerRows.map((l) => ({ key: l.layer.id, label: l.layer.name, kind: "layer" as const, bars: l.segments.map((s) => ({ start: s.start, end: s.end, user: s.user, via: `layer ${l.layer.name}` })) })),
      ...(overridesInWindow.length ? [{ key: "overrides", label: "Overrides", kind: "override" as const, bars: overridesInWindow.map((o) => ({ start: o.starts_at, end: o.ends_at, user: who(o.user_id), via: "override" })) }] : []),
      { key: "final", label: "Who is paged", kind: "final", bars: final.segments.map((s) => ({ start: s.start, end: s.end, user: s.user, via: s.overrideId ? "override" : s.layer ? `layer ${s.layer.name}` : undefined })) },
    ];
    const shown = new Map<string, Person>();
    for (const r of rows) for (const b of r.bars) if (b.user && b.end > from && b.start < to) shown.set(b.user.id, b.user);
    const self = ctx.actor.kind === "user" && can(ctx, "use");
    const title = schedule.name;

    return renderPage(
      c,
      env,
      { title, active: "oncall", islands: [TIMELINE_ISLAND], status },
      html`<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="/oncall">On-call</a><span aria-hidden="true"> / </span><span>${title}</span></nav>
        ${PageHeader({
          title,
          description: html`Times in <strong data-zone>${zone}</strong>.${admin ? null : " Read-only: tenant-admins change schedules; you can take over for yourself."}`,
          actions: admin
            ? ConfirmAction({
                c,
                label: "Delete schedule",
                action: `/oncall/${schedule.id}/delete`,
                message: html`Delete <strong>${schedule.name}</strong> with its layers and overrides? Escalation policies that page it must be changed first. This is recorded in the audit log.`,
                confirm: "Delete schedule",
              })
            : undefined,
        })}
        <section class="card now-card" aria-labelledby="now-title" data-now-card>
          <div class="now-who">
            <h2 id="now-title" class="label-like">On call now</h2>
            ${current.user
              ? html`<p class="now-line">
                  <strong class="now-name" data-current=${current.user.username}>${personLabel(current.user)}</strong>
                  ${" "}<span class="muted">${current.overrideId ? "· override" : current.layer ? `· layer ${current.layer.name}` : ""}</span>
                  ${current.until ? html`<span> until <time datetime=${current.until.toISOString()}>${zonedTime(current.until, zone)}</time> <span class="muted">(${relativeTime(current.until, now)})</span></span>` : null}
                </p>`
              : html`<p class="now-line" data-current="">${Badge({ tone: "bad", text: "GAP", icon: "offline" })} Nobody is on call${current.until ? html` until <time datetime=${current.until.toISOString()}>${zonedTime(current.until, zone)}</time>` : null}.</p>`}
          </div>
          ${self
            ? html`<form method="post" action=${`/oncall/${schedule.id}/takeover`} class="takeover-form" data-takeover>
                ${CsrfField(c)}
                <label for="takeover-hours">Take over for the next</label>
                <select id="takeover-hours" name="hours">
                  ${TAKE_OVER_HOURS.map((h) => html`<option value=${String(h)} selected=${String(h) === (forms.takeover?.values.hours ?? "4")}>${h} ${h === 1 ? "hour" : "hours"}</option>`)}
                </select>
                <button class="btn btn-primary" type="submit">Take over</button>
                ${forms.takeover?.general || forms.takeover?.errors.hours ? html`<p class="field-error" role="alert">${forms.takeover.general ?? forms.takeover.errors.hours}</p>` : null}
              </form>`
            : null}
        </section>

        <section aria-labelledby="timeline-title" class="timeline-section">
          <div class="section-head">
            <h2 id="timeline-title">Next ${DAYS} days <span class="muted small" data-window>${dayLabel(from, zone)} – ${dayLabel(new Date(to.getTime() - 1), zone)}</span></h2>
            <nav class="pagination-links" aria-label="Timeline window">
              <a class="btn btn-sm" href=${withQuery(c.req.url, { from: shiftDate(from, zone, -7) })}>← Earlier</a>
              <a class="btn btn-sm" href=${withQuery(c.req.url, { from: null })}>Today</a>
              <a class="btn btn-sm" href=${withQuery(c.req.url, { from: shiftDate(from, zone, 7) })}>Later →</a>
            </nav>
          </div>
          ${schedule.layers.length || overridesInWindow.length || final.segments.some((s) => s.user)
            ? html`${OnCallTimeline({ zone, from, to, now, rows, dst: final.dstTransitions, label: `On-call timeline of ${schedule.name}` })}
                ${TimelineLegend({ people: [...shown.values()], gaps: final.segments.some((s) => !s.user && s.end > from && s.start < to), dst: final.dstTransitions.some((t) => t.at >= from && t.at < to) })}
                ${ShiftList({ segments: final.segments.filter((s) => s.end > from && s.start < to), zone })}`
            : html`<div class="empty empty-compact" data-empty>
                <p class="empty-title">Nobody is on call yet</p>
                <p class="empty-body">${admin ? "Add a layer: the people who take turns, how often they hand over, and from when." : "A tenant-admin adds layers of people who take turns."}</p>
                ${admin ? html`<p class="empty-actions"><a class="btn btn-primary" href=${`/oncall/${schedule.id}/layers/new`}>Add a layer</a></p>` : null}
              </div>`}
        </section>

        <div class="columns oncall-columns">
          ${CoverageCard({ report: report.report, users: report.users, zone, hasLayers: schedule.layers.length > 0, days: DAYS })}
          ${OverridesCard({ c, ctx, scheduleId: schedule.id, zone, overrides: upcoming, who, people: people.filter((p) => p.member), form: forms.override, admin, now })}
        </div>

        ${LayersSection({ c, schedule, admin, who })}
        ${admin ? SettingsCard({ c, schedule, form: forms.settings }) : null}`,
    );
  }

  app.post("/oncall/:id", async (c) => {
    const values = await formFields(c);
    try {
      const s = await updateOnCallSchedule(svc, ctxFrom(c), c.req.param("id"), { name: values.name, timezone: values.timezone });
      return redirectWithFlash(c, `/oncall/${s.id}`, { kind: "ok", text: `Saved the schedule “${s.name}”.` });
    } catch (err) {
      return schedulePage(c, { settings: formError(err, values, {}, ["name", "timezone"]) }, 400);
    }
  });

  app.post("/oncall/:id/delete", async (c) => {
    const id = c.req.param("id");
    const ctx = ctxFrom(c);
    const s = await getOnCallSchedule(svc, ctx, id).catch(() => undefined);
    try {
      await deleteOnCallSchedule(svc, ctx, id);
    } catch (err) {
      return redirectWithError(c, `/oncall/${id}`, err);
    }
    return redirectWithFlash(c, "/oncall", { kind: "ok", text: `Deleted the schedule “${s?.name ?? id}”.` });
  });

  app.post("/oncall/:id/takeover", async (c) => {
    const id = c.req.param("id");
    const values = await formFields(c);
    const ctx = ctxFrom(c);
    try {
      const o = await addScheduleOverride(svc, ctx, id, { hours: Number(values.hours) });
      const s = await getOnCallSchedule(svc, ctx, id);
      return redirectWithFlash(c, `/oncall/${id}`, { kind: "ok", text: `You are on call for “${s.name}” until ${zonedTime(o.ends_at, s.timezone)} (${humanDuration((o.ends_at.getTime() - o.starts_at.getTime()) / 1000)}), over every layer.` });
    } catch (err) {
      return schedulePage(c, { takeover: formError(err, values, {}, ["hours"]) }, 400);
    }
  });

  app.post("/oncall/:id/overrides", async (c) => {
    const id = c.req.param("id");
    const values = await formFields(c);
    const ctx = ctxFrom(c);
    try {
      const o = await addScheduleOverride(svc, ctx, id, { user_id: values.user_id || undefined, starts_at: values.starts_at, ends_at: values.ends_at, note: values.note || undefined });
      const s = await getOnCallSchedule(svc, ctx, id);
      return redirectWithFlash(c, `/oncall/${id}`, { kind: "ok", text: `Override added: ${zonedSpan(o.starts_at, o.ends_at, s.timezone)}.` });
    } catch (err) {
      // Someone who may not add overrides for others has no form to show the refusal in: the error page says it.
      if (err instanceof AppError && err.status === 403) throw err;
      return schedulePage(c, { override: formError(err, values, {}, ["user_id", "starts_at", "ends_at", "note"]) }, 400);
    }
  });

  app.post("/oncall/:id/overrides/:oid/delete", async (c) => {
    const id = c.req.param("id");
    try {
      const r = await removeScheduleOverride(svc, ctxFrom(c), id, c.req.param("oid"));
      return redirectWithFlash(c, `/oncall/${id}`, { kind: "ok", text: r.removed ? "Override removed." : "Override ended now; the shift it covered so far stays in the record." });
    } catch (err) {
      return redirectWithError(c, `/oncall/${id}`, err);
    }
  });

  return app;
}
