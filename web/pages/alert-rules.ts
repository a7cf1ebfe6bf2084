// Alert rules: the list (each condition written out as a sentence —
// "temp_c > 80 for 5 min, clears below 75" — with rules on metrics no device
// has sent flagged), a form with every field whose refusals sit next to the
// field, a preview of how often the rule would have fired on the last 24 h of
// data, deletion behind one confirmation, and the NO_HEARTBEAT tuning by site
// or tag (heartbeat-rules.ts). Tenant-admins change rules; everyone reads.

import { Hono, type Context } from "hono";
import { OPERATORS, SEVERITIES, type Operator } from "../../src/alerts/evaluate.ts";
import { createAlertRule, deleteAlertRule, getAlertRule, listAlertRules, previewRule, updateAlertRule, type Rule, type RuleInput } from "../../src/alerts/rules.ts";
import type { RuleRow } from "../../src/alerts/store.ts";
import type { Auth } from "../../src/auth/index.ts";
import { callerFrom, ctxFrom } from "../../src/auth/middleware.ts";
import { listEscalationPolicies } from "../../src/escalation/service.ts";
import { listSiteChoices } from "../../src/fleet/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can } from "../../src/lib/ctx.ts";
import { listMetrics } from "../../src/telemetry/service.ts";
import { Badge, SeverityBadge } from "../components/badges.ts";
import { EmptyState } from "../components/empty.ts";
import { DurationField, durationSeconds, durationValues, FieldShell, fieldAria } from "../components/field.ts";
import { CheckboxField, ConfirmAction, CsrfField, emptyForm, FormAlert, formError, redirectWithError, SelectField, TextField, type FormState } from "../components/form.ts";
import { formatCount, humanDuration } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { postedValues, SCOPE_FIELDS, ScopeFields, scopeFromForm, scopeText, scopeValues } from "../components/scope.ts";
import { html, type VNode } from "../render.ts";
import { heartbeatRoutes, HeartbeatSection } from "./heartbeat-rules.ts";

const SYMBOL: Record<Operator, string> = { GT: ">", GTE: "≥", LT: "<", LTE: "≤", EQ: "=", NEQ: "≠" };
const OPERATOR_LABEL: Record<Operator, string> = { GT: "> above", GTE: "≥ at or above", LT: "< below", LTE: "≤ at or below", EQ: "= equals", NEQ: "≠ differs from" };

const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));

/** A rule's condition as a sentence: "temp_c > 80 for 5 min, clears below 75". */
export function ruleCondition(r: Pick<RuleRow, "metric_name" | "operator" | "threshold" | "clear_threshold" | "duration_seconds">): string {
  let s = `${r.metric_name} ${SYMBOL[r.operator]} ${show(r.threshold)}`;
  if (r.duration_seconds > 0) s += ` for ${humanDuration(r.duration_seconds)}`;
  if (r.clear_threshold !== null) s += `, clears ${r.operator === "GT" || r.operator === "GTE" ? "below" : "above"} ${show(r.clear_threshold)}`;
  return s;
}

// The form's inputs, and where the service's field names land among them.
const FIELD_MAP: Record<string, string> = { ...SCOPE_FIELDS, duration_seconds: "duration", reopen_window_seconds: "reopen" };
const KNOWN = ["name", "metric_name", "normalized", "operator", "threshold", "clear_threshold", "duration", "severity", "sites", "tags", "devices", "enabled", "auto_close", "reopen", "escalation_policy_id"];

/** The service's input from the posted form; numbers that do not read as numbers stay NaN so the service names the field. */
export function ruleInputFrom(f: Record<string, string | undefined>): RuleInput {
  const operator = f.operator ?? "";
  const numeric = operator === "GT" || operator === "GTE" || operator === "LT" || operator === "LTE";
  const raw = (f.threshold ?? "").trim();
  const asNumber = (s: string) => Number(s.replace(",", "."));
  let threshold: unknown;
  if (raw === "") threshold = undefined;
  else if (numeric) threshold = asNumber(raw);
  else if (raw === "true" || raw === "false") threshold = raw === "true";
  else if (Number.isFinite(asNumber(raw)) && /^-?[\d.,]+(e-?\d+)?$/i.test(raw)) threshold = asNumber(raw);
  else threshold = raw.replace(/^"(.*)"$/, "$1");
  const clear = (f.clear_threshold ?? "").trim();
  return {
    name: f.name ?? "",
    metricName: (f.metric_name ?? "").trim(),
    normalized: f.normalized === "on",
    operator,
    threshold,
    clearThreshold: clear === "" ? null : asNumber(clear),
    durationSeconds: durationSeconds(f.duration, f.duration_unit) ?? 0,
    severity: f.severity,
    scope: scopeFromForm(f),
    enabled: f.enabled === "on",
    autoClose: f.auto_close === "on",
    reopenWindowSeconds: durationSeconds(f.reopen, f.reopen_unit),
    // Empty: the tenant default; absent (a form without the select): unchanged.
    escalationPolicyId: f.escalation_policy_id === undefined ? undefined : f.escalation_policy_id || null,
  };
}

/** A rule as the form's values. */
function ruleValues(r: Rule): Record<string, string> {
  return {
    name: r.name,
    metric_name: r.metric_name,
    normalized: r.normalized ? "on" : "",
    operator: r.operator,
    threshold: typeof r.threshold === "string" ? r.threshold : String(r.threshold),
    clear_threshold: r.clear_threshold === null ? "" : String(r.clear_threshold),
    ...durationValues("duration", r.duration_seconds),
    severity: r.severity,
    ...scopeValues(r.scope),
    enabled: r.enabled ? "on" : "",
    auto_close: r.auto_close ? "on" : "",
    ...durationValues("reopen", r.reopen_window_seconds),
    escalation_policy_id: r.escalation_policy_id ?? "",
  };
}

const NEW_RULE: Record<string, string> = { operator: "GT", severity: "HIGH", duration: "0", duration_unit: "min", reopen: "60", reopen_unit: "min", enabled: "on", auto_close: "on" };

export function alertRulePages(env: PageEnv, auth: Auth): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const deps = { db: auth.db, clock: auth.clock };

  app.get("/alert-rules", async (c) => {
    if (!callerFrom(c).tenantId) return chooseTenant(c);
    const ctx = ctxFrom(c);
    const admin = can(ctx, "admin");
    const [rules, sites] = await Promise.all([listAlertRules(deps, ctx), listSiteChoices(deps, ctx)]);
    const siteNames = new Map(sites.map((s) => [s.id, s.name]));
    return renderPage(
      c,
      env,
      { title: "Alert rules", active: "alert-rules" },
      html`${PageHeader({
          title: "Alert rules",
          description: admin ? "When a metric crosses a line for long enough, an alert opens; when it comes back, it closes." : "When a metric crosses a line for long enough, an alert opens (read-only: tenant-admins change rules).",
          actions: admin ? html`<a class="btn btn-primary" href="/alert-rules/new">New rule</a>` : undefined,
        })}
        ${RulesTable({ c, rules, siteNames, admin })}
        ${await HeartbeatSection({ c, deps, ctx, sites })}`,
    );
  });

  function chooseTenant(c: Context<HttpEnv>): Response {
    return renderPage(
      c,
      env,
      { title: "Alert rules", active: "alert-rules" },
      html`${PageHeader({ title: "Alert rules" })}
        ${EmptyState({ title: "Rules belong to a tenant", body: "Choose a tenant in the top bar to see its alert rules." })}`,
    );
  }

  app.route("/", heartbeatRoutes(env, auth));

  app.get("/alert-rules/new", async (c) => rulePage(c, undefined, emptyForm({ ...NEW_RULE })));

  app.get("/alert-rules/:id", async (c) => {
    const rule = await getAlertRule(deps, ctxFrom(c), c.req.param("id"));
    return rulePage(c, rule, emptyForm(ruleValues(rule)));
  });

  /** Create, update or preview: the same form posts all three. */
  const save = async (c: Context<HttpEnv>, id: string | undefined) => {
    const ctx = ctxFrom(c);
    const values = await postedValues(c);
    const current = id ? await getAlertRule(deps, ctx, id) : undefined;
    let input: RuleInput;
    try {
      input = ruleInputFrom(values);
      if (values.intent === "preview") {
        const preview = await previewRule(deps, ctx, input);
        return rulePage(c, current, emptyForm(values), 200, preview);
      }
      const rule = id ? await updateAlertRule(deps, ctx, id, input) : await createAlertRule(deps, ctx, input);
      return redirectWithFlash(c, "/alert-rules", { kind: "ok", text: `${id ? "Saved" : "Created"} “${rule.name}”: ${ruleCondition(rule)}.${rule.metricUnseen ? ` No device has sent ${rule.metric_name} yet.` : ""}` });
    } catch (err) {
      return rulePage(c, current, formError(err, values, FIELD_MAP, KNOWN), 400);
    }
  };
  app.post("/alert-rules", (c) => save(c, undefined));
  app.post("/alert-rules/:id", (c) => save(c, c.req.param("id")));

  app.post("/alert-rules/:id/delete", async (c) => {
    const ctx = ctxFrom(c);
    const id = c.req.param("id");
    const rule = await getAlertRule(deps, ctx, id).catch(() => undefined);
    try {
      await deleteAlertRule(deps, ctx, id);
    } catch (err) {
      return redirectWithError(c, "/alert-rules", err);
    }
    return redirectWithFlash(c, "/alert-rules", { kind: "ok", text: `Deleted “${rule?.name ?? "the rule"}”. Its open alerts stay until someone closes them.` });
  });

  async function rulePage(c: Context<HttpEnv>, rule: Rule | undefined, form: FormState, status = 200, preview?: { fires: number; devices: number; evaluated: number }): Promise<Response> {
    const ctx = ctxFrom(c);
    const admin = can(ctx, "admin");
    const [sites, metrics, policies] = await Promise.all([listSiteChoices(deps, ctx), listMetrics(deps, ctx), listEscalationPolicies({ ...deps, secrets: auth.secrets }, ctx)]);
    const title = rule ? rule.name : "New alert rule";
    return renderPage(
      c,
      env,
      { title, active: "alert-rules", status },
      html`<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="/alert-rules">Alert rules</a><span aria-hidden="true"> / </span><span>${rule ? "Edit" : "New"}</span></nav>
        ${PageHeader({
          title,
          description: rule ? html`<span data-condition>${ruleCondition(rule)}</span>` : "Open an alert when a metric crosses a line for long enough.",
          actions:
            rule && admin
              ? ConfirmAction({
                  c,
                  label: "Delete",
                  action: `/alert-rules/${rule.id}/delete`,
                  message: html`Delete <strong>${rule.name}</strong>? It stops firing at once. Alerts it already opened stay until someone closes them. This is recorded in the audit log.`,
                  confirm: "Delete rule",
                })
              : undefined,
        })}
        ${preview ? PreviewResult(preview) : null}
        ${RuleForm({ c, rule, form, admin, sites, metrics: metrics.map((m) => m.name), policies })}`,
    );
  }

  return app;
}

function PreviewResult(p: { fires: number; devices: number; evaluated: number }): VNode {
  const times = p.fires === 1 ? "once" : `${formatCount(p.fires)} times`;
  const on = `${formatCount(p.devices)} device${p.devices === 1 ? "" : "s"}`;
  return html`<div class="flash flash-info preview-result" role="status" data-preview>
    ${p.evaluated === 0
      ? html`No readings of this metric in the last 24 h, so there is nothing to try the rule on yet.`
      : html`This rule would have fired <strong data-preview-fires>${times}</strong> on <strong data-preview-devices>${on}</strong> in the last 24 h of data${" "}
          <span class="muted">(${formatCount(p.evaluated)} readings checked)</span>.`}
  </div>`;
}

function RulesTable(p: { c: Context<HttpEnv>; rules: Rule[]; siteNames: Map<string, string>; admin: boolean }): VNode {
  if (!p.rules.length)
    return EmptyState({
      title: "No alert rules yet",
      body: p.admin ? "Create one: pick a metric your devices send, a limit, and how long it must hold. Devices that stop sending raise NO_HEARTBEAT without a rule." : "A tenant-admin creates them. Devices that stop sending raise NO_HEARTBEAT without a rule.",
      actions: p.admin ? [{ label: "New rule", href: "/alert-rules/new", primary: true }] : [],
    });
  return html`<div class="table-wrap">
    <table class="data" data-table="Alert rules" aria-label="Alert rules">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Condition</th>
          <th scope="col">Severity</th>
          <th scope="col" class="hide-narrow">Scope</th>
          <th scope="col">State</th>
          ${p.admin ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}
        </tr>
      </thead>
      <tbody>
        ${p.rules.map(
          (r) => html`<tr class="row-link" data-rule=${r.name}>
            <td><a class="row-anchor" href=${`/alert-rules/${r.id}`}>${r.name}</a></td>
            <td>
              <code class="condition" data-condition>${ruleCondition(r)}</code>
              ${r.metricUnseen ? html` ${Badge({ tone: "warn", text: "METRIC NEVER SEEN", title: `No device of this tenant has sent ${r.metric_name} yet: check the name` })}` : null}
              ${r.normalized ? html` <span class="muted small">normalized</span>` : null}
            </td>
            <td>${SeverityBadge({ severity: r.severity })}</td>
            <td class="hide-narrow">${scopeText(r.scope, p.siteNames)}</td>
            <td>
              ${r.enabled ? Badge({ tone: "ok", text: "ENABLED", icon: "check" }) : Badge({ tone: "idle", text: "DISABLED", icon: "dash" })}
              <div class="muted small">${r.auto_close ? "closes itself" : "a person closes it"}${r.reopen_window_seconds ? ` · re-opens within ${humanDuration(r.reopen_window_seconds)}` : ""}</div>
            </td>
            ${p.admin
              ? html`<td>
                  <div class="row-actions">
                    <a class="btn btn-sm" href=${`/alert-rules/${r.id}`}>Edit</a>
                    ${ConfirmAction({
                      c: p.c,
                      label: "Delete",
                      small: true,
                      action: `/alert-rules/${r.id}/delete`,
                      message: html`Delete <strong>${r.name}</strong>? It stops firing at once. Alerts it already opened stay until someone closes them.`,
                      confirm: "Delete rule",
                    })}
                  </div>
                </td>`
              : null}
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function RuleForm(p: { c: Context<HttpEnv>; rule?: Rule; form: FormState; admin: boolean; sites: Array<{ id: string; name: string }>; metrics: string[]; policies: Array<{ id: string; name: string; is_tenant_default: boolean }> }): VNode {
  const f = p.form;
  const id = "rule";
  return html`<form method="post" action=${p.rule ? `/alert-rules/${p.rule.id}` : "/alert-rules"} class="form rule-form card" novalidate>
    ${CsrfField(p.c)} ${FormAlert({ form: f })}
    <fieldset class="plain-fieldset" disabled=${!p.admin}>
      ${p.admin ? null : html`<p class="hint">Read-only: tenant-admins change rules.</p>`}
      ${TextField({ name: "name", label: "Name", form: f, idPrefix: id, placeholder: "Boiler overheating", maxlength: 200 })}
      <div class="form-grid">
        ${FieldShell({
          id: `${id}-metric_name`,
          label: "Metric",
          name: "metric_name",
          form: f,
          hint: p.metrics.length ? "A metric your devices send (suggestions as you type)." : "No device has sent a metric yet; the rule waits for it.",
          children: html`<input
              id=${`${id}-metric_name`}
              name="metric_name"
              type="text"
              list="metric-names"
              value=${f.values.metric_name ?? ""}
              placeholder="temp_c"
              autocomplete="off"
              ...${fieldAria({ id: `${id}-metric_name`, name: "metric_name", form: f, hint: true })}
            />
            <datalist id="metric-names">${p.metrics.map((m) => html`<option value=${m}></option>`)}</datalist>`,
        })}
        ${SelectField({ name: "operator", label: "Fires when the value is", form: f, idPrefix: id, options: OPERATORS.map((o) => ({ value: o, label: OPERATOR_LABEL[o] })) })}
        ${TextField({ name: "threshold", label: "Threshold", form: f, idPrefix: id, placeholder: "80" })}
        ${TextField({ name: "clear_threshold", label: "Clears at", form: f, idPrefix: id, required: false, placeholder: "75" })}
      </div>
      <p class="hint form-note">
        The clear threshold adds hysteresis: for <em>above</em> rules it is at or below the threshold, for <em>below</em> rules at or above it. Empty: it clears as soon as the
        condition stops holding. Equals/differs compare numbers, <code>true</code>/<code>false</code> or text.
      </p>
      <div class="form-grid">
        ${DurationField({ name: "duration", label: "For at least", form: f, idPrefix: id, hint: "0 fires on the first reading over the line." })}
        ${SelectField({ name: "severity", label: "Severity", form: f, idPrefix: id, options: SEVERITIES.map((s) => ({ value: s, label: s })) })}
        ${DurationField({ name: "reopen", label: "Re-open window", form: f, idPrefix: id, hint: "A relapse within this time re-opens the same alert." })}
        ${SelectField({
          name: "escalation_policy_id",
          label: "Escalation policy",
          form: f,
          idPrefix: id,
          options: [
            { value: "", label: `Tenant default (${p.policies.find((x) => x.is_tenant_default)?.name ?? "none set: not escalated"})` },
            ...p.policies.map((x) => ({ value: x.id, label: x.name })),
          ],
          hint: html`Who is paged if nobody acknowledges: <a href="/escalation">escalation policies</a>.`,
        })}
      </div>
      ${ScopeFields({ form: f, sites: p.sites, idPrefix: id })}
      <div class="check-row">
        ${CheckboxField({ name: "enabled", label: "Enabled", form: f, idPrefix: id })}
        ${CheckboxField({ name: "auto_close", label: "Close the alert when the value returns to normal", form: f, idPrefix: id })}
        ${CheckboxField({ name: "normalized", label: "Compare the normalized value (the metric catalog's multiplier and offset)", form: f, idPrefix: id })}
      </div>
    </fieldset>
    <div class="actions">
      ${p.admin
        ? html`<button class="btn btn-primary" type="submit" name="intent" value="save">${p.rule ? "Save rule" : "Create rule"}</button>
            <button class="btn" type="submit" name="intent" value="preview">Preview on the last 24 h</button>
            <a class="btn btn-ghost" href="/alert-rules">Cancel</a>`
        : html`<a class="btn" href="/alert-rules">Back to the rules</a>`}
    </div>
  </form>`;
}
