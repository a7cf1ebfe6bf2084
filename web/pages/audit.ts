// The audit log as people read it: newest first, filters in the URL (action
// prefix, actor, time range in the viewer's zone, and for operators the
// tenant), pages that keep the filters, and a CSV export of exactly what the
// filters select. Tenant-admins see their tenant; operators everything.

import { Hono } from "hono";
import { listAuditLog } from "../../src/audit/service.ts";
import type { AuditRow } from "../../src/audit/store.ts";
import type { Auth } from "../../src/auth/index.ts";
import { callerFrom, principalOf } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can } from "../../src/lib/ctx.ts";
import { listTenants } from "../../src/tenants/service.ts";
import { absoluteTime, RelativeTime, zonedTimeToDate } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { DataTable, withQuery, type Column } from "../components/table.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";

export const AUDIT_PAGE_SIZE = 50;

// Offered as suggestions in the action filter; any prefix works.
const ACTIONS = [
  "auth.",
  "auth.login",
  "auth.login_failed",
  "user.",
  "user.invited",
  "user.role_changed",
  "user.removed",
  "tenant.",
  "apikey.",
  "oauth_client.",
  "idp.",
  "session.tenant_switched",
  "operator.access",
  "mail.failed",
];

const FILTERS = ["action", "actor", "tenant", "from", "to"] as const;

export function auditPages(env: PageEnv, auth: Auth): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const deps = { db: auth.db, clock: auth.clock };

  app.get("/audit", async (c) => {
    const caller = callerFrom(c);
    const p = principalOf(c);
    const url = new URL(c.req.url);
    const q = (k: string) => (url.searchParams.get(k) ?? "").trim();
    const operator = can(caller, "platform-read");
    const zone = await viewerTimeZone(auth, p);

    const problems: Record<string, string> = {};
    const time = (k: "from" | "to") => {
      if (!q(k)) return undefined;
      const d = zonedTimeToDate(q(k), zone);
      if (!d) problems[k] = "Not a date and time";
      return d;
    };
    const from = time("from");
    const to = time("to");
    if (from && to && from >= to) problems.to = "Must be after “from”";
    const before = Number(q("before"));
    const tenant = operator ? q("tenant") || undefined : undefined;

    const filter = {
      action: q("action") || undefined,
      actor: q("actor") || undefined,
      tenantId: tenant,
      from: problems.from ? undefined : from,
      to: problems.to ? undefined : to,
      beforeId: Number.isInteger(before) && before > 0 ? before : undefined,
      limit: AUDIT_PAGE_SIZE + 1,
    };
    const fetched = await listAuditLog(deps, caller, filter);
    const more = fetched.length > AUDIT_PAGE_SIZE;
    const rows = fetched.slice(0, AUDIT_PAGE_SIZE);
    const tenants = operator ? await listTenants(deps, caller, { includeDeleted: true }) : [];

    // The export selects what the filters select, as the API spells them.
    const csv = new URLSearchParams();
    if (filter.action) csv.set("action", filter.action);
    if (filter.actor) csv.set("actor", filter.actor);
    if (tenant) csv.set("tenant", tenant);
    if (filter.from) csv.set("from", filter.from.toISOString());
    if (filter.to) csv.set("to", filter.to.toISOString());
    const csvHref = `/api/v1/audit-log.csv${csv.size ? "?" + csv : ""}`;

    const now = auth.clock.now();
    const columns: Column<AuditRow>[] = [
      { key: "time", label: "Time", cell: (r) => html`<span class="nowrap">${RelativeTime({ t: r.time, now, timeZone: zone })}</span>` },
      { key: "actor", label: "Who", cell: (r) => html`<div class="person"><span class="person-name">${r.actor_name || "—"}</span><span class="person-sub muted">${r.actor_kind}</span></div>` },
      { key: "action", label: "Action", cell: (r) => html`<code class="action">${r.action}</code>` },
      { key: "target", label: "Target", class: "hide-narrow", cell: (r) => (r.target_kind ? html`<span class="muted">${r.target_kind}</span> <span class="mono">${short(r.target_id)}</span>` : html`<span class="muted">—</span>`) },
      ...(operator ? [{ key: "tenant", label: "Tenant", cell: (r: AuditRow) => r.tenant_id ?? html`<span class="muted">platform</span>` }] : []),
      { key: "details", label: "Details", cell: (r) => Details(r) },
    ];

    return renderPage(
      c,
      env,
      { title: "Audit log", active: "audit" },
      html`${PageHeader({
          title: "Audit log",
          description: operator
            ? "Who did what, on every tenant, newest first. Operators' looks into tenant data are recorded too (operator.access)."
            : html`Who did what in <strong>${p.tenantName}</strong>, newest first.`,
          actions: html`<a class="btn" href=${csvHref} data-csv download>Export CSV</a>`,
        })}
        <form class="filters audit-filters" method="get" action="/audit" role="search">
          <label class="filter-field"
            ><span class="filter-label">Action starts with</span
            ><input name="action" value=${q("action")} list="audit-actions" placeholder="e.g. user." autocomplete="off" data-search size="16"
          /></label>
          <datalist id="audit-actions">${ACTIONS.map((a) => html`<option value=${a}></option>`)}</datalist>
          <label class="filter-field"><span class="filter-label">Who</span><input name="actor" value=${q("actor")} placeholder="name contains" size="12" /></label>
          ${operator
            ? html`<label class="filter-field"
                ><span class="filter-label">Tenant</span
                ><select name="tenant">
                  <option value="">Any</option>
                  ${tenants.map((t) => html`<option value=${t.id} selected=${t.id === tenant}>${t.name}</option>`)}
                </select></label
              >`
            : null}
          ${(["from", "to"] as const).map(
            (k) => html`<label class="filter-field"
              ><span class="filter-label">${k === "from" ? "From" : "To"} (${zone})</span
              ><input
                type="datetime-local"
                name=${k}
                value=${q(k)}
                aria-invalid=${problems[k] ? "true" : undefined}
                aria-describedby=${problems[k] ? `audit-${k}-err` : undefined}
              />${problems[k] ? html`<span class="field-error" id=${`audit-${k}-err`} role="alert">${problems[k]}</span>` : null}</label
            >`,
          )}
          <button class="btn" type="submit">Apply</button>
          ${FILTERS.some((k) => q(k)) ? html`<a class="btn btn-ghost" href="/audit">Clear</a>` : null}
        </form>
        ${DataTable({
          label: "Audit entries",
          columns,
          rows,
          url,
          rowKey: (r) => String(r.id),
          filters: [...FILTERS, "before"],
          empty: {
            title: "Nothing recorded yet",
            body: "Sign-ins, invitations, role changes, API keys and tenant changes are recorded here as they happen. Invite someone from Users to see the first entries.",
            actions: [{ label: "Go to users", href: "/users" }],
          },
        })}
        ${rows.length || filter.beforeId
          ? html`<nav class="pagination" aria-label="Pages">
              <span class="muted">${rows.length ? `${rows.length} entries${filter.beforeId ? ", older page" : ""}` : ""}</span>
              <span class="pagination-links">
                ${filter.beforeId ? html`<a class="btn" rel="first" href=${withQuery(url, { before: null })}>← Newest</a>` : null}
                ${more
                  ? html`<a class="btn" rel="next" href=${withQuery(url, { before: String(rows.at(-1)!.id) })}>Older →</a>`
                  : html`<span class="btn btn-disabled" aria-disabled="true">Older →</span>`}
              </span>
            </nav>`
          : null}
        <p class="muted small">Times in ${zone}; hover a time for the exact moment. ${absoluteTime(now, zone)} now.</p>`,
    );
  });

  return app;
}

function short(id: string | null): string {
  if (!id) return "";
  return id.length > 20 ? id.slice(0, 8) + "…" : id;
}

/** An entry's details as "key value" lines, plus where it came from. */
function Details(r: AuditRow): VNode {
  const entries = Object.entries(r.details ?? {});
  return html`<div class="audit-details">
    ${entries.length
      ? html`<dl class="kv">
          ${entries.map(([k, v]) => html`<dt>${k.replaceAll("_", " ")}</dt><dd>${value(v)}</dd>`)}
        </dl>`
      : null}
    ${r.ip || r.request_id ? html`<div class="muted small">${r.ip ? `from ${r.ip}` : ""}${r.request_id ? html` · request <span class="mono">${r.request_id}</span>` : null}</div>` : null}
  </div>`;
}

function value(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (Array.isArray(v)) return v.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
