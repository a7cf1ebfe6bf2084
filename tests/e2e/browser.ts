// Browser tests drive Debian's Chromium through playwright-core: one browser
// per test file, a fresh context (cookies, storage) per test. A page that logs
// a console error, throws, violates the CSP or fails to load a resource fails
// its test, whatever the test itself checks. Screenshots are kept under
// test-results/screenshots/ (gitignored) as artifacts of the run.
//
//   const b = useBrowser(() => pulse.url);
//   b.test("the fleet overview loads", async (tab) => {
//     await tab.goto("/");
//     expect(await tab.page.textContent("h1")).toBe("Fleet overview");
//   });

import { afterAll, beforeAll, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page, type Response } from "playwright-core";

/** Debian's Chromium (apt-get install chromium); PULSE_TEST_CHROMIUM points elsewhere on other systems. */
export const CHROMIUM_PATH = process.env.PULSE_TEST_CHROMIUM || "/usr/bin/chromium";

export const SCREENSHOT_DIR = join(import.meta.dir, "..", "..", "test-results", "screenshots");

const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

/** Launch Chromium, or fail with what to install: browser tests never skip. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`browser tests need Chromium at ${CHROMIUM_PATH}, which is missing: install it with \`apt-get install chromium\` (or set PULSE_TEST_CHROMIUM to a Chromium binary)`);
  }
  try {
    return await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
  } catch (err) {
    throw new Error(`browser tests could not start Chromium at ${CHROMIUM_PATH}`, { cause: err });
  }
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** Everything that went wrong on the page so far: console errors, uncaught errors, CSP violations, failed loads. */
  problems: string[];
  /**
   * Open a path of the server under test and wait for it to load. `status`
   * is the HTTP status expected (default 200); an expected error status is
   * not counted as a problem.
   */
  goto(path: string, opts?: { status?: number }): Promise<Response>;
  /** Reload and wait; same rules as goto. */
  reload(opts?: { status?: number }): Promise<Response>;
}

export interface TabOptions {
  /** Default 1280×720, the smallest screen the UI is designed for. */
  viewport?: { width: number; height: number };
  colorScheme?: "light" | "dark";
  /** Any other context option (isMobile, locale…). */
  context?: BrowserContextOptions;
}

declare global {
  interface Window {
    __pulseReportCsp?: (v: { directive: string; blocked: string; source: string; line: number }) => void;
  }
}

async function openTab(browser: Browser, baseUrl: string, opts: TabOptions): Promise<Tab> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: opts.viewport ?? { width: 1280, height: 720 },
    colorScheme: opts.colorScheme ?? "light",
    // Copy buttons write to the clipboard; a headless browser asks for the permission first.
    permissions: ["clipboard-read", "clipboard-write"],
    ...opts.context,
  });
  const problems: string[] = [];
  // Documents that are meant to answer an error status (a 404 page).
  const expectedStatus = new Map<string, number>();

  // CSP violations, reported from the page by the browser's own event; the
  // binding and init script come in over the DevTools protocol, so the CSP
  // under test does not block them.
  await context.exposeBinding("__pulseReportCsp", ({ page }, v: { directive: string; blocked: string; source: string; line: number }) => {
    problems.push(`CSP violation on ${page.url()}: ${v.directive} blocked ${v.blocked || "inline"}${v.source ? ` (${v.source}:${v.line})` : ""}`);
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__pulseReportCsp?.({ directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber }),
    );
  });

  const page = await context.newPage();
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const where = msg.location().url;
    const expected = expectedStatus.get(where);
    if (expected !== undefined && msg.text().includes(`status of ${expected}`)) return;
    problems.push(`console error on ${page.url()}: ${msg.text()}${where ? ` (${where})` : ""}`);
  });
  page.on("pageerror", (err) => problems.push(`uncaught error on ${page.url()}: ${err.message}`));
  page.on("requestfailed", (req) => {
    // Navigating away aborts requests still in flight; that is not a page bug. A
    // live page's event stream (and its re-reads) are always in flight.
    if (req.failure()?.errorText === "net::ERR_ABORTED" && (req.isNavigationRequest() || req.resourceType() === "eventsource" || req.headers()["x-pulse-live"])) return;
    problems.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`);
  });
  page.on("response", (res) => {
    if (res.status() < 400 || expectedStatus.get(res.url()) === res.status()) return;
    problems.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
  });

  const check = (res: Response | null, what: string, status: number): Response => {
    if (!res) throw new Error(`${what}: no response`);
    if (res.status() !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status()}`);
    return res;
  };
  return {
    context,
    page,
    problems,
    async goto(path, o) {
      const status = o?.status ?? 200;
      const url = new URL(path, baseUrl).toString();
      if (status !== 200) expectedStatus.set(url, status);
      return check(await page.goto(url, { waitUntil: "load" }), `GET ${path}`, status);
    },
    async reload(o) {
      const status = o?.status ?? 200;
      if (status !== 200) expectedStatus.set(page.url(), status);
      return check(await page.reload({ waitUntil: "load" }), `reload ${page.url()}`, status);
    },
  };
}

export interface BrowserSuite {
  readonly browser: Browser;
  /** A test with a fresh tab; it fails if the page had any problem, even when its own checks pass. */
  test(name: string, fn: (tab: Tab) => Promise<void>, opts?: TabOptions & { timeout?: number }): void;
}

/** One Chromium for the enclosing file or describe block, opened before its tests and closed after. */
export function useBrowser(baseUrl: () => string): BrowserSuite {
  let browser: Browser | undefined;
  // Hooks do not take bunfig's test timeout; starting Chromium on a busy box takes seconds.
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  }, 30_000);
  const suite: BrowserSuite = {
    get browser() {
      if (!browser) throw new Error("browser tests: Chromium is not running (see the error from beforeAll)");
      return browser;
    },
    test(name, fn, opts = {}) {
      test(
        name,
        async () => {
          const tab = await openTab(suite.browser, baseUrl(), opts);
          const report = () => `the page had problems:\n  ${[...new Set(tab.problems)].join("\n  ")}`;
          try {
            await fn(tab);
            // Let late console messages and violations arrive before judging.
            await tab.page.waitForTimeout(50);
          } catch (err) {
            // The page's own errors often explain a failed check: show both.
            if (tab.problems.length) throw new Error(`${(err as Error).message}\n${report()}`, { cause: err });
            throw err;
          } finally {
            await tab.context.close();
          }
          if (tab.problems.length) throw new Error(report());
        },
        opts.timeout ?? 60_000,
      );
    },
  };
  return suite;
}

/**
 * Sign in through the real sign-in form (the UI is a client of Pulse's own
 * OpenID provider), ending on `next`.
 */
export async function signIn(tab: Tab, username: string, password: string, next = "/"): Promise<void> {
  const { page } = tab;
  await tab.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password").fill(password);
  const target = new URL(next, "http://pulse.invalid").pathname;
  await Promise.all([page.waitForURL((u) => u.pathname === target), page.getByRole("button", { name: "Sign in" }).click()]);
}

/** Save a PNG under test-results/screenshots/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: opts.fullPage ?? false, animations: "disabled" });
  return path;
}
