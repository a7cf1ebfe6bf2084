// The acceptance story of identity and access, in one browser run: the
// operator-admin creates the tenant initech and invites its admin by email;
// the invitation link, read off the page, is opened in a fresh browser where
// the new admin creates an account, signs in, and creates an API key; the key,
// used from outside the browser, belongs to initech.

import { afterAll, beforeAll, expect } from "bun:test";
import type { Page } from "playwright-core";
import { PASSWORDS, seedCast } from "../helpers/cast.ts";
import type { TestPulse } from "../helpers/pulse.ts";
import { screenshot, signIn, useBrowser } from "./browser.ts";
import { flash, startIdentityPulse, submit } from "./identity-helpers.ts";

let pulse: TestPulse;

beforeAll(async () => {
  pulse = await startIdentityPulse();
  await seedCast(pulse.app);
}, 60_000);
afterAll(() => pulse?.stop(), 30_000);

const b = useBrowser(() => pulse.url);

b.test(
  "an admin creates initech and invites its admin, who signs up from the link and makes an API key that works",
  async (tab) => {
    const { page } = tab;

    // 1. The operator-admin creates the tenant.
    await signIn(tab, "admin", PASSWORDS.admin, "/tenants");
    await page.getByRole("link", { name: "New tenant" }).first().click();
    await page.waitForURL("**/tenants/new");
    await page.getByLabel("Tenant id").fill("initech");
    await page.getByLabel("Name").fill("Initech");
    await page.getByLabel("Time zone").selectOption("America/Chicago");
    await submit(page, "Create tenant");
    expect(new URL(page.url()).pathname).toBe("/tenants/initech");
    expect(await flash(page)).toContain("Tenant Initech created");

    // 2. …works in it, and invites its first tenant-admin by email.
    await submit(page, "Work in Initech");
    expect(new URL(page.url()).pathname).toBe("/users");
    expect(await page.locator(".topbar .tenant-switch select").inputValue()).toBe("initech");
    expect(await page.locator('[data-table="Members"] [data-empty]').innerText()).toContain("No members yet");
    await page.getByLabel("Email").fill("peter@initech.test");
    await page.locator("#invite-role").selectOption("tenant-admin");
    await submit(page, "Create invitation");
    expect(await page.locator("main").innerText()).toContain("peter@initech.test is invited to Initech as tenant-admin");
    const link = (await page.locator("#invite-link").innerText()).trim();
    expect(link).toStartWith(`${pulse.url}/invite/`);
    await screenshot(page, "story-1-invitation");

    // 3. Peter opens the link in his own browser and creates his account.
    const peterContext = await b.browser.newContext({ baseURL: pulse.url, viewport: { width: 1280, height: 720 } });
    const problems: string[] = [];
    try {
      const p = await peterContext.newPage();
      p.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
      p.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
      await p.goto(link);
      expect(await p.textContent("h1")).toBe("Join Initech on Pulse");
      expect(await p.locator("main").innerText()).toContain("invited as tenant-admin of Initech, for peter@initech.test");
      expect(await p.getByLabel("Username").inputValue()).toBe("peter@initech.test");
      await p.getByLabel("Username").fill("peter");
      await p.getByLabel("Your name").fill("Peter Gibbons");
      await p.getByLabel("Password", { exact: true }).fill("case of the mondays again");
      await p.getByLabel("Password, again").fill("case of the mondays again");
      await screenshot(p, "story-2-sign-up");
      await Promise.all([p.waitForURL((u) => u.pathname === "/oauth/authorize"), p.getByRole("button", { name: "Create account and join" }).click()]);

      // 4. …and signs in with it.
      expect(await p.locator(".flash").innerText()).toBe("Your account is ready and you are a member of Initech. Sign in as peter.");
      await p.getByLabel("Username or email").fill("peter");
      await p.getByLabel("Password").fill("case of the mondays again");
      await Promise.all([p.waitForURL((u) => u.pathname === "/"), p.getByRole("button", { name: "Sign in" }).click()]);
      expect(await p.locator(".topbar-tenant").innerText()).toBe("Initech");
      expect(await p.locator(".who").innerText()).toContain("Peter Gibbons");

      // 5. He creates an API key on the developer page.
      await p.locator('.sidenav a[data-area="developer"]').click();
      await p.waitForURL("**/developer");
      await p.locator("#key-name").fill("tps-reports");
      await p.locator("#key-role").selectOption("tenant-admin");
      await Promise.all([p.waitForNavigation(), p.getByRole("button", { name: "Create API key" }).click()]);
      const key = (await p.locator("#api-key").innerText()).trim();
      expect(await p.locator("#curl-example").innerText()).toContain(`${pulse.url}/api/v1/me`);
      await screenshot(p, "story-3-api-key");
      await checkMembers(p);
      expect(problems).toEqual([]);

      // 6. The key, from outside any browser, is initech's.
      const res = await fetch(`${pulse.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      const me = (await res.json()) as { kind: string; name: string; tenant_id: string; role: string };
      expect(me).toMatchObject({ kind: "apikey", name: "tps-reports", tenant_id: "initech", role: "tenant-admin" });
    } finally {
      await peterContext.close();
    }

    // The operator-admin sees it all in the audit log.
    await tab.goto("/audit?tenant=initech");
    const log = await page.locator('[data-table="Audit entries"]').innerText();
    for (const action of ["tenant.created", "user.invited", "user.invite_accepted", "auth.login", "apikey.created"]) expect(log).toContain(action);
  },
  { timeout: 90_000 },
);

/** Peter is the tenant's admin: the users page lists him as such. */
async function checkMembers(p: Page): Promise<void> {
  await p.goto("/users");
  expect(await p.locator("tr", { hasText: "Peter Gibbons" }).locator("select[name=role]").inputValue()).toBe("tenant-admin");
}
