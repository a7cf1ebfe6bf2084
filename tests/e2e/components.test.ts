// The shared components in a real browser, before any area uses them: a
// device list built the way area pages will build theirs (filters, sorting
// and pages in the URL, row links, badges, sparklines) and a detail page with
// gauges and severities, served in the real layout under the real CSP.
// Checks what a person would: the header sticks, clicking a row opens it,
// sorting and paging keep the filters, nothing is colour alone.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { Hono } from "hono";
import type { HttpEnv } from "../../src/http/env.ts";
import { securityHeaders } from "../../src/http/middleware/security-headers.ts";
import { loadAssets } from "../../web/assets.ts";
import { SEVERITIES, STATUSES, SeverityBadge, StatusBadge, type DeviceStatus } from "../../web/components/badges.ts";
import { Gauge, Sparkline } from "../../web/components/charts.ts";
import { RelativeTime, formatCount } from "../../web/components/format.ts";
import { KpiCard, KpiStrip } from "../../web/components/kpi.ts";
import { PageHeader } from "../../web/components/page-header.ts";
import { renderPage, type PageEnv } from "../../web/components/page.ts";
import { DataTable, FilterBar, parseSort, type Column } from "../../web/components/table.ts";
import { html } from "../../web/render.ts";
import { screenshot, useBrowser } from "./browser.ts";

interface Device {
  id: string;
  name: string;
  site: string;
  status: DeviceStatus;
  lastSeen: Date;
  messages: number;
  temps: Array<number | null>;
  battery: number;
}

const NOW = Date.now();
const SITES = ["Harbour", "North yard", "Depot 7"];
const DEVICES: Device[] = Array.from({ length: 120 }, (_, i) => ({
  id: `dev-${String(i + 1).padStart(3, "0")}`,
  name: `Pump ${String(i + 1).padStart(3, "0")}`,
  site: SITES[i % 3]!,
  status: STATUSES[i % 7 === 0 ? 2 : i % 5 === 0 ? 1 : 0]!,
  lastSeen: new Date(NOW - (i % 7 === 0 ? 3 * 3600e3 : i % 5 === 0 ? 9 * 60e3 : (i % 50) * 1000)),
  messages: (i * 7919) % 20000,
  temps: Array.from({ length: 24 }, (_, h) => (i % 7 === 0 && h > 18 ? null : 20 + Math.sin((h + i) / 3) * 4 + (i % 3))),
  battery: (i * 37) % 100,
}));

const PER_PAGE = 25;
const columns: Column<Device>[] = [
  { key: "name", label: "Name", sort: true, cell: (d) => d.name },
  { key: "status", label: "Status", sort: true, cell: (d) => StatusBadge({ status: d.status }) },
  { key: "site", label: "Site", sort: true, cell: (d) => d.site, class: "hide-narrow" },
  { key: "last_seen", label: "Last seen", sort: "desc", cell: (d) => RelativeTime({ t: d.lastSeen, now: new Date(NOW), timeZone: "Europe/Berlin" }) },
  { key: "temp", label: "Temperature, 24 h", cell: (d) => Sparkline({ values: d.temps, label: `${d.name} temperature, last 24 h`, unit: "°C", tone: d.status === "OFFLINE" ? "idle" : "accent" }), class: "hide-narrow" },
  { key: "messages", label: "Messages", sort: "desc", numeric: true, cell: (d) => formatCount(d.messages) },
];

const SORTERS: Record<string, (a: Device, b: Device) => number> = {
  name: (a, b) => a.name.localeCompare(b.name),
  status: (a, b) => STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status) || a.name.localeCompare(b.name),
  site: (a, b) => a.site.localeCompare(b.site) || a.name.localeCompare(b.name),
  last_seen: (a, b) => a.lastSeen.getTime() - b.lastSeen.getTime(),
  messages: (a, b) => a.messages - b.messages,
};

function gallery(env: PageEnv): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.use(securityHeaders({ https: false }));
  app.get("/assets/*", (c) => {
    const a = env.assets.get(c.req.path);
    return a ? c.body(a.body, 200, { "Content-Type": a.type }) : c.notFound();
  });
  app.get("/devices", (c) => {
    const q = (c.req.query("q") ?? "").toLowerCase();
    const status = c.req.query("status") ?? "";
    const sort = parseSort(c.req.url, columns, { key: "name", dir: "asc" });
    const page = Math.max(1, Number(c.req.query("page")) || 1);
    const matching = DEVICES.filter((d) => (!q || d.name.toLowerCase().includes(q)) && (!status || d.status === status)).sort(
      (a, b) => SORTERS[sort.key]!(a, b) * (sort.dir === "asc" ? 1 : -1),
    );
    const rows = matching.slice((page - 1) * PER_PAGE, page * PER_PAGE);
    const count = (s: DeviceStatus) => DEVICES.filter((d) => d.status === s).length;
    return renderPage(
      c,
      env,
      { title: "Devices", active: "devices" },
      html`${PageHeader({ title: "Devices", description: "Every device of this tenant, newest problems first.", actions: html`<a class="btn btn-primary" href="/devices">Add a device</a>` })}
        ${KpiStrip({
          label: "Device status",
          children: [
            KpiCard({ label: "Online", name: "online", value: count("ONLINE"), href: "/devices?status=ONLINE", chart: Sparkline({ values: [90, 92, 91, 95, 94, 96], label: "Online devices, last 6 h", tone: "ok" }) }),
            KpiCard({ label: "Stale", name: "stale", value: count("STALE"), href: "/devices?status=STALE", tone: "warn" }),
            KpiCard({ label: "Offline", name: "offline", value: count("OFFLINE"), href: "/devices?status=OFFLINE", tone: "bad" }),
          ],
        })}
        ${FilterBar({
          url: c.req.url,
          search: { label: "Search devices", placeholder: "Search by name" },
          selects: [{ name: "status", label: "Status", options: [{ value: "", label: "Any" }, ...STATUSES.map((s) => ({ value: s, label: s }))] }],
        })}
        ${DataTable({
          label: "Devices",
          columns,
          rows,
          url: c.req.url,
          sort,
          rowHref: (d) => `/devices/${d.id}`,
          rowKey: (d) => d.id,
          filters: ["q", "status"],
          empty: { title: "No devices yet", body: "Add one, import a CSV, or run pulse simulate." },
          pagination: {
            url: c.req.url,
            prev: page > 1 ? { page: page === 2 ? null : String(page - 1) } : null,
            next: page * PER_PAGE < matching.length ? { page: String(page + 1) } : null,
            summary: `${(page - 1) * PER_PAGE + 1}–${(page - 1) * PER_PAGE + rows.length} of ${formatCount(matching.length)}`,
          },
        })}`,
    );
  });
  app.get("/devices/:id", (c) => {
    const d = DEVICES.find((x) => x.id === c.req.param("id"));
    if (!d) return c.text("no such device", 404);
    const temp = d.temps.findLast((t) => t !== null) ?? null;
    return renderPage(
      c,
      env,
      { title: d.name, active: "devices" },
      html`${PageHeader({ title: d.name, description: html`${StatusBadge({ status: d.status })} · ${d.site} · last seen ${RelativeTime({ t: d.lastSeen, now: new Date(NOW) })}` })}
        <div class="columns">
          <section class="card" aria-label="Readings">
            ${Gauge({ value: d.battery, label: "Battery", unit: "%", warn: 30, crit: 10, lowerIsWorse: true })}
            ${Gauge({ value: temp, label: "Temperature", unit: "°C", min: 0, max: 60, warn: 35, crit: 45 })}
            ${Gauge({ value: null, label: "Signal", unit: "dBm" })}
          </section>
          <section class="card" aria-label="Severities">
            <h2>Alerts by severity</h2>
            <p>${SEVERITIES.map((s) => html`${SeverityBadge({ severity: s })} `)}</p>
            <p>${STATUSES.map((s) => html`${StatusBadge({ status: s })} `)}</p>
          </section>
        </div>`,
    );
  });
  return app;
}

let server: ReturnType<typeof Bun.serve> | undefined;
beforeAll(async () => {
  const env: PageEnv = { assets: await loadAssets(), available: new Set(["fleet", "devices", "api"]) };
  const app = gallery(env);
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => app.fetch(req) });
}, 60_000);
afterAll(() => server?.stop(true));

const b = useBrowser(() => `http://127.0.0.1:${server!.port}`);

const names = (page: import("playwright-core").Page) => page.locator("table.data tbody tr td:first-child").allInnerTexts();

describe("a list page built from the components", () => {
  b.test("renders cleanly in both themes", async (tab) => {
    await tab.goto("/devices");
    const { page } = tab;
    expect(await page.locator("table.data tbody tr").count()).toBe(PER_PAGE);
    expect(await page.locator(".pagination").innerText()).toContain("1–25 of 120");
    // Status is a word and an icon, not just a colour.
    const badge = page.locator("tbody .badge.status-offline").first();
    expect(await badge.innerText()).toBe("OFFLINE");
    expect(await badge.locator("svg").count()).toBe(1);
    await screenshot(page, "components-list-light");
    await page.click("[data-theme-toggle]");
    await screenshot(page, "components-list-dark");
  });

  b.test("the header stays under the top bar while the list scrolls", async (tab) => {
    await tab.goto("/devices");
    const { page } = tab;
    await page.mouse.wheel(0, 900);
    await page.waitForFunction(() => window.scrollY > 500);
    const th = (await page.locator("table.data thead th").first().boundingBox())!;
    const bar = (await page.locator(".topbar").boundingBox())!;
    expect(th.y).toBeCloseTo(bar.y + bar.height, 0);
  });

  b.test("clicking anywhere on a row opens it", async (tab) => {
    await tab.goto("/devices");
    const { page } = tab;
    const row = page.locator("table.data tbody tr").nth(2);
    const name = await row.locator("td").first().innerText();
    // Where a person would click: the middle of the Messages cell, far from the name's link.
    const cell = (await row.locator("td").nth(5).boundingBox())!;
    await Promise.all([page.waitForURL("**/devices/dev-*"), page.mouse.click(cell.x + cell.width / 2, cell.y + cell.height / 2)]);
    expect(await page.textContent("main h1")).toBe(name);
  });

  b.test("sorting keeps the filters, and a second click reverses it", async (tab) => {
    await tab.goto("/devices?status=OFFLINE");
    const { page } = tab;
    await Promise.all([page.waitForURL(/sort=messages/), page.getByRole("link", { name: /^Messages/ }).click()]);
    let url = new URL(page.url());
    expect(url.searchParams.get("status")).toBe("OFFLINE");
    expect(url.searchParams.get("dir")).toBe("desc");
    expect(await page.locator('th[aria-sort="descending"]').innerText()).toContain("Messages");
    const counts = (await page.locator("table.data tbody td.num").allInnerTexts()).map((t) => Number(t.replaceAll(",", "")));
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    for (const s of await page.locator("tbody .badge").allInnerTexts()) expect(s).toBe("OFFLINE");

    await Promise.all([page.waitForURL(/dir=asc/), page.getByRole("link", { name: /^Messages/ }).click()]);
    url = new URL(page.url());
    expect(url.searchParams.get("status")).toBe("OFFLINE");
    expect(await page.locator('th[aria-sort="ascending"]').innerText()).toContain("Messages");
  });

  b.test("paging keeps the filters and the sort", async (tab) => {
    await tab.goto("/devices?status=ONLINE&sort=name&dir=desc");
    const { page } = tab;
    const first = await names(page);
    await Promise.all([page.waitForURL(/page=2/), page.getByRole("link", { name: /Next/ }).click()]);
    const url = new URL(page.url());
    expect(Object.fromEntries(url.searchParams)).toEqual({ status: "ONLINE", sort: "name", dir: "desc", page: "2" });
    const second = await names(page);
    expect(second[0]! < first[first.length - 1]!).toBe(true);
    await Promise.all([page.waitForURL((u) => !u.searchParams.has("page")), page.getByRole("link", { name: /Previous/ }).click()]);
    expect(await names(page)).toEqual(first);
  });

  b.test("filtering is a form: / to search, Enter to apply, the sort survives, Clear undoes it", async (tab) => {
    await tab.goto("/devices?sort=messages&dir=desc");
    const { page } = tab;
    await page.keyboard.press("/");
    await page.keyboard.type("Pump 01");
    await Promise.all([page.waitForURL(/q=Pump/), page.keyboard.press("Enter")]);
    const url = new URL(page.url());
    expect(url.searchParams.get("q")).toBe("Pump 01");
    expect(url.searchParams.get("sort")).toBe("messages");
    for (const n of await names(page)) expect(n).toStartWith("Pump 01");

    await page.getByRole("searchbox", { name: "Search devices" }).fill("no such pump");
    await Promise.all([page.waitForURL(/q=no/), page.keyboard.press("Enter")]);
    expect(await page.locator("[data-empty]").innerText()).toContain("No devices match these filters");
    await Promise.all([page.waitForURL((u) => !u.searchParams.has("q")), page.getByRole("link", { name: "Clear filters" }).click()]);
    expect(new URL(page.url()).searchParams.get("sort")).toBe("messages");
    expect(await page.locator("table.data tbody tr").count()).toBe(PER_PAGE);
  });

  b.test(
    "on a phone the table scrolls sideways inside its frame, not the page",
    async (tab) => {
      await tab.goto("/devices");
      const { page } = tab;
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      expect(await page.locator("table.data th.hide-narrow").first().isVisible()).toBe(false);
      await screenshot(page, "components-list-phone");
    },
    { viewport: { width: 390, height: 844 }, context: { isMobile: true, hasTouch: true } },
  );
});

describe("a detail page built from the components", () => {
  b.test("gauges and badges say what they show in words", async (tab) => {
    await tab.goto("/devices/dev-008");
    const { page } = tab;
    const labels = await page.locator(".gauge svg").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
    expect(labels).toHaveLength(3);
    expect(labels[2]).toBe("Signal: no data");
    expect(labels[0]).toMatch(/^Battery: \d+%/);
    expect(await page.locator(".badge[data-severity]").allInnerTexts()).toEqual([...SEVERITIES]);
    await screenshot(page, "components-detail-light");
    await page.click("[data-theme-toggle]");
    await screenshot(page, "components-detail-dark");
  });
});
