// The fleet overview in Chromium, as it hangs on the wall: the numbers are
// the database's (devices online / stale / offline from device state, active
// alerts by severity), a new CRITICAL alert shows up without anyone
// reloading, a device coming online moves the counters, `F` switches to TV
// mode, oscar sees every tenant, and carol only globex.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { openAlertOf, startAlertStage, type AlertStage } from "./alerts-fixtures.ts";
import { screenshot, useBrowser, type Tab } from "./browser.ts";

let stage: AlertStage;

beforeAll(async () => {
  stage = await startAlertStage();
  await stage.device("acme", "boiler-1", "plant", { name: "Boiler 1", siteName: "Plant North" });
  await stage.device("acme", "pump-7", "yard", { name: "Pump 7", siteName: "Yard" });
  await stage.device("acme", "pump-8", "yard", { name: "Pump 8" });
  await stage.device("acme", "gate-3", "yard", { name: "Gate 3" });
  await stage.device("globex", "press-9", "gx-hall", { name: "Press 9" });
  await stage.rule("acme", { name: "Boiler overheating", metricName: "temp_c", operator: "GT", threshold: 90, severity: "CRITICAL", scope: { devices: ["boiler-1"] } });
  await stage.rule("acme", { name: "Pump pressure high", metricName: "pressure_bar", operator: "GT", threshold: 5, severity: "HIGH" });
  await stage.rule("globex", { name: "Press hot", metricName: "temp_c", operator: "GT", threshold: 50, severity: "CRITICAL" });
  await stage.send("boiler-1", { temp_c: 71 });
  await stage.send("pump-7", { pressure_bar: 6.4 });
  await stage.send("press-9", { temp_c: 80 });
  // The leader's sweep turns last-seen times into ONLINE / STALE / OFFLINE.
  await stage.pulse.app.runJob("device-status-sweep");
}, 120_000);
afterAll(() => stage?.stop(), 30_000);

const b = useBrowser(() => stage.pulse.url);
const kpi = (tab: Tab, name: string) => tab.page.locator(`[data-kpi="${name}"]`).innerText();
const inDb = (tenant: string, connectivity: string) =>
  stage.count(
    "select count(*) as n from devices d left join device_state s on s.tenant_id = d.tenant_id and s.device_id = d.id where d.tenant_id = $1 and d.status = 'ACTIVE' and coalesce(s.connectivity, 'OFFLINE') = $2",
    [tenant, connectivity],
  );
const activeInDb = (tenant: string | null, severity: string) =>
  stage.count("select count(*) as n from alerts where ($1::text is null or tenant_id = $1) and status <> 'CLOSED' and severity = $2", [tenant, severity]);

describe("the fleet overview", () => {
  b.test("shows the numbers the database holds", async (tab) => {
    const { page } = tab;
    await stage.signInTab(tab, "alice", "/");
    expect(await page.textContent("main h1")).toBe("Fleet overview");
    expect(await kpi(tab, "online")).toBe(String(await inDb("acme", "ONLINE")));
    expect(await kpi(tab, "stale")).toBe(String(await inDb("acme", "STALE")));
    expect(await kpi(tab, "offline")).toBe(String(await inDb("acme", "OFFLINE")));
    expect(await kpi(tab, "online")).toBe("2");
    expect(await kpi(tab, "offline")).toBe("2");
    for (const sev of ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"]) expect(await kpi(tab, `alerts-${sev.toLowerCase()}`)).toBe(String(await activeInDb("acme", sev)));
    expect(await kpi(tab, "alerts-high")).toBe("1");
    expect(await kpi(tab, "rate")).toMatch(/^\d+(\.\d)?$/);
    // The active alert and the devices heard from last.
    const pump = await openAlertOf(stage, "pump-7");
    expect(await page.locator("[data-live-region=active-alerts]").innerText()).toContain(pump.summary);
    const recent = page.locator("table[data-table='Recently seen devices'] tbody tr");
    expect(await recent.count()).toBe(2);
    expect(await recent.first().innerText()).toContain("Pump 7");
    expect(await recent.first().innerText()).toContain("ONLINE");
    // Nothing of globex.
    expect(await page.locator("main").innerText()).not.toContain("Press");
    await screenshot(page, "fleet-overview-light", { fullPage: true });
  });

  b.test("updates live: a new CRITICAL alert and a device coming online appear without a reload", async (tab) => {
    const { page } = tab;
    await stage.signInTab(tab, "alice", "/");
    await page.locator("[data-live-status][data-state=live]").waitFor();
    await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
    expect(await kpi(tab, "alerts-critical")).toBe("0");

    await stage.send("boiler-1", { temp_c: 97 });
    const boiler = await openAlertOf(stage, "boiler-1");
    await page.waitForFunction(() => document.querySelector('[data-kpi="alerts-critical"]')?.textContent === "1", undefined, { timeout: 10_000 });
    await page.locator("[data-live-region=active-alerts] tr", { hasText: boiler.summary }).waitFor({ timeout: 5_000 });
    // The most severe first.
    expect(await page.locator("[data-live-region=active-alerts] tbody tr").first().getAttribute("data-severity")).toBe("CRITICAL");

    await stage.send("pump-8", { pressure_bar: 2 });
    await stage.pulse.app.runJob("device-status-sweep");
    await page.waitForFunction(() => document.querySelector('[data-kpi="online"]')?.textContent === "3", undefined, { timeout: 10_000 });
    expect(await kpi(tab, "offline")).toBe("1");
    expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
  });

  b.test(
    "in the dark theme, and in TV mode with F",
    async (tab) => {
      const { page } = tab;
      await stage.signInTab(tab, "alice", "/");
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(13, 17, 23)");
      await screenshot(page, "fleet-overview-dark", { fullPage: true });
      // F lists itself among the shortcuts…
      expect(await page.locator("dialog#shortcuts").innerText()).toContain("TV mode");
      // …and switches: no navigation, large type, dark.
      await page.keyboard.press("f");
      expect(await page.evaluate(() => document.documentElement.classList.contains("tv"))).toBe(true);
      expect(await page.locator(".sidenav").isVisible()).toBe(false);
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
      expect(await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize))).toBeGreaterThan(16);
      await screenshot(page, "fleet-tv");
      await page.keyboard.press("f");
      expect(await page.evaluate(() => document.documentElement.classList.contains("tv"))).toBe(false);
      expect(await page.locator(".sidenav").isVisible()).toBe(true);
      expect(await page.evaluate(() => document.documentElement.dataset.theme ?? null)).toBeNull();
    },
    { colorScheme: "dark" },
  );

  b.test("oscar, in no tenant, sees every tenant's totals and a row per tenant", async (tab) => {
    const { page } = tab;
    await stage.signInTab(tab, "oscar", "/");
    expect(await kpi(tab, "tenants")).toBe("2");
    expect(await kpi(tab, "alerts-critical")).toBe(String(await activeInDb(null, "CRITICAL")));
    const acme = page.locator('tr[data-tenant="acme"]');
    expect(await acme.innerText()).toContain("Acme Corp");
    expect(await page.locator('tr[data-tenant="globex"]').innerText()).toContain("Globex");
    expect(await page.locator("[data-live-region=active-alerts]").innerText()).toContain("Globex");
    expect(await page.locator("[data-facts=server]").isVisible()).toBe(true);
    await screenshot(page, "fleet-operator", { fullPage: true });
  });

  b.test("carol at globex sees globex only", async (tab) => {
    const { page } = tab;
    await stage.signInTab(tab, "carol", "/");
    const text = await page.locator("main").innerText();
    expect(text).toContain("Press 9");
    for (const acme of ["Boiler", "Pump", "pump-7", "Acme"]) expect(text).not.toContain(acme);
    expect(await kpi(tab, "online")).toBe(String(await inDb("globex", "ONLINE")));
    expect(await kpi(tab, "alerts-critical")).toBe(String(await activeInDb("globex", "CRITICAL")));
  });
});
