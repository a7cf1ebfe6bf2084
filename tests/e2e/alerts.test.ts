// Alerting in Chromium, as the people on shift meet it: a boiler at acme
// overheats (real readings over HTTP ingest, judged by the engine) and the
// inbox shows it at once with its device; alice acknowledges it from its page
// and the timeline says so; bob closes two alerts in one go and silences
// another; alice writes a rule, is told next to the field when its clear
// threshold is on the wrong side, and previews it on a day of history; bob
// plans maintenance and sees it active now. Carol at globex sees none of it.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { PASSWORDS } from "../helpers/cast.ts";
import { openAlertOf, startAlertStage, type AlertStage } from "./alerts-fixtures.ts";
import { screenshot, signIn, useBrowser, type Tab } from "./browser.ts";
import { expectRejected } from "./identity-helpers.ts";

const HOUR = 3_600_000;
let stage: AlertStage;

beforeAll(async () => {
  stage = await startAlertStage();
  await stage.device("acme", "boiler-1", "plant", { name: "Boiler 1", siteName: "Plant North" });
  await stage.device("acme", "pump-7", "yard", { name: "Pump 7", siteName: "Yard" });
  await stage.device("acme", "pump-8", "yard", { name: "Pump 8" });
  await stage.device("acme", "chiller-2", "plant", { name: "Chiller 2" });
  await stage.device("globex", "press-9", "gx-hall", { name: "Press 9" });
  // An hour of boiler readings before it overheats, for the chart around the trigger.
  const t0 = Date.now() - HOUR;
  await stage.history("boiler-1", Array.from({ length: 30 }, (_, i) => ({ at: new Date(t0 + i * 2 * 60_000), metrics: { temp_c: 70 + i / 2 } })));
  await stage.rule("acme", { name: "Boiler overheating", metricName: "temp_c", operator: "GT", threshold: 90, clearThreshold: 80, severity: "CRITICAL", scope: { devices: ["boiler-1"] } });
  await stage.rule("acme", { name: "Pump pressure high", metricName: "pressure_bar", operator: "GT", threshold: 5, severity: "HIGH", scope: { sites: ["yard"] } });
  await stage.rule("acme", { name: "Chiller warm", metricName: "temp_c", operator: "GT", threshold: 12, severity: "MEDIUM", scope: { devices: ["chiller-2"] } });
  await stage.rule("globex", { name: "Press hot", metricName: "temp_c", operator: "GT", threshold: 50, severity: "CRITICAL" });
  await stage.send("pump-7", { pressure_bar: 6.2 });
  await stage.send("pump-8", { pressure_bar: 7.1 });
  await stage.send("chiller-2", { temp_c: 14 });
  await stage.send("press-9", { temp_c: 77 });
}, 120_000);
afterAll(() => stage?.stop(), 30_000);

const b = useBrowser(() => stage.pulse.url);
const row = (tab: Tab, summary: string) => tab.page.locator("table[data-table=Alerts] tbody tr", { hasText: summary });

describe("the alert inbox", () => {
  b.test("shows a fresh CRITICAL alert with its summary and device", async (tab) => {
    const { page } = tab;
    // Through the real sign-in form once; the other tests reuse sessions.
    await signIn(tab, "alice", PASSWORDS.alice, "/alerts");
    expect(await page.textContent("main h1")).toBe("Alerts");
    await stage.send("boiler-1", { temp_c: 96.5 });
    const boiler = await openAlertOf(stage, "boiler-1");
    await tab.reload();
    const r = row(tab, boiler.summary);
    expect(await r.count()).toBe(1);
    expect(await r.locator("[data-severity]").first().innerText()).toBe("CRITICAL");
    expect(await r.locator("a.device-link").innerText()).toContain("Boiler 1");
    expect(await r.locator("a.device-link").getAttribute("href")).toBe("/devices/boiler-1");
    expect(await r.innerText()).toContain("Plant North");
    expect(await r.locator("time").getAttribute("title")).toMatch(/CES?T/); // acme's zone, Europe/Berlin
    // The most severe first: the CRITICAL tab counts it.
    expect(await page.locator('[data-tab="CRITICAL"] [data-count]').innerText()).toBe("1");
    // The bulk island is there: a select-all box and a live marker.
    expect(await page.locator("input.bulk-all").count()).toBe(1);
    await page.locator("[data-live-status][data-state=live]").waitFor();
    await screenshot(page, "alerts-inbox-light", { fullPage: true });
  });

  b.test(
    "the inbox in the dark theme",
    async (tab) => {
      await stage.signInTab(tab, "alice", "/alerts");
      expect(await tab.page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(13, 17, 23)");
      await screenshot(tab.page, "alerts-inbox-dark", { fullPage: true });
    },
    { colorScheme: "dark" },
  );

  b.test(
    "on a phone: no sideways scrolling of the page, the table scrolls in its box",
    async (tab) => {
      await stage.signInTab(tab, "bob", "/alerts");
      const { page } = tab;
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      expect(await page.locator("table[data-table=Alerts]").isVisible()).toBe(true);
      await screenshot(page, "alerts-inbox-phone", { fullPage: true });
    },
    { viewport: { width: 390, height: 844 }, context: { isMobile: true, hasTouch: true } },
  );

  b.test("acknowledging from the alert's page changes it and adds “acknowledged by alice” to the timeline", async (tab) => {
    const { page } = tab;
    const boiler = await openAlertOf(stage, "boiler-1");
    await stage.signInTab(tab, "alice", "/alerts");
    await Promise.all([page.waitForURL(`**/alerts/${boiler.id}`), row(tab, boiler.summary).locator("a.row-anchor").click()]);
    expect(await page.textContent("main h1")).toBe(boiler.summary);
    // The metric an hour either side of the trigger, drawn by uPlot from the page's data.
    await page.locator(".ts-plot[data-chart-ready=true] canvas").waitFor();
    expect(await page.locator(".ts-fallback").count()).toBe(0);
    await Promise.all([page.waitForNavigation(), page.locator("form[data-action=acknowledge]").getByRole("button", { name: "Acknowledge" }).click()]);
    expect(await page.locator(".flash").innerText()).toContain("Acknowledged");
    expect(await page.locator(".alert-head").innerText()).toContain("ACKNOWLEDGED");
    const timeline = page.locator("ol.timeline");
    expect((await timeline.innerText()).toLowerCase()).toContain("acknowledged by alice");
    expect(await timeline.locator("li").first().innerText()).toContain("Opened");
    expect((await openAlertOf(stage, "boiler-1")).status).toBe("ACKNOWLEDGED");
    await screenshot(page, "alert-detail", { fullPage: true });
    // Back in the inbox, the row says who took it.
    await tab.goto("/alerts");
    expect(await row(tab, boiler.summary).locator(".owner").innerText()).toBe("by alice");
  });

  b.test("bob closes two alerts at once with a reason", async (tab) => {
    const { page } = tab;
    const p7 = await openAlertOf(stage, "pump-7");
    const p8 = await openAlertOf(stage, "pump-8");
    await stage.signInTab(tab, "bob", "/alerts?sev=HIGH");
    const count = page.locator("[data-bulk-count]");
    expect(await count.innerText()).toBe("Select alerts to act on them:");
    expect(await page.locator("button[data-bulk-action][value=close]").isDisabled()).toBe(true);
    // Select all, then untick and tick again: the count follows.
    await page.locator("input.bulk-all").check();
    expect(await count.innerText()).toBe("2 selected:");
    await row(tab, p7.summary).locator("input[data-bulk-item]").uncheck();
    expect(await count.innerText()).toBe("1 selected:");
    expect(await page.locator("input.bulk-all").evaluate((el) => (el as HTMLInputElement).indeterminate)).toBe(true);
    await row(tab, p7.summary).locator("input[data-bulk-item]").check();
    await page.fill("#bulk-reason", "valves replaced");
    await Promise.all([page.waitForNavigation(), page.locator("button[data-bulk-action][value=close]").click()]);
    expect(await page.locator(".flash").innerText()).toBe("Closed 2 alerts.");
    expect(new URL(page.url()).search).toBe("?sev=HIGH");
    expect(await page.locator("[data-empty]").innerText()).toContain("No alerts match these filters");
    const closed = await stage.count("select count(*) as n from alerts where id = any($1::uuid[]) and status = 'CLOSED' and closed_by = 'bob' and close_reason = 'valves replaced'", [[p7.id, p8.id]]);
    expect(closed).toBe(2);
  });

  b.test("bob silences an alert for 4 hours", async (tab) => {
    const { page } = tab;
    const chiller = await openAlertOf(stage, "chiller-2");
    await stage.signInTab(tab, "bob", `/alerts/${chiller.id}`);
    await page.locator("form[data-action=silence]").getByLabel("4 h").check();
    await Promise.all([page.waitForNavigation(), page.locator("form[data-action=silence]").getByRole("button", { name: "Silence" }).click()]);
    expect(await page.locator(".flash").innerText()).toBe("Silenced for 4 h: no notifications until then.");
    expect(await page.locator('.alert-head [data-marker="silenced"]').innerText()).toMatch(/^SILENCED until \d\d:\d\d$|^SILENCED until \w{3} \d\d:\d\d$/);
    expect(await page.locator("ol.timeline").innerText()).toContain("Silenced by bob");
    expect(await page.locator("form[data-action=unsilence]").isVisible()).toBe(true);
  });

  b.test("carol at globex never sees acme's alerts, on any page", async (tab) => {
    const { page } = tab;
    const boiler = await openAlertOf(stage, "boiler-1");
    const press = await openAlertOf(stage, "press-9");
    await stage.signInTab(tab, "carol", "/alerts?status=all");
    expect(await page.locator("main").innerText()).toContain(press.summary);
    for (const path of ["/alerts?status=all", "/", "/alert-rules", "/maintenance"]) {
      await tab.goto(path);
      const text = await page.locator("main").innerText();
      expect(text).not.toContain(boiler.summary);
      expect(text).not.toContain("Boiler");
      expect(text).not.toContain("Pump pressure high");
    }
    await tab.goto(`/alerts/${boiler.id}`, { status: 404 });
    expect(await page.textContent("main h1")).toContain("not found");
  });
});

describe("alert rules", () => {
  b.test("alice writes a rule: a clear threshold on the wrong side is refused next to the field; the preview counts a day of history", async (tab) => {
    const { page } = tab;
    // A day of oven readings with three excursions over 240 °C.
    await stage.device("acme", "oven-4", "plant", { name: "Oven 4" });
    const t0 = Date.now() - 20 * HOUR;
    const temps = [200, 250, 260, 210, 200, 245, 200, 190, 255, 180];
    await stage.history("oven-4", temps.map((v, i) => ({ at: new Date(t0 + i * HOUR), metrics: { oven_c: v } })));

    await stage.signInTab(tab, "alice", "/alert-rules");
    await Promise.all([page.waitForURL("**/alert-rules/new"), page.getByRole("link", { name: "New rule" }).click()]);
    await page.getByLabel("Name", { exact: true }).fill("Oven too hot");
    await page.getByLabel("Metric", { exact: true }).fill("oven_c");
    await page.getByLabel("Fires when the value is").selectOption("GT");
    await page.getByLabel("Threshold").fill("240");
    await page.getByLabel("Clears at").fill("250");
    await page.locator("#rule-duration").fill("0");
    await page.getByLabel("Severity").selectOption("HIGH");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Create rule" }).click()]);
    await expectRejected(tab, "/alert-rules");
    const err = page.locator("#rule-clear_threshold-err");
    expect(await err.innerText()).toContain("For GT it must be at or below the threshold (240)");
    // Next to the field: right under its input, in the same column.
    const input = (await page.locator("#rule-clear_threshold").boundingBox())!;
    const box = (await err.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(input.y + input.height - 1);
    expect(box.y - (input.y + input.height)).toBeLessThan(20);
    expect(Math.abs(box.x - input.x)).toBeLessThan(4);
    expect(await page.locator("#rule-clear_threshold").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("Oven too hot");
    await screenshot(page, "alert-rule-error");

    await page.getByLabel("Clears at").fill("230");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Preview on the last 24 h" }).click()]);
    expect(await page.locator("[data-preview]").innerText()).toContain("would have fired 3 times on 1 device in the last 24 h of data");
    await Promise.all([page.waitForURL("**/alert-rules"), page.getByRole("button", { name: "Create rule" }).click()]);
    expect(await page.locator(".flash").innerText()).toContain("oven_c > 240, clears below 230");
    const listed = page.locator('tr[data-rule="Oven too hot"]');
    expect(await listed.locator("[data-condition]").innerText()).toBe("oven_c > 240, clears below 230");
    expect(await listed.innerText()).toContain("HIGH");
    await screenshot(page, "alert-rules", { fullPage: true });
  });
});

describe("maintenance windows", () => {
  b.test("bob plans maintenance on the yard for the next two hours and sees it active now", async (tab) => {
    const { page } = tab;
    await stage.signInTab(tab, "bob", "/maintenance");
    expect(await page.locator("[data-empty]").innerText()).toContain("No maintenance planned");
    await Promise.all([page.waitForURL("**/maintenance/new"), page.getByRole("link", { name: "Plan maintenance" }).first().click()]);
    // The form opens on a one-off window starting at the next quarter hour; start it now instead.
    const local = (t: number) => new Intl.DateTimeFormat("sv-SE", { timeZone: "Europe/Berlin", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).format(t).replace(" ", "T");
    await page.getByLabel("Name", { exact: true }).fill("Yard valve swap");
    await page.getByLabel("Starts").fill(local(Date.now() - 60_000));
    await page.getByLabel("Ends").fill(local(Date.now() + 2 * HOUR));
    await page.getByLabel("Sites").selectOption("yard");
    expect(await page.locator(".kind-recurring").isVisible()).toBe(false);
    await screenshot(page, "maintenance-form", { fullPage: true });
    await Promise.all([page.waitForURL("**/maintenance"), page.getByRole("button", { name: "Plan maintenance" }).click()]);
    expect(await page.locator(".flash").innerText()).toContain("it is active now");
    const w = page.locator('tr[data-window="Yard valve swap"]');
    expect(await w.locator("[data-window-status]").innerText()).toContain("ACTIVE NOW");
    expect(await w.innerText()).toContain("site Yard");
    // Choosing "Repeatedly" shows the recurring fields (no script needed).
    await tab.goto("/maintenance/new");
    await page.getByLabel("Repeatedly").check();
    expect(await page.locator(".kind-recurring").isVisible()).toBe(true);
    expect(await page.locator(".kind-once").isVisible()).toBe(false);
    await tab.goto("/maintenance");
    await screenshot(page, "maintenance", { fullPage: true });
  });
});
