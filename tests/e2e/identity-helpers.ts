// Shared steps of the identity browser tests: starting a Pulse whose public
// URL is the address the browser uses (links in invitations must open), and
// the few gestures the pages ask for (a one-step confirmation, a form that
// answers 400 on purpose).

import { expect } from "bun:test";
import type { Page } from "playwright-core";
import { freePort, startPulse, type TestPulse } from "../helpers/pulse.ts";
import type { Tab } from "./browser.ts";

/** A Pulse on a known port, so public_url (and so every emailed or shown link) points at it. */
export async function startIdentityPulse(): Promise<TestPulse> {
  const port = await freePort("127.0.0.1");
  // Alice adds an acme identity provider served by this very Pulse (on 127.0.0.1), which tenant providers may not use by default.
  return startPulse({ config: { "http.port": port, public_url: `http://127.0.0.1:${port}`, "auth.federation_allow_private_networks": true } });
}

/**
 * A form re-rendered with its errors answers 400, which the browser harness
 * counts as a page problem; this says the 400 from `path` was meant, and
 * checks it happened.
 */
export async function expectRejected(tab: Tab, path: string, status = 400): Promise<void> {
  await tab.page.waitForTimeout(30);
  const mine = (p: string) => (p.includes(`HTTP ${status} for POST`) && p.includes(path)) || (p.startsWith("console error") && p.includes(`status of ${status}`));
  expect(tab.problems.some(mine)).toBe(true);
  for (let i = tab.problems.length - 1; i >= 0; i--) if (mine(tab.problems[i]!)) tab.problems.splice(i, 1);
}

/** Open a one-step confirmation (a <details>) inside `scope`, check what it says, and press its button. */
export async function confirmAction(page: Page, scope: string, opener: string, says: RegExp | string, button: string): Promise<void> {
  const root = page.locator(scope);
  await root.locator("details.confirm > summary", { hasText: opener }).first().click();
  const panel = root.locator("details.confirm[open] .confirm-panel").first();
  await panel.waitFor();
  const text = await panel.innerText();
  if (typeof says === "string") expect(text).toContain(says);
  else expect(text).toMatch(says);
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), panel.getByRole("button", { name: button }).click()]);
}

/** The flash message on the page now. */
export async function flash(page: Page): Promise<string> {
  return (await page.locator(".flash").first().innerText()).trim();
}

/** Submit a form by clicking its button and wait for the next page. */
export async function submit(page: Page, button: string | RegExp, scope = "main"): Promise<void> {
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.locator(scope).getByRole("button", { name: button }).first().click()]);
}
