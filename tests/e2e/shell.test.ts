// The shell as a person meets it in Chromium: the fleet overview with real
// counts, the navigation, the theme switch, keyboard shortcuts, the API
// reference and the 404 page, on a phone and at 1280×720. The cast: tenants
// acme (alice the tenant-admin, bob) and globex (carol), oscar the operator,
// plus the bootstrap admin. People sign in through the real sign-in form.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { hashPassword } from "../../src/auth/passwords.ts";
import { withSystem } from "../../src/db/scope.ts";
import { AREAS } from "../../web/components/layout.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { screenshot, signIn, useBrowser, type Tab } from "./browser.ts";

const PASSWORD = "correct horse battery staple 42";
let pulse: TestPulse;

beforeAll(async () => {
  pulse = await startPulse({ db: "pglite", config: { "bootstrap.admin_password": PASSWORD } });
  const hash = await hashPassword(PASSWORD);
  await withSystem(pulse.app.db, async (tx) => {
    await tx.query(`insert into tenants (id, name) values ('acme', 'Acme Corp'), ('globex', 'Globex')`);
    // A deleted tenant is not part of the platform any more.
    await tx.query(`insert into tenants (id, name, status, deleted_at) values ('initech', 'Initech', 'DELETED', now())`);
    await tx.query(`insert into users (username, name, password_hash) values ('alice', 'Alice', $1), ('bob', 'Bob', $1), ('carol', 'Carol', $1)`, [hash]);
    await tx.query(`insert into users (username, name, password_hash, platform_role) values ('oscar', 'Oscar', $1, 'operator')`, [hash]);
    await tx.query(
      `insert into tenant_memberships (tenant_id, user_id, role)
       select 'acme', id, 'tenant-admin' from users where username = 'alice'
       union all select 'acme', id, 'customer' from users where username = 'bob'
       union all select 'globex', id, 'customer' from users where username = 'carol'`,
    );
  });
}, 60_000);
afterAll(() => pulse?.stop(), 30_000);

const b = useBrowser(() => pulse.url);

async function dbCount(sql: string): Promise<number> {
  const [row] = await withSystem(pulse.app.db, (tx) => tx.query<{ n: number | string }>(sql));
  return Number(row!.n);
}

const asOscar = (tab: Tab, next = "/") => signIn(tab, "oscar", PASSWORD, next);
const theme = (tab: Tab) => tab.page.evaluate(() => document.documentElement.dataset.theme ?? null);
const bodyBackground = (tab: Tab) => tab.page.evaluate(() => getComputedStyle(document.body).backgroundColor);

describe("fleet overview", () => {
  b.test("loads without errors and shows an operator the counts in the database", async (tab) => {
    await asOscar(tab);
    const { page } = tab;
    expect(await page.title()).toBe("Fleet overview · Pulse");
    expect(await page.textContent("main h1")).toBe("Fleet overview");

    const tenants = await dbCount("select count(*) as n from tenants where status <> 'DELETED'");
    const users = await dbCount("select count(*) as n from users");
    expect(tenants).toBe(2);
    expect(users).toBe(5);
    expect(await page.textContent('[data-kpi="tenants"]')).toBe(String(tenants));
    expect(await page.textContent('[data-kpi="users"]')).toBe(String(users));
    expect(await page.textContent('[data-kpi="uptime"]')).toMatch(/^\d+ s$|min|h|d/);

    // No devices exist yet: the page says so and what to do next.
    const empty = page.locator("section[aria-labelledby=devices-title] [data-empty]");
    expect(await empty.isVisible()).toBe(true);
    expect(await empty.innerText()).toContain("No devices yet");
    expect(await empty.innerText()).toContain("pulse simulate");
    expect(await page.locator("[data-facts=server]").innerText()).toContain("Embedded (PGlite)");
    // The top bar says who is signed in and offers to sign out.
    expect(await page.locator(".who").innerText()).toContain("Oscar");
    expect(await page.getByRole("button", { name: "Sign out" }).isVisible()).toBe(true);
    await screenshot(page, "fleet-light");
  });

  b.test("a tenant user sees neither platform counts nor server internals", async (tab) => {
    await signIn(tab, "alice", PASSWORD);
    const { page } = tab;
    expect(await page.textContent("main h1")).toBe("Fleet overview");
    expect(await page.locator("[data-kpi=tenants]").count()).toBe(0);
    expect(await page.locator("[data-kpi=users]").count()).toBe(0);
    expect(await page.locator("[data-facts=server]").count()).toBe(0);
    expect(await page.locator("[data-kpi=uptime]").isVisible()).toBe(true);
    expect(await page.locator("[data-empty]").innerText()).toContain("No devices yet");
    expect(await page.locator(".who").innerText()).toContain("Alice");
    expect(await page.locator(".topbar-tenant").innerText()).toBe("Acme Corp");
    // Operator-only areas are not even listed.
    for (const area of AREAS.filter((a) => a.operatorOnly)) expect(await page.locator(`.sidenav [data-area="${area.key}"]`).count()).toBe(0);
  });

  b.test("signing out ends the session", async (tab) => {
    await asOscar(tab);
    const { page } = tab;
    await Promise.all([page.waitForURL((u) => u.pathname !== "/"), page.getByRole("button", { name: "Sign out" }).click()]);
    await tab.goto("/");
    expect(new URL(page.url()).pathname).not.toBe("/");
    expect(await page.getByLabel("Password").isVisible()).toBe(true);
  });

  b.test(
    "works on a phone: no sideways scrolling, the navigation is a strip of the areas that exist",
    async (tab) => {
      await asOscar(tab);
      const { page } = tab;
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      expect(await page.locator('.sidenav a[data-area="fleet"]').isVisible()).toBe(true);
      expect(await page.locator(".sidenav .nav-disabled").first().isVisible()).toBe(false);
      expect(await page.locator('[data-kpi="users"]').isVisible()).toBe(true);
      await screenshot(page, "fleet-phone", { fullPage: true });
    },
    { viewport: { width: 390, height: 844 }, context: { isMobile: true, hasTouch: true } },
  );

  b.test("at 1280×720 the navigation sits beside the content and nothing overflows", async (tab) => {
    await asOscar(tab);
    const { page } = tab;
    const nav = (await page.locator(".sidenav").boundingBox())!;
    const main = (await page.locator("main").boundingBox())!;
    expect(nav.x + nav.width).toBeLessThanOrEqual(main.x);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    // The KPI strip is above the fold.
    const kpis = (await page.locator(".kpis").boundingBox())!;
    expect(kpis.y + kpis.height).toBeLessThan(720);
  });
});

describe("navigation", () => {
  b.test("lists every area once, marks the current one, and links only to pages that exist", async (tab) => {
    await asOscar(tab);
    const { page } = tab;
    const links: string[] = [];
    for (const area of AREAS) {
      const item = page.locator(`.sidenav [data-area="${area.key}"]`);
      expect(await item.count()).toBe(1);
      expect(await item.innerText()).toContain(area.label);
      const tag = await item.evaluate((el) => el.tagName);
      if (tag === "A") {
        expect(await item.getAttribute("href")).toBe(area.href);
        links.push(area.href);
      } else {
        // Not yet built: visible, marked unavailable, and not something to click.
        expect(await item.getAttribute("aria-disabled")).toBe("true");
        expect(await item.locator("a").count()).toBe(0);
      }
    }
    expect(links).toContain("/");
    expect(links).toContain("/api-docs");
    // Every link leads to a real page.
    for (const href of links) expect((await page.request.get(href)).status()).toBe(200);

    const current = page.locator('.sidenav [aria-current="page"]');
    expect(await current.count()).toBe(1);
    expect(await current.getAttribute("data-area")).toBe("fleet");

    await page.click('.sidenav a[data-area="api"]');
    await page.waitForURL("**/api-docs");
    expect(await page.locator('.sidenav [aria-current="page"]').getAttribute("data-area")).toBe("api");
  });

  b.test("keyboard users see where focus is", async (tab) => {
    await asOscar(tab);
    await tab.goto("/");
    const { page } = tab;
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    expect(await page.locator(".skip").isVisible()).toBe(true);
    // Move on to the first navigation link and check its focus ring.
    await page.focus('.sidenav a[data-area="fleet"]');
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Tab");
    const outline = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement!);
      return { style: s.outlineStyle, width: s.outlineWidth, area: (document.activeElement as HTMLElement).dataset.area };
    });
    expect(outline).toEqual({ style: "solid", width: "2px", area: "fleet" });
  });
});

describe("theme", () => {
  b.test("the toggle switches to dark, and the choice survives a reload", async (tab) => {
    await asOscar(tab);
    const { page } = tab;
    expect(await theme(tab)).toBeNull();
    const light = await bodyBackground(tab);
    expect(light).toBe("rgb(246, 247, 249)");

    await page.click("[data-theme-toggle]");
    expect(await theme(tab)).toBe("dark");
    expect(await bodyBackground(tab)).toBe("rgb(13, 17, 23)");
    const cookie = (await tab.context.cookies()).find((c) => c.name === "pulse_theme");
    expect(cookie?.value).toBe("dark");

    await tab.reload();
    // Rendered dark by the server from the cookie, before any script ran.
    const served = await (await page.request.get("/")).text();
    expect(served).toContain('<html lang="en" data-theme="dark">');
    expect(await theme(tab)).toBe("dark");
    expect(await bodyBackground(tab)).toBe("rgb(13, 17, 23)");
    await screenshot(page, "fleet-dark");

    await page.click("[data-theme-toggle]");
    expect(await theme(tab)).toBe("light");
    expect(await bodyBackground(tab)).toBe(light);
  });

  b.test(
    "without a choice the system's dark preference applies",
    async (tab) => {
      await tab.goto("/api-docs");
      expect(await theme(tab)).toBeNull();
      expect(await bodyBackground(tab)).toBe("rgb(13, 17, 23)");
    },
    { colorScheme: "dark" },
  );
});

describe("keyboard shortcuts", () => {
  b.test("? opens the list of shortcuts, Esc closes it", async (tab) => {
    await asOscar(tab);
    const { page } = tab;
    const dialog = page.locator("dialog#shortcuts");
    expect(await dialog.isVisible()).toBe(false);
    await page.keyboard.press("?");
    expect(await dialog.isVisible()).toBe(true);
    const text = await dialog.innerText();
    for (const s of ["Focus the search box", "Go to devices", "Go to alerts", "Show this list"]) expect(text).toContain(s);
    expect(await dialog.locator("kbd").allInnerTexts()).toEqual(expect.arrayContaining(["/", "g", "d", "a", "?"]));
    await screenshot(page, "shortcuts-dialog");
    await page.keyboard.press("Escape");
    expect(await dialog.isVisible()).toBe(false);

    // The top bar's button opens it too.
    await page.click("[data-shortcuts-open]");
    expect(await dialog.isVisible()).toBe(true);
    await page.click("dialog#shortcuts button[type=submit]");
    expect(await dialog.isVisible()).toBe(false);
  });

  b.test("/ focuses the page's search box, and typing there does not trigger shortcuts", async (tab) => {
    await tab.goto("/api-docs");
    const { page } = tab;
    await page.keyboard.press("/");
    expect(await page.evaluate(() => document.activeElement?.matches("[data-search]"))).toBe(true);
    await page.keyboard.type("version?");
    expect(await page.locator("dialog#shortcuts").isVisible()).toBe(false);
    await page.keyboard.press("Backspace");
    await Promise.all([page.waitForURL("**/api-docs?q=version"), page.keyboard.press("Enter")]);
    expect(await page.locator("[data-operation]").count()).toBeGreaterThan(0);
    // The filter matches paths, methods, tags and summaries: every listed operation mentions it somewhere.
    for (const op of await page.locator("[data-operation]").all()) expect((await op.innerText()).toLowerCase()).toContain("version");
  });

  b.test("g then a letter goes only to areas that exist", async (tab) => {
    await asOscar(tab);
    const { page } = tab;
    for (const key of ["d", "a"]) {
      const row = page.locator(`dialog#shortcuts [data-go="${key}"]`);
      const href = (await row.count()) ? await row.getAttribute("data-href") : null;
      await tab.goto("/");
      if (href) {
        await Promise.all([page.waitForURL(`**${href}`), page.keyboard.press("g").then(() => page.keyboard.press(key))]);
      } else {
        await page.keyboard.press("g");
        await page.keyboard.press(key);
        await page.waitForTimeout(200);
        expect(new URL(page.url()).pathname).toBe("/");
      }
    }
  });
});

describe("API reference", () => {
  b.test("lists the version operation, from the OpenAPI document", async (tab) => {
    await tab.goto("/api-docs");
    const { page } = tab;
    expect(await page.textContent("main h1")).toBe("API reference");
    const op = page.locator('[data-operation="GET /api/v1/version"]');
    expect(await op.isVisible()).toBe(true);
    expect(await op.locator("code").first().innerText()).toBe("/api/v1/version");
    // The index links to it.
    const id = await op.getAttribute("id");
    expect(await page.locator(`.api-index a[href="#${id}"]`).count()).toBe(1);
    await screenshot(page, "api-docs");
  });

  b.test("a filter that matches nothing says so and offers to clear it", async (tab) => {
    await tab.goto("/api-docs?q=no-such-operation");
    const { page } = tab;
    expect(await page.locator("[data-operation]").count()).toBe(0);
    expect(await page.locator("[data-empty]").innerText()).toContain("No operations match this filter");
    await Promise.all([page.waitForURL((u) => u.pathname === "/api-docs" && u.search === ""), page.getByRole("link", { name: "Clear the filter" }).click()]);
    expect(await page.locator("[data-operation]").count()).toBeGreaterThan(0);
  });
});

describe("errors", () => {
  b.test("an unknown path renders the 404 page inside the shell", async (tab) => {
    await asOscar(tab);
    const res = await tab.goto("/no-such-page", { status: 404 });
    expect(res.headers()["content-type"]).toContain("text/html");
    const { page } = tab;
    expect(await page.textContent("main h1")).toBe("Page not found");
    expect(await page.locator("main").innerText()).toContain("There is nothing at /no-such-page.");
    expect(await page.locator("main").innerText()).toMatch(/Request id [0-9a-f-]{36}/);
    expect(await page.locator(".sidenav").isVisible()).toBe(true);
    await screenshot(page, "not-found");
    await Promise.all([page.waitForURL((u) => u.pathname === "/"), page.getByRole("link", { name: "Go to the fleet overview" }).click()]);
  });
});
