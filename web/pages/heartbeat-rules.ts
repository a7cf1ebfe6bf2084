// NO_HEARTBEAT tuning, a section of the alert rules page: a device that stops
// sending goes OFFLINE after five missed heartbeats and opens a NO_HEARTBEAT
// alert (HIGH). Heartbeat rules change that for a site, tag or device — a
// grace period first, another severity, or off. The most specific rule that
// covers a device wins (devices, then tags, then sites, then every device).

import { Hono, type Context } from "hono";
import { SEVERITIES } from "../../src/alerts/evaluate.ts";
import { deleteHeartbeatPolicy, listHeartbeatPolicies, saveHeartbeatPolicy } from "../../src/alerts/rules.ts";
import type { HeartbeatRuleRow } from "../../src/alerts/windows-store.ts";
import type { Auth } from "../../src/auth/index.ts";
import { ctxFrom } from "../../src/auth/middleware.ts";
import type { Db } from "../../src/db/db.ts";
import { listSiteChoices } from "../../src/fleet/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import type { Clock } from "../../src/lib/clock.ts";
import { can, type Ctx } from "../../src/lib/ctx.ts";
import { Badge, SeverityBadge } from "../components/badges.ts";
import { EmptyState } from "../components/empty.ts";
import { DurationField, durationSeconds, durationValues } from "../components/field.ts";
import { CheckboxField, ConfirmAction, CsrfField, emptyForm, FormAlert, formError, redirectWithError, SelectField, TextField, type FormState } from "../components/form.ts";
import { humanDuration } from "../components/format.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { PageHeader } from "../components/page-header.ts";
import { postedValues, SCOPE_FIELDS, ScopeFields, scopeFromForm, scopeText } from "../components/scope.ts";
import { html, type VNode } from "../render.ts";

const FIELD_MAP = { ...SCOPE_FIELDS, grace_seconds: "grace" };
const KNOWN = ["name", "grace", "severity", "enabled", "sites", "tags", "devices"];

export async function HeartbeatSection(p: { c: Context<HttpEnv>; deps: { db: Db; clock: Clock }; ctx: Ctx; sites: Array<{ id: string; name: string }>; form?: FormState }): Promise<VNode> {
  const rules = await listHeartbeatPolicies(p.deps, p.ctx);
  const admin = can(p.ctx, "admin");
  const siteNames = new Map(p.sites.map((s) => [s.id, s.name]));
  return html`<section aria-labelledby="heartbeat-title" class="section-gap" id="heartbeat">
    <div class="section-head"><h2 id="heartbeat-title">No heartbeat</h2></div>
    <p class="muted narrow-text">
      A device that stops sending goes OFFLINE after five missed heartbeats and opens a <strong>NO_HEARTBEAT</strong> alert (HIGH), without any rule. Tune it for a site, tag or
      device: wait a grace period first, use another severity, or switch it off. The most specific rule covering a device wins.
    </p>
    ${rules.length
      ? html`<div class="table-wrap">
          <table class="data" data-table="Heartbeat rules" aria-label="Heartbeat rules">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Covers</th>
                <th scope="col">${admin ? "Grace, severity, on/off" : "Grace"}</th>
                ${admin ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : html`<th scope="col">Severity</th><th scope="col">State</th>`}
              </tr>
            </thead>
            <tbody>
              ${rules.map((r) => (admin ? EditableRow(p.c, r, siteNames) : ReadRow(r, siteNames)))}
            </tbody>
          </table>
        </div>`
      : EmptyState({ title: "No heartbeat rules", body: "Every device gets the default: NO_HEARTBEAT at HIGH as soon as it goes OFFLINE.", compact: true })}
    ${admin ? NewHeartbeatForm(p.c, p.sites, p.form) : null}
  </section>`;
}

function ReadRow(r: HeartbeatRuleRow, siteNames: Map<string, string>): VNode {
  return html`<tr data-heartbeat=${r.name}>
    <td>${r.name}</td>
    <td>${scopeText(r.scope, siteNames)}</td>
    <td>${r.grace_seconds ? humanDuration(r.grace_seconds) : "none"}</td>
    <td>${SeverityBadge({ severity: r.severity })}</td>
    <td>${r.enabled ? Badge({ tone: "ok", text: "ON", icon: "check" }) : Badge({ tone: "idle", text: "OFF", icon: "dash" })}</td>
  </tr>`;
}

function EditableRow(c: Context<HttpEnv>, r: HeartbeatRuleRow, siteNames: Map<string, string>): VNode {
  const grace = durationValues("grace", r.grace_seconds);
  return html`<tr data-heartbeat=${r.name}>
    <td>${r.name}</td>
    <td>${scopeText(r.scope, siteNames)}</td>
    <td>
      <form method="post" action=${`/alert-rules/heartbeat/${r.id}`} class="inline-form compact-form heartbeat-form">
        ${CsrfField(c)}
        <label class="visually-hidden" for=${`hb-${r.id}-grace`}>Grace period of ${r.name}</label>
        <input id=${`hb-${r.id}-grace`} class="input-sm input-narrow" type="text" inputmode="decimal" name="grace" value=${grace.grace} />
        <select name="grace_unit" aria-label="Unit">
          ${["s", "min", "h"].map((u) => html`<option value=${u} selected=${grace.grace_unit === u}>${u}</option>`)}
        </select>
        <select name="severity" aria-label=${`Severity of ${r.name}`}>
          ${SEVERITIES.map((s) => html`<option value=${s} selected=${r.severity === s}>${s}</option>`)}
        </select>
        <label class="choice"><input type="checkbox" name="enabled" checked=${r.enabled} /> on</label>
        <button class="btn btn-sm" type="submit">Save</button>
      </form>
    </td>
    <td>
      ${ConfirmAction({
        c,
        label: "Delete",
        small: true,
        action: `/alert-rules/heartbeat/${r.id}/delete`,
        message: html`Delete <strong>${r.name}</strong>? The devices it covers go back to the default (or a broader rule): NO_HEARTBEAT at HIGH as soon as they go OFFLINE.`,
        confirm: "Delete heartbeat rule",
      })}
    </td>
  </tr>`;
}

function NewHeartbeatForm(c: Context<HttpEnv>, sites: Array<{ id: string; name: string }>, form = emptyForm({ severity: "HIGH", grace: "0", grace_unit: "min", enabled: "on" })): VNode {
  const id = "hb";
  return html`<details class="card section-gap new-heartbeat" open=${Object.keys(form.errors).length > 0 || Boolean(form.general)}>
    <summary class="label-like">Add a heartbeat rule</summary>
    <form method="post" action="/alert-rules/heartbeat" class="form" novalidate>
      ${CsrfField(c)} ${FormAlert({ form })}
      ${TextField({ name: "name", label: "Name", form, idPrefix: id, placeholder: "Night shift sensors" })}
      <div class="form-grid">
        ${DurationField({ name: "grace", label: "Grace period", form, idPrefix: id, hint: "Extra time OFFLINE before the alert opens." })}
        ${SelectField({ name: "severity", label: "Severity", form, idPrefix: id, options: SEVERITIES.map((s) => ({ value: s, label: s })) })}
      </div>
      ${ScopeFields({ form, sites, idPrefix: id, legend: "Covers" })}
      ${CheckboxField({ name: "enabled", label: "On (untick to never raise NO_HEARTBEAT for these devices)", form, idPrefix: id })}
      <div class="actions"><button class="btn btn-primary" type="submit">Add heartbeat rule</button></div>
    </form>
  </details>`;
}

export function heartbeatRoutes(env: PageEnv, auth: Auth): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const deps = { db: auth.db, clock: auth.clock };

  app.post("/alert-rules/heartbeat", async (c) => {
    const ctx = ctxFrom(c);
    const values = await postedValues(c);
    try {
      const r = await saveHeartbeatPolicy(deps, ctx, undefined, {
        name: values.name ?? "",
        scope: scopeFromForm(values),
        graceSeconds: durationSeconds(values.grace, values.grace_unit) ?? 0,
        severity: values.severity,
        enabled: values.enabled === "on",
      });
      return redirectWithFlash(c, "/alert-rules#heartbeat", { kind: "ok", text: `Added heartbeat rule “${r.name}”.` });
    } catch (err) {
      const form = formError(err, values, FIELD_MAP, KNOWN);
      const sites = await listSiteChoices(deps, ctx);
      return renderPage(
        c,
        env,
        { title: "Alert rules", active: "alert-rules", status: 400 },
        html`${PageHeader({ title: "Alert rules", description: html`<a href="/alert-rules">Back to every rule</a>` })} ${await HeartbeatSection({ c, deps, ctx, sites, form })}`,
      );
    }
  });

  app.post("/alert-rules/heartbeat/:id", async (c) => {
    const ctx = ctxFrom(c);
    const id = c.req.param("id");
    const values = await postedValues(c);
    try {
      // The row's form changes grace, severity and on/off; name and scope stay.
      const current = (await listHeartbeatPolicies(deps, ctx)).find((r) => r.id === id);
      const r = await saveHeartbeatPolicy(deps, ctx, id, {
        name: current?.name ?? "",
        scope: current?.scope,
        graceSeconds: durationSeconds(values.grace, values.grace_unit) ?? 0,
        severity: values.severity,
        enabled: values.enabled === "on",
        autoClose: current?.auto_close,
        escalationPolicyId: current?.escalation_policy_id,
      });
      return redirectWithFlash(c, "/alert-rules#heartbeat", { kind: "ok", text: `Saved heartbeat rule “${r.name}”.` });
    } catch (err) {
      return redirectWithError(c, "/alert-rules#heartbeat", err);
    }
  });

  app.post("/alert-rules/heartbeat/:id/delete", async (c) => {
    try {
      await deleteHeartbeatPolicy(deps, ctxFrom(c), c.req.param("id"));
    } catch (err) {
      return redirectWithError(c, "/alert-rules#heartbeat", err);
    }
    return redirectWithFlash(c, "/alert-rules#heartbeat", { kind: "ok", text: "Heartbeat rule deleted." });
  });

  return app;
}
