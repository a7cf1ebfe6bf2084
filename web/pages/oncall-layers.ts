// A schedule's layers: the table on the schedule page and the form that adds
// or changes one — rotation (daily, weekly on a weekday, or every N hours),
// the handoff time in the schedule's zone, the start date, the people in
// rotation order (one select per turn, so it works without JavaScript),
// restrictions written as "Mon–Fri 09:00–17:00", and the position (higher
// wins). Changes apply from now on and never rewrite past shifts; a handoff
// time the clocks skip on the start date is refused next to the field.

import { Hono, type Context } from "hono";
import { ctxFrom } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { requirePermission } from "../../src/lib/ctx.ts";
import { listOnCallPeople, type Person } from "../../src/oncall/calendar.ts";
import { localToday } from "../../src/oncall/check.ts";
import { addScheduleLayer, getOnCallSchedule, removeScheduleLayer, updateScheduleLayer, type LayerRow, type ScheduleRow } from "../../src/oncall/service.ts";
import { FieldShell, fieldAria } from "../components/field.ts";
import { ConfirmAction, CsrfField, emptyForm, FormAlert, formError, redirectWithError, SelectField, TextAreaField, TextField, type FormState } from "../components/form.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { postedValues } from "../components/scope.ts";
import { html, type VNode } from "../render.ts";
import { parseRestrictions, restrictionsValue, restrictionText, rotationText, serviceDeps, WEEKDAY_OPTIONS, type OnCallPageDeps } from "./oncall-common.ts";

const KNOWN = ["name", "rotation", "length_hours", "handoff_time", "handoff_weekday", "start_date", "users", "restrictions", "position"];
const ROTATIONS = [
  { value: "daily", label: "Daily" },
  { value: "weekly", label: "Weekly" },
  { value: "custom", label: "Every N hours (custom)" },
];

/** The posted form as the service's layer input (turns in order, blanks dropped; numbers that do not read stay NaN for the service to name). */
export function layerInputFrom(f: Record<string, string | undefined>, turns: string[]): Record<string, unknown> {
  const num = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : Number(v.trim()));
  const rotation = f.rotation ?? "";
  return {
    name: f.name ?? "",
    rotation,
    length_hours: rotation === "custom" ? (num(f.length_hours) ?? NaN) : null,
    handoff_time: f.handoff_time ?? "",
    handoff_weekday: rotation === "weekly" ? f.handoff_weekday || null : null,
    start_date: f.start_date ?? "",
    users: turns.filter(Boolean),
    restrictions: parseRestrictions(f.restrictions),
    position: num(f.position) ?? 0,
  };
}

function layerValues(l: LayerRow): Record<string, string> {
  return {
    name: l.name,
    rotation: l.rotation,
    length_hours: l.length_hours === null ? "" : String(l.length_hours),
    handoff_time: l.handoff_time,
    handoff_weekday: l.handoff_weekday ?? "MO",
    start_date: l.start_date,
    restrictions: restrictionsValue(l.restrictions),
    position: String(l.position),
    ...Object.fromEntries(l.users.map((u, i) => [`turn_${i}`, u])),
  };
}

/** The people of the turn selects, in order, from the posted form (turn_0, turn_1, …). */
function turnsOf(f: Record<string, string | undefined>): string[] {
  return Object.keys(f)
    .filter((k) => /^turn_\d+$/.test(k))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    .map((k) => f[k] ?? "");
}

export function layerPages(env: PageEnv, deps: OnCallPageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const svc = serviceDeps(deps.auth);

  async function layerPage(c: Context<HttpEnv>, layerId: string | undefined, form: FormState | undefined, status = 200): Promise<Response> {
    const ctx = ctxFrom(c);
    requirePermission(ctx, "admin", "change on-call schedules");
    const schedule = await getOnCallSchedule(svc, ctx, c.req.param("id")!);
    const layer = layerId ? schedule.layers.find((l) => l.layer_id === layerId) : undefined;
    if (layerId && !layer) return c.notFound();
    const people = await listOnCallPeople(svc, ctx, layer?.users ?? []);
    const today = localToday(deps.auth.clock.now(), schedule.timezone);
    const f = form ?? emptyForm(layer ? layerValues(layer) : { rotation: "daily", handoff_time: "09:00", handoff_weekday: "MO", start_date: today, position: String(Math.max(0, ...schedule.layers.map((l) => l.position + 1))) });
    const title = layer ? `Layer ${layer.name}` : "New layer";
    return renderPage(
      c,
      env,
      { title: `${title} · ${schedule.name}`, active: "oncall", status },
      html`<nav class="breadcrumbs" aria-label="Breadcrumbs">
          <a href="/oncall">On-call</a><span aria-hidden="true"> / </span><a href=${`/oncall/${schedule.id}`}>${schedule.name}</a><span aria-hidden="true"> / </span><span>${layer ? "Edit layer" : "New layer"}</span>
        </nav>
        ${PageHeader({
          title,
          description: html`People take turns; handoffs happen at wall-clock time in <strong>${schedule.timezone}</strong>.`,
          actions: layer
            ? ConfirmAction({
                c,
                label: "Remove layer",
                action: `/oncall/${schedule.id}/layers/${layer.layer_id}/delete`,
                message: html`Remove <strong>${layer.name}</strong> from now on? Its past shifts stay in the record; from now, the other layers decide who is on call.`,
                confirm: "Remove layer",
              })
            : undefined,
        })}
        ${LayerForm({ c, schedule, layer, form: f, people: people.filter((p) => p.member || layer?.users.includes(p.id)) })}`,
    );
  }

  app.get("/oncall/:id/layers/new", (c) => layerPage(c, undefined, undefined));
  app.get("/oncall/:id/layers/:layerId", (c) => layerPage(c, c.req.param("layerId"), undefined));

  const save = async (c: Context<HttpEnv>, layerId: string | undefined) => {
    const id = c.req.param("id")!;
    const values = await postedValues(c);
    const ctx = ctxFrom(c);
    try {
      const input = layerInputFrom(values, turnsOf(values));
      const r = layerId ? await updateScheduleLayer(svc, ctx, id, layerId, input) : await addScheduleLayer(svc, ctx, id, input);
      const notes = r.warnings.length ? ` Note: ${r.warnings.join("; ")}.` : "";
      return redirectWithFlash(c, `/oncall/${id}`, { kind: "ok", text: `${layerId ? "Saved" : "Added"} the layer “${r.layer.name}”: ${rotationText(r.layer)}, from now on.${notes}` });
    } catch (err) {
      const state = formError(err, values, {}, KNOWN);
      if (state.errors.users) state.errors.users = "Choose at least one person to take turns.";
      return layerPage(c, layerId, state, 400);
    }
  };
  app.post("/oncall/:id/layers", (c) => save(c, undefined));
  app.post("/oncall/:id/layers/:layerId", (c) => save(c, c.req.param("layerId")));

  app.post("/oncall/:id/layers/:layerId/delete", async (c) => {
    const id = c.req.param("id");
    try {
      await removeScheduleLayer(svc, ctxFrom(c), id, c.req.param("layerId"));
    } catch (err) {
      return redirectWithError(c, `/oncall/${id}`, err);
    }
    return redirectWithFlash(c, `/oncall/${id}`, { kind: "ok", text: "Layer removed from now on; its past shifts stay in the record." });
  });

  return app;
}

function LayerForm(p: { c: Context<HttpEnv>; schedule: ScheduleRow; layer?: LayerRow; form: FormState; people: Person[] }): VNode {
  const f = p.form;
  const id = "layer";
  const turns = turnsOf(f.values);
  const slots = Math.min(20, Math.max(turns.filter(Boolean).length + 2, 3, Math.min(p.people.length, 6)));
  const usersError = f.errors.users;
  const ordinal = (n: number) => `${n}${n % 10 === 1 && n % 100 !== 11 ? "st" : n % 10 === 2 && n % 100 !== 12 ? "nd" : n % 10 === 3 && n % 100 !== 13 ? "rd" : "th"}`;
  return html`<form method="post" action=${p.layer ? `/oncall/${p.schedule.id}/layers/${p.layer.layer_id}` : `/oncall/${p.schedule.id}/layers`} class="form layer-form card" novalidate>
    ${CsrfField(p.c)}
    <div class="flash flash-info" role="note" data-applies-from-now>${p.layer ? "Changes apply from now on; past shifts do not change." : "The layer takes effect now; past shifts do not change."}</div>
    ${FormAlert({ form: f })}
    <div class="form-grid">
      ${TextField({ name: "name", label: "Name", form: f, idPrefix: id, placeholder: "Primary", maxlength: 200 })}
      ${TextField({ name: "position", label: "Position", form: f, idPrefix: id, type: "number", hint: "Where layers overlap, the higher position pages." })}
    </div>
    <div class="form-grid">
      ${SelectField({ name: "rotation", label: "Rotation", form: f, idPrefix: id, options: ROTATIONS })}
      <div class="when-custom">${TextField({ name: "length_hours", label: "Shift length (hours)", form: f, idPrefix: id, type: "number", hint: "Lengths that divide a day stay on the wall clock across DST." })}</div>
      <div class="when-weekly">${SelectField({ name: "handoff_weekday", label: "Handoff day", form: f, idPrefix: id, options: WEEKDAY_OPTIONS })}</div>
    </div>
    <div class="form-grid">
      ${TextField({ name: "handoff_time", label: "Handoff time", form: f, idPrefix: id, type: "time", hint: `Local time in ${p.schedule.timezone}.` })}
      ${TextField({ name: "start_date", label: "Start date", form: f, idPrefix: id, type: "date", hint: "The first handoff is on this day (weekly: the first handoff day from it)." })}
    </div>
    ${FieldShell({
      id: `${id}-turn_0`,
      label: "People, in rotation order",
      name: "users",
      form: f,
      hint: "The 1st is on call for the first shift, then the 2nd, and so on, round and round. Leave the rest empty.",
      children: html`<ol class="turns" aria-label="Turns">
        ${Array.from({ length: slots }, (_, i) => {
          const sid = `${id}-turn_${i}`;
          return html`<li class="turn">
            <label for=${sid} class="turn-label">${ordinal(i + 1)}</label>
            <select id=${sid} name=${`turn_${i}`} ...${i === 0 ? fieldAria({ id: `${id}-turn_0`, name: "users", form: f, hint: true }) : {}} aria-invalid=${usersError && i === 0 ? "true" : undefined}>
              <option value="">—</option>
              ${p.people.map((u) => html`<option value=${u.id} selected=${turns[i] === u.id}>${u.username}${u.name && u.name !== u.username ? ` (${u.name})` : ""}</option>`)}
            </select>
          </li>`;
        })}
      </ol>`,
    })}
    ${TextAreaField({
      name: "restrictions",
      label: "Restrictions",
      form: f,
      idPrefix: id,
      required: false,
      rows: 3,
      placeholder: "Mon–Fri 09:00–17:00",
      hint: html`One span per line, like <code>Mon–Fri 09:00–17:00</code> or <code>22:00–06:00</code> (every day). Outside them this layer covers nobody. Empty: all the time.`,
    })}
    <div class="actions">
      <button class="btn btn-primary" type="submit">${p.layer ? "Save layer" : "Add layer"}</button>
      <a class="btn btn-ghost" href=${`/oncall/${p.schedule.id}`}>Cancel</a>
    </div>
  </form>`;
}

/** The schedule page's layers: highest position first, each with its rotation, people and restrictions. */
export function LayersSection(p: { c: Context<HttpEnv>; schedule: ScheduleRow & { layers: LayerRow[] }; admin: boolean; who: (id: string) => Person }): VNode {
  const { schedule } = p;
  return html`<section aria-labelledby="layers-title" data-layers>
    <div class="section-head">
      <h2 id="layers-title">Layers</h2>
      ${p.admin ? html`<a class="btn" href=${`/oncall/${schedule.id}/layers/new`}>Add layer</a>` : null}
    </div>
    ${schedule.layers.length
      ? html`<div class="table-wrap">
          <table class="data" aria-label="Layers">
            <thead>
              <tr>
                <th scope="col" class="num">Position</th>
                <th scope="col">Layer</th>
                <th scope="col">Rotation</th>
                <th scope="col">People, in order</th>
                <th scope="col">Restrictions</th>
                ${p.admin ? html`<th scope="col" class="actions-col"><span class="visually-hidden">Actions</span></th>` : null}
              </tr>
            </thead>
            <tbody>
              ${schedule.layers.map(
                (l) => html`<tr data-layer=${l.name}>
                  <td class="num">${l.position}</td>
                  <td><strong>${l.name}</strong><div class="muted small">since ${l.effective_from.toISOString().slice(0, 10)} · starts ${l.start_date}</div></td>
                  <td>${rotationText(l)}</td>
                  <td>${l.users.map((u, i) => html`${i ? ", " : ""}<span data-turn>${p.who(u).username}</span>`)}</td>
                  <td>${l.restrictions.length ? l.restrictions.map((r, i) => html`${i ? html`<br />` : ""}${restrictionText(r)}`) : html`<span class="muted">all the time</span>`}</td>
                  ${p.admin
                    ? html`<td class="actions-col">
                        <div class="row-actions">
                          <a class="btn btn-sm" href=${`/oncall/${schedule.id}/layers/${l.layer_id}`}>Edit</a>
                          ${ConfirmAction({
                            c: p.c,
                            label: "Remove",
                            small: true,
                            action: `/oncall/${schedule.id}/layers/${l.layer_id}/delete`,
                            message: html`Remove <strong>${l.name}</strong> from now on? Its past shifts stay in the record.`,
                            confirm: "Remove layer",
                          })}
                        </div>
                      </td>`
                    : null}
                </tr>`,
              )}
            </tbody>
          </table>
        </div>
        <p class="hint">Edits apply from now on; past shifts do not change.</p>`
      : html`<div class="table-empty">
          <div class="empty empty-compact" data-empty>
            <p class="empty-title">No layers yet</p>
            <p class="empty-body">${p.admin ? "Add one: the people who take turns, how often they hand over, and from when." : "A tenant-admin adds them."}</p>
          </div>
        </div>`}
  </section>`;
}

