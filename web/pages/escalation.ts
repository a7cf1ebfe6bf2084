// Escalation policies: the list (each policy's levels in one line, the
// rules that use it, the tenant default marked), and a policy's page — a
// preview of whom each level would reach right now ("level 2 in 15 min:
// bob (on call for Primary) via webhook"), the level builder
// (escalation-form.ts), repeats, "make tenant default", and deletion behind
// one confirmation (refused while rules use the policy). Tenant-admins
// change policies; everyone in the tenant reads them.

import { Hono, type Context } from "hono";
import { SEVERITIES } from "../../src/alerts/evaluate.ts";
import type { Auth } from "../../src/auth/index.ts";
import { ctxFrom } from "../../src/auth/middleware.ts";
import { previewEscalationPolicy, type PolicyPreview } from "../../src/escalation/dry-run.ts";
import { deleteEscalationPolicy, getEscalationPolicy, listEscalationPolicies, saveEscalationPolicy, type Policy, type ShownTarget } from "../../src/escalation/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can, requirePermission, type Ctx } from "../../src/lib/ctx.ts";
import type { NotifyDeps } from "../../src/notify/service.ts";
import { listNotificationChannels } from "../../src/notify/service.ts";
import { listOnCallPeople } from "../../src/oncall/calendar.ts";
import { listOnCallSchedules } from "../../src/oncall/service.ts";
import { Badge } from "../components/badges.ts";
import { ConfirmAction, CsrfField, emptyForm, redirectWithError, type FormState } from "../components/form.ts";
import { humanDuration } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { DataTable, type Column } from "../components/table.ts";
import { html, type VNode } from "../render.ts";
import { applyIntent, draftsFrom, draftsOf, emptyLevel, intentOf, policyFormError, PolicyForm, policyInputFrom, policyInputOf, postedLists, type Choices, type LevelDraft } from "./escalation-form.ts";
import { needsTenant, serviceDeps } from "./oncall-common.ts";

export interface EscalationPageDeps {
  auth: Auth;
  notify: NotifyDeps;
}

const LEVELS_ISLAND = "islands/levels.js";
const tenantBody = "Choose a tenant in the top bar to see its escalation policies.";

/** A target in words: "schedule Primary", "alice", "channel Ops", "webhook https://hooks.example". */
export function targetText(t: ShownTarget): string {
  if (t.type === "user") return t.username ?? "(removed person)";
  if (t.type === "schedule") return `schedule ${t.name ?? "(deleted)"}`;
  if (t.type === "channel") return `channel ${t.name ?? "(deleted)"}`;
  return `webhook ${t.url}`;
}

/** Each level in one line: "1 · now: schedule Primary", "2 · +15 min: alice, channel Ops". */
export function levelLines(p: Pick<Policy, "levels">): string[] {
  let at = 0;
  return p.levels.map((l) => {
    at += l.delay_minutes;
    return `${l.level} · ${at === 0 ? "now" : `+${humanDuration(at * 60)}`}: ${l.targets.map(targetText).join(", ")}`;
  });
}

/** "level 2 in 15 min: bob (on call for Primary) via webhook", or why nobody is reached. */
export function previewLine(level: PolicyPreview["levels"][number], t: PolicyPreview["levels"][number]["targets"][number], now: Date): string {
  const wait = (level.at.getTime() - now.getTime()) / 1000;
  const when = wait <= 0 ? "now" : `in ${humanDuration(wait)}`;
  const who = `${t.who}${t.onCallFor ? ` (on call for ${t.onCallFor})` : ""}`;
  if (t.skipped) return `level ${level.level} ${when}: ${who} — not reached: ${t.skipped}`;
  if (t.target.type === "channel" || t.target.type === "webhook") return `level ${level.level} ${when}: ${who}`;
  const kinds = [...new Set(t.via.map((v) => ("kind" in v ? v.kind : "channel")))];
  return `level ${level.level} ${when}: ${who} via ${kinds.join(", ")}`;
}

export function escalationPages(env: PageEnv, deps: EscalationPageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const svc = serviceDeps(deps.auth);

  app.get("/escalation", async (c) => {
    const blocked = needsTenant(c, env, { title: "Escalation policies", active: "escalation", body: tenantBody });
    if (blocked) return blocked;
    const ctx = ctxFrom(c);
    const admin = can(ctx, "admin");
    const policies = await listEscalationPolicies(svc, ctx);
    const columns: Column<Policy>[] = [
      {
        key: "name",
        label: "Policy",
        cell: (p) => html`<span class="person"><a class="person-name" href=${`/escalation/${p.id}`}>${p.name}</a>${p.is_tenant_default ? html`<span class="person-sub" data-default>${Badge({ tone: "accent", text: "TENANT DEFAULT", icon: "check", title: "Used for alerts whose rule names no policy" })}</span>` : null}</span>`,
      },
      { key: "levels", label: "Levels", cell: (p) => html`<ol class="level-lines">${levelLines(p).map((l) => html`<li>${l}</li>`)}</ol>` },
      { key: "repeat", label: "Repeats", cell: (p) => (p.repeat_count ? `${p.repeat_count}× after ${humanDuration(p.repeat_delay_minutes * 60)}` : html`<span class="muted">none</span>`) },
      { key: "used", label: "Used by", cell: (p) => (p.used_by.length ? p.used_by.join(", ") : p.is_tenant_default ? html`<span class="muted">rules without a policy</span>` : html`<span class="muted">no rule</span>`) },
    ];
    const hasDefault = policies.some((p) => p.is_tenant_default);
    return renderPage(
      c,
      env,
      { title: "Escalation policies", active: "escalation" },
      html`${PageHeader({
          title: "Escalation",
          description: "Who is paged when an alert opens and nobody acknowledges it: level after level, until someone does. An alert rule names its policy; the tenant default covers the rest.",
          actions: admin ? html`<a class="btn btn-primary" href="/escalation/new">New policy</a>` : undefined,
        })}
        ${policies.length && !hasDefault ? html`<p class="callout" data-no-default>${Badge({ tone: "warn", text: "NO DEFAULT", icon: "stale" })} Alerts whose rule names no policy are not escalated: make one policy the tenant default.</p>` : null}
        ${DataTable({
          label: "Escalation policies",
          columns,
          rows: policies,
          url: c.req.url,
          rowKey: (p) => p.id,
          empty: {
            title: "No escalation policies yet",
            body: admin
              ? "Create one: level 1 pages whoever is on call (a schedule), later levels reach more people or a channel if nobody acknowledges."
              : "A tenant-admin creates them. Until then alerts only reach the channels of the routing rules.",
            actions: admin ? [{ label: "New policy", href: "/escalation/new", primary: true }] : [],
          },
        })}`,
    );
  });

  async function choicesFor(ctx: Ctx, policy?: Policy): Promise<Choices> {
    const userIds = policy?.levels.flatMap((l) => l.targets.flatMap((t) => (t.type === "user" ? [t.user_id] : []))) ?? [];
    const [people, schedules, channels] = await Promise.all([listOnCallPeople(svc, ctx, userIds), listOnCallSchedules(svc, ctx), listNotificationChannels(deps.notify, ctx)]);
    const webhooks = new Map<string, string>();
    for (const l of policy?.levels ?? []) for (const t of l.targets) if (t.type === "webhook") webhooks.set(t.id, t.url);
    return { people, schedules, channels, webhooks };
  }

  interface Draft {
    form: FormState;
    levels: LevelDraft[];
    note?: string;
  }

  async function policyPage(c: Context<HttpEnv>, policy: Policy | undefined, draft: Draft | undefined, status = 200): Promise<Response> {
    const ctx = ctxFrom(c);
    const admin = can(ctx, "admin");
    const title = policy ? policy.name : "New escalation policy";
    const severity = SEVERITIES.find((s) => s === c.req.query("severity")) ?? "CRITICAL";
    const [preview, choices] = await Promise.all([policy ? previewEscalationPolicy(svc, ctx, policy.id, { severity }) : undefined, admin ? choicesFor(ctx, policy) : undefined]);
    const d: Draft = draft ?? {
      form: emptyForm(
        policy
          ? { name: policy.name, repeat_count: String(policy.repeat_count), repeat_delay_minutes: String(policy.repeat_delay_minutes), is_tenant_default: policy.is_tenant_default ? "on" : "" }
          : { repeat_count: "0", repeat_delay_minutes: "15" },
      ),
      levels: policy ? draftsOf(policy) : [emptyLevel(true)],
    };
    return renderPage(
      c,
      env,
      { title, active: "escalation", status, islands: admin ? [LEVELS_ISLAND] : [] },
      html`<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="/escalation">Escalation</a><span aria-hidden="true"> / </span><span>${policy ? policy.name : "New policy"}</span></nav>
        ${PageHeader({
          title,
          description: policy
            ? html`${policy.is_tenant_default ? html`<span data-default>${Badge({ tone: "accent", text: "TENANT DEFAULT", icon: "check" })}</span> ` : null}
                ${policy.used_by.length ? html`Used by <span data-used-by>${policy.used_by.join(", ")}</span>.` : policy.is_tenant_default ? "Used for every alert whose rule names no policy." : "No rule uses it yet."}
                ${admin ? null : " Read-only: tenant-admins change policies."}`
            : "Who is paged, level after level, until someone acknowledges.",
          actions: policy && admin ? PolicyActions({ c, policy }) : undefined,
        })}
        ${policy && preview ? PreviewCard({ preview, severity, policyId: policy.id }) : null}
        ${admin && choices
          ? PolicyForm({ c, action: policy ? `/escalation/${policy.id}` : "/escalation", form: d.form, levels: d.levels, choices, isNew: !policy, note: d.note })
          : policy
            ? ReadOnlyLevels({ policy })
            : null}`,
    );
  }

  app.get("/escalation/new", async (c) => {
    requirePermission(ctxFrom(c), "admin", "change escalation policies");
    return policyPage(c, undefined, undefined);
  });

  app.get("/escalation/:id", async (c) => {
    const blocked = needsTenant(c, env, { title: "Escalation policies", active: "escalation", body: tenantBody });
    if (blocked) return blocked;
    return policyPage(c, await getEscalationPolicy(svc, ctxFrom(c), c.req.param("id")), undefined);
  });

  const MOVED: Record<string, string> = { up: "moved up", down: "moved down", remove: "removed" };

  const save = async (c: Context<HttpEnv>, id: string | undefined) => {
    const ctx = ctxFrom(c);
    requirePermission(ctx, "admin", "change escalation policies");
    const f = await postedLists(c);
    const values = { name: f.name?.[0], repeat_count: f.repeat_count?.[0], repeat_delay_minutes: f.repeat_delay_minutes?.[0], is_tenant_default: f.is_tenant_default?.[0] };
    const current = id ? await getEscalationPolicy(svc, ctx, id) : undefined;
    const intent = intentOf(f);
    const levels = applyIntent(draftsFrom(f), intent);
    // Adding a level, or rearranging one that is not saved yet, only re-draws the form.
    if (intent.kind === "add" || (!current && intent.kind !== "save")) {
      const note = intent.kind === "add" ? `Level ${levels.length} added below: choose its targets, then save.` : "Levels rearranged: create the policy to keep them.";
      return policyPage(c, current, { form: emptyForm(values), levels, note });
    }
    const { input, kept } = policyInputFrom(f, levels);
    try {
      const p = await saveEscalationPolicy(svc, ctx, id, input);
      const what = intent.kind === "save" ? `${current ? "Saved" : "Created"} “${p.name}”: ${p.levels.length} level${p.levels.length === 1 ? "" : "s"}.` : `Level ${intent.index + 1} ${MOVED[intent.kind]}; saved “${p.name}”.`;
      return redirectWithFlash(c, `/escalation/${p.id}`, { kind: "ok", text: what });
    } catch (err) {
      return policyPage(c, current, { form: policyFormError(err, values, kept), levels }, 400);
    }
  };
  app.post("/escalation", (c) => save(c, undefined));
  app.post("/escalation/:id", (c) => save(c, c.req.param("id")));

  app.post("/escalation/:id/default", async (c) => {
    const id = c.req.param("id");
    const ctx = ctxFrom(c);
    try {
      const p = await getEscalationPolicy(svc, ctx, id);
      await saveEscalationPolicy(svc, ctx, id, policyInputOf(p, { is_tenant_default: true }));
      return redirectWithFlash(c, `/escalation/${id}`, { kind: "ok", text: `“${p.name}” is now the tenant default: alerts whose rule names no policy escalate by it.` });
    } catch (err) {
      return redirectWithError(c, `/escalation/${id}`, err);
    }
  });

  app.post("/escalation/:id/delete", async (c) => {
    const id = c.req.param("id");
    const ctx = ctxFrom(c);
    const p = await getEscalationPolicy(svc, ctx, id).catch(() => undefined);
    try {
      await deleteEscalationPolicy(svc, ctx, id);
    } catch (err) {
      return redirectWithError(c, `/escalation/${id}`, err);
    }
    return redirectWithFlash(c, "/escalation", { kind: "ok", text: `Deleted “${p?.name ?? "the policy"}”. Alerts escalating under it stop at their next step.` });
  });

  return app;
}

function PolicyActions(p: { c: Context<HttpEnv>; policy: Policy }): VNode {
  const { policy } = p;
  return html`${policy.is_tenant_default
      ? null
      : html`<form method="post" action=${`/escalation/${policy.id}/default`} class="inline-form">
          ${CsrfField(p.c)}<button class="btn" type="submit" data-make-default>Make tenant default</button>
        </form>`}
    ${policy.used_by.length
      ? html`<details class="confirm" data-confirm>
          <summary class="btn btn-danger">Delete</summary>
          <div class="confirm-panel" role="group" aria-label="Delete" data-delete-refused>
            <p><strong>${policy.name}</strong> cannot be deleted while rules use it: ${policy.used_by.join(", ")}. Choose another policy in those rules first.</p>
            <a class="btn btn-sm" href="/alert-rules">Alert rules</a>
          </div>
        </details>`
      : ConfirmAction({
          c: p.c,
          label: "Delete",
          action: `/escalation/${policy.id}/delete`,
          message: html`Delete <strong>${policy.name}</strong>?${policy.is_tenant_default ? " It is the tenant default: alerts whose rule names no policy will not be escalated." : ""} Alerts escalating under it stop at their next step. This is recorded in the audit log.`,
          confirm: "Delete policy",
        })}`;
}

function PreviewCard(p: { preview: PolicyPreview; severity: string; policyId: string }): VNode {
  const { preview } = p;
  return html`<section class="card preview-card" aria-labelledby="preview-title" data-preview>
    <div class="section-head preview-head">
      <h2 id="preview-title">Who would be paged right now</h2>
      <form method="get" action=${`/escalation/${p.policyId}`} class="compact-form">
        <label for="preview-severity" class="small muted">For a new alert of</label>
        <select id="preview-severity" name="severity">${SEVERITIES.map((s) => html`<option value=${s} selected=${s === p.severity}>${s}</option>`)}</select>
        <button class="btn btn-sm" type="submit">Show</button>
      </form>
    </div>
    <p class="hint">Each level at the moment it would fire, through each person's contact methods. Nothing is sent.</p>
    <ol class="preview-levels">
      ${preview.levels.map(
        (l) => html`<li data-preview-level=${String(l.level)}>
          ${l.targets.map((t) => html`<div class=${t.skipped ? "preview-line preview-skipped" : "preview-line"} data-preview-line>${previewLine(l, t, preview.at)}${t.via.length && !t.skipped && (t.target.type === "user" || t.target.type === "schedule") ? html` <span class="muted small">${t.via.map((v) => ("address" in v ? v.address : "")).filter(Boolean).join(", ")}</span>` : null}</div>`)}
        </li>`,
      )}
    </ol>
  </section>`;
}

function ReadOnlyLevels(p: { policy: Policy }): VNode {
  return html`<section class="card" aria-labelledby="levels-title" data-levels-readonly>
    <h2 id="levels-title">Levels</h2>
    <ol class="level-lines">
      ${levelLines(p.policy).map((l) => html`<li>${l}</li>`)}
    </ol>
    <p class="muted">${p.policy.repeat_count ? `Then runs again ${p.policy.repeat_count}× after ${humanDuration(p.policy.repeat_delay_minutes * 60)}, while nobody acknowledges.` : "Runs once."}</p>
  </section>`;
}
