// One device: a header with its status, connectivity and actions, and tabs.
// Overview: what it is (site, tags, model, serial, place, heartbeat), how it
// stands (connectivity since when, last seen) and its latest values with
// units and normalized values, a gauge for a few numbers, and a sparkline of
// the last hour per numeric metric. Telemetry: uPlot charts of chosen
// metrics over 1 h … 30 d or a custom range, downsampled on the server
// (querySeries), drawn from data in the page, with CSV/JSON export links.
// The other tabs and the actions are in devices-manage.ts.

import type { Context } from "hono";
import { inScope, NUMERIC_OPERATORS } from "../../src/alerts/evaluate.ts";
import { listAlertRules, type Rule } from "../../src/alerts/rules.ts";
import { ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import { getDevice, type Device } from "../../src/devices/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can, type Ctx } from "../../src/lib/ctx.ts";
import { getSite } from "../../src/sites/service.ts";
import { latestValues, querySeries, type LatestValue, type Series } from "../../src/telemetry/service.ts";
import { Gauge, Sparkline } from "../components/charts.ts";
import { ConfirmAction } from "../components/form.ts";
import { absoluteTime, formatCount, formatValue, RelativeTime, zonedTimeToDate } from "../components/format.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { withQuery } from "../components/table.ts";
import { CHART_ISLAND, TimeSeriesChart, type ChartLine } from "../components/timeseries.ts";
import { localInputValue } from "../components/when.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";
import { LIVE_ISLAND, LiveStatus } from "./alerts.ts";
import { chooseTenantPage, ConnectivityBadge, heartbeatText, RegistryBadge, TagChips, valueText, type DevicePageDeps } from "./devices-common.ts";

const HOUR = 3_600_000;
export const RANGES: Record<string, { ms: number; label: string }> = {
  "1h": { ms: HOUR, label: "1 h" },
  "6h": { ms: 6 * HOUR, label: "6 h" },
  "24h": { ms: 24 * HOUR, label: "24 h" },
  "7d": { ms: 7 * 24 * HOUR, label: "7 d" },
  "30d": { ms: 30 * 24 * HOUR, label: "30 d" },
};
const MAX_CHARTS = 6;
const MAX_GAUGES = 4;

export type DeviceTab = "overview" | "telemetry" | "events" | "tokens" | "alerts";

export interface DeviceView {
  ctx: Ctx;
  device: Device;
  zone: string;
  now: Date;
  admin: boolean;
}

/** What every tab of a device page needs; an operator in no tenant gets the "choose a tenant" page. */
export async function loadDevice(c: Context<HttpEnv>, env: PageEnv, deps: DevicePageDeps): Promise<DeviceView | Response> {
  const p = principalOf(c);
  if (!p.tenantId) return chooseTenantPage(c, env, { title: "Devices", active: "devices", what: "Devices" });
  const ctx = ctxFrom(c);
  const [device, zone] = await Promise.all([getDevice(deps.devices, ctx, c.req.param("id") ?? ""), viewerTimeZone(deps.auth, p)]);
  return { ctx, device, zone, now: deps.devices.clock.now(), admin: can(ctx, "admin") };
}

/** The page around a tab: header with badges and actions, the tab strip, then the tab's content. */
export function devicePage(c: Context<HttpEnv>, env: PageEnv, v: DeviceView, tab: DeviceTab, body: VNode | VNode[], opts: { islands?: string[]; status?: number } = {}): Response {
  const d = v.device;
  const base = `/devices/${encodeURIComponent(d.id)}`;
  const tabs: Array<[DeviceTab, string, string]> = [
    ["overview", "Overview", base],
    ["telemetry", "Telemetry", `${base}/telemetry`],
    ["events", "Events", `${base}/events`],
    ["tokens", "Tokens", `${base}/tokens`],
    ["alerts", "Alerts", `${base}/alerts`],
  ];
  return renderPage(
    c,
    env,
    { title: `${d.name} · Devices`, active: "devices", islands: [LIVE_ISLAND, ...(opts.islands ?? [])], status: opts.status },
    html`<div data-live="devices.status" hidden></div>
      <nav class="breadcrumbs" aria-label="Breadcrumb"><a href="/devices">Devices</a> <span aria-hidden="true">/</span> <span class="mono">${d.id}</span></nav>
      <div class="page-header device-header" data-device=${d.id} data-device-status=${d.status}>
        <div>
          <h1>${d.name}</h1>
          <p class="page-description">
            <span class="mono">${d.id}</span> · site <a href=${`/devices?site=${encodeURIComponent(d.siteId)}`}>${d.siteId}</a>
          </p>
          <p class="device-badges" data-live-region="device-badges">
            ${RegistryBadge({ status: d.status })} ${ConnectivityBadge({ device: d, now: v.now, timeZone: v.zone })}
            ${d.status === "ACTIVE" && d.connectivitySince
              ? html`<span class="muted small">since ${RelativeTime({ t: d.connectivitySince, now: v.now, timeZone: v.zone })}</span>`
              : null}
          </p>
        </div>
        <div class="page-actions"><${LiveStatus} />${v.admin ? Actions(c, d) : null}</div>
      </div>
      ${d.status === "REVOKED"
        ? html`<div class="flash flash-info" role="status" data-decommissioned>
            Decommissioned ${d.decommissionedAt ? RelativeTime({ t: d.decommissionedAt, now: v.now, timeZone: v.zone }) : null}${d.decommissionedBy ? ` by ${d.decommissionedBy}` : ""}${d.decommissionReason ? html`: <q>${d.decommissionReason}</q>. ` : ". "}Its messages are refused with <code>DEVICE_REVOKED</code>; its history stays.
          </div>`
        : null}
      <nav class="tabs" aria-label="Device">
        ${tabs.map(([key, label, href]) => html`<a href=${href} aria-current=${key === tab ? "page" : undefined} data-tab=${key}>${label}</a>`)}
      </nav>
      ${body}`,
  );
}

function Actions(c: Context<HttpEnv>, d: Device): VNode {
  const base = `/devices/${encodeURIComponent(d.id)}`;
  if (d.status === "REVOKED") {
    return ConfirmAction({
      c,
      label: "Recommission",
      danger: false,
      action: `${base}/recommission`,
      message: html`Bring <strong>${d.name}</strong> back? It becomes ACTIVE with a new provision token, shown once on the next page; its old tokens stay revoked. It counts against the device limit again.`,
      confirm: `Recommission ${d.id}`,
    });
  }
  return html`<a class="btn" href=${`${base}/edit`}>Edit</a>
    <details class="confirm" data-confirm>
      <summary class="btn btn-danger">Decommission</summary>
      <div class="confirm-panel" role="group" aria-label="Decommission">
        <p>
          Decommission <strong>${d.name}</strong>? This revokes its tokens, refuses its messages with <code>DEVICE_REVOKED</code>, and keeps its history. A tenant-admin can
          recommission it later with a new token.
        </p>
        <form method="post" action=${`${base}/decommission`} class="form">
          <input type="hidden" name="_csrf" value=${c.get("csrf") ?? ""} />
          <div class="field">
            <label for="decommission-reason">Reason <span class="optional">optional</span></label>
            <input id="decommission-reason" name="reason" type="text" maxlength="500" autocomplete="off" placeholder="e.g. replaced by pump-18" />
          </div>
          <button type="submit" class="btn btn-danger-solid">Decommission ${d.id}</button>
        </form>
      </div>
    </details>`;
}

// ---- Overview ----

/** Rules of the tenant that cover this device, enabled, with a numeric threshold on a raw value (for gauge ticks and chart lines). */
async function thresholdRules(deps: DevicePageDeps, ctx: Ctx, d: Device): Promise<Rule[]> {
  const rules = await listAlertRules({ db: deps.devices.db, clock: deps.devices.clock }, ctx);
  return rules.filter(
    (r) => r.enabled && !r.normalized && (NUMERIC_OPERATORS as readonly string[]).includes(r.operator) && typeof r.threshold === "number" && inScope(r.scope, { id: d.id, siteId: d.siteId, tags: d.tags }),
  );
}

function linesFor(rules: Rule[], metric: string, unit: string | null): ChartLine[] {
  return rules
    .filter((r) => r.metric_name === metric)
    .map((r) => ({ value: r.threshold as number, label: `${r.severity} ${formatValue(r.threshold as number, unit ?? undefined)}`, tone: r.severity === "CRITICAL" || r.severity === "HIGH" ? "bad" : "warn" }));
}

export async function overviewTab(c: Context<HttpEnv>, env: PageEnv, deps: DevicePageDeps, v: DeviceView): Promise<Response> {
  const d = v.device;
  const tdeps = { db: deps.devices.db };
  const [latest, site, rules] = await Promise.all([latestValues(tdeps, v.ctx, d.id), getSite(deps.devices, v.ctx, d.siteId).catch(() => undefined), thresholdRules(deps, v.ctx, d)]);
  const numeric = latest.values.filter((x) => typeof x.value === "number").slice(0, 10);
  const lastHour = numeric.length
    ? await querySeries(tdeps, v.ctx, d.id, { from: new Date(v.now.getTime() - HOUR), to: v.now, metrics: numeric.map((x) => x.metric), bucketSeconds: 60 })
    : { bucketSeconds: 60, series: [] as Series[] };
  const spark = new Map(lastHour.series.map((s) => [s.metric, s]));
  const names = new Map(lastHour.series.map((s) => [s.metric, s.displayName]));
  const gauges = numeric.slice(0, MAX_GAUGES).map((x) => GaugeFor(x, spark.get(x.metric), rules, names.get(x.metric)));

  return devicePage(
    c,
    env,
    v,
    "overview",
    html`<div class="device-overview">
      <section class="card" aria-labelledby="facts-title">
        <h2 id="facts-title">Device</h2>
        <dl class="facts" data-facts="device">
          <dt>Name</dt>
          <dd>${d.name}</dd>
          <dt>Site</dt>
          <dd>${site ? html`<a href=${`/devices?site=${encodeURIComponent(site.id)}`} title="Devices at this site">${site.name}</a> <span class="muted">(${site.id}, ${site.timezone})</span>` : d.siteId}</dd>
          <dt>Tags</dt>
          <dd>${TagChips({ tags: d.tags })}</dd>
          <dt>Model / serial</dt>
          <dd>${d.model ?? html`<span class="muted">—</span>`} / ${d.serial ?? html`<span class="muted">—</span>`}</dd>
          <dt>Location</dt>
          <dd>${d.lat !== null && d.lng !== null ? html`<span class="mono">${d.lat.toFixed(5)}, ${d.lng.toFixed(5)}</span>` : site?.address ?? html`<span class="muted">—</span>`}</dd>
          <dt>Heartbeat</dt>
          <dd>${heartbeatText(d)}</dd>
          ${d.parentDeviceId
            ? html`<dt>Behind</dt>
                <dd><a href=${`/devices/${encodeURIComponent(d.parentDeviceId)}`}>${d.parentDeviceId}</a></dd>`
            : null}
          <dt>Status</dt>
          <dd>${RegistryBadge({ status: d.status })} <span class="muted small">since ${absoluteTime(d.updatedAt, v.zone)}</span></dd>
          <dt>Connectivity</dt>
          <dd data-live-region="device-connectivity">
            ${ConnectivityBadge({ device: d, now: v.now, timeZone: v.zone })}
            ${d.connectivitySince && d.status === "ACTIVE" ? html` <span class="muted small">since ${absoluteTime(d.connectivitySince, v.zone)}</span>` : null}
          </dd>
          <dt>Last seen</dt>
          <dd>
            ${d.lastSeenAt ? RelativeTime({ t: d.lastSeenAt, now: v.now, timeZone: v.zone }) : html`<span class="muted">never</span>`}
            ${d.lastHeartbeatAt ? html` <span class="muted small">· heartbeat ${RelativeTime({ t: d.lastHeartbeatAt, now: v.now, timeZone: v.zone })}</span>` : null}
          </dd>
          <dt>Messages</dt>
          <dd>${formatCount(d.messages)}${d.seqGaps ? html` <span class="muted small">· ${formatCount(d.seqGaps)} gaps in seq</span>` : null}</dd>
          <dt>Registered</dt>
          <dd>${RelativeTime({ t: d.createdAt, now: v.now, timeZone: v.zone })}</dd>
        </dl>
      </section>
      <section class="card" aria-labelledby="latest-title">
        <div class="section-head">
          <h2 id="latest-title">Latest values</h2>
          ${latest.lastTelemetryAt ? html`<span class="muted small">${RelativeTime({ t: latest.lastTelemetryAt, now: v.now, timeZone: v.zone })}</span>` : null}
        </div>
        ${gauges.length ? html`<div class="gauges">${gauges}</div>` : null}
        ${latest.values.length
          ? LatestTable({ values: latest.values, spark, device: d })
          : html`<p class="muted" data-empty>No telemetry yet. It shows here with the device's first message; the <a href=${`/devices/${encodeURIComponent(d.id)}/tokens`}>Tokens</a> tab has what it needs to send one.</p>`}
      </section>
    </div>`,
  );
}

function LatestTable(p: { values: LatestValue[]; spark: Map<string, Series>; device: Device }): VNode {
  const normalized = p.values.some((x) => x.normalized !== undefined);
  return html`<table class="data" data-table="Latest values" aria-label="Latest values">
    <thead>
      <tr>
        <th scope="col">Metric</th>
        <th scope="col" class="num">Value</th>
        ${normalized ? html`<th scope="col" class="num">Normalized</th>` : null}
        <th scope="col" class="hide-narrow">Last hour</th>
      </tr>
    </thead>
    <tbody>
      ${p.values.map((x) => {
        const s = p.spark.get(x.metric);
        const label = s?.displayName ?? x.metric;
        return html`<tr data-metric=${x.metric}>
          <td>${s?.displayName ? html`${s.displayName} <span class="muted mono small">${x.metric}</span>` : html`<span class="mono">${x.metric}</span>`}</td>
          <td class="num" data-value>${valueText(x.value, x.unit)}</td>
          ${normalized ? html`<td class="num">${x.normalized !== undefined ? formatValue(x.normalized, x.normalizedUnit ?? undefined) : html`<span class="muted">—</span>`}</td>` : null}
          <td class="hide-narrow">
            ${s
              ? Sparkline({ values: s.points.map((pt) => (typeof pt[1] === "number" ? pt[1] : null)), label: `${label}, last hour`, unit: x.unit ?? undefined })
              : html`<span class="muted small">${typeof x.value === "number" ? "no data in the last hour" : "not a number"}</span>`}
          </td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

/** A gauge scaled to what the metric does: 0–100 for percentages, else from the last hour's range and the thresholds. */
function GaugeFor(x: LatestValue, s: Series | undefined, rules: Rule[], displayName: string | null | undefined): VNode {
  const value = x.value as number;
  const mine = rules.filter((r) => r.metric_name === x.metric);
  const lower = mine.some((r) => r.operator === "LT" || r.operator === "LTE");
  const crit = mine.find((r) => r.severity === "CRITICAL" || r.severity === "HIGH")?.threshold as number | undefined;
  const warn = mine.find((r) => r.severity !== "CRITICAL" && r.severity !== "HIGH")?.threshold as number | undefined;
  let min = 0;
  let max = 100;
  // Percentages (by unit, or by the common _pct/_percent suffix) read 0–100.
  const percent = x.unit === "%" || (!x.unit && /_(pct|percent)$/.test(x.metric));
  if (!percent) {
    const seen = (s?.points ?? []).flatMap((pt) => [pt[2], pt[3]]).filter((n): n is number => typeof n === "number");
    const all = [value, ...seen, ...(crit !== undefined ? [crit] : []), ...(warn !== undefined ? [warn] : [])];
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    min = lo >= 0 ? 0 : niceBound(lo);
    max = niceBound(hi <= 0 ? 1 : hi * 1.2);
  }
  return Gauge({ value, label: displayName ?? x.metric, unit: x.unit ?? undefined, min, max, warn, crit, lowerIsWorse: lower, size: 132 });
}

/** Round away from zero to 1, 2, 2.5 or 5 × a power of ten. */
function niceBound(v: number): number {
  const sign = v < 0 ? -1 : 1;
  const a = Math.abs(v);
  if (a === 0) return 0;
  const p = 10 ** Math.floor(Math.log10(a));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * p >= a)!;
  return sign * step * p;
}

// ---- Telemetry ----

export async function telemetryTab(c: Context<HttpEnv>, env: PageEnv, deps: DevicePageDeps, v: DeviceView): Promise<Response> {
  const d = v.device;
  const url = new URL(c.req.url);
  const tdeps = { db: deps.devices.db };
  const latest = await latestValues(tdeps, v.ctx, d.id);
  const known = latest.values.map((x) => x.metric);
  const numericNames = latest.values.filter((x) => typeof x.value === "number").map((x) => x.metric);
  const asked = url.searchParams.getAll("metric").filter((m) => known.includes(m));
  const chosen = (asked.length ? asked : numericNames.slice(0, 4)).slice(0, MAX_CHARTS);

  const rangeKey = url.searchParams.get("range") ?? "24h";
  let problem: string | undefined;
  let from: Date;
  let to: Date;
  if (rangeKey === "custom") {
    const f = zonedTimeToDate(url.searchParams.get("from") ?? "", v.zone);
    const t = zonedTimeToDate(url.searchParams.get("to") ?? "", v.zone) ?? v.now;
    if (!f || f >= t) {
      problem = !f ? "Choose when the custom range starts." : "The range must end after it starts.";
      from = new Date(v.now.getTime() - 24 * HOUR);
      to = v.now;
    } else {
      from = f;
      to = t;
    }
  } else {
    to = v.now;
    from = new Date(to.getTime() - (RANGES[rangeKey] ?? RANGES["24h"]!).ms);
  }
  const result = chosen.length ? await querySeries(tdeps, v.ctx, d.id, { from, to, metrics: chosen }) : { bucketSeconds: 0, series: [] as Series[] };
  const rules = await thresholdRules(deps, v.ctx, d);
  const current = rangeKey in RANGES || rangeKey === "custom" ? rangeKey : "24h";
  const exportHref = (format: "csv" | "json") =>
    `/api/v1/devices/${encodeURIComponent(d.id)}/telemetry/export?${new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), format })}`;

  const charts = result.series.map((s, i) => {
    if (s.kind !== "number" && !s.points.some((pt) => pt.length === 5)) return StateTable(s, v.zone);
    const points = s.points.map((pt) => [Date.parse(pt[0] as string), pt[1] as number | null, pt[2] as number | null, pt[3] as number | null] as const);
    return html`<section class="chart-card card" data-series=${s.metric}>
      <h3>${s.displayName ?? s.metric}${s.displayName ? html` <span class="muted mono small">${s.metric}</span>` : null}${s.unit ? html` <span class="muted">(${s.unit})</span>` : null}</h3>
      ${points.length
        ? TimeSeriesChart({ id: `telemetry-${i}`, label: `${s.displayName ?? s.metric}, ${rangeLabel(current, from, to, v.zone)}`, unit: s.unit, points, lines: linesFor(rules, s.metric, s.unit), timeZone: v.zone })
        : html`<p class="muted" data-empty>No data in this range.</p>`}
    </section>`;
  });

  return devicePage(
    c,
    env,
    v,
    "telemetry",
    html`<div class="telemetry-bar">
        <nav class="segmented" aria-label="Range" data-ranges>
          ${Object.entries(RANGES).map(
            ([k, r]) => html`<a href=${withQuery(url, { range: k, from: null, to: null })} aria-current=${current === k ? "page" : undefined} data-range=${k}>${r.label}</a>`,
          )}
        </nav>
        <form method="get" class="inline-form custom-range" aria-label="Custom range">
          <input type="hidden" name="range" value="custom" />
          ${chosen.map((m) => html`<input type="hidden" name="metric" value=${m} />`)}
          <label>From <input type="datetime-local" name="from" value=${localInputValue(from, v.zone)} /></label>
          <label>to <input type="datetime-local" name="to" value=${localInputValue(to, v.zone)} /></label>
          <button class="btn btn-sm" type="submit">Show</button>
        </form>
        <span class="export-links">
          Export <a class="btn btn-sm" href=${exportHref("csv")} data-export="csv" download>CSV</a>
          <a class="btn btn-sm" href=${exportHref("json")} data-export="json" download>JSON</a>
        </span>
      </div>
      ${problem ? html`<div class="flash flash-error" role="alert">${problem}</div>` : null}
      <p class="muted small" data-range-label>
        ${rangeLabel(current, from, to, v.zone)}${result.bucketSeconds ? ` · one point per ${bucketText(result.bucketSeconds)} (average, with the min–max band)` : ""}
      </p>
      ${known.length
        ? html`<form method="get" class="metric-picker" aria-label="Metrics">
            <input type="hidden" name="range" value=${current} />
            ${current === "custom"
              ? html`<input type="hidden" name="from" value=${localInputValue(from, v.zone)} /><input type="hidden" name="to" value=${localInputValue(to, v.zone)} />`
              : null}
            <fieldset class="plain-fieldset">
              <legend class="filter-label">Metrics (up to ${MAX_CHARTS})</legend>
              ${known.map((m) => html`<label class="check-chip"><input type="checkbox" name="metric" value=${m} checked=${chosen.includes(m)} /> ${m}</label>`)}
            </fieldset>
            <button class="btn btn-sm" type="submit">Show</button>
          </form>`
        : null}
      ${charts.length
        ? html`<div class="charts">${charts}</div>`
        : html`<p class="muted" data-empty>No telemetry from this device yet.</p>`}`,
    { islands: [CHART_ISLAND] },
  );
}

function rangeLabel(key: string, from: Date, to: Date, zone: string): string {
  return key in RANGES ? `Last ${RANGES[key]!.label}` : `${absoluteTime(from, zone)} – ${absoluteTime(to, zone)}`;
}

function bucketText(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${s / 60} min`;
  if (s < 86400) return `${s / 3600} h`;
  return `${s / 86400} d`;
}

/** A metric that is not a number (a state such as "cool", a door open or not): its value per bucket, newest first. */
function StateTable(s: Series, zone: string): VNode {
  const rows = [...s.points].reverse().slice(0, 20);
  return html`<section class="chart-card card" data-series=${s.metric}>
    <h3>${s.displayName ?? s.metric} <span class="muted small">last value in each interval, newest first</span></h3>
    ${rows.length
      ? html`<table class="data compact-table">
          <tbody>
            ${rows.map((pt) => html`<tr><td class="muted small">${absoluteTime(new Date(pt[0] as string), zone)}</td><td>${valueText(pt[1])}</td></tr>`)}
          </tbody>
        </table>`
      : html`<p class="muted" data-empty>No data in this range.</p>`}
  </section>`;
}
