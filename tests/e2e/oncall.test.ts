// On-call and escalation in Chromium, on Tuesday 20 October 2026 in Berlin
// (the clocks go back on Sunday the 25th). Alice builds the Primary schedule
// through the forms — told next to the field that 02:30 does not exist on
// the day the clocks spring forward — with a daily layer of alice and bob;
// the 14-day timeline shows both names and the DST change, and hovering a
// bar names the right person and times. Bob, a customer, reads the schedule
// without its buttons but takes over for four hours, which the timeline
// shows. Alice builds a three-level policy, drags the webhook level above
// the person, and the preview names bob, on call now. Carol at globex sees
// none of it. Screenshots of each page, the timeline light and dark.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import type { Page } from "playwright-core";
import { getEscalationPolicy, listEscalationPolicies } from "../../src/escalation/service.ts";
import { listOnCallSchedules } from "../../src/oncall/service.ts";
import { PASSWORDS } from "../helpers/cast.ts";
import { screenshot, signIn, useBrowser, type Tab } from "./browser.ts";
import { expectRejected } from "./identity-helpers.ts";
import { startOnCallStage, type OnCallStage } from "./oncall-fixtures.ts";

let stage: OnCallStage;
let scheduleId = "";

beforeAll(async () => {
  stage = await startOnCallStage();
}, 60_000);
afterAll(() => stage?.stop(), 30_000);

const b = useBrowser(() => stage.url);

/** Click and wait for the page it leads to. */
async function go(tab: Tab, click: () => Promise<void>): Promise<void> {
  await Promise.all([tab.page.waitForNavigation(), click()]);
}

/** A whole-page screenshot from the top. */
async function shot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, name, { fullPage: true });
}

const aliceCtx = () => stage.world.as(stage.world.cast.alice);

describe("schedules", () => {
  b.test("alice builds a schedule with a daily layer of alice and bob; the timeline names both, marks the DST change, and hovering names who and when", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/oncall");
    expect(await page.textContent("main h1")).toBe("On-call");
    expect(await page.locator("[data-empty] .empty-title").innerText()).toBe("No on-call schedules yet");
    await go(tab, () => page.getByRole("link", { name: "New schedule" }).first().click());
    await page.getByLabel("Name").fill("Primary");
    expect(await page.getByLabel("Time zone").inputValue()).toBe("Europe/Berlin");
    await go(tab, () => page.getByRole("button", { name: "Create schedule" }).click());
    expect(await page.textContent("main h1")).toBe("New layer");
    scheduleId = (await listOnCallSchedules(stage.deps, aliceCtx()))[0]!.id;

    // 02:30 on the day the clocks spring forward does not exist: refused next to the field.
    await page.getByLabel("Name").fill("Primary");
    await page.getByLabel("Handoff time").fill("02:30");
    await page.getByLabel("Start date").fill("2027-03-28");
    await page.getByLabel("1st").selectOption({ label: "alice (Alice Admin)" });
    await page.getByLabel("2nd").selectOption({ label: "bob (Bob Customer)" });
    await go(tab, () => page.getByRole("button", { name: "Add layer" }).click());
    await expectRejected(tab, `/oncall/${scheduleId}/layers`);
    const handoff = page.getByLabel("Handoff time");
    expect(await handoff.getAttribute("aria-invalid")).toBe("true");
    const error = page.locator(".field-invalid:has(#layer-handoff_time) .field-error");
    expect(await error.innerText()).toContain("02:30 does not exist on 2027-03-28 in Europe/Berlin");
    // What was typed is kept, including the people in order.
    expect(await page.getByLabel("2nd").inputValue()).toBe(stage.world.cast.bob.id);
    await shot(page, "oncall-layer-refused");

    await handoff.fill("09:00");
    await page.getByLabel("Start date").fill("2026-10-20");
    await go(tab, () => page.getByRole("button", { name: "Add layer" }).click());
    expect(await page.locator(".flash-ok").innerText()).toBe("Added the layer “Primary”: Daily at 09:00, from now on.");
    expect(await page.locator("[data-current]").getAttribute("data-current")).toBe("alice");

    const timeline = page.locator("[data-oncall-timeline]");
    const final = timeline.locator('[data-row="final"]');
    const names = await final.locator(".tl-bar-text").allTextContents();
    expect(names).toContain("alice");
    expect(names).toContain("bob");
    expect(await timeline.locator(".tl-dst-label").textContent()).toBe("DST −1 h 03:00");
    expect(await timeline.locator(".tl-now-label").textContent()).toBe("now 10:00");

    // Hover: who and the exact times in the schedule's zone.
    const bobsFirst = final.locator('[data-seg][data-user="bob"]').first();
    await bobsFirst.hover();
    const tip = timeline.locator(".tl-tip");
    await tip.waitFor({ state: "visible" });
    expect(await tip.innerText()).toBe("bob (Bob Customer) · layer Primary\nWed 21 Oct, 09:00 CEST – Thu 22 Oct, 09:00 CEST (1 d)");
    // The shift over the change: 25 hours, 09:00 to 09:00 on the wall clock.
    await final.locator('[data-seg][data-start="2026-10-24T07:00:00.000Z"]').hover();
    expect(await tip.innerText()).toBe("alice (Alice Admin) · layer Primary\nSat 24 Oct, 09:00 CEST – Sun 25 Oct, 09:00 CET (1 d 1 h)");
    // Keyboard users get the same by tabbing onto a bar.
    await final.locator('[data-seg][data-user="alice"]').first().focus();
    expect(await tip.innerText()).toContain("alice (Alice Admin) · layer Primary\nTue 20 Oct, 10:00 CEST – Wed 21 Oct, 09:00 CEST");
    await page.mouse.move(0, 0);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await shot(page, "oncall-schedule-light");

    await tab.goto("/oncall");
    expect(await page.locator("[data-on-call-now]").getAttribute("data-on-call-now")).toBe("alice");
    await shot(page, "oncall-list");
  });

  b.test("bob reads the schedule without its buttons, takes over for the next 4 hours, and the timeline shows it", async (tab) => {
    const { page } = tab;
    await stage.signInTab(tab, "bob", `/oncall/${scheduleId}`);
    expect(await page.getByRole("link", { name: "Add layer" }).count()).toBe(0);
    expect(await page.getByText("Delete schedule").count()).toBe(0);
    expect(await page.getByRole("link", { name: "Edit" }).count()).toBe(0);
    expect(await page.getByLabel("Take over for the next").inputValue()).toBe("4");
    await go(tab, () => page.getByRole("button", { name: "Take over" }).click());
    expect(await page.locator(".flash-ok").innerText()).toBe("You are on call for “Primary” until Tue 20 Oct, 14:00 CEST (4 h), over every layer.");
    expect(await page.locator("[data-current]").getAttribute("data-current")).toBe("bob");
    const overrides = page.locator('[data-oncall-timeline] [data-row="override"]');
    expect(await overrides.getAttribute("data-row-label")).toBe("Overrides");
    await overrides.locator("[data-seg]").hover();
    const tip = page.locator(".tl-tip");
    expect(await tip.innerText()).toBe("bob (Bob Customer) · override\nTue 20 Oct, 10:00 CEST – Tue 20 Oct, 14:00 CEST (4 h)");
    await page.locator('[data-oncall-timeline] [data-row="final"] [data-seg][data-user="bob"]').first().hover();
    expect(await tip.innerText()).toBe("bob (Bob Customer) · override\nTue 20 Oct, 10:00 CEST – Tue 20 Oct, 14:00 CEST (4 h)");
    expect(await page.locator('[data-override="bob"]').count()).toBe(1);
    await page.mouse.move(0, 0);
    await shot(page, "oncall-schedule-takeover");

    await tab.goto("/oncall/me");
    expect(await page.locator('[data-me-now="Primary"]').innerText()).toContain("until Tue 20 Oct, 14:00 CEST");
    expect(await page.locator("[data-me-next]").innerText()).toContain("Wed 21 Oct, 09:00 CEST");
    await shot(page, "oncall-me");
    await go(tab, () => page.getByRole("link", { name: "Manage your contact methods" }).click());
    expect(await page.textContent("main h1")).toBe("Contact methods");
    await shot(page, "oncall-contact-methods");
  });

  b.test(
    "the schedule timeline in the dark theme",
    async (tab) => {
      await stage.signInTab(tab, "alice", `/oncall/${scheduleId}`);
      expect(await tab.page.locator("[data-oncall-timeline] .tl-dst-label").textContent()).toBe("DST −1 h 03:00");
      await shot(tab.page, "oncall-schedule-dark");
    },
    { colorScheme: "dark" },
  );
});

describe("escalation", () => {
  b.test("alice builds three levels, drags the webhook above the person, saves, and the preview names bob, on call now", async (tab) => {
    const { page } = tab;
    await stage.signInTab(tab, "alice", "/escalation");
    expect(await page.locator("[data-empty] .empty-title").innerText()).toBe("No escalation policies yet");
    await go(tab, () => page.getByRole("link", { name: "New policy" }).first().click());
    await page.getByLabel("Name", { exact: true }).fill("Pumps");
    const level = (n: number) => page.locator(`li[data-level="${n}"]`);
    await level(1).getByLabel("Primary").check();
    await go(tab, () => page.getByRole("button", { name: "+ Add level" }).click());
    await level(2).getByLabel("Wait after the previous level").fill("15");
    await level(2).getByLabel("alice").check();
    await go(tab, () => page.getByRole("button", { name: "+ Add level" }).click());
    await level(3).getByLabel("Wait after the previous level").fill("10");
    await level(3).getByLabel("New webhook URL").fill("https://hooks.example.test/pumps/t0ken");
    // Level 1 stayed as chosen across the round trips.
    expect(await level(1).getByLabel("Primary").isChecked()).toBe(true);

    // Drag level 3 by its handle above level 2.
    const handle = level(3).locator("[data-drag-handle]");
    expect(await handle.isVisible()).toBe(true);
    const from = (await handle.boundingBox())!;
    const to = (await level(2).locator("[data-drag-handle]").boundingBox())!;
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(to.x + to.width / 2, to.y + 2, { steps: 8 });
    await page.mouse.up();
    expect(await page.locator("[data-order-note]").innerText()).toBe("Level 3 is now level 2. Save the policy to keep the new order.");
    expect(await level(2).getByLabel("New webhook URL").inputValue()).toBe("https://hooks.example.test/pumps/t0ken");
    expect(await level(3).getByLabel("alice").isChecked()).toBe(true);
    expect(await level(2).locator("[data-delay-label]").innerText()).toBe("Wait after the previous level");
    await shot(page, "escalation-builder");

    await go(tab, () => page.getByRole("button", { name: "Create policy" }).click());
    expect(await page.locator(".flash-ok").innerText()).toBe("Created “Pumps”: 3 levels.");
    const [policy] = await listEscalationPolicies(stage.deps, aliceCtx());
    expect(policy!.levels.map((l) => [l.delay_minutes, l.targets.map((t) => t.type)])).toEqual([
      [0, ["schedule"]],
      [10, ["webhook"]],
      [15, ["user"]],
    ]);

    // Bob took over Primary: he is the one level 1 reaches now.
    const preview = page.locator("[data-preview]");
    expect(await preview.locator('[data-preview-level="1"]').innerText()).toBe("level 1 now: bob (on call for Primary) via email bob@acme.test");
    expect(await preview.locator('[data-preview-level="2"]').innerText()).toBe("level 2 in 10 min: webhook https://hooks.example.test/…");
    expect(await preview.locator('[data-preview-level="3"]').innerText()).toBe("level 3 in 25 min: alice via email alice@acme.test");
    expect(await page.content()).not.toContain("t0ken");

    // The Up button moves without a round trip too; a reload forgets an unsaved move.
    await level(3).getByRole("button", { name: "Move level 3 up" }).click();
    expect(await level(2).getByLabel("alice").isChecked()).toBe(true);
    await go(tab, () => page.getByRole("button", { name: "Save policy" }).click());
    const saved = await getEscalationPolicy(stage.deps, aliceCtx(), policy!.id);
    expect(saved.levels.map((l) => l.targets[0]!.type)).toEqual(["schedule", "user", "webhook"]);
    await go(tab, () => page.getByRole("button", { name: "Make tenant default" }).click());
    expect(await page.locator("[data-default]").first().innerText()).toBe("TENANT DEFAULT");
    await shot(page, "escalation-policy");
    await tab.goto("/escalation");
    await shot(page, "escalation-list");
  });

  b.test("bob reads the policy and its preview without the builder", async (tab) => {
    const [policy] = await listEscalationPolicies(stage.deps, aliceCtx());
    await stage.signInTab(tab, "bob", `/escalation/${policy!.id}`);
    expect(await tab.page.locator("[data-levels-readonly]").isVisible()).toBe(true);
    expect(await tab.page.locator("[data-policy-form]").count()).toBe(0);
    expect(await tab.page.locator('[data-preview-level="1"]').innerText()).toContain("bob (on call for Primary)");
  });
});

describe("isolation", () => {
  b.test("carol at globex never sees acme's schedules or policies", async (tab) => {
    const { page } = tab;
    await stage.signInTab(tab, "carol", "/oncall");
    expect(await page.locator("[data-empty] .empty-title").innerText()).toBe("No on-call schedules yet");
    expect(await page.content()).not.toContain("Primary");
    await tab.goto(`/oncall/${scheduleId}`, { status: 404 });
    await tab.goto("/escalation");
    expect(await page.locator("[data-empty] .empty-title").innerText()).toBe("No escalation policies yet");
    const [policy] = await listEscalationPolicies(stage.deps, aliceCtx());
    await tab.goto(`/escalation/${policy!.id}`, { status: 404 });
  });
});
