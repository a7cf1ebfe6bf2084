// Fleet overview, the first page people see and the one on the wall screen:
// devices online / stale / offline (from device state, never telemetry),
// active alerts by severity, messages per second, the most severe alerts and
// the devices heard from last — all kept current over live events (the live
// island re-reads the page and swaps the marked regions). `F` switches to TV
// mode. An operator working in no tenant sees every tenant: totals, a row per
// tenant, and the server's facts.

import { Hono } from "hono";
import { SEVERITIES, type Severity } from "../../src/alerts/evaluate.ts";
import type { Auth } from "../../src/auth/index.ts";
import { callerFrom, principalOf } from "../../src/auth/middleware.ts";
import { roleOf } from "../../src/auth/principal.ts";
import { fleetOverview, type AlertCounts, type DeviceCounts, type FleetOverview, type SeenDeviceRow, type TenantSummary } from "../../src/fleet/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import type { Status } from "../../src/system/service.ts";
import { AlertList, DeviceLink } from "../components/alert-list.ts";
import { Badge, SeverityBadge, StatusBadge } from "../components/badges.ts";
import { EmptyState } from "../components/empty.ts";
import { formatCount, humanDuration, RelativeTime } from "../components/format.ts";
import { KpiCard, KpiStrip } from "../components/kpi.ts";
import { PageHeader } from "../components/page-header.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";
import { LIVE_ISLAND, LiveStatus } from "../components/live.ts";

export interface FleetPageDeps {
  status: () => Promise<Status>;
  auth: Auth;
  /** Messages per second this node committed lately, for one tenant or (null) all. */
  ingestRate?: (tenantId: string | null) => number;
}

const TV_ISLAND = "islands/tv.js";

/** "0", "0.4", "12", "1,204". */
export function formatRate(n: number): string {
  if (n === 0) return "0";
  return n < 10 ? n.toFixed(1) : formatCount(Math.round(n));
}

export function fleetPages(env: PageEnv, deps: FleetPageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const { auth } = deps;
  app.get("/", async (c) => {
    if (!roleOf(principalOf(c))) {
      return renderPage(
        c,
        env,
        { title: "Fleet overview", active: "fleet" },
        html`${PageHeader({ title: "Fleet overview" })}
          ${EmptyState({ title: "You are not in a tenant yet", body: "Ask a tenant-admin to invite you; the fleet shows here once you are a member." })}`,
      );
    }
    const caller = callerFrom(c);
    const [s, overview, zone] = await Promise.all([deps.status(), fleetOverview({ db: auth.db }, caller), viewerTimeZone(auth, principalOf(c))]);
    const platform = overview.scope === "platform";
    const now = auth.clock.now();
    const rate = deps.ingestRate?.(caller.tenantId ?? null) ?? 0;
    const devicesLive = env.available.has("devices");
    const noDevices = overview.devices.total === 0;
    const activeTotal = SEVERITIES.reduce((n, sev) => n + overview.alerts[sev].open + overview.alerts[sev].acknowledged, 0);

    const kpis = [
      ...(platform
        ? [
            KpiCard({ label: "Tenants", name: "tenants", value: formatCount(s.counts.tenants), hint: "active and suspended" }),
            KpiCard({ label: "Users", name: "users", value: formatCount(s.counts.users), hint: "people who can sign in" }),
          ]
        : []),
      ...ConnectivityKpis(overview.devices, devicesLive),
      KpiCard({ label: "Messages/s", name: "rate", value: formatRate(rate), hint: "last 10 s, this server" }),
      KpiCard({ label: "Uptime", name: "uptime", value: s.uptimeSeconds === null ? "—" : humanDuration(s.uptimeSeconds), hint: `Pulse ${s.version}` }),
    ];

    return renderPage(
      c,
      env,
      {
        title: "Fleet overview",
        active: "fleet",
        islands: [LIVE_ISLAND, TV_ISLAND],
        shortcuts: [{ keys: ["F"], label: "TV mode: full screen, large type, dark" }],
      },
      html`${PageHeader({
          title: "Fleet overview",
          description: platform ? "Every tenant: what is connected, what is wrong, and how this server is doing." : "What is connected, what is wrong, and who is on it.",
          actions: html`<${LiveStatus} /><button type="button" class="btn" data-tv-toggle hidden title="Full screen, large type, dark (F)">TV mode</button>`,
        })}
        <div data-live="alerts.changed devices.status" data-live-every="15" hidden></div>
        <div data-live-region="kpis" class="fleet-kpis">${KpiStrip({ label: platform ? "Platform" : "Fleet", children: kpis })}</div>
        <div data-live-region="severity">${SeverityStrip({ counts: overview.alerts, total: activeTotal })}</div>
        ${platform ? html`<div data-live-region="tenants">${TenantsTable(overview)}</div>` : null}
        ${noDevices && overview.topAlerts.length === 0
          ? html`<section aria-labelledby="devices-title">
              <div class="section-head"><h2 id="devices-title">Devices</h2></div>
              ${EmptyState({
                icon: "devices",
                title: "No devices yet",
                body: html`Add one, import a CSV, or run <code>pulse simulate</code> to watch a simulated fleet. Devices show here once they send their first heartbeat.`,
                // Devices belong to a tenant: operators add them after choosing one.
                actions: [
                  { label: "Add a device", href: devicesLive && !platform ? "/devices/new" : undefined, primary: true },
                  { label: "Import a CSV", href: devicesLive && !platform ? "/devices/import" : undefined },
                ],
              })}
            </section>`
          : html`<div class=${platform ? "fleet-columns fleet-columns-stacked" : "fleet-columns"}>
              <section aria-labelledby="alerts-title" class="fleet-alerts">
                <div class="section-head">
                  <h2 id="alerts-title">Active alerts</h2>
                  <a href="/alerts">All alerts →</a>
                </div>
                <div data-live-region="active-alerts">
                  ${AlertList({
                    alerts: overview.topAlerts,
                    now,
                    timeZone: zone,
                    label: "Active alerts",
                    compact: true,
                    showTenant: platform,
                    empty: {
                      icon: "check",
                      title: "No active alerts — everything is quiet",
                      body: html`Alerts show here when a rule fires or a device stops sending. <a href="/alert-rules">Alert rules</a> decide what counts as a problem.`,
                      compact: true,
                    },
                  })}
                </div>
              </section>
              <section aria-labelledby="devices-title" class="fleet-devices">
                <div class="section-head">
                  <h2 id="devices-title">Recently seen</h2>
                  ${devicesLive ? html`<a href="/devices">All devices →</a>` : null}
                </div>
                <div data-live-region="recent-devices">${RecentDevices({ rows: overview.recentDevices, now, zone, platform })}</div>
              </section>
            </div>`}
        ${platform ? ServerFacts(s) : null}`,
    );
  });
  return app;
}

function ConnectivityKpis(d: DeviceCounts, devicesLive: boolean): VNode[] {
  const href = (c: string) => (devicesLive ? `/devices?connectivity=${c}` : undefined);
  const of = (n: number) => (d.total ? `${Math.round((n / Math.max(1, d.online + d.stale + d.offline)) * 100)}% of ${formatCount(d.online + d.stale + d.offline)}` : "no devices yet");
  return [
    KpiCard({ label: "Online", name: "online", value: formatCount(d.online), hint: of(d.online), href: href("ONLINE"), tone: d.online ? "ok" : undefined }),
    KpiCard({ label: "Stale", name: "stale", value: formatCount(d.stale), hint: d.stale ? "missed 2+ heartbeats" : of(d.stale), href: href("STALE"), tone: d.stale ? "warn" : undefined }),
    KpiCard({
      label: "Offline",
      name: "offline",
      value: formatCount(d.offline),
      hint: d.pending ? `${of(d.offline)} · ${formatCount(d.pending)} pending` : of(d.offline),
      href: href("OFFLINE"),
      tone: d.offline ? "bad" : undefined,
    }),
  ];
}

/** Active alerts per severity: the count, how many nobody has acknowledged, a link to the inbox tab. */
function SeverityStrip(p: { counts: AlertCounts; total: number }): VNode {
  return html`<section class="sev-strip" aria-label="Active alerts by severity">
    ${SEVERITIES.map((sev: Severity) => {
      const c = p.counts[sev];
      const n = c.open + c.acknowledged;
      return html`<a class=${`sev-tile${n ? " sev-tile-on" : ""}`} href=${`/alerts?sev=${sev}`} data-sev-tile=${sev}>
        ${SeverityBadge({ severity: sev })}
        <span class="sev-tile-count" data-kpi=${`alerts-${sev.toLowerCase()}`}>${formatCount(n)}</span>
        <span class="sev-tile-hint muted">${n === 0 ? "none active" : c.open ? `${formatCount(c.open)} not acknowledged` : "all acknowledged"}</span>
      </a>`;
    })}
  </section>`;
}

function RecentDevices(p: { rows: SeenDeviceRow[]; now: Date; zone: string; platform: boolean }): VNode {
  if (!p.rows.length)
    return EmptyState({ title: "No device has reported yet", body: "Devices appear here with their first message or heartbeat. Check their tokens if they are powered on.", compact: true });
  return html`<div class="table-wrap">
    <table class="data" data-table="Recently seen devices" aria-label="Recently seen devices">
      <thead>
        <tr>
          <th scope="col">Device</th>
          ${p.platform ? html`<th scope="col">Tenant</th>` : html`<th scope="col" class="hide-narrow">Site</th>`}
          <th scope="col">Status</th>
          <th scope="col">Last seen</th>
        </tr>
      </thead>
      <tbody>
        ${p.rows.map(
          (d) => html`<tr data-device=${d.device_id}>
            <td>${p.platform ? html`${d.device_name ?? d.device_id}` : DeviceLink({ id: d.device_id, name: d.device_name, compact: true })}</td>
            ${p.platform ? html`<td>${d.tenant_name}</td>` : html`<td class="hide-narrow">${d.site_name ?? d.site_id}</td>`}
            <td>${StatusBadge({ status: d.connectivity })}</td>
            <td class="nowrap">${RelativeTime({ t: d.last_seen_at, now: p.now, timeZone: p.zone })}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function TenantsTable(o: FleetOverview): VNode | null {
  if (!o.tenants.length) return null;
  const active = (a: AlertCounts, sevs: readonly Severity[]) => sevs.reduce((n, s) => n + a[s].open + a[s].acknowledged, 0);
  const cell = (n: number, badge: VNode) => (n ? html`<span class="count-badge">${badge}<span class="num">${formatCount(n)}</span></span>` : html`<span class="muted">0</span>`);
  return html`<section aria-labelledby="tenants-title">
    <div class="section-head"><h2 id="tenants-title">Tenants</h2></div>
    <div class="table-wrap">
      <table class="data" data-table="Tenants" aria-label="Tenants">
        <thead>
          <tr>
            <th scope="col">Tenant</th>
            <th scope="col" class="num">Devices</th>
            <th scope="col">Online</th>
            <th scope="col">Stale</th>
            <th scope="col">Offline</th>
            <th scope="col">Critical</th>
            <th scope="col">High</th>
            <th scope="col" class="num">Other active alerts</th>
          </tr>
        </thead>
        <tbody>
          ${o.tenants.map(
            (t: TenantSummary) => html`<tr class="row-link" data-tenant=${t.id}>
              <td>
                <a class="row-anchor" href=${`/tenants/${t.id}`}>${t.name}</a>
                ${t.status !== "ACTIVE" ? html` ${Badge({ tone: "warn", text: t.status })}` : null}
              </td>
              <td class="num">${formatCount(t.devices.total)}</td>
              <td>${cell(t.devices.online, StatusBadge({ status: "ONLINE" }))}</td>
              <td>${cell(t.devices.stale, StatusBadge({ status: "STALE" }))}</td>
              <td>${cell(t.devices.offline, StatusBadge({ status: "OFFLINE" }))}</td>
              <td>${cell(active(t.alerts, ["CRITICAL"]), SeverityBadge({ severity: "CRITICAL" }))}</td>
              <td>${cell(active(t.alerts, ["HIGH"]), SeverityBadge({ severity: "HIGH" }))}</td>
              <td class="num">${formatCount(active(t.alerts, ["MEDIUM", "LOW", "INFO"]))}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}

function ServerFacts(s: Status): VNode {
  return html`<section aria-labelledby="server-title">
    <div class="section-head"><h2 id="server-title">Server</h2></div>
    <dl class="facts card" data-facts="server">
      <dt>Version</dt>
      <dd>${s.version} <span class="muted">(${s.commit})</span></dd>
      <dt>Database</dt>
      <dd>${s.database.kind === "pglite" ? "Embedded (PGlite)" : "PostgreSQL"} ${s.database.serverVersion}</dd>
      <dt>Telemetry storage</dt>
      <dd>${s.database.telemetry === "hypertable" ? "TimescaleDB hypertable" : "Native daily partitions"}</dd>
      <dt>Schema</dt>
      <dd>migration ${s.database.migration}</dd>
    </dl>
  </section>`;
}
