// Notifications in Chromium, as alice sets them up for acme: she adds a
// webhook channel through the form, copies the secret Pulse shows once,
// sends a test and reads the receiver's 200 on the page (the receiver checks
// the signature with the standardwebhooks package); she renames it without
// touching the secret, which still signs; she writes a routing rule (told
// next to the field when she forgets the transitions). A real alert then
// shows in the delivery log as delivered, with its attempts; a receiver that
// refuses (400) leaves a dead letter she replays once it is fixed; one that
// answers 410 Gone gets its channel disabled, and the list says why. No
// secret ever reaches a page after it was shown once. Carol at globex sees
// none of it; bob reads without buttons.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { PASSWORDS } from "../helpers/cast.ts";
import { verifyWebhook } from "../helpers/receivers.ts";
import type { Page } from "playwright-core";
import { screenshot, signIn, useBrowser, type Tab } from "./browser.ts";
import { expectRejected } from "./identity-helpers.ts";
import { startNotifyStage, type NotifyStage } from "./notifications-fixtures.ts";

let stage: NotifyStage;
let secret = "";
let hookUrl = "";

beforeAll(async () => {
  stage = await startNotifyStage();
  hookUrl = stage.receiver.url("/hook");
}, 60_000);
afterAll(() => stage?.stop(), 30_000);

const b = useBrowser(() => stage.url);

/** Click and wait for the page it leads to. */
async function go(tab: Tab, click: () => Promise<void>): Promise<void> {
  await Promise.all([tab.page.waitForNavigation(), click()]);
}

/** A whole-page screenshot from the top (the top bar sticks where the page was scrolled to). */
async function shot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, name, { fullPage: true });
}

/** Every secret a page must never show once it has been shown: the signing secret and the URL (webhook URLs often carry tokens). */
async function expectNoSecrets(tab: Tab): Promise<void> {
  const html = await tab.page.content();
  expect(html).not.toContain(secret);
  expect(html).not.toContain(hookUrl);
}

describe("channels", () => {
  b.test("alice creates a webhook channel through the form, sends a test and sees the receiver's 200", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/notifications");
    expect(await page.textContent("main h1")).toBe("Notifications");
    expect(await page.locator("[data-empty] .empty-title").innerText()).toBe("No channels yet");
    await go(tab, () => page.getByRole("link", { name: "New channel" }).first().click());
    expect(await page.locator("[data-choose-type]").count()).toBe(8);
    await shot(page, "notifications-choose-type");
    await go(tab, () => page.locator('[data-choose-type="webhook"]').click());
    await page.getByLabel("Name", { exact: true }).fill("Ops hook");
    await page.getByLabel("Endpoint URL").fill(hookUrl);
    await page.getByLabel("Extra headers").fill("X-Team: ops");
    await go(tab, () => page.getByRole("button", { name: "Create channel" }).click());
    // The secret Pulse made, shown once with a copy button and a warning.
    expect(await page.textContent("main h1")).toBe("Channel created");
    secret = (await page.locator("#webhook-secret").innerText()).trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    expect(await page.locator("[data-copy=webhook-secret]").isVisible()).toBe(true);
    expect(await page.locator(".secret-warning").innerText()).toContain("only time");
    await shot(page, "notifications-webhook-created");

    await go(tab, () => page.getByRole("button", { name: "Send test" }).click());
    const result = page.locator("[data-test-result]");
    expect(await result.getAttribute("data-test-result")).toBe("ok");
    expect(await result.locator("[data-test-status]").innerText()).toBe("200");
    expect(await result.locator("[data-test-response]").innerText()).toBe("ok");
    expect(await result.locator("[data-test-latency]").innerText()).toMatch(/^\d+ ms$/);
    const [req] = await stage.receiver.waitFor("/hook", 1);
    expect(req!.headers["x-team"]).toBe("ops");
    expect(verifyWebhook(secret, req!).type).toBe("test");
    await expectNoSecrets(tab);
    await shot(page, "notifications-channel-test");
  });

  b.test("she renames it without re-entering the secret, and the secret still signs", async (tab) => {
    const { page } = tab;
    const ch = (await stage.channelRow("Ops hook"))!;
    await stage.signInTab(tab, "alice", `/notifications/channels/${ch.id}/edit`);
    // Secrets are write-only: empty inputs that say they are set.
    expect(await page.getByLabel("Endpoint URL").inputValue()).toBe("");
    expect(await page.getByLabel("Signing secret").inputValue()).toBe("");
    expect(await page.locator('[data-secret-state="set"]').count()).toBe(2);
    expect(await page.getByLabel("Extra headers").inputValue()).toBe("X-Team: ops");
    await expectNoSecrets(tab);
    await shot(page, "notifications-channel-edit");
    await page.getByLabel("Name", { exact: true }).fill("Ops webhook");
    await go(tab, () => page.getByRole("button", { name: "Save channel" }).click());
    expect(await page.locator(".flash").innerText()).toContain("Saved “Ops webhook”");
    expect(await page.locator('.channel-settings [data-secret-field="secret"]').innerText()).toContain("set");
    await go(tab, () => page.locator("main").getByRole("button", { name: "Send test" }).first().click());
    expect(await page.locator("[data-test-result]").getAttribute("data-test-result")).toBe("ok");
    const reqs = await stage.receiver.waitFor("/hook", 2);
    expect(verifyWebhook(secret, reqs[1]!).type).toBe("test");
    // The preview shows what it would send, escaped, without sending.
    await go(tab, () => page.getByRole("link", { name: "Preview" }).click());
    expect(await page.locator("[data-preview] pre").innerText()).toContain('"type": "alert.triggered"');
    expect(stage.receiver.at("/hook").length).toBe(2);
    await expectNoSecrets(tab);
  });

  b.test("each type's form shows the fields of the choices made, without a script of its own", async (tab) => {
    const { page } = tab;
    await stage.signInTab(tab, "alice", "/notifications/channels/new?type=snmp");
    expect(await page.locator("[name=community]").isVisible()).toBe(true);
    expect(await page.locator("[name=user]").isVisible()).toBe(false);
    await page.getByLabel("v3 (authPriv)").check();
    expect(await page.locator("[name=community]").isVisible()).toBe(false);
    expect(await page.locator("[name=user]").isVisible()).toBe(true);
    expect(await page.locator("[name=priv_key]").isVisible()).toBe(true);
    await tab.goto("/notifications/channels/new?type=http");
    expect(await page.locator("[name=body]").isVisible()).toBe(true);
    expect(await page.locator("[name=receiver]").isVisible()).toBe(false);
    await shot(page, "notifications-http-form");
    await page.getByLabel("Prometheus Alertmanager webhook (version 4)").check();
    expect(await page.locator("[name=body]").isVisible()).toBe(false);
    expect(await page.locator("[name=receiver]").isVisible()).toBe(true);
    await page.getByLabel("My own template (below)").check();
    expect(await page.locator("[name=receiver]").isVisible()).toBe(false);
  });
});

describe("routing rules", () => {
  b.test("a routing rule through the form, with the refusal next to its field", async (tab) => {
    const { page } = tab;
    await stage.signInTab(tab, "alice", "/notifications/routes");
    expect(await page.locator("[data-empty] .empty-title").innerText()).toBe("No routing rules yet");
    await go(tab, () => page.getByRole("link", { name: "New routing rule" }).first().click());
    await page.getByLabel("Name", { exact: true }).fill("Critical to ops");
    await page.getByLabel("Channel").selectOption({ label: "Ops webhook (webhook)" });
    await page.getByLabel("Lowest severity").selectOption("HIGH");
    // Nothing to notify about: refused, next to the transitions.
    await page.getByLabel("Triggered (and re-opened)").uncheck();
    await page.getByLabel("Resolved (and closed)").uncheck();
    await go(tab, () => page.getByRole("button", { name: "Create routing rule" }).click());
    await expectRejected(tab, "/notifications/routes");
    const error = page.locator(".field-invalid .field-error");
    expect(await error.count()).toBe(1);
    expect(await error.innerText()).toContain("Tick at least one: triggered, acknowledged or resolved.");
    expect(await page.locator(".field-invalid #rt-transitions").count()).toBe(1);
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("Critical to ops");
    await page.getByLabel("Triggered (and re-opened)").check();
    await page.getByLabel("Resolved (and closed)").check();
    await page.getByLabel("Only at certain times").check();
    expect(await page.getByLabel("From").isVisible()).toBe(true);
    await page.getByLabel("Only at certain times").uncheck();
    await page.locator("#rt-throttle").fill("5");
    await shot(page, "notifications-route-form");
    await go(tab, () => page.getByRole("button", { name: "Create routing rule" }).click());
    expect(await page.locator(".flash").innerText()).toBe("Created “Critical to ops”.");
    const row = page.locator("table[data-table='Routing rules'] tbody tr", { hasText: "Critical to ops" });
    expect(await row.innerText()).toContain("Ops webhook");
    expect(await row.locator("[data-severity]").innerText()).toBe("HIGH");
    expect(await row.innerText()).toContain("and above");
    expect(await row.innerText()).toContain("triggered, resolved");
    expect(await row.innerText()).toContain("once per 5 min");
    await shot(page, "notifications-routes");
  });
});

describe("deliveries", () => {
  b.test("a real alert shows in the delivery log as delivered, with its attempts", async (tab) => {
    const { page } = tab;
    const alertId = await stage.raise("pump-7", "temp_c", 95);
    await stage.world.drain();
    const reqs = await stage.receiver.waitFor("/hook", 3);
    expect(verifyWebhook(secret, reqs[2]!).data.alert.id).toBe(alertId);
    await stage.signInTab(tab, "alice", "/notifications/deliveries");
    const row = page.locator(`tbody.delivery:has(a[href="/alerts/${alertId}"])`);
    expect(await row.count()).toBe(1);
    expect(await row.getAttribute("data-status")).toBe("delivered");
    expect(await row.locator("[data-delivery-status]").innerText()).toBe("DELIVERED");
    expect(await row.locator("[data-event]").innerText()).toBe("Triggered");
    expect(await row.locator("[data-attempts]").innerText()).toBe("1");
    expect(await row.locator("[data-severity]").innerText()).toBe("CRITICAL");
    // Expand its attempts: time, ok, status code, latency, the receiver's answer.
    await row.locator("details.attempts summary").click();
    const attempt = row.locator(".attempts-table tbody tr").first();
    expect(await attempt.getAttribute("data-attempt-ok")).toBe("yes");
    expect(await attempt.innerText()).toMatch(/ok\s+200\s+\d+ ms\s+ok/);
    await shot(page, "notifications-deliveries");
    // The alert link leads to the alert; filters narrow and live in the URL.
    await tab.goto(`/notifications/deliveries?alert=${alertId}&status=delivered`);
    expect(await page.locator("tbody.delivery").count()).toBe(1);
    await tab.goto("/notifications/deliveries?status=pending");
    expect(await page.locator(".empty-title").innerText()).toBe("No deliveries match these filters");
  });

  b.test("a receiver answering 400 leaves a dead letter; replayed once it is fixed, it is delivered", async (tab) => {
    const { page } = tab;
    stage.receiver.otherwise("/refuse", 400);
    const refusing = await stage.world.channel("webhook", { url: stage.receiver.url("/refuse") }, "Refusing hook");
    await stage.world.route(refusing, { min_severity: "CRITICAL" });
    await stage.raise("pump-8", "temp_c", 97);
    await stage.world.drain();
    await stage.receiver.waitFor("/refuse", 1);
    await stage.signInTab(tab, "alice", "/notifications/deliveries?status=dead");
    expect(await page.locator('[data-tab="dead"]').getAttribute("aria-current")).toBe("page");
    const dead = page.locator("tbody.delivery");
    expect(await dead.count()).toBe(1);
    expect(await dead.locator("[data-last-error]").innerText()).toContain("HTTP 400");
    // The bulk island: a select-all box and a count.
    expect(await page.locator("input.bulk-all").count()).toBe(1);
    expect(await page.locator("[data-bulk-count]").innerText()).toBe("Tick dead letters to replay several:");
    await shot(page, "notifications-dead-letters");
    stage.receiver.otherwise("/refuse", 200);
    await dead.locator("summary", { hasText: "Replay" }).click();
    expect(await dead.locator(".confirm-panel").innerText()).toContain("same idempotency key");
    await go(tab, () => dead.getByRole("button", { name: "Replay it" }).click());
    expect(await page.locator(".flash").innerText()).toBe("Replayed 1 delivery: sent again with the same idempotency key.");
    await stage.world.drain();
    const reqs = await stage.receiver.waitFor("/refuse", 2);
    expect(reqs[1]!.headers["webhook-id"]).toBe(reqs[0]!.headers["webhook-id"]);
    await tab.reload();
    expect(await page.locator(".empty-title").innerText()).toBe("No dead letters");
    await tab.goto(`/notifications/deliveries?channel=${refusing}`);
    const row = page.locator("tbody.delivery");
    expect(await row.getAttribute("data-status")).toBe("delivered");
    expect(await row.locator("[data-attempts]").innerText()).toBe("2");
  });

  b.test("a receiver answering 410 Gone disables its channel, and the list says why", async (tab) => {
    const { page } = tab;
    stage.receiver.otherwise("/gone", 410);
    const gone = await stage.world.channel("webhook", { url: stage.receiver.url("/gone") }, "Old hook");
    await stage.world.route(gone);
    await stage.raise("fan-1", "temp_c", 99);
    await stage.world.drain();
    expect((await stage.channelRow("Old hook"))!.enabled).toBe(false);
    await stage.signInTab(tab, "alice", "/notifications");
    const row = page.locator("table[data-table=Channels] tbody tr", { hasText: "Old hook" });
    expect(await row.locator("[data-state]").getAttribute("data-state")).toBe("disabled");
    expect(await row.locator("[data-disabled-reason]").innerText()).toContain("410 Gone");
    expect(await row.getByRole("button", { name: "Enable" }).count()).toBe(1);
    await expectNoSecrets(tab);
    await shot(page, "notifications-channels-light");
  });

  b.test(
    "the channels in the dark theme",
    async (tab) => {
      await stage.signInTab(tab, "alice", "/notifications");
      expect(await tab.page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(13, 17, 23)");
      await shot(tab.page, "notifications-channels-dark");
    },
    { colorScheme: "dark" },
  );
  b.test(
    "on a phone: no sideways scrolling of the page; the delivery log scrolls in its box",
    async (tab) => {
      await stage.signInTab(tab, "alice", "/notifications/deliveries");
      const { page } = tab;
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      expect(await page.locator("table[data-table=Deliveries]").isVisible()).toBe(true);
      await shot(page, "notifications-deliveries-phone");
      const ch = (await stage.channelRow("Ops webhook"))!;
      await tab.goto(`/notifications/channels/${ch.id}`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    },
    { viewport: { width: 390, height: 844 }, context: { isMobile: true, hasTouch: true } },
  );
});

describe("who sees what", () => {
  b.test("carol at globex never sees acme's channels or deliveries", async (tab) => {
    const { page } = tab;
    const ch = (await stage.channelRow("Ops webhook"))!;
    await stage.signInTab(tab, "carol", "/notifications");
    expect(await page.locator("[data-empty] .empty-title").innerText()).toBe("No channels yet");
    expect(await page.content()).not.toContain("Ops webhook");
    await tab.goto("/notifications/deliveries");
    expect(await page.locator("tbody.delivery").count()).toBe(0);
    expect(await page.locator(".empty-title").innerText()).toBe("Nothing sent yet");
    await tab.goto("/notifications/routes");
    expect(await page.content()).not.toContain("Critical to ops");
    await tab.goto(`/notifications/channels/${ch.id}`, { status: 404 });
    await tab.goto(`/notifications/deliveries?channel=${ch.id}`);
    expect(await page.locator("tbody.delivery").count()).toBe(0);
  });

  b.test("bob (customer) reads everything without a management button", async (tab) => {
    const { page } = tab;
    const ch = (await stage.channelRow("Ops webhook"))!;
    await stage.signInTab(tab, "bob", "/notifications");
    expect(await page.locator("table[data-table=Channels] tbody tr").count()).toBe(3);
    const buttons = () => page.locator("main").getByRole("button").count();
    expect(await page.getByRole("link", { name: "New channel" }).count()).toBe(0);
    expect(await buttons()).toBe(0);
    await tab.goto(`/notifications/channels/${ch.id}`);
    expect(await buttons()).toBe(0);
    expect(await page.getByRole("link", { name: "Edit" }).count()).toBe(0);
    expect(await page.getByRole("link", { name: "Preview" }).count()).toBe(1);
    await tab.goto("/notifications/routes");
    expect(await buttons()).toBe(0);
    expect(await page.locator("table[data-table='Routing rules'] tbody tr").count()).toBe(3);
    await tab.goto("/notifications/deliveries");
    expect(await page.locator("tbody.delivery").count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator("main form[method=post]").count()).toBe(0);
    await tab.goto(`/notifications/channels/${ch.id}/edit`, { status: 403 });
  });
});
