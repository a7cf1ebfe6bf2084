// The alert inbox: what is firing, since when, and who is on it. Tabs by
// severity with counts, a status filter (active by default), device, site,
// type and time range in the URL, keyset pages that keep the filters, and
// checkboxes with bulk acknowledge / close / silence in one plain form (the
// bulk island adds select-all and a count). Each alert has its own page
// (alerts-detail.ts). Customers and admins act; operators only read. An
// operator working in no tenant sees the most severe alerts of every tenant.

import { Hono, type Context } from "hono";
import type { AlertBus } from "../../src/alerts/bus.ts";
import { SEVERITIES, type Severity } from "../../src/alerts/evaluate.ts";
import { actOnAlerts, listTenantAlerts, type AlertAction } from "../../src/alerts/service.ts";
import type { AlertFilter, AlertRow } from "../../src/alerts/store.ts";
import type { Auth } from "../../src/auth/index.ts";
import { callerFrom, ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import { countAlertsPerSeverity, describeDevices, fleetOverview, listSiteChoices } from "../../src/fleet/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can } from "../../src/lib/ctx.ts";
import { AlertList, type AlertListItem } from "../components/alert-list.ts";
import { SeverityBadge } from "../components/badges.ts";
import { CsrfField, redirectWithError } from "../components/form.ts";
import { formatCount } from "../components/format.ts";
import { LIVE_ISLAND, LiveStatus } from "../components/live.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { FilterBar, withQuery } from "../components/table.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";
import { alertDetailPages, silenceChoice, SILENCE_PRESETS } from "./alerts-detail.ts";

export interface AlertPageDeps {
  auth: Auth;
  bus: AlertBus;
  onError: (err: unknown) => void;
}

// Re-exported: other areas' pages take the live island from here.
export { LIVE_ISLAND, LiveStatus };
const BULK_ISLAND = "islands/bulk.js";
const PAGE_SIZE = 50;

const STATUSES = {
  active: { label: "Active", filter: "ACTIVE" },
  open: { label: "Open", filter: "OPEN" },
  acknowledged: { label: "Acknowledged", filter: "ACKNOWLEDGED" },
  closed: { label: "Closed", filter: "CLOSED" },
  all: { label: "All", filter: "ALL" },
} as const;
type StatusKey = keyof typeof STATUSES;

const RANGES: Record<string, { label: string; ms: number }> = {
  "1h": { label: "Last hour", ms: 3_600_000 },
  "24h": { label: "Last 24 hours", ms: 86_400_000 },
  "7d": { label: "Last 7 days", ms: 7 * 86_400_000 },
  "30d": { label: "Last 30 days", ms: 30 * 86_400_000 },
};

/** The filters of an inbox URL (unknown values are ignored, so a bad link still shows a list). */
export function parseInbox(url: URL, now: Date) {
  const q = url.searchParams;
  const sev = SEVERITIES.find((s) => s === q.get("sev"));
  const status: StatusKey = (Object.keys(STATUSES) as StatusKey[]).find((s) => s === q.get("status")) ?? "active";
  const type = q.get("type") === "THRESHOLD" || q.get("type") === "NO_HEARTBEAT" ? (q.get("type") as AlertRow["alert_type"]) : undefined;
  const range = q.get("range") && RANGES[q.get("range")!] ? q.get("range")! : undefined;
  const device = q.get("device")?.trim() || undefined;
  const site = q.get("site")?.trim() || undefined;
  let before: AlertFilter["before"];
  const cursor = q.get("cursor");
  if (cursor) {
    try {
      const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, string];
      if (typeof at === "string" && typeof id === "string" && !Number.isNaN(new Date(at).getTime())) before = { at: new Date(at), id };
    } catch {
      before = undefined;
    }
  }
  const filter: Omit<AlertFilter, "limit" | "severity" | "before"> = {
    status: STATUSES[status].filter,
    deviceId: device,
    siteId: site,
    type,
    from: range ? new Date(now.getTime() - RANGES[range]!.ms) : undefined,
  };
  return { sev, status, type, range, device, site, before, filter };
}

const cursorOf = (a: AlertRow) => Buffer.from(JSON.stringify([a.opened_at.toISOString(), a.id])).toString("base64url");

export function alertPages(env: PageEnv, deps: AlertPageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const { auth } = deps;
  const alertDeps = { db: auth.db, clock: auth.clock, bus: deps.bus, onError: deps.onError };

  app.get("/alerts", async (c) => {
    const caller = callerFrom(c);
    if (!caller.tenantId) return platformInbox(c);
    const ctx = ctxFrom(c);
    const now = auth.clock.now();
    const url = new URL(c.req.url);
    const f = parseInbox(url, now);
    const zone = await viewerTimeZone(auth, principalOf(c));
    const [rows, counts, sites] = await Promise.all([
      listTenantAlerts(alertDeps, ctx, { ...f.filter, severity: f.sev ? [f.sev] : undefined, before: f.before, limit: PAGE_SIZE + 1 }),
      countAlertsPerSeverity(alertDeps, ctx, f.filter),
      listSiteChoices(alertDeps, ctx),
    ]);
    const page = rows.slice(0, PAGE_SIZE);
    const labels = await describeDevices(alertDeps, ctx, page.map((a) => a.device_id));
    const items: AlertListItem[] = page.map((a) => ({ ...a, device_name: labels.get(a.device_id)?.name, site_name: labels.get(a.device_id)?.siteName ?? sites.find((s) => s.id === a.site_id)?.name }));
    const act = can(ctx, "use");
    const filtered = Boolean(f.sev || f.device || f.site || f.type || f.range || f.status !== "active");
    const back = withQuery(url, {});
    const next = rows.length > PAGE_SIZE ? cursorOf(page.at(-1)!) : null;

    return renderPage(
      c,
      env,
      { title: "Alerts", active: "alerts", islands: [LIVE_ISLAND, BULK_ISLAND] },
      html`${PageHeader({
          title: "Alerts",
          description: act ? "What is firing, since when, and who is on it. Select alerts to act on several at once." : "What is firing, since when, and who is on it (read-only for your role).",
          actions: html`<${LiveStatus} /><a class="btn" href="/alert-rules">Alert rules</a><a class="btn" href="/maintenance">Maintenance</a>`,
        })}
        <div data-live="alerts.changed" data-live-every="60" hidden></div>
        <div data-live-region="alert-tabs">${SeverityTabs({ url, current: f.sev, counts, status: f.status })}</div>
        ${FilterBar({
          url,
          search: { name: "device", label: "Device id", placeholder: "Device id, e.g. pump-7" },
          selects: [
            { name: "status", label: "Status", options: (Object.keys(STATUSES) as StatusKey[]).map((k) => ({ value: k === "active" ? "" : k, label: STATUSES[k].label })) },
            { name: "type", label: "Type", options: [{ value: "", label: "Any" }, { value: "THRESHOLD", label: "Threshold" }, { value: "NO_HEARTBEAT", label: "No heartbeat" }] },
            { name: "site", label: "Site", options: [{ value: "", label: "Any" }, ...sites.map((s) => ({ value: s.id, label: s.name }))] },
            { name: "range", label: "Opened", options: [{ value: "", label: "Any time" }, ...Object.entries(RANGES).map(([k, r]) => ({ value: k, label: r.label }))] },
          ],
          keep: ["sev"],
        })}
        <p class="live-stale" data-live-stale hidden>Alerts changed while you were selecting. <a href=${back}>Refresh the list</a></p>
        <form method="post" action="/alerts/bulk" class="bulk-form" data-bulk>
          ${CsrfField(c)}
          <input type="hidden" name="back" value=${back} />
          ${act && items.length ? BulkBar() : null}
          <div data-live-region="alert-rows">
            ${AlertList({
              alerts: items,
              now,
              timeZone: zone,
              label: "Alerts",
              selectable: act,
              actions: act ? RowAction : undefined,
              empty:
                filtered || f.before
                  ? {
                      title: "No alerts match these filters",
                      body: "Change or clear the filters to see more.",
                      actions: [{ label: "Clear filters", href: "/alerts" }],
                      compact: true,
                    }
                  : {
                      icon: "check",
                      title: "No active alerts — everything is quiet",
                      body: html`Alerts appear here when a rule fires or a device stops sending. <a href="/alert-rules">Review the alert rules</a> to decide what counts as a problem.`,
                      actions: [{ label: "Alert rules", href: "/alert-rules" }],
                    },
            })}
          </div>
        </form>
        ${f.before || next
          ? html`<nav class="pagination" aria-label="Pages">
              <span class="muted">${formatCount(page.length)} alerts on this page, newest first</span>
              <span class="pagination-links">
                ${f.before ? html`<a class="btn" href=${withQuery(url, { cursor: null })}>← Newest</a>` : null}
                ${next ? html`<a class="btn" rel="next" href=${withQuery(url, { cursor: next })}>Older →</a>` : html`<span class="btn btn-disabled" aria-disabled="true">Older →</span>`}
              </span>
            </nav>`
          : null}`,
    );
  });

  /** Operators working in no tenant: the most severe active alerts everywhere, read-only. */
  async function platformInbox(c: Context<HttpEnv>): Promise<Response> {
    const overview = await fleetOverview(alertDeps, callerFrom(c), { alerts: 100, devices: 0 });
    const now = auth.clock.now();
    return renderPage(
      c,
      env,
      { title: "Alerts", active: "alerts", islands: [LIVE_ISLAND] },
      html`${PageHeader({ title: "Alerts", description: "Active alerts of every tenant, most severe first. Choose a tenant in the top bar to filter, see closed alerts or act.", actions: html`<${LiveStatus} />` })}
        <div data-live="alerts.changed" hidden></div>
        <div data-live-region="alert-rows">
          ${AlertList({
            alerts: overview.topAlerts,
            now,
            timeZone: "UTC",
            label: "Active alerts of every tenant",
            showTenant: true,
            empty: { icon: "check", title: "No active alerts — everything is quiet", body: "No tenant has an open or acknowledged alert." },
          })}
        </div>`,
    );
  }

  app.post("/alerts/bulk", async (c) => {
    const body = await c.req.parseBody({ all: true });
    const one = (v: unknown) => (typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : undefined);
    const backRaw = one(body.back) ?? "/alerts";
    const back = /^\/alerts(\?|$)/.test(backRaw) ? backRaw : "/alerts";
    const only = one(body.only);
    const ids = only ? [only.split(":")[0]!] : ([] as unknown[]).concat(body.ids ?? []).filter((v): v is string => typeof v === "string");
    const kind = only ? only.split(":")[1] : one(body.action);
    if (ids.length === 0) return redirectWithFlash(c, back, { kind: "error", text: "Select at least one alert first." });
    const ctx = ctxFrom(c);
    let action: AlertAction;
    let done: string;
    const n = ids.length === 1 ? "1 alert" : `${ids.length} alerts`;
    try {
      if (kind === "acknowledge") {
        action = { kind: "acknowledge" };
        done = `Acknowledged ${n}: you are on it.`;
      } else if (kind === "close") {
        const reason = one(body.reason)?.trim();
        action = { kind: "close", reason: reason || undefined };
        done = `Closed ${n}.`;
      } else if (kind === "silence") {
        const zone = await viewerTimeZone(auth, principalOf(c));
        const until = silenceChoice(one(body.silence) ?? "60", one(body.until), auth.clock.now(), zone);
        action = { kind: "silence", until: until.at };
        done = `Silenced ${n} ${until.label}.`;
      } else {
        return redirectWithFlash(c, back, { kind: "error", text: "Choose what to do with the selected alerts." });
      }
      await actOnAlerts(alertDeps, ctx, ids, action);
    } catch (err) {
      return redirectWithError(c, back, err);
    }
    return redirectWithFlash(c, back, { kind: "ok", text: done });
  });

  app.route("/", alertDetailPages(env, deps));
  return app;
}

function SeverityTabs(p: { url: URL; current?: Severity; counts: Record<Severity, number>; status: StatusKey }): VNode {
  const total = Object.values(p.counts).reduce((a, b) => a + b, 0);
  const what = p.status === "active" ? "active" : p.status === "all" ? "" : p.status;
  const tab = (sev: Severity | undefined, label: VNode | string, n: number) => html`<a
    href=${withQuery(p.url, { sev: sev ?? null, cursor: null })}
    aria-current=${p.current === sev ? "page" : undefined}
    data-tab=${sev ?? "ALL"}
    title=${`${formatCount(n)} ${what} alert${n === 1 ? "" : "s"}`.replace("  ", " ")}
    >${label} <span class="tab-count" data-count>${formatCount(n)}</span></a
  >`;
  return html`<nav class="tabs severity-tabs" aria-label="Severity">
    ${tab(undefined, "All", total)} ${SEVERITIES.map((s) => tab(s, SeverityBadge({ severity: s }), p.counts[s]))}
  </nav>`;
}

function BulkBar(): VNode {
  return html`<div class="bulk-bar" role="group" aria-label="Act on the selected alerts">
    <span class="bulk-count muted" data-bulk-count>Tick alerts, then:</span>
    <button class="btn btn-sm" type="submit" name="action" value="acknowledge" data-bulk-action>Acknowledge</button>
    <span class="bulk-group">
      <label class="visually-hidden" for="bulk-reason">Reason for closing</label>
      <input id="bulk-reason" class="input-sm" type="text" name="reason" placeholder="Reason (optional)" maxlength="500" autocomplete="off" />
      <button class="btn btn-sm" type="submit" name="action" value="close" data-bulk-action>Close</button>
    </span>
    <span class="bulk-group">
      <label class="visually-hidden" for="bulk-silence">Silence for</label>
      <select id="bulk-silence" name="silence" class="input-sm">
        ${SILENCE_PRESETS.map((s) => html`<option value=${s.value} selected=${s.value === "60"}>${s.label}</option>`)}
      </select>
      <button class="btn btn-sm" type="submit" name="action" value="silence" data-bulk-action>Silence</button>
    </span>
  </div>`;
}

/** One click on a row: acknowledge an open alert, close an acknowledged one. */
function RowAction(a: AlertListItem): VNode | null {
  if (a.status === "OPEN") return html`<button class="btn btn-sm" type="submit" name="only" value=${`${a.id}:acknowledge`} title=${`Acknowledge: ${a.summary}`}>Acknowledge</button>`;
  if (a.status === "ACKNOWLEDGED") return html`<button class="btn btn-sm btn-ghost" type="submit" name="only" value=${`${a.id}:close`} title=${`Close: ${a.summary}`}>Close</button>`;
  return null;
}
