// Adding a device in four steps that work without JavaScript: each step is a
// form posting to the next, with what earlier steps chose carried in hidden
// fields, and each step's fields are checked before the next one shows.
// 1 identity (id, name) → 2 site (existing or new) and tags → 3 which alert
// rules will cover it (by their scope) → 4 the device is created and its
// credentials are shown once, with a ready-made mosquitto_pub and curl.

import { Hono, type Context } from "hono";
import { inScope } from "../../src/alerts/evaluate.ts";
import { listAlertRules, type Rule } from "../../src/alerts/rules.ts";
import { callerFrom, ctxFrom } from "../../src/auth/middleware.ts";
import { createDevice, getDevice } from "../../src/devices/service.ts";
import { checkNewDevice, parseHeartbeat, parseTagString, type Tags } from "../../src/devices/validate.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can, type Ctx } from "../../src/lib/ctx.ts";
import { AppError, conflict, invalid } from "../../src/lib/errors.ts";
import { requireSlug, requireTimeZone } from "../../src/lib/validate.ts";
import { createSite, listSites, type Site } from "../../src/sites/service.ts";
import { Badge, SeverityBadge } from "../components/badges.ts";
import { EmptyState } from "../components/empty.ts";
import { FieldShell, fieldAria } from "../components/field.ts";
import { COPY_ISLAND, CsrfField, emptyForm, FormAlert, formError, SelectField, TextAreaField, TextField, type FormState } from "../components/form.ts";
import { formFields } from "../components/form-token.ts";
import { PageHeader } from "../components/page-header.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { scopeText } from "../components/scope.ts";
import { timeZoneChoices } from "../components/when.ts";
import { html, type VNode } from "../render.ts";
import { chooseTenantPage, Credentials, TagChips, type DevicePageDeps } from "./devices-common.ts";

const NEW_SITE = "__new__";
const WIZARD_ISLAND = "islands/wizard.js";
const STEPS = ["Identity", "Site and tags", "Alert rules", "Credentials"];
/** The fields of each step; the others ride along as hidden fields. */
const STEP_FIELDS: Record<number, string[]> = {
  1: ["id", "name"],
  2: ["site_id", "new_site_id", "new_site_name", "new_site_timezone", "tags", "heartbeat_seconds"],
};
const ALL_FIELDS = [...STEP_FIELDS[1]!, ...STEP_FIELDS[2]!];

interface Checked {
  id: string;
  name: string;
  siteId: string;
  newSite?: { id: string; name: string; timezone: string };
  tags: Tags;
  heartbeatSeconds: number | null;
}

export function deviceWizardPages(env: PageEnv, deps: DevicePageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();

  app.get("/devices/new", async (c) => {
    const gate = guard(c);
    if (gate) return gate;
    return step(c, 1, emptyForm());
  });

  app.post("/devices/new", async (c) => {
    const gate = guard(c);
    if (gate) return gate;
    const ctx = ctxFrom(c);
    const form = await formFields(c);
    const values = Object.fromEntries(ALL_FIELDS.map((k) => [k, form[k] ?? ""]));
    // Going back: no checks, just the step with what was typed.
    if (form.back) return step(c, Math.min(2, Math.max(1, Number(form.back) || 1)), emptyForm(values));
    const target = Math.min(4, Math.max(1, Number(form.go) || 1));
    let checked: Checked | undefined;
    for (const s of [1, 2]) {
      if (target <= s) break;
      try {
        checked = await checkStep(ctx, s, values);
      } catch (err) {
        return step(c, s, formError(err, values, { site_id: "site_id", timezone: "new_site_timezone" }, STEP_FIELDS[s]), 400);
      }
    }
    if (target < 4) return step(c, target, emptyForm(values), 200, checked);

    const f = checked!;
    let token: string;
    try {
      if (f.newSite) await createSite(deps.devices, ctx, { id: f.newSite.id, name: f.newSite.name, timezone: f.newSite.timezone });
      token = (await createDevice(deps.devices, ctx, { id: f.id, name: f.name, site_id: f.siteId, tags: f.tags, heartbeat_seconds: f.heartbeatSeconds })).token;
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const s = err.field === "id" || err.field === "name" ? 1 : 2;
      return step(c, s, formError(err, values, { site_id: "site_id", timezone: "new_site_timezone" }, STEP_FIELDS[s]), err.status === 409 ? 409 : 400);
    }
    // The token is in this answer only: never cached, never in a URL or cookie.
    c.header("Cache-Control", "no-store");
    return renderPage(
      c,
      env,
      { title: "Device added", active: "devices", islands: [COPY_ISLAND] },
      html`${PageHeader({ title: "Add a device" })} ${Steps(4)}
        <section class="card narrow" data-wizard-step="4" data-created-device=${f.id}>
          <h2>${f.name} is registered</h2>
          <p>
            <strong>${f.id}</strong> is ACTIVE at site <strong>${f.siteId}</strong>${f.newSite ? " (new)" : ""}. Give it these credentials; it shows as ONLINE with its first message
            or heartbeat.
          </p>
          ${Credentials({ endpoint: { publicUrl: deps.auth.publicUrl(), mqttPort: deps.mqttPort() }, tenantId: ctx.tenantId, deviceId: f.id, token })}
          <div class="actions">
            <a class="btn btn-primary" href=${`/devices/${encodeURIComponent(f.id)}`}>Open the device</a>
            <a class="btn" href="/devices/new">Add another</a>
          </div>
        </section>`,
    );
  });

  function guard(c: Context<HttpEnv>): Response | undefined {
    const caller = callerFrom(c);
    if (!caller.tenantId) return chooseTenantPage(c, env, { title: "Add a device", active: "devices", what: "Devices" });
    if (!can(caller, "admin"))
      return renderPage(
        c,
        env,
        { title: "Add a device", active: "devices", status: 403 },
        html`${PageHeader({ title: "Add a device" })}${EmptyState({ title: "Only tenant-admins add devices", body: `Your role (${caller.role}) may see devices but not register them.`, actions: [{ label: "Devices", href: "/devices" }] })}`,
      );
    return undefined;
  }

  /** Check one step's fields; throws the service's error naming the field. */
  async function checkStep(ctx: Ctx, s: number, v: Record<string, string>): Promise<Checked> {
    const id = requireSlug("id", v.id?.trim());
    const name = v.name?.trim() || id;
    checkNewDevice({ id, name, site_id: "placeholder" });
    if (s === 1) {
      const exists = await getDevice(deps.devices, ctx, id).then(
        () => true,
        (err) => (err instanceof AppError && err.status === 404 ? false : Promise.reject(err)),
      );
      if (exists) throw conflict(`id: a device ${id} already exists in this tenant`, "id");
      return { id, name, siteId: "", tags: {}, heartbeatSeconds: null };
    }
    const tags = parseTagString("tags", (v.tags ?? "").replace(/\r?\n/g, ";"));
    const heartbeatSeconds = parseHeartbeat("heartbeat_seconds", v.heartbeat_seconds?.trim());
    if (v.site_id === NEW_SITE) {
      const siteId = requireSlug("new_site_id", v.new_site_id?.trim());
      const sites = await listSites(deps.devices, ctx, { limit: 10_000 });
      if (sites.some((x) => x.id === siteId)) throw invalid("new_site_id", `new_site_id: a site ${siteId} exists already; choose it from the list`);
      const timezone = requireTimeZone("new_site_timezone", v.new_site_timezone || "UTC");
      return { id, name, siteId, newSite: { id: siteId, name: v.new_site_name?.trim() || siteId, timezone }, tags, heartbeatSeconds };
    }
    if (!v.site_id) throw invalid("site_id", "site_id: choose a site, or create a new one");
    return { id, name, siteId: requireSlug("site_id", v.site_id), tags, heartbeatSeconds };
  }

  async function step(c: Context<HttpEnv>, n: number, form: FormState, status = 200, checked?: Checked): Promise<Response> {
    const ctx = ctxFrom(c);
    const hidden = ALL_FIELDS.filter((k) => !(STEP_FIELDS[n] ?? []).includes(k)).map((k) => html`<input type="hidden" name=${k} value=${form.values[k] ?? ""} />`);
    let body: VNode;
    if (n === 1) body = IdentityStep(form);
    else if (n === 2) body = SiteStep(form, await listSites(deps.devices, ctx, { limit: 1000 }));
    else body = RulesStep(checked!, await listAlertRules({ db: deps.devices.db, clock: deps.devices.clock }, ctx));
    return renderPage(
      c,
      env,
      { title: "Add a device", active: "devices", status, islands: [WIZARD_ISLAND] },
      html`${PageHeader({ title: "Add a device", description: "Register it, say where it is, see which alert rules will watch it, and get its credentials." })}
        ${Steps(n)}
        <section class="card narrow" data-wizard-step=${n}>
          <form method="post" action="/devices/new" class="form">
            ${CsrfField(c)} ${hidden} ${FormAlert({ form })} ${body}
            <div class="actions">
              <button class="btn btn-primary" type="submit" name="go" value=${String(n + 1)}>${n === 3 ? "Create device" : "Next"}</button>
              ${n > 1
                ? html`<button class="btn" type="submit" name="back" value=${String(n - 1)} formnovalidate data-back>Back</button>`
                : html`<a class="btn" href="/devices">Cancel</a>`}
            </div>
          </form>
        </section>`,
    );
  }

  return app;
}

function Steps(current: number): VNode {
  return html`<ol class="steps" aria-label="Steps">
    ${STEPS.map((s, i) => html`<li aria-current=${i + 1 === current ? "step" : undefined} class=${i + 1 < current ? "done" : undefined}><span class="step-n">${i + 1}</span> ${s}</li>`)}
  </ol>`;
}

function IdentityStep(form: FormState): VNode {
  return html`<h2>Identity</h2>
    ${TextField({ name: "id", label: "Device id", form, idPrefix: "wiz", autocomplete: "off", autofocus: true, hint: "What the device calls itself in topics and URLs: letters, digits, '.', '_' or '-', e.g. pump-17. It cannot change later." })}
    ${TextField({ name: "name", label: "Name", form, idPrefix: "wiz", required: false, autocomplete: "off", hint: "What people read; the id when empty." })}`;
}

function SiteStep(form: FormState, sites: Site[]): VNode {
  const choice = form.values.site_id || (sites.length ? sites[0]!.id : NEW_SITE);
  const zones = timeZoneChoices();
  const tzId = "wiz-new_site_timezone";
  return html`<h2>Site and tags</h2>
    ${SelectField({
      name: "site_id",
      label: "Site",
      form: { ...form, values: { ...form.values, site_id: choice } },
      idPrefix: "wiz",
      options: [...sites.map((s) => ({ value: s.id, label: s.name === s.id ? s.id : `${s.name} (${s.id})` })), { value: NEW_SITE, label: "+ A new site…" }],
    })}
    <fieldset class="plain-fieldset new-site" data-new-site>
      <legend class="label-like">New site <span class="optional">only when “A new site” is chosen</span></legend>
      <div class="inline-fields">
        ${TextField({ name: "new_site_id", label: "Site id", form, idPrefix: "wiz", required: false, autocomplete: "off", placeholder: "plant-2" })}
        ${TextField({ name: "new_site_name", label: "Site name", form, idPrefix: "wiz", required: false, autocomplete: "off", placeholder: "Plant 2, Hamburg" })}
      </div>
      ${FieldShell({
        id: tzId,
        label: "Time zone",
        name: "new_site_timezone",
        form,
        optional: true,
        children: html`<select id=${tzId} name="new_site_timezone" ...${fieldAria({ id: tzId, name: "new_site_timezone", form })}>
          ${zones.map((z) => html`<option value=${z} selected=${(form.values.new_site_timezone || "UTC") === z}>${z}</option>`)}
        </select>`,
      })}
    </fieldset>
    ${TextAreaField({ name: "tags", label: "Tags", form, idPrefix: "wiz", rows: 3, mono: true, required: false, placeholder: "zone=cold\nline=3", hint: "One key=value per line. Alert rules and maintenance windows can pick devices by tag." })}
    ${TextField({ name: "heartbeat_seconds", label: "Heartbeat interval (seconds)", form, idPrefix: "wiz", required: false, hint: "Empty: the tenant's default. STALE after 2 missed intervals, OFFLINE after 5." })}`;
}

function RulesStep(f: Checked, rules: Rule[]): VNode {
  const facts = { id: f.id, siteId: f.siteId, tags: f.tags };
  const covering = rules.filter((r) => inScope(r.scope, facts));
  return html`<h2>Alert rules</h2>
    <p>
      <strong>${f.name}</strong> (<code>${f.id}</code>) at site <strong>${f.siteId}</strong>${f.newSite ? " (new)" : ""}, tags ${TagChips({ tags: f.tags })}.
    </p>
    <p class="muted">
      Rules pick devices by site, tag or id. ${covering.length
        ? `${covering.length} of the tenant's ${rules.length} rule${rules.length === 1 ? "" : "s"} will watch this device from its first message. `
        : rules.length
          ? "None of the tenant's rules covers this device yet. "
          : "The tenant has no alert rules yet. "}Change them on <a href="/alert-rules">Alert rules</a>.
    </p>
    ${rules.length
      ? html`<table class="data" data-table="Alert rules" aria-label="Alert rules">
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Severity</th>
              <th scope="col">Applies to</th>
              <th scope="col">This device</th>
            </tr>
          </thead>
          <tbody>
            ${rules.map((r) => {
              const covers = inScope(r.scope, facts);
              return html`<tr data-rule=${r.id} data-covers=${covers ? "yes" : "no"}>
                <td>${r.name}${r.enabled ? null : html` <span class="muted small">(disabled)</span>`}</td>
                <td>${SeverityBadge({ severity: r.severity })}</td>
                <td class="small">${scopeText(r.scope)}</td>
                <td>${covers ? Badge({ tone: "ok", text: "COVERED", icon: "check" }) : Badge({ tone: "idle", text: "NOT COVERED", icon: "dash" })}</td>
              </tr>`;
            })}
          </tbody>
        </table>`
      : null}
    <p class="muted small">Creating the device issues its first provision token, shown once on the next step.</p>`;
}
