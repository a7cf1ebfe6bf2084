// The device list and a device's page in Chromium, with a fleet made through
// the services and telemetry sent over real HTTP ingest: the list shows each
// device's connectivity as the sweep computed it and filters through the
// URL; a row opens the preview pane; a connectivity change arrives live; the
// device page shows latest values and draws its uPlot charts, whose range
// switch changes the URL; decommissioning asks once and then ingest answers
// DEVICE_REVOKED; a rotated token is shown once; bob (customer) sees no
// admin actions. Screenshots of the list and the device, light and dark.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { createAlertRule } from "../../src/alerts/rules.ts";
import { createDevice } from "../../src/devices/service.ts";
import type { Clock } from "../../src/lib/clock.ts";
import type { Ctx } from "../../src/lib/ctx.ts";
import { createSite } from "../../src/sites/service.ts";
import { PASSWORDS, seedCast } from "../helpers/cast.ts";
import { freePort, startPulse, type TestPulse } from "../helpers/pulse.ts";
import { screenshot, signIn, useBrowser } from "./browser.ts";

/** Real time plus an offset tests move forward, so connectivity can age without sleeping. */
function offsetClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms) => (offset += ms) };
}

let pulse: TestPulse;
const clock = offsetClock();
const tokens: Record<string, string> = {};

async function batch(messages: Array<Record<string, unknown>>): Promise<void> {
  const res = await fetch(`${pulse.url}/ingest/v1/batch`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ messages }) });
  const body = (await res.json()) as { accepted: number; rejected: number; results: unknown[] };
  if (body.rejected) throw new Error(`batch: ${JSON.stringify(body.results)}`);
}

async function ingest(device: string, token: string, metrics: Record<string, unknown> = { temp_c: 20 }): Promise<{ status: number; reason?: string }> {
  const res = await fetch(`${pulse.url}/ingest/v1/tenant/acme/device/${device}/telemetry`, {
    method: "POST",
    headers: { "content-type": "application/json", "X-Provision-Token": token },
    body: JSON.stringify({ version: "1", metrics }),
  });
  return { status: res.status, reason: ((await res.json()) as { reason?: string }).reason };
}

beforeAll(async () => {
  const port = await freePort();
  pulse = await startPulse({ clock, config: { "http.port": port, public_url: `http://127.0.0.1:${port}` } });
  const cast = await seedCast(pulse.app);
  const deps = { db: pulse.app.db, clock: pulse.app.clock };
  const acme: Ctx = { tenantId: "acme", actor: { kind: "user", id: cast.alice.id, name: "alice" }, role: "tenant-admin" };
  await createSite(deps, acme, { id: "plant-1", name: "Plant One", timezone: "Europe/Berlin", lat: 53.55, lng: 9.99, address: "Hafenstraße 1, Hamburg" });
  await createSite(deps, acme, { id: "yard-2", name: "North yard" });
  const add = async (id: string, name: string, site: string, heartbeat: number, tags: Record<string, string>) =>
    (tokens[id] = (await createDevice(deps, acme, { id, name, site_id: site, heartbeat_seconds: heartbeat, tags, model: "PX-200", serial: `SN-${id}` })).token);
  await add("pump-1", "Pump one", "plant-1", 3600, { zone: "cold", line: "1" });
  await add("pump-2", "Pump two", "plant-1", 60, { zone: "cold", line: "2" });
  await add("fan-3", "Fan three", "yard-2", 10, { zone: "warm" });
  await add("new-4", "Fresh sensor", "yard-2", 60, {});
  await add("live-5", "Live pump", "yard-2", 60, { zone: "warm" });
  await createAlertRule(deps, acme, { name: "Cold room too warm", metricName: "temp_c", operator: "GT", threshold: 24, severity: "HIGH", scope: { tags: { zone: "cold" } } });

  // An hour of telemetry for pump-1 (one message every 2 min), a little for the others.
  const now = Math.floor(clock.now().getTime() / 1000);
  const msg = (device: string, ts: number, metrics: Record<string, unknown>) => ({ version: "1", tenant_id: "acme", device_id: device, msg_type: "telemetry", provision_token: tokens[device], ts, metrics });
  await batch(Array.from({ length: 30 }, (_, i) => msg("pump-1", now - (29 - i) * 120, { temp_c: 18 + Math.sin(i / 4) * 3, battery_pct: 95 - i / 3, mode: "cool" })));
  await batch([msg("pump-2", now - 60, { temp_c: 22.5 }), msg("fan-3", now - 30, { rpm: 1200 })]);
  // Three minutes later: pump-1 (hourly heartbeat) is still ONLINE, pump-2 (every minute) is STALE, fan-3 (every 10 s) OFFLINE.
  clock.advance(3 * 60_000);
  expect((await ingest("pump-1", tokens["pump-1"]!, { temp_c: 19.5, battery_pct: 85, mode: "cool" })).status).toBe(202);
  expect((await ingest("live-5", tokens["live-5"]!, { temp_c: 4 })).status).toBe(202);
  await pulse.app.runJob("device-status-sweep");
}, 90_000);
afterAll(() => pulse?.stop(), 30_000);

const b = useBrowser(() => pulse.url);

describe("the device list", () => {
  b.test("shows each device with its connectivity, filters through the URL, and opens a preview pane for a row", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/devices");
    expect(await page.textContent("main h1")).toBe("Devices");
    const status = async (id: string) => (await page.locator(`tr:has(a[href="/devices/${id}"]) [data-status]`).getAttribute("data-status")) ?? (await page.locator(`tr:has(a[href="/devices/${id}"]) td:nth-child(2)`).innerText());
    expect(await status("pump-1")).toBe("ONLINE");
    expect(await status("pump-2")).toBe("STALE");
    expect(await status("fan-3")).toBe("OFFLINE");
    expect(await status("new-4")).toBe("OFFLINE");
    // The badge is a word and an icon, not colour alone.
    expect(await page.locator('tr:has(a[href="/devices/pump-2"]) [data-status="STALE"] svg').count()).toBe(1);
    expect(await page.locator('[data-conn-tab="STALE"] .tab-count').innerText()).toBe("1");

    // Filters are in the URL: STALE devices only, then a tag and a search.
    await Promise.all([page.waitForURL(/connectivity=STALE/), page.locator('[data-conn-tab="STALE"]').click()]);
    expect(await page.locator("table[data-table=Devices] tbody tr").count()).toBe(1);
    await tab.goto("/devices?tag=zone%3Dcold");
    expect(await page.locator("table[data-table=Devices] tbody tr .device-name").allInnerTexts()).toEqual(["Pump one", "Pump two"]);
    await page.keyboard.press("/");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("q");
    await page.keyboard.type("two");
    await Promise.all([page.waitForURL(/q=two/), page.keyboard.press("Enter")]);
    expect(new URL(page.url()).searchParams.get("tag")).toBe("zone=cold");
    expect(await page.locator("table[data-table=Devices] tbody tr .device-name").allInnerTexts()).toEqual(["Pump two"]);

    // Sorting keeps the filters; a row opens the preview beside the list.
    await tab.goto("/devices?site=plant-1");
    await Promise.all([page.waitForURL(/sort=last_seen_at/), page.getByRole("link", { name: /Last seen/ }).click()]);
    expect(new URL(page.url()).searchParams.get("site")).toBe("plant-1");
    await Promise.all([page.waitForURL(/selected=pump-1/), page.locator("tr", { hasText: "Pump one" }).locator(".row-anchor").click()]);
    const pane = page.locator('[data-device-pane="pump-1"]');
    expect(await pane.isVisible()).toBe(true);
    expect(await pane.locator('[data-metric="temp_c"] td').first().innerText()).toBe("19.5");
    expect(await pane.locator('[data-status="ONLINE"]').count()).toBe(1);
    expect(new URL(page.url()).searchParams.get("site")).toBe("plant-1");
    // The header sticks under the top bar when the list scrolls.
    expect(await page.locator("table[data-table=Devices] thead th").first().evaluate((el) => getComputedStyle(el).position)).toBe("sticky");
    await screenshot(page, "devices-list-light");
    await Promise.all([page.waitForURL(/\/devices\/pump-1$/), pane.getByRole("link", { name: "Open device" }).click()]);
  });

  b.test("a connectivity change arrives live, without a reload", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/devices?q=live");
    const badge = page.locator('tr:has(a[href="/devices/live-5"]) [data-status]');
    expect(await badge.getAttribute("data-status")).toBe("ONLINE");
    await page.locator("[data-live-status][data-state=live]").waitFor();
    // live-5 beats every minute; three quiet minutes make it STALE.
    clock.advance(3 * 60_000);
    await pulse.app.runJob("device-status-sweep");
    await page.locator('tr:has(a[href="/devices/live-5"]) [data-status="STALE"]').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => performance.getEntriesByType("navigation").length)).toBe(1);
  });

  b.test("the list in the dark theme", async (tab) => {
    await signIn(tab, "alice", PASSWORDS.alice, "/devices?selected=pump-2");
    await tab.page.locator('[data-device-pane="pump-2"]').waitFor();
    await screenshot(tab.page, "devices-list-dark");
  }, { colorScheme: "dark" });
});

describe("a device's page", () => {
  b.test("shows the device, its latest values with units and gauges, and its charts, whose range switch changes the URL", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/devices/pump-1");
    expect(await page.textContent("main h1")).toBe("Pump one");
    const facts = await page.locator('[data-facts="device"]').innerText();
    expect(facts).toContain("Plant One");
    expect(facts).toContain("PX-200");
    expect(facts).toContain("every 1 h");
    expect(await page.locator('[data-metric="temp_c"] [data-value]').innerText()).toBe("19.5");
    expect(await page.locator('[data-metric="mode"] [data-value]').innerText()).toBe("cool");
    expect(await page.locator(".gauge").count()).toBeGreaterThanOrEqual(2);
    // The rule covering zone=cold puts its threshold on the temperature gauge.
    expect(await page.locator(".gauge svg[aria-label^='temp_c']").getAttribute("aria-label")).toMatch(/temp_c: 19\.5 \(normal\)/);
    expect(await page.locator('[data-metric="temp_c"] svg.spark path.spark-line').count()).toBe(1);
    await screenshot(page, "device-detail-light");

    await Promise.all([page.waitForURL(/\/telemetry$/), page.locator('[data-tab="telemetry"]').click()]);
    await page.locator('[data-series="temp_c"] .ts-plot canvas').first().waitFor();
    expect(await page.locator('[data-series="battery_pct"] .ts-plot canvas').count()).toBeGreaterThan(0);
    expect(await page.locator("[data-range-label]").innerText()).toContain("Last 24 h");
    await Promise.all([page.waitForURL(/range=1h/), page.locator('[data-range="1h"]').click()]);
    await page.locator('[data-series="temp_c"] .ts-plot canvas').first().waitFor();
    expect(await page.locator('[data-range="1h"]').getAttribute("aria-current")).toBe("page");
    expect(await page.locator("[data-range-label]").innerText()).toContain("one point per 5 s");
    const csv = await page.locator('[data-export="csv"]').getAttribute("href");
    const exportUrl = new URL(csv!, pulse.url);
    expect(exportUrl.pathname).toBe("/api/v1/devices/pump-1/telemetry/export");
    expect(Date.parse(exportUrl.searchParams.get("to")!) - Date.parse(exportUrl.searchParams.get("from")!)).toBe(3_600_000);
    // The export link works with the session.
    const exported = await page.evaluate(async (u) => (await fetch(u)).text(), exportUrl.pathname + exportUrl.search);
    expect(exported.split("\r\n")[0]).toBe("time,battery_pct,mode,temp_c");
    // Only some metrics.
    await page.locator('.metric-picker input[value="battery_pct"]').uncheck();
    await Promise.all([page.waitForURL(/metric=temp_c/), page.locator(".metric-picker button").click()]);
    expect(await page.locator("[data-series]").count()).toBe(1);
    await screenshot(page, "device-telemetry-light");
  });

  b.test("the device page in the dark theme", async (tab) => {
    await signIn(tab, "alice", PASSWORDS.alice, "/devices/pump-1/telemetry?range=6h");
    await tab.page.locator(".ts-plot canvas").first().waitFor();
    await screenshot(tab.page, "device-telemetry-dark");
    await tab.goto("/devices/pump-1");
    await screenshot(tab.page, "device-detail-dark");
  }, { colorScheme: "dark" });

  b.test("decommissioning asks once, says what happens, and then a real message is refused with DEVICE_REVOKED", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/devices/fan-3");
    expect((await ingest("fan-3", tokens["fan-3"]!)).status).toBe(202);
    await page.locator("details.confirm > summary", { hasText: "Decommission" }).click();
    const panel = page.locator("details.confirm[open] .confirm-panel");
    expect(await panel.innerText()).toContain("revokes its tokens, refuses its messages with DEVICE_REVOKED, and keeps its history");
    await panel.getByLabel("Reason").fill("replaced by fan-9");
    await screenshot(page, "device-decommission-confirm");
    await Promise.all([page.waitForNavigation(), panel.getByRole("button", { name: "Decommission fan-3" }).click()]);
    expect(await page.locator(".flash").first().innerText()).toContain("Fan three is decommissioned");
    expect(await page.locator("[data-decommissioned]").innerText()).toContain("replaced by fan-9");
    expect(await page.locator(".device-badges").innerText()).toContain("REVOKED");
    expect(await ingest("fan-3", tokens["fan-3"]!)).toEqual({ status: 403, reason: "DEVICE_REVOKED" });
    await Promise.all([page.waitForURL(/\/events$/), page.locator('[data-tab="events"]').click()]);
    expect(await page.locator('[data-event="decommissioned"]').innerText()).toContain("replaced by fan-9");
  });

  b.test("rotating a token shows the new one once, with a copy button; with an overlap the old one keeps working", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/devices/pump-2/tokens");
    await page.getByLabel("Overlap").selectOption("3600");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Rotate token" }).click()]);
    const token = (await page.locator("#provision-token").innerText()).trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await page.locator('button[data-copy="provision-token"]').isVisible()).toBe(true);
    expect(await page.locator("#mqtt-example").innerText()).toContain(`-P ${token}`);
    await screenshot(page, "device-token-rotated");
    expect((await ingest("pump-2", token)).status).toBe(202);
    expect((await ingest("pump-2", tokens["pump-2"]!)).status).toBe(202);
    await tab.goto("/devices/pump-2/tokens");
    expect(await page.content()).not.toContain(token);
    expect(await page.locator("table[data-table=Tokens] tbody tr").count()).toBe(2);
    expect(await page.locator("table[data-table=Tokens]").innerText()).toContain("ENDING");
  });

  b.test("bob (customer) sees devices but no admin actions", async (tab) => {
    const { page } = tab;
    await signIn(tab, "bob", PASSWORDS.bob, "/devices");
    expect(await page.locator("table[data-table=Devices] tbody tr").count()).toBeGreaterThanOrEqual(5);
    expect(await page.getByRole("link", { name: "Add device" }).count()).toBe(0);
    await tab.goto("/devices/pump-1");
    expect(await page.locator('[data-metric="temp_c"]').count()).toBe(1);
    expect(await page.locator(".page-actions").innerText()).not.toMatch(/Decommission|Edit/);
    await tab.goto("/devices/pump-1/tokens");
    expect(await page.getByRole("button", { name: "Rotate token" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Revoke" }).count()).toBe(0);
  });
});
