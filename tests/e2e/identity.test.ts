// The identity and access pages in Chromium, as the cast uses them: alice
// (tenant-admin of acme) manages her people, keys and sign-in providers; the
// operator-admin "admin" manages tenants and accounts; oscar the operator
// looks, read-only; carol belongs to two tenants and switches between them.
// Each test checks what a person would look for and keeps a screenshot.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { recordAudit } from "../../src/audit/service.ts";
import { createUser } from "../../src/auth/users/service.ts";
import { withSystem } from "../../src/db/scope.ts";
import { PASSWORDS, platformAdmin, seedCast, type Cast } from "../helpers/cast.ts";
import type { TestPulse } from "../helpers/pulse.ts";
import { screenshot, signIn, useBrowser } from "./browser.ts";
import { confirmAction, expectRejected, flash, startIdentityPulse, submit } from "./identity-helpers.ts";

let pulse: TestPulse;
let cast: Cast;
const DAVE = "a-temporary-password-from-admin";
const HANK = "globex-keeps-the-lights-on";

beforeAll(async () => {
  pulse = await startIdentityPulse();
  cast = await seedCast(pulse.app);
  const deps = { db: pulse.app.db, clock: pulse.app.clock };
  // dave must choose a new password at his first sign-in; frank is about to leave acme.
  await createUser(deps, platformAdmin, { username: "dave", email: "dave@acme.test", name: "Dave New", password: DAVE, tenant: { id: "acme", role: "customer" }, mustChangePassword: true });
  await createUser(deps, platformAdmin, { username: "frank", email: "frank@acme.test", name: "Frank Leaving", password: PASSWORDS.bob, tenant: { id: "acme", role: "customer" } });
  await createUser(deps, platformAdmin, { username: "hank", email: "hank@globex.test", name: "Hank Globex", password: HANK, tenant: { id: "globex", role: "customer" } });
  // carol also helps out at acme.
  await withSystem(pulse.app.db, (tx) => tx.query("insert into tenant_memberships (tenant_id, user_id, role) values ('acme', $1, 'customer')", [cast.carol.id]));
  // More history than one page of the audit log holds.
  for (let i = 1; i <= 55; i++) {
    await recordAudit(deps, { tenantId: "acme", actor: { kind: "system", id: "system", name: "importer" }, action: "test.synthetic", details: { n: i, source: "nightly import" } });
  }
  await recordAudit(deps, { tenantId: "globex", actor: { kind: "user", id: cast.carol.id, name: "carol" }, action: "test.globex_secret", details: {} });
}, 60_000);
afterAll(() => pulse?.stop(), 30_000);

const b = useBrowser(() => pulse.url);

describe("account", () => {
  b.test("a person edits their profile; a wrong current password is named next to its field", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/account");
    expect(await page.textContent("main h1")).toBe("Your account");
    expect(await page.getByLabel("Email").inputValue()).toBe("alice@acme.test");
    expect(await page.locator("[data-current-tenant]").innerText()).toBe("Acme Corp");

    await page.getByLabel("Name", { exact: true }).fill("Alice Anders");
    await submit(page, "Save profile");
    expect(await flash(page)).toBe("Profile saved.");
    expect(await page.locator(".who-name").innerText()).toBe("Alice Anders");

    await page.getByLabel("Current password").fill("not-my-password-at-all");
    await page.getByLabel("New password", { exact: true }).fill("a brand new passphrase for alice");
    await page.getByLabel("New password, again").fill("a brand new passphrase for alice");
    await submit(page, "Change password");
    await expectRejected(tab, "/account/password");
    expect(await page.locator("#pw-current_password-err").innerText()).toBe("Does not match");
    expect(await page.getByLabel("Current password").getAttribute("aria-invalid")).toBe("true");
    // The rules are on the page before anyone gets them wrong.
    expect(await page.locator("#pw-new_password-hint").innerText()).toContain("At least 12 characters");
    await screenshot(page, "identity-account");
  });

  b.test("someone whose password was set for them must choose their own first, then goes on", async (tab) => {
    const { page } = tab;
    await signIn(tab, "dave", DAVE, "/account/password");
    await tab.goto("/users");
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe("/account/password?required=1");
    expect(await page.locator("[data-password-required]").innerText()).toContain("A new password is required");
    await screenshot(page, "identity-password-required");

    await page.getByLabel("Current password").fill(DAVE);
    await page.getByLabel("New password", { exact: true }).fill("short");
    await page.getByLabel("New password, again").fill("short");
    await submit(page, "Change password");
    await expectRejected(tab, "/account/password");
    expect(await page.locator("#pw-new_password-err").innerText()).toContain("at least 12 characters");

    await page.getByLabel("Current password").fill(DAVE);
    await page.getByLabel("New password", { exact: true }).fill("rivers bend quietly at dusk");
    await page.getByLabel("New password, again").fill("rivers bend quietly at dusk");
    await submit(page, "Change password");
    expect(new URL(page.url()).pathname).toBe("/");
    expect(await flash(page)).toContain("Password changed");
    // The flag is gone: other pages open normally now.
    await tab.goto("/account");
    expect(await page.textContent("main h1")).toBe("Your account");
  });

  b.test("a member of two tenants switches between them from the top bar", async (tab) => {
    const { page } = tab;
    await signIn(tab, "carol", PASSWORDS.carol, "/account");
    const switcher = page.locator(".topbar .tenant-switch select");
    expect(await switcher.isVisible()).toBe(true);
    expect(await switcher.locator("option").allInnerTexts()).toEqual(["Acme Corp", "Globex"]);
    // She starts in her first tenant, where she is a customer: no admin areas.
    expect(await switcher.inputValue()).toBe("acme");
    expect(await page.locator("[data-tenant-card]").innerText()).toContain("as customer");
    expect(await page.locator('.sidenav [data-area="users"]').count()).toBe(0);
    await switcher.selectOption("globex");
    await submit(page, "Switch", ".topbar");
    expect(new URL(page.url()).pathname).toBe("/account");
    expect(await flash(page)).toBe("You are now working in Globex.");
    expect(await page.locator("[data-current-tenant]").innerText()).toBe("Globex");
    expect(await page.locator("[data-tenant-card]").innerText()).toContain("as tenant-admin");
    expect(await page.locator('.sidenav [data-area="users"]').count()).toBe(1);
    await screenshot(page, "identity-tenant-switch");
  });

  b.test("an operator looks into a tenant read-only and back out to the platform view", async (tab) => {
    const { page } = tab;
    await signIn(tab, "oscar", PASSWORDS.oscar, "/account");
    await page.locator("#account-tenant").selectOption("acme");
    await submit(page, "Switch tenant");
    expect(await flash(page)).toContain("read-only");
    await tab.goto("/users");
    expect(await page.locator("main").innerText()).toContain("(read-only)");
    expect(await page.locator('[data-table="Members"]').innerText()).toContain("Bob Customer");
    // Nothing to press: no role selects, no invitations, no removal.
    expect(await page.locator("form[action='/users/invite']").count()).toBe(0);
    expect(await page.locator('[data-table="Members"] select').count()).toBe(0);
    expect(await page.locator("details.confirm").count()).toBe(0);

    await page.locator(".topbar .tenant-switch select").selectOption("");
    await submit(page, "Switch", ".topbar");
    expect(await flash(page)).toContain("all tenants");
  });
});

describe("users", () => {
  b.test("a tenant-admin invites, revokes, changes a role, makes a reset link and removes a member", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/users");
    const members = page.locator('[data-table="Members"]');
    for (const name of ["Bob Customer", "Frank Leaving", "Carol Globex"]) expect(await members.innerText()).toContain(name);
    expect(await members.innerText()).not.toContain("Oscar");

    // A typo the browser lets through is named next to the field; the form keeps what was typed.
    await page.getByLabel("Email").fill("erin@acme");
    await submit(page, "Create invitation");
    await expectRejected(tab, "/users/invite");
    expect(await page.locator("#invite-email-err").innerText()).toBe("Must be an email address");
    expect(await page.getByLabel("Email").inputValue()).toBe("erin@acme");

    await page.getByLabel("Email").fill("erin@acme.test");
    await page.locator("#invite-role").selectOption("tenant-admin");
    await submit(page, "Create invitation");
    expect(await page.textContent("main h1")).toBe("Invitation created");
    const link = (await page.locator("#invite-link").innerText()).trim();
    expect(link).toStartWith(`${pulse.url}/invite/`);
    expect(await page.locator("[data-emailed]").innerText()).toContain("email (SMTP) is not configured on this server");
    expect(await page.locator(".secret-warning").innerText()).toContain("only time Pulse shows it");
    // The copy button puts exactly the link on the clipboard.
    await page.getByRole("button", { name: "Copy" }).click();
    // The click handler awaits the clipboard: wait for its answer rather than racing it.
    await page.getByRole("button", { name: "Copied" }).waitFor({ state: "visible", timeout: 2000 });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
    await screenshot(page, "identity-invite-link");

    await page.getByRole("link", { name: "Back to users" }).click();
    await page.waitForURL("**/users");
    const pending = page.locator("[data-invites]");
    expect(await pending.innerText()).toContain("erin@acme.test");
    await confirmAction(page, "[data-invites]", "Revoke", "Its link stops working at once", "Revoke invitation");
    expect(await flash(page)).toContain("Invitation revoked");
    expect(await page.locator("[data-invites]").innerText()).toContain("No pending invitations");
    const gone = await page.request.get(link);
    expect(gone.status()).toBe(404);

    // Roles change in place.
    const bobRow = page.locator("tr", { hasText: "Bob Customer" });
    await bobRow.locator("select[name=role]").selectOption("tenant-admin");
    await submit(page, "Save", 'tr:has-text("Bob Customer")');
    expect(await flash(page)).toBe("Bob Customer is now tenant-admin.");
    expect(await page.locator("tr", { hasText: "Bob Customer" }).locator("select[name=role]").inputValue()).toBe("tenant-admin");
    await page.locator("tr", { hasText: "Bob Customer" }).locator("select[name=role]").selectOption("customer");
    await submit(page, "Save", 'tr:has-text("Bob Customer")');

    // A reset link is shown once.
    await submit(page, "Reset link", 'tr:has-text("Bob Customer")');
    expect(await page.textContent("main h1")).toBe("Password reset link");
    expect(await page.locator("#reset-link").innerText()).toContain("/reset-password/");
    await page.getByRole("link", { name: "Back to users" }).click();
    await page.waitForURL("**/users");

    await confirmAction(page, 'tr:has-text("Frank Leaving")', "Remove", "Remove Frank Leaving (frank) from Acme Corp?", "Remove frank");
    expect(await flash(page)).toBe("Frank Leaving was removed from Acme Corp.");
    expect(await page.locator('[data-table="Members"]').innerText()).not.toContain("Frank");
    await screenshot(page, "identity-users", { fullPage: true });
  }, { context: { permissions: ["clipboard-read", "clipboard-write"] } });

  b.test("the last tenant-admin cannot be demoted, and the page says why", async (tab) => {
    const { page } = tab;
    await signIn(tab, "carol", PASSWORDS.carol, "/account");
    await page.locator(".topbar .tenant-switch select").selectOption("globex");
    await submit(page, "Switch", ".topbar");
    await tab.goto("/users");
    const row = page.locator("tr", { hasText: "Carol Globex" });
    await row.locator("select[name=role]").selectOption("customer");
    await submit(page, "Save", 'tr:has-text("Carol Globex")');
    expect(await page.locator(".flash-error").innerText()).toContain("last tenant-admin");
    // Globex's list shows only globex's people.
    expect(await page.locator('[data-table="Members"]').innerText()).not.toContain("Bob");
  });

  b.test("an operator-admin disables and enables an account and changes a platform role", async (tab) => {
    const { page } = tab;
    await signIn(tab, "admin", PASSWORDS.admin, "/users?scope=platform");
    const accounts = page.locator('[data-table="Accounts"]');
    for (const who of ["admin", "alice", "bob", "carol", "oscar", "dave"]) expect(await accounts.innerText()).toContain(who);
    // Your own account cannot be disabled from here.
    expect(await page.locator('tr:has-text("Administrator") summary', { hasText: "Disable" }).count()).toBe(0);

    await confirmAction(page, 'tr:has-text("Bob Customer")', "Disable", "signed out everywhere at once", "Disable bob");
    expect(await flash(page)).toBe("bob is disabled and signed out everywhere.");
    expect(await page.locator("tr", { hasText: "Bob Customer" }).innerText()).toContain("DISABLED");
    await submit(page, "Enable", 'tr:has-text("Bob Customer")');
    expect(await page.locator("tr", { hasText: "Bob Customer" }).innerText()).toContain("ACTIVE");

    await page.locator("tr", { hasText: "Oscar Operator" }).locator("select[name=platform_role]").selectOption("operator-admin");
    await submit(page, "Save", 'tr:has-text("Oscar Operator")');
    expect(await flash(page)).toBe("oscar is now operator-admin.");
    await page.locator("tr", { hasText: "Oscar Operator" }).locator("select[name=platform_role]").selectOption("operator");
    await submit(page, "Save", 'tr:has-text("Oscar Operator")');

    // Filters live in the URL.
    await page.locator("select[name=status]").selectOption("DISABLED");
    await submit(page, "Apply");
    expect(new URL(page.url()).searchParams.get("scope")).toBe("platform");
    expect(await page.locator("[data-empty]").innerText()).toContain("No accounts match these filters");
    await tab.goto("/users?scope=platform");
    await screenshot(page, "identity-users-platform");
  });
});

describe("themes and screens", () => {
  b.test(
    "in the dark theme a confirmation stands out and says what will happen",
    async (tab) => {
      const { page } = tab;
      await signIn(tab, "alice", PASSWORDS.alice, "/users");
      await page.locator('tr:has-text("Dave New") details.confirm > summary').click();
      const panel = page.locator("details.confirm[open] .confirm-panel");
      expect(await panel.isVisible()).toBe(true);
      expect(await panel.innerText()).toContain("Remove Dave New (dave) from Acme Corp?");
      await screenshot(page, "identity-users-dark-confirm");
      // Closing it again is one more click; nothing was sent.
      await page.locator('tr:has-text("Dave New") details.confirm > summary').click();
      expect(await panel.count()).toBe(0);
    },
    { colorScheme: "dark" },
  );

  b.test(
    "on a phone the pages do not scroll sideways; wide tables scroll inside their frame",
    async (tab) => {
      const { page } = tab;
      await signIn(tab, "alice", PASSWORDS.alice, "/users");
      for (const path of ["/users", "/developer", "/audit", "/account"]) {
        await tab.goto(path);
        expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      }
      await tab.goto("/users");
      await screenshot(page, "identity-users-phone", { fullPage: true });
    },
    { viewport: { width: 390, height: 844 }, context: { isMobile: true, hasTouch: true } },
  );
});

describe("tenants", () => {
  b.test("an operator-admin creates, suspends, resumes, deletes and restores a tenant", async (tab) => {
    const { page } = tab;
    await signIn(tab, "admin", PASSWORDS.admin, "/tenants");
    const list = page.locator('[data-table="Tenants"]');
    expect(await list.innerText()).toContain("Acme Corp");
    expect(await list.innerText()).toContain("ACTIVE");

    await page.getByRole("link", { name: "New tenant" }).first().click();
    await page.waitForURL("**/tenants/new");
    await page.getByLabel("Tenant id").fill("acme");
    await page.getByLabel("Name").fill("Another Acme");
    await submit(page, "Create tenant");
    await expectRejected(tab, "/tenants");
    expect(await page.locator("#f-id-err").innerText()).toBe("Tenant acme already exists");

    await page.getByLabel("Tenant id").fill("umbrella");
    await page.getByLabel("Name").fill("Umbrella Corp");
    await page.getByLabel("Time zone").selectOption("Europe/Paris");
    await submit(page, "Create tenant");
    expect(new URL(page.url()).pathname).toBe("/tenants/umbrella");
    expect(await flash(page)).toContain("Tenant Umbrella Corp created");
    expect(await page.locator("[data-facts=tenant]").innerText()).toContain("Europe/Paris");
    await screenshot(page, "identity-tenant");

    await confirmAction(page, "[data-status-actions]", "Suspend", "can no longer sign in", "Suspend Umbrella Corp");
    expect(await page.locator("main .page-header").innerText()).toContain("SUSPENDED");
    await submit(page, "Resume Umbrella Corp");
    expect(await page.locator("main .page-header").innerText()).toContain("ACTIVE");

    const purge = new Date(Date.now() + 30 * 86_400_000);
    const day = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", day: "numeric", month: "short", year: "numeric" }).format(purge);
    await confirmAction(page, "[data-status-actions]", "Delete", `Sign-ins and data are refused at once; everything is purged on ${day} unless restored.`, "Delete Umbrella Corp");
    expect(new URL(page.url()).pathname).toBe("/tenants");
    const row = page.locator("tr", { hasText: "Umbrella Corp" });
    expect(await row.innerText()).toContain("DELETED");
    expect(await row.innerText()).toContain(`Purged on ${day} unless restored`);
    await screenshot(page, "identity-tenants");

    await row.locator("a.row-anchor").click();
    await page.waitForURL("**/tenants/umbrella");
    await submit(page, "Restore Umbrella Corp");
    expect(await flash(page)).toContain("restored");
    expect(await page.locator("main .page-header").innerText()).toContain("ACTIVE");
  });

  b.test("an operator sees the tenants but cannot change them", async (tab) => {
    const { page } = tab;
    await signIn(tab, "oscar", PASSWORDS.oscar, "/tenants");
    expect(await page.locator("main .page-header").innerText()).toContain("read-only");
    expect(await page.getByRole("link", { name: "New tenant" }).count()).toBe(0);
    await page.locator("tr", { hasText: "Globex" }).locator("a.row-anchor").click();
    await page.waitForURL("**/tenants/globex");
    expect(await page.locator("[data-status-actions]").count()).toBe(0);
    expect(await page.locator("main form[action='/tenants/globex']").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Work in Globex" }).isVisible()).toBe(true);
  });
});

describe("audit log", () => {
  b.test("a tenant-admin filters by action, pages back in time with the filter kept, and exports the same as CSV", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/audit");
    const table = page.locator('[data-table="Audit entries"]');
    // Newest first: the 55th synthetic entry came after the 1st.
    expect(await table.innerText()).toContain("test.synthetic");
    expect(await table.innerText()).not.toContain("test.globex_secret");

    await page.getByLabel("Action starts with").fill("test.");
    await submit(page, "Apply");
    expect(new URL(page.url()).searchParams.get("action")).toBe("test.");
    const rows = table.locator("tbody tr");
    expect(await rows.count()).toBe(50);
    expect(await rows.first().innerText()).toContain("n\n55");
    expect(await rows.first().innerText()).toContain("nightly import");

    const csvHref = (await page.locator("[data-csv]").getAttribute("href"))!;
    expect(csvHref).toBe("/api/v1/audit-log.csv?action=test.");
    const csv = await (await page.request.get(csvHref)).text();
    expect(csv.trim().split("\r\n")).toHaveLength(56);
    expect(csv).not.toContain("user.created");

    await screenshot(page, "identity-audit");
    await page.getByRole("link", { name: "Older →" }).click();
    await page.waitForURL((u) => u.searchParams.has("before"));
    expect(new URL(page.url()).searchParams.get("action")).toBe("test.");
    expect(await rows.count()).toBe(5);
    expect(await rows.last().innerText()).toContain("n\n1");
    expect(await page.locator(".pagination .btn-disabled").innerText()).toBe("Older →");
    await page.getByRole("link", { name: "← Newest" }).click();
    await page.waitForURL((u) => !u.searchParams.has("before"));
    expect(await rows.count()).toBe(50);

    // A time range in the tenant's zone narrows it; an impossible one is named.
    await page.locator("input[name=from]").fill("2030-01-01T00:00");
    await submit(page, "Apply");
    expect(await page.locator("[data-empty]").innerText()).toContain("No audit entries match these filters");
    expect((await page.locator("[data-csv]").getAttribute("href"))!).toContain("from=2029-12-31T23%3A00%3A00.000Z");
  });

  b.test("an operator sees every tenant and can narrow to one", async (tab) => {
    const { page } = tab;
    await signIn(tab, "oscar", PASSWORDS.oscar, "/audit?action=test.");
    const table = page.locator('[data-table="Audit entries"]');
    expect(await table.innerText()).toContain("test.globex_secret");
    await page.locator("main select[name=tenant]").selectOption("acme");
    await submit(page, "Apply");
    expect(await table.innerText()).not.toContain("test.globex_secret");
    expect(new URL(page.url()).searchParams.get("tenant")).toBe("acme");
    expect(await page.locator("[data-csv]").getAttribute("href")).toBe("/api/v1/audit-log.csv?action=test.&tenant=acme");
  });
});

describe("developer access", () => {
  b.test("a tenant-admin creates an API key, sees it once with a curl command that works, and revokes it", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/developer");
    expect(await page.locator('[data-table="API keys"] [data-empty]').innerText()).toContain("No API keys yet");

    await page.locator("#key-name").fill("grafana");
    await page.locator("#key-expires_in_days").selectOption("30");
    await submit(page, "Create API key");
    const key = (await page.locator("#api-key").innerText()).trim();
    expect(key).toMatch(/^pulse_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(await page.locator("#curl-example").innerText()).toBe(`curl -H "Authorization: Bearer ${key}" ${pulse.url}/api/v1/me`);
    await screenshot(page, "identity-apikey-created");

    const me = await fetch(`${pulse.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { tenant_id: string; role: string }).tenant_id).toBe("acme");

    await page.getByRole("link", { name: "Done" }).click();
    await page.waitForURL("**/developer");
    const row = page.locator("tr", { hasText: "grafana" });
    expect(await row.innerText()).toContain(key.slice(0, 19));
    expect(await row.innerText()).not.toContain(key.slice(20));
    await confirmAction(page, 'tr:has-text("grafana")', "Revoke", "Every script using it gets 401 from now on", "Revoke grafana");
    expect(await page.locator("tr", { hasText: "grafana" }).innerText()).toContain("REVOKED");
    expect((await fetch(`${pulse.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
  });

  b.test("a tenant-admin registers an OAuth client; a bad redirect URI is named by its line", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/developer");
    await page.locator("#client-name").fill("Ops dashboard");
    await page.locator("#client-redirect_uris").fill("https://dash.acme.test/callback\nhttp://dash.acme.test/callback");
    await page.getByLabel("Confidential").check();
    await submit(page, "Register client");
    await expectRejected(tab, "/developer/clients");
    expect(await page.locator("#client-redirect_uris-err").innerText()).toContain("Line 2 (http://dash.acme.test/callback): Must use https");

    await page.locator("#client-redirect_uris").fill("https://dash.acme.test/callback");
    await submit(page, "Register client");
    expect(await page.textContent("main h1")).toBe("OAuth client registered");
    const clientId = (await page.locator("#client-id").innerText()).trim();
    expect(clientId).toStartWith("acme.");
    expect((await page.locator("#client-secret").innerText()).trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await page.getByRole("link", { name: "Done" }).click();
    await page.waitForURL("**/developer");
    expect(await page.locator('[data-table="OAuth clients"]').innerText()).toContain(clientId);
    await screenshot(page, "identity-developer", { fullPage: true });
    await confirmAction(page, 'tr:has-text("Ops dashboard")', "Remove", "It can no longer sign anyone in", "Remove Ops dashboard");
    expect(await page.locator('[data-table="OAuth clients"] [data-empty]').isVisible()).toBe(true);
  });
});

describe("sign-in providers", () => {
  b.test("a tenant-admin adds a provider (rule errors name the rule), edits it keeping the secret, and removes it", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/identity-providers");
    expect(await page.locator("#callback-uri").innerText()).toBe(`${pulse.url}/auth/federated/callback`);
    expect(await page.locator("[data-empty]").innerText()).toContain("No sign-in providers yet");
    await page.getByRole("link", { name: "Add provider" }).first().click();
    await page.waitForURL("**/identity-providers/new");

    await page.getByLabel("Slug").fill("acme-sso");
    await page.getByLabel("Name").fill("Acme SSO");
    // This Pulse is an OpenID provider too: a reachable issuer for the test.
    await page.getByLabel("Issuer URL").fill(pulse.url);
    await page.getByLabel("Client id").fill("pulse-at-acme");
    await page.getByLabel("Client secret").fill("a-client-secret-value");
    await page.getByLabel("Mapping rules (JSON)").fill('[{"claim": "groups", "equals": "ops", "role": "tenant-admin"}, {"claim": "groups", "equals": "x"}]');
    await submit(page, "Add provider");
    await expectRejected(tab, "/identity-providers");
    expect(await page.locator("#f-mappings-err").innerText()).toBe("Rule 2: must grant a role or a platform_role (mappings.1)");
    // Write-only: the secret is not sent back into the page.
    expect(await page.getByLabel("Client secret").inputValue()).toBe("");

    await page.getByLabel("Client secret").fill("a-client-secret-value");
    await page.getByLabel("Mapping rules (JSON)").fill('[{"claim": "groups", "equals": "ops", "role": "tenant-admin"}]');
    await submit(page, "Add provider");
    expect(await flash(page)).toContain("Acme SSO added");
    expect(await page.locator("#f-client_secret-hint").innerText()).toContain("A secret is stored");
    await screenshot(page, "identity-provider", { fullPage: true });

    await page.getByLabel("Enabled (shown on the sign-in page)").uncheck();
    await submit(page, "Save");
    expect(await flash(page)).toBe("Acme SSO saved.");
    expect(await page.getByLabel("Enabled (shown on the sign-in page)").isChecked()).toBe(false);
    expect(await page.locator("#f-client_secret-hint").innerText()).toContain("A secret is stored");

    await tab.goto("/identity-providers");
    const row = page.locator("tr", { hasText: "Acme SSO" });
    expect(await row.innerText()).toContain("DISABLED");
    expect(await row.innerText()).toContain("1 rule, else customer");
    await screenshot(page, "identity-providers");
    await row.locator("a.row-anchor").click();
    await page.waitForURL((u) => /\/identity-providers\/[0-9a-f-]{36}$/.test(u.pathname));
    await confirmAction(page, "main", "Remove provider", "Nobody can sign in with it any more", "Remove Acme SSO");
    expect(await flash(page)).toBe("Sign-in provider removed.");
  });
});

describe("one-time links", () => {
  b.test("a reset link works once: mismatched passwords are caught, then the person signs in with the new one", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/users");
    await submit(page, "Reset link", 'tr:has-text("Dave New")');
    const link = (await page.locator("#reset-link").innerText()).trim();

    const stranger = await b.browser.newContext({ baseURL: pulse.url });
    try {
      const p2 = await stranger.newPage();
      await p2.goto(link);
      expect(await p2.textContent("h1")).toBe("Choose a new password");
      await p2.getByLabel("New password", { exact: true }).fill("lanterns over the harbour");
      await p2.getByLabel("New password, again").fill("lanterns over the harbor");
      await Promise.all([p2.waitForNavigation(), p2.getByRole("button", { name: "Set new password" }).click()]);
      expect(await p2.locator("#f-confirm_password-err").innerText()).toBe("The two passwords differ.");
      await p2.getByLabel("New password", { exact: true }).fill("lanterns over the harbour");
      await p2.getByLabel("New password, again").fill("lanterns over the harbour");
      await Promise.all([p2.waitForURL((u) => u.pathname === "/oauth/authorize"), p2.getByRole("button", { name: "Set new password" }).click()]);
      expect(await p2.locator(".flash").innerText()).toBe("Your password is changed. Sign in with it.");
      await p2.getByLabel("Username or email").fill("dave@acme.test");
      await p2.getByLabel("Password").fill("lanterns over the harbour");
      await Promise.all([p2.waitForURL((u) => u.pathname === "/"), p2.getByRole("button", { name: "Sign in" }).click()]);
      expect(await p2.locator(".who-name").innerText()).toBe("Dave New");
      // Used: the link is dead now.
      const again = await p2.goto(link);
      expect(again!.status()).toBe(404);
      expect(await p2.textContent("h1")).toBe("This reset link cannot be used");
    } finally {
      await stranger.close();
    }
  });

  b.test("forgot password says plainly that this server cannot email", async (tab) => {
    const { page } = tab;
    await tab.goto("/login");
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await page.waitForURL("**/forgot-password");
    expect(await page.locator("[data-mail-off]").innerText()).toContain("Email is not configured on this server");
    expect(await page.locator("input[name=email]").count()).toBe(0);
    await screenshot(page, "identity-forgot-password");
  });

  b.test("someone with an account accepts an invitation after signing in and lands in the new tenant", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/users");
    // Already a member: said next to the field.
    await page.getByLabel("Email").fill("carol@globex.test");
    await submit(page, "Create invitation");
    await expectRejected(tab, "/users/invite");
    expect(await page.locator("#invite-email-err").innerText()).toBe("carol@globex.test is already a member");

    await page.getByLabel("Email").fill("hank@globex.test");
    await submit(page, "Create invitation");
    const link = (await page.locator("#invite-link").innerText()).trim();

    const hank = await b.browser.newContext({ baseURL: pulse.url });
    try {
      const p2 = await hank.newPage();
      await p2.goto(link);
      expect(await p2.textContent("h1")).toBe("Join Acme Corp on Pulse");
      expect(await p2.locator("main").innerText()).toContain("An account for hank@globex.test exists already");
      await p2.getByRole("link", { name: "Sign in to accept" }).click();
      await p2.getByLabel("Username or email").fill("hank");
      await p2.getByLabel("Password").fill(HANK);
      await Promise.all([p2.waitForURL((u) => u.pathname.startsWith("/invite/")), p2.getByRole("button", { name: "Sign in" }).click()]);
      await screenshot(p2, "identity-invite-accept");
      await Promise.all([p2.waitForURL((u) => u.pathname === "/"), p2.getByRole("button", { name: "Accept and join Acme Corp" }).click()]);
      expect(await p2.locator(".flash").first().innerText()).toBe("You joined Acme Corp as customer.");
      expect(await p2.locator(".topbar .tenant-switch select").inputValue()).toBe("acme");
      // Used: the link is dead now.
      expect((await p2.goto(link))!.status()).toBe(404);
      expect(await p2.textContent("h1")).toBe("This invitation cannot be used");
    } finally {
      await hank.close();
    }
  });
});
