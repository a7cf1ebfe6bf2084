// The schedule page's sections below the timeline: the shifts as a table,
// the gap and overlap report, overrides (with the form that adds one), and
// the schedule's settings.

import type { Context } from "hono";
import type { HttpEnv } from "../../src/http/env.ts";
import type { Ctx } from "../../src/lib/ctx.ts";
import type { Person, scheduleCoverage } from "../../src/oncall/calendar.ts";
import type { OverrideRow } from "../../src/oncall/service.ts";
import { Badge } from "../components/badges.ts";
import { FieldShell, fieldAria } from "../components/field.ts";
import { ConfirmAction, CsrfField, emptyForm, FormAlert, SelectField, TextField, type FormState } from "../components/form.ts";
import { humanDuration } from "../components/format.ts";
import { zonedSpan, zonedTime } from "../components/oncall-timeline.ts";
import { localInputValue, timeZoneChoices } from "../components/when.ts";
import { html, type VNode } from "../render.ts";

/** Someone as a line: "alice (Alice Admin)". */
export const personLabel = (u: Pick<Person, "username" | "name">) => (u.name && u.name !== u.username ? `${u.username} (${u.name})` : u.username);

/** The final row as a table: the same facts as the timeline, for reading and for screen readers. */
export function ShiftList(p: { segments: Array<{ start: Date; end: Date; user: Person | null; layer: { name: string } | null; overrideId: string | null }>; zone: string }): VNode {
  return html`<details class="shift-list">
    <summary>Shifts as a list</summary>
    <div class="table-wrap">
      <table class="data" aria-label="Shifts">
        <thead>
          <tr><th scope="col">Who is paged</th><th scope="col">From</th><th scope="col">Until</th><th scope="col">Length</th><th scope="col">Why</th></tr>
        </thead>
        <tbody>
          ${p.segments.map(
            (s) => html`<tr data-shift=${s.user?.username ?? "gap"}>
              <td>${s.user ? personLabel(s.user) : Badge({ tone: "bad", text: "GAP", icon: "offline" })}</td>
              <td>${zonedTime(s.start, p.zone)}</td>
              <td>${zonedTime(s.end, p.zone)}</td>
              <td>${humanDuration((s.end.getTime() - s.start.getTime()) / 1000)}</td>
              <td class="muted">${s.overrideId ? "override" : s.layer ? `layer ${s.layer.name}` : "nobody covers"}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </details>`;
}

export function CoverageCard(p: { report: Awaited<ReturnType<typeof scheduleCoverage>>["report"]; users: Map<string, Person>; zone: string; hasLayers: boolean; days: number }): VNode {
  const { gaps, overlaps } = p.report;
  return html`<section class="card" aria-labelledby="coverage-title" data-coverage>
    <h2 id="coverage-title">Gaps and overlaps <span class="muted small">next ${p.days} days</span></h2>
    ${!p.hasLayers
      ? html`<p class="muted">No layers yet, so nobody is on call.</p>`
      : gaps.length === 0 && overlaps.length === 0
        ? html`<p data-coverage-ok>${Badge({ tone: "ok", text: "COVERED", icon: "check" })} Someone is on call all the time, and no layer hides another.</p>`
        : null}
    ${gaps.length
      ? html`<h3>${Badge({ tone: "bad", text: gaps.length === 1 ? "1 GAP" : `${gaps.length} GAPS`, icon: "offline" })} Nobody is on call</h3>
          <ul class="item-list" data-gaps>
            ${gaps.map((g) => html`<li data-gap><span>${zonedSpan(g.start, g.end, p.zone)}</span></li>`)}
          </ul>`
      : null}
    ${overlaps.length
      ? html`<h3>${Badge({ tone: "warn", text: overlaps.length === 1 ? "1 OVERLAP" : `${overlaps.length} OVERLAPS`, icon: "stale" })} Layers covering the same time</h3>
          <p class="hint">The highest layer pages; the others are shadowed then.</p>
          <ul class="item-list" data-overlaps>
            ${overlaps.map((o) => {
              const [top, ...rest] = o.layers;
              const name = (l: { name: string; userId: string }) => `${l.name} (${p.users.get(l.userId)?.username ?? "someone"})`;
              return html`<li data-overlap>
                <span>${zonedSpan(o.start, o.end, p.zone)}<br /><span class="muted small">${top ? name(top) : ""} shadows ${rest.map(name).join(", ")}</span></span>
              </li>`;
            })}
          </ul>`
      : null}
  </section>`;
}

export function OverridesCard(p: {
  c: Context<HttpEnv>;
  ctx: Ctx;
  scheduleId: string;
  zone: string;
  overrides: OverrideRow[];
  who: (id: string) => Person;
  people: Person[];
  form?: FormState;
  admin: boolean;
  now: Date;
}): VNode {
  const mine = (o: OverrideRow) => p.ctx.actor.kind === "user" && o.user_id === p.ctx.actor.id;
  // Defaults: from the next full hour, for eight hours.
  const start = new Date(Math.ceil(p.now.getTime() / 3_600_000) * 3_600_000);
  const f = p.form ?? emptyForm({ user_id: p.ctx.actor.kind === "user" ? p.ctx.actor.id : "", starts_at: localInputValue(start, p.zone), ends_at: localInputValue(new Date(start.getTime() + 8 * 3_600_000), p.zone) });
  const input = (name: string, label: string, hint?: string) =>
    FieldShell({
      id: `ovr-${name}`,
      label,
      name,
      form: f,
      hint,
      children: html`<input id=${`ovr-${name}`} name=${name} type="datetime-local" value=${f.values[name] ?? ""} ...${fieldAria({ id: `ovr-${name}`, name, form: f, hint })} />`,
    });
  return html`<section class="card" aria-labelledby="overrides-title" data-overrides>
    <h2 id="overrides-title">Overrides</h2>
    <p class="hint">An override puts someone on call over every layer for a while.</p>
    ${p.overrides.length
      ? html`<ul class="item-list">
          ${p.overrides.map((o) => {
            const u = p.who(o.user_id);
            const live = o.starts_at <= p.now;
            return html`<li data-override=${u.username}>
              <span>
                <strong>${personLabel(u)}</strong> ${live ? Badge({ tone: "accent", text: "NOW", icon: "online" }) : null}<br />
                <span class="small">${zonedSpan(o.starts_at, o.ends_at, p.zone)}</span>
                ${o.note ? html`<br /><span class="muted small">${o.note}</span>` : null}
              </span>
              ${p.admin || mine(o)
                ? ConfirmAction({
                    c: p.c,
                    label: live ? "End" : "Remove",
                    small: true,
                    action: `/oncall/${p.scheduleId}/overrides/${o.id}/delete`,
                    message: live ? html`End ${u.username}'s override now? The layers decide who is on call from then on; the time already covered stays in the record.` : html`Remove ${u.username}'s override (${zonedSpan(o.starts_at, o.ends_at, p.zone)})?`,
                    confirm: live ? "End override now" : "Remove override",
                  })
                : null}
            </li>`;
          })}
        </ul>`
      : html`<p class="muted" data-no-overrides>No overrides now or coming.</p>`}
    ${p.admin
      ? html`<details class="add-override" open=${!!p.form}>
          <summary class="btn btn-sm">Add an override</summary>
          <form method="post" action=${`/oncall/${p.scheduleId}/overrides`} class="form" novalidate>
            ${CsrfField(p.c)} ${FormAlert({ form: f })}
            ${SelectField({ name: "user_id", label: "Who", form: f, idPrefix: "ovr", options: p.people.map((u) => ({ value: u.id, label: personLabel(u) })) })}
            <div class="form-grid">
              ${input("starts_at", "From", `In ${p.zone}.`)} ${input("ends_at", "Until", `In ${p.zone}.`)}
            </div>
            ${TextField({ name: "note", label: "Note", form: f, idPrefix: "ovr", required: false, maxlength: 500, placeholder: "Covering for Bob's dentist" })}
            <div class="actions"><button class="btn btn-primary" type="submit">Add override</button></div>
          </form>
        </details>`
      : null}
  </section>`;
}

export function SettingsCard(p: { c: Context<HttpEnv>; schedule: { id: string; name: string; timezone: string; layers: unknown[] }; form?: FormState }): VNode {
  const f = p.form ?? emptyForm({ name: p.schedule.name, timezone: p.schedule.timezone });
  const locked = p.schedule.layers.length > 0;
  return html`<details class="card settings-card" open=${!!p.form}>
    <summary><h2 class="inline-heading">Schedule settings</h2></summary>
    <form method="post" action=${`/oncall/${p.schedule.id}`} class="form" novalidate>
      ${CsrfField(p.c)} ${FormAlert({ form: f })}
      ${TextField({ name: "name", label: "Name", form: f, idPrefix: "settings", maxlength: 200 })}
      ${locked
        ? html`<input type="hidden" name="timezone" value=${p.schedule.timezone} />
            <p class="hint">Time zone: <strong>${p.schedule.timezone}</strong>. It cannot change once the schedule has layers (past shifts would move); create a new schedule in another zone instead.</p>`
        : SelectField({ name: "timezone", label: "Time zone", form: f, idPrefix: "settings", options: timeZoneChoices().map((z) => ({ value: z, label: z })) })}
      <div class="actions"><button class="btn" type="submit">Save settings</button></div>
    </form>
  </details>`;
}

