// "My on-call": whether I am on call now, when next, my shifts over the next
// 30 days, and how I am paged; and /account/contact, where each person keeps
// their contact methods for the tenant they work in (email, a personal Slack
// or Teams webhook, a signed webhook), each with the least severe alert it
// is used for. Webhook URLs carry tokens: they are never shown back (scheme
// and host only), and a generated signing secret is shown once.

import { Hono, type Context } from "hono";
import { SEVERITIES } from "../../src/alerts/evaluate.ts";
import { ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { myOnCall, type MyShift } from "../../src/oncall/calendar.ts";
import { addMyContactMethod, deleteMyContactMethod, listMyContactMethods, updateMyContactMethod, type ContactMethodRow } from "../../src/oncall/contacts.ts";
import { getUser } from "../../src/auth/users/service.ts";
import { SeverityBadge } from "../components/badges.ts";
import { ConfirmAction, COPY_ISLAND, CsrfField, emptyForm, FormAlert, formError, redirectWithError, SecretOnce, SelectField, TextField, type FormState } from "../components/form.ts";
import { formFields } from "../components/form-token.ts";
import { humanDuration, relativeTime } from "../components/format.ts";
import { zonedTime } from "../components/oncall-timeline.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { html, type VNode } from "../render.ts";
import { needsTenant, OnCallTabs, serviceDeps, type OnCallPageDeps } from "./oncall-common.ts";

const KIND_LABEL: Record<string, string> = { email: "Email", slack: "Slack (personal incoming webhook)", teams: "Microsoft Teams (personal webhook)", webhook: "Webhook (signed, Standard Webhooks)" };
const KIND_SHORT: Record<string, string> = { email: "email", slack: "Slack", teams: "Teams", webhook: "webhook" };
const SEVERITY_OPTIONS = SEVERITIES.map((s) => ({ value: s, label: s === "CRITICAL" ? "CRITICAL only" : s === "INFO" ? "Every alert (INFO and above)" : `${s} and above` }));

/** "HIGH and above", "CRITICAL only", "every alert". */
export const severityText = (s: string) => (s === "CRITICAL" ? "CRITICAL only" : s === "INFO" ? "every alert" : `${s} and above`);

export function myOnCallPages(env: PageEnv, deps: OnCallPageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const svc = serviceDeps(deps.auth);

  app.get("/oncall/me", async (c) => {
    const blocked = needsTenant(c, env, { title: "My on-call", active: "oncall", body: "Choose a tenant in the top bar: shifts belong to a tenant's schedules." });
    if (blocked) return blocked;
    const ctx = ctxFrom(c);
    const now = deps.auth.clock.now();
    const [mine, methods, me] = await Promise.all([myOnCall(svc, ctx, { days: 30 }), listMyContactMethods(svc, ctx), getUser(svc, ctx, principalOf(c).id)]);
    const shifts = [...mine.now, ...mine.upcoming];
    return renderPage(
      c,
      env,
      { title: "My on-call", active: "oncall" },
      html`${PageHeader({ title: "On-call", description: "Your shifts across this tenant's schedules, and how you are paged." })}
        ${OnCallTabs({ current: "me" })}
        <div class="columns wide-first">
          <section class="card" aria-labelledby="me-now-title" data-my-oncall>
            <h2 id="me-now-title">Now and next</h2>
            ${mine.now.length
              ? mine.now.map((s) => html`<p class="now-line" data-me-now=${s.schedule.name}><strong>You are on call</strong> for <a href=${`/oncall/${s.schedule.id}`}>${s.schedule.name}</a> until ${zonedTime(s.end, s.schedule.timezone)} <span class="muted">(${relativeTime(s.end, now)})</span>.</p>`)
              : html`<p class="now-line" data-me-now="">You are not on call now.</p>`}
            ${mine.next
              ? html`<p data-me-next=${mine.next.schedule.name}>
                  Next: <strong>${mine.next.schedule.name}</strong> from ${zonedTime(mine.next.start, mine.next.schedule.timezone)} <span class="muted">(${relativeTime(mine.next.start, now)})</span>, for ${humanDuration((mine.next.end.getTime() - mine.next.start.getTime()) / 1000)}.
                </p>`
              : html`<p class="muted" data-me-next="">No shifts in the next 30 days.</p>`}
          </section>
          <section class="card" aria-labelledby="me-paged-title" data-my-contacts>
            <h2 id="me-paged-title">How you are paged</h2>
            ${methods.length
              ? html`<ul class="plain-list">
                  ${methods.map((m) => html`<li>${KIND_SHORT[m.kind]} <code>${m.address}</code> <span class="muted">· ${severityText(m.min_severity)}</span></li>`)}
                </ul>`
              : html`<p class="muted">No contact methods: you are paged by email${me.email ? html` at <code>${me.email}</code>` : " — but your account has no address, so you cannot be paged"}.</p>`}
            <p><a class="btn" href="/account/contact">Manage your contact methods</a></p>
          </section>
        </div>
        <section aria-labelledby="me-shifts-title">
          <h2 id="me-shifts-title">Your shifts, next 30 days</h2>
          ${shifts.length ? ShiftTable({ shifts, now }) : html`<div class="empty empty-compact" data-empty><p class="empty-title">No shifts coming</p><p class="empty-body">When a schedule's layer or an override puts you on call, the shifts show here.</p></div>`}
        </section>`,
    );
  });

  async function contactPage(c: Context<HttpEnv>, form: FormState, status = 200, created?: { method: ContactMethodRow; secret: string }): Promise<Response> {
    const blocked = needsTenant(c, env, { title: "Contact methods", active: "oncall", body: "Choose a tenant in the top bar: contact methods are kept per tenant." });
    if (blocked) return blocked;
    const ctx = ctxFrom(c);
    const [methods, me] = await Promise.all([listMyContactMethods(svc, ctx), getUser(svc, ctx, principalOf(c).id)]);
    const tenant = principalOf(c).tenantName ?? ctx.tenantId;
    const res = renderPage(
      c,
      env,
      { title: "Contact methods", active: "oncall", status, islands: created ? [COPY_ISLAND] : [] },
      html`<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="/account">Your account</a><span aria-hidden="true"> / </span><span>Contact methods</span></nav>
        ${PageHeader({ title: "Contact methods", description: html`How you are paged in <strong>${tenant}</strong> when an escalation reaches you. <a href="/oncall/me">Your shifts</a>` })}
        ${created
          ? html`<section class="card" data-created-secret>
              <h2>Webhook added</h2>
              ${SecretOnce({ id: "contact-secret", label: "Signing secret (Standard Webhooks)", value: created.secret, warning: "This is the only time it is shown. Keep it where your receiver checks signatures." })}
            </section>`
          : null}
        <div class="columns wide-first">
          <section class="card" aria-labelledby="methods-title">
            <h2 id="methods-title">Your methods</h2>
            ${methods.length
              ? html`<ul class="item-list" data-methods>
                  ${methods.map((m) => MethodRow({ c, m }))}
                </ul>`
              : html`<p class="muted" data-no-methods>None yet: you are paged by email${me.email ? html` at <code>${me.email}</code>` : " — but your account has no address, so you cannot be paged"}. Add one to choose how, and for which alerts.</p>`}
          </section>
          <section class="card" aria-labelledby="add-method-title">
            <h2 id="add-method-title">Add a method</h2>
            <form method="post" action="/account/contact" class="form contact-form" novalidate>
              ${CsrfField(c)} ${FormAlert({ form })}
              ${SelectField({ name: "kind", label: "Kind", form, idPrefix: "cm", options: Object.entries(KIND_LABEL).map(([value, label]) => ({ value, label })) })}
              <div class="when-email">${TextField({ name: "address", label: "Email address", form, idPrefix: "cm", type: "email", placeholder: "you@example.com" })}</div>
              <div class="when-url">${TextField({ name: "url", label: "Webhook URL", form, idPrefix: "cm", type: "url", placeholder: "https://hooks.slack.com/services/…", hint: "Kept secret: only its scheme and host are shown afterwards." })}</div>
              <div class="when-webhook">${TextField({ name: "secret", label: "Signing secret", form, idPrefix: "cm", required: false, placeholder: "whsec_…", hint: "Leave empty and Pulse makes one, shown once." })}</div>
              ${SelectField({ name: "min_severity", label: "Use it for", form, idPrefix: "cm", options: SEVERITY_OPTIONS })}
              <div class="actions"><button class="btn btn-primary" type="submit">Add method</button></div>
            </form>
          </section>
        </div>`,
    );
    if (created) res.headers.set("cache-control", "no-store");
    return res;
  }

  app.get("/account/contact", (c) => contactPage(c, emptyForm({ kind: "email", min_severity: "HIGH" })));

  app.post("/account/contact", async (c) => {
    const values = await formFields(c);
    const kind = values.kind;
    try {
      const r = await addMyContactMethod(svc, ctxFrom(c), {
        kind,
        min_severity: values.min_severity,
        ...(kind === "email" ? { address: values.address ?? "" } : { url: values.url ?? "" }),
        ...(kind === "webhook" && values.secret ? { secret: values.secret } : {}),
      });
      if (r.signingSecret) return contactPage(c, emptyForm({ kind: "email", min_severity: "HIGH" }), 200, { method: r.method, secret: r.signingSecret });
      return redirectWithFlash(c, "/account/contact", { kind: "ok", text: `Added ${KIND_SHORT[r.method.kind]} ${r.method.address} for ${severityText(r.method.min_severity)}.` });
    } catch (err) {
      const state = formError(err, { ...values, secret: "" }, { "settings.url": "url", "settings.secret": "secret", recipients: "address" }, ["kind", "address", "url", "secret", "min_severity"]);
      return contactPage(c, state, 400);
    }
  });

  app.post("/account/contact/:id", async (c) => {
    const values = await formFields(c);
    try {
      const m = await updateMyContactMethod(svc, ctxFrom(c), c.req.param("id"), { min_severity: values.min_severity });
      return redirectWithFlash(c, "/account/contact", { kind: "ok", text: `${KIND_SHORT[m.kind]} ${m.address} is now used for ${severityText(m.min_severity)}.` });
    } catch (err) {
      return redirectWithError(c, "/account/contact", err);
    }
  });

  app.post("/account/contact/:id/delete", async (c) => {
    try {
      await deleteMyContactMethod(svc, ctxFrom(c), c.req.param("id"));
    } catch (err) {
      return redirectWithError(c, "/account/contact", err);
    }
    return redirectWithFlash(c, "/account/contact", { kind: "ok", text: "Contact method removed." });
  });

  return app;
}

function MethodRow(p: { c: Context<HttpEnv>; m: ContactMethodRow }): VNode {
  const { m } = p;
  return html`<li data-method=${m.kind}>
    <span class="person">
      <span class="person-name">${KIND_SHORT[m.kind]} <code>${m.address}</code></span>
      <span class="person-sub">${SeverityBadge({ severity: m.min_severity })} <span class="muted">${m.min_severity === "CRITICAL" ? "only" : m.min_severity === "INFO" ? "and everything" : "and above"}</span></span>
    </span>
    <span class="row-actions">
      <form method="post" action=${`/account/contact/${m.id}`} class="compact-form">
        ${CsrfField(p.c)}
        <label class="visually-hidden" for=${`sev-${m.id}`}>Use ${m.address} for</label>
        <select id=${`sev-${m.id}`} name="min_severity">${SEVERITY_OPTIONS.map((o) => html`<option value=${o.value} selected=${o.value === m.min_severity}>${o.label}</option>`)}</select>
        <button class="btn btn-sm" type="submit">Save</button>
      </form>
      ${ConfirmAction({ c: p.c, label: "Remove", small: true, action: `/account/contact/${m.id}/delete`, message: html`Stop paging you at <code>${m.address}</code>?`, confirm: "Remove method" })}
    </span>
  </li>`;
}

function ShiftTable(p: { shifts: MyShift[]; now: Date }): VNode {
  return html`<div class="table-wrap">
    <table class="data" aria-label="Your shifts" data-my-shifts>
      <thead>
        <tr><th scope="col">Schedule</th><th scope="col">From</th><th scope="col">Until</th><th scope="col">Length</th><th scope="col">Why</th></tr>
      </thead>
      <tbody>
        ${p.shifts.map(
          (s) => html`<tr data-shift=${s.schedule.name}>
            <td><a href=${`/oncall/${s.schedule.id}`}>${s.schedule.name}</a></td>
            <td>${zonedTime(s.start, s.schedule.timezone)}${s.start <= p.now ? html` <span class="muted">(now)</span>` : html` <span class="muted">(${relativeTime(s.start, p.now)})</span>`}</td>
            <td>${zonedTime(s.end, s.schedule.timezone)}</td>
            <td>${humanDuration((s.end.getTime() - s.start.getTime()) / 1000)}</td>
            <td class="muted">${s.overrideId ? "override" : s.layer ? `layer ${s.layer.name}` : ""}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
