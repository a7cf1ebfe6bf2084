// The device list: filters (registry status, connectivity, site, a tag,
// free text) and the sort live in the URL; pages go by cursor and keep them.
// Clicking a row selects it (?selected=id) and opens a preview beside the
// list (status, last seen, latest values); the device's own page is one link
// further. Connectivity changes arrive over live events: the live island
// re-reads the page and swaps the list and the pane.

import type { Context } from "hono";
import { callerFrom, ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import { getDevice, listDevices, type Device, type DeviceQuery } from "../../src/devices/service.ts";
import type { Connectivity, DeviceSort, DeviceStatus } from "../../src/devices/store.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can, type Ctx } from "../../src/lib/ctx.ts";
import { AppError } from "../../src/lib/errors.ts";
import { listSites } from "../../src/sites/service.ts";
import { latestValues, type LatestValue } from "../../src/telemetry/service.ts";
import { StatusBadge } from "../components/badges.ts";
import { EmptyState } from "../components/empty.ts";
import { formatCount, formatValue, RelativeTime } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { DataTable, PAGE_PARAMS, parseSort, withQuery, type Column } from "../components/table.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";
import { LIVE_ISLAND, LiveStatus } from "./alerts.ts";
import { chooseTenantPage, ConnectivityBadge, heartbeatText, RegistryBadge, TagChips, valueText, type DevicePageDeps } from "./devices-common.ts";

const PER_PAGE = 50;
const STATUSES: DeviceStatus[] = ["ACTIVE", "PENDING", "REVOKED"];
const CONNECTIVITY: Connectivity[] = ["ONLINE", "STALE", "OFFLINE"];
const FILTERS = ["q", "status", "connectivity", "site", "tag"];

interface ListFilter {
  q: string;
  status?: DeviceStatus;
  connectivity?: Connectivity;
  site: string;
  tag: string;
}

function readFilter(url: URL): ListFilter {
  const q = url.searchParams;
  const status = q.get("status") ?? "";
  const conn = q.get("connectivity") ?? "";
  return {
    q: (q.get("q") ?? "").trim(),
    status: (STATUSES as string[]).includes(status) ? (status as DeviceStatus) : undefined,
    connectivity: (CONNECTIVITY as string[]).includes(conn) ? (conn as Connectivity) : undefined,
    site: (q.get("site") ?? "").trim(),
    tag: (q.get("tag") ?? "").trim(),
  };
}

export async function devicesListPage(c: Context<HttpEnv>, env: PageEnv, deps: DevicePageDeps): Promise<Response> {
  const caller = callerFrom(c);
  if (!caller.tenantId) return chooseTenantPage(c, env, { title: "Devices", active: "devices", what: "Devices" });
  const ctx = ctxFrom(c);
  const url = new URL(c.req.url);
  const f = readFilter(url);
  const zone = await viewerTimeZone(deps.auth, principalOf(c));
  const now = deps.devices.clock.now();
  const admin = can(ctx, "admin");

  const selectedId = url.searchParams.get("selected");
  // Filled once the sites are read; cells render after that.
  const siteName = new Map<string, string>();
  const columns: Column<Device>[] = [
    {
      key: "id",
      label: "Device",
      sort: true,
      cell: (d) =>
        html`<span class="device-cell" data-selected=${d.id === selectedId ? "true" : undefined}><span class="device-name">${d.name}</span>${d.name !== d.id ? html`<span class="muted mono small">${d.id}</span>` : null}</span>`,
    },
    { key: "connectivity", label: "Connectivity", cell: (d) => ConnectivityBadge({ device: d, now, timeZone: zone }) },
    { key: "status", label: "Status", sort: true, class: "pane-hide", cell: (d) => RegistryBadge({ status: d.status }) },
    { key: "site_id", label: "Site", sort: true, class: "nowrap", cell: (d) => html`<span title=${d.siteId}>${siteName.get(d.siteId) ?? d.siteId}</span>` },
    { key: "tags", label: "Tags", class: "hide-narrow pane-hide", cell: (d) => TagChips({ tags: d.tags, max: 3 }) },
    {
      key: "last_seen_at",
      label: "Last seen",
      sort: "desc",
      cell: (d) => (d.lastSeenAt ? RelativeTime({ t: d.lastSeenAt, now, timeZone: zone }) : html`<span class="muted">never</span>`),
    },
    { key: "open", label: "", cell: (d) => html`<a class="btn btn-sm btn-ghost" href=${`/devices/${encodeURIComponent(d.id)}`} aria-label=${`Open ${d.name}`}>Open</a>` },
  ];
  const sort = parseSort(url, columns, { key: "id", dir: "asc" });
  const query: DeviceQuery = {
    status: f.status,
    connectivity: f.connectivity,
    siteId: f.site || undefined,
    tags: f.tag ? [f.tag] : undefined,
    q: f.q || undefined,
    sort: sort.key as DeviceSort,
    order: sort.dir,
    limit: PER_PAGE,
    cursor: url.searchParams.get("cursor") || undefined,
  };
  let list: Awaited<ReturnType<typeof listDevices>>;
  let problem: string | undefined;
  try {
    list = await listDevices(deps.devices, ctx, query);
  } catch (err) {
    // A stale cursor or a malformed tag: say so and show the first page.
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    problem = err.message;
    list = await listDevices(deps.devices, ctx, { ...query, cursor: undefined, tags: undefined });
  }
  const [sites, counts, selected] = await Promise.all([
    listSites(deps.devices, ctx, { limit: 1000 }),
    connectivityCounts(deps, ctx),
    selectedDevice(deps, ctx, url.searchParams.get("selected")),
  ]);
  for (const s of sites) siteName.set(s.id, s.name);
  const pos = Math.max(0, Number(url.searchParams.get("pos")) || 0);
  const anyDevices = counts.all > 0;
  const filtered = FILTERS.some((k) => (url.searchParams.get(k) ?? "") !== "");

  const table = !anyDevices
    ? EmptyState({
        icon: "devices",
        title: "No devices yet",
        body: html`Add one, import a CSV, or run <code>pulse simulate</code> to watch a simulated fleet.${admin ? null : " A tenant-admin adds devices."}`,
        actions: admin
          ? [
              { label: "Add a device", href: "/devices/new", primary: true },
              { label: "Import a CSV", href: "/devices/import" },
            ]
          : [],
      })
    : html`${DataTable({
        label: "Devices",
        columns,
        rows: list.items,
        url,
        sort,
        rowKey: (d) => d.id,
        rowHref: (d) => withQuery(url, { selected: d.id }),
        filters: FILTERS,
        empty: { title: "No devices", body: "Change the filters." },
      })}
      ${list.items.length ? CursorPages({ url, pos, shown: list.items.length, total: list.total, next: list.nextCursor }) : null}`;

  return renderPage(
    c,
    env,
    { title: selected ? `${selected.device.name} · Devices` : "Devices", active: "devices", islands: [LIVE_ISLAND] },
    html`${PageHeader({
        title: "Devices",
        description: html`Everything registered in this tenant, with its connectivity from heartbeats. Select a row for a preview; <kbd>/</kbd> searches.`,
        actions: html`<${LiveStatus} />${admin
            ? html`<a class="btn" href="/devices/import">Import CSV</a><a class="btn btn-primary" href="/devices/new">Add device</a>`
            : null}`,
      })}
      <div data-live="devices.status" hidden></div>
      ${problem ? html`<div class="flash flash-error" role="alert">${problem}</div>` : null}
      <div data-live-region="device-counts">${ConnectivityTabs({ url, counts, current: f.connectivity })}</div>
      ${anyDevices || filtered ? Filters({ url, f, sites: sites.map((s) => ({ id: s.id, name: s.name })) }) : null}
      <div class=${selected ? "split split-open" : "split"}>
        <div class="split-main" data-live-region="device-rows">${table}</div>
        ${selected
          ? html`<aside class="split-pane card" aria-label=${`Preview of ${selected.device.name}`} data-device-pane=${selected.device.id} data-live-region="device-pane">
              ${Preview({ ...selected, url, now, zone, siteName: siteName.get(selected.device.siteId) })}
            </aside>`
          : null}
      </div>`,
  );
}

async function connectivityCounts(deps: DevicePageDeps, ctx: Ctx): Promise<Record<Connectivity, number> & { all: number }> {
  // Counts only (one row each): the list never touches telemetry.
  const count = (q: DeviceQuery) => listDevices(deps.devices, ctx, { ...q, limit: 1 }).then((l) => l.total);
  const [all, online, stale, offline] = await Promise.all([
    count({}),
    count({ status: "ACTIVE", connectivity: "ONLINE" }),
    count({ status: "ACTIVE", connectivity: "STALE" }),
    count({ status: "ACTIVE", connectivity: "OFFLINE" }),
  ]);
  return { all, ONLINE: online, STALE: stale, OFFLINE: offline };
}

async function selectedDevice(deps: DevicePageDeps, ctx: Ctx, id: string | null): Promise<{ device: Device; latest: LatestValue[] } | undefined> {
  if (!id) return undefined;
  try {
    const device = await getDevice(deps.devices, ctx, id);
    const latest = await latestValues({ db: deps.devices.db }, ctx, id);
    return { device, latest: latest.values };
  } catch (err) {
    if (err instanceof AppError && err.status === 404) return undefined;
    throw err;
  }
}

function ConnectivityTabs(p: { url: URL; counts: Record<Connectivity, number> & { all: number }; current?: Connectivity }): VNode {
  const base = (conn: string | null) => withQuery(p.url, { connectivity: conn, status: conn ? "ACTIVE" : null, ...Object.fromEntries(PAGE_PARAMS.map((k) => [k, null])), pos: null });
  return html`<nav class="tabs conn-tabs" aria-label="Connectivity">
    <a href=${base(null)} aria-current=${!p.current ? "page" : undefined}>All <span class="tab-count">${formatCount(p.counts.all)}</span></a>
    ${CONNECTIVITY.map(
      (s) => html`<a href=${base(s)} aria-current=${p.current === s ? "page" : undefined} data-conn-tab=${s}>${StatusBadge({ status: s })} <span class="tab-count">${formatCount(p.counts[s])}</span></a>`,
    )}
  </nav>`;
}

/** The filter form: a GET, so the URL is the view; it keeps the sort and drops the page. */
function Filters(p: { url: URL; f: ListFilter; sites: Array<{ id: string; name: string }> }): VNode {
  const q = p.url.searchParams;
  const active = FILTERS.filter((k) => (q.get(k) ?? "") !== "");
  const select = (name: string, label: string, options: Array<{ value: string; label: string }>) =>
    html`<label class="filter-select">
      <span class="filter-label">${label}</span>
      <select name=${name}>
        ${options.map((o) => html`<option value=${o.value} selected=${(q.get(name) ?? "") === o.value}>${o.label}</option>`)}
      </select>
    </label>`;
  return html`<form class="filters" method="get" action="/devices" role="search">
    <label class="filter-search">
      <span class="visually-hidden">Search devices</span>
      <input type="search" name="q" value=${p.f.q} placeholder="Search id, name or serial" data-search autocomplete="off" />
      <kbd class="filter-kbd" aria-hidden="true">/</kbd>
    </label>
    ${select("status", "Status", [{ value: "", label: "Any" }, ...STATUSES.map((s) => ({ value: s, label: s }))])}
    ${select("connectivity", "Connectivity", [{ value: "", label: "Any" }, ...CONNECTIVITY.map((s) => ({ value: s, label: s }))])}
    ${select("site", "Site", [{ value: "", label: "Any" }, ...p.sites.map((s) => ({ value: s.id, label: s.name }))])}
    <label class="filter-select">
      <span class="filter-label">Tag</span>
      <input type="text" name="tag" value=${p.f.tag} placeholder="key=value" size="12" autocomplete="off" />
    </label>
    ${["sort", "dir"].filter((k) => q.get(k)).map((k) => html`<input type="hidden" name=${k} value=${q.get(k)} />`)}
    <button class="btn" type="submit">Apply</button>
    ${active.length ? html`<a class="btn btn-ghost" href=${withQuery(p.url, Object.fromEntries([...active, ...PAGE_PARAMS, "pos", "selected"].map((k) => [k, null])))}>Clear</a>` : null}
  </form>`;
}

/** "51–100 of 1,204" with First and Next: keyset pages keep the filters and the sort. */
function CursorPages(p: { url: URL; pos: number; shown: number; total: number; next: string | null }): VNode {
  const first = p.pos > 0 || p.url.searchParams.get("cursor");
  return html`<nav class="pagination" aria-label="Pages">
    <span class="muted" data-page-summary>${formatCount(p.pos + 1)}–${formatCount(p.pos + p.shown)} of ${formatCount(p.total)}</span>
    <span class="pagination-links">
      ${first
        ? html`<a class="btn" href=${withQuery(p.url, { cursor: null, pos: null, selected: null })}>« First</a>`
        : html`<span class="btn btn-disabled" aria-disabled="true">« First</span>`}
      ${p.next
        ? html`<a class="btn" rel="next" href=${withQuery(p.url, { cursor: p.next, pos: String(p.pos + p.shown), selected: null })}>Next →</a>`
        : html`<span class="btn btn-disabled" aria-disabled="true">Next →</span>`}
    </span>
  </nav>`;
}

function Preview(p: { device: Device; latest: LatestValue[]; url: URL; now: Date; zone: string; siteName?: string }): VNode {
  const d = p.device;
  const href = `/devices/${encodeURIComponent(d.id)}`;
  return html`<div class="pane-head">
      <div>
        <h2 class="pane-title">${d.name}</h2>
        <div class="muted mono small">${d.id}</div>
      </div>
      <a class="btn btn-ghost btn-sm" href=${withQuery(p.url, { selected: null })} aria-label="Close the preview">Close</a>
    </div>
    <p class="pane-badges">${RegistryBadge({ status: d.status })} ${ConnectivityBadge({ device: d, now: p.now, timeZone: p.zone })}</p>
    <dl class="facts pane-facts">
      <dt>Last seen</dt>
      <dd data-last-seen>${d.lastSeenAt ? RelativeTime({ t: d.lastSeenAt, now: p.now, timeZone: p.zone }) : html`<span class="muted">never</span>`}</dd>
      ${d.connectivitySince && d.status === "ACTIVE"
        ? html`<dt>${d.connectivity} since</dt>
            <dd>${RelativeTime({ t: d.connectivitySince, now: p.now, timeZone: p.zone })}</dd>`
        : null}
      <dt>Site</dt>
      <dd>${p.siteName ?? d.siteId}</dd>
      <dt>Heartbeat</dt>
      <dd>${heartbeatText(d)}</dd>
      <dt>Tags</dt>
      <dd>${TagChips({ tags: d.tags })}</dd>
    </dl>
    <h3>Latest values</h3>
    ${p.latest.length
      ? html`<table class="data compact-table" data-table="Latest values" aria-label="Latest values">
          <tbody>
            ${p.latest.map(
              (v) => html`<tr data-metric=${v.metric}>
                <th scope="row" class="mono small">${v.metric}</th>
                <td class="num">${valueText(v.value, v.unit)}</td>
                ${p.latest.some((x) => x.normalized !== undefined)
                  ? html`<td class="num muted small">${v.normalized !== undefined ? formatValue(v.normalized, v.normalizedUnit ?? undefined) : null}</td>`
                  : null}
              </tr>`,
            )}
          </tbody>
        </table>`
      : html`<p class="muted">No telemetry yet.</p>`}
    <div class="actions">
      <a class="btn btn-primary" href=${href}>Open device</a>
      <a class="btn" href=${`${href}/telemetry`}>Telemetry</a>
    </div>`;
}
