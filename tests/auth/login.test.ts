// Signing in with a password: the password rules, throttling (per account
// and per address, decided before any argon2 run), the session cookie, a new
// session at every sign-in, sign-out that ends the session on the server,
// CSRF on cookie-authenticated changes, and the bootstrap admin's forced
// password change.

import { afterAll, afterEach, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { agent, signIn, signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS, seedCast } from "../helpers/cast.ts";
import { agentFrom } from "../helpers/oauth.ts";
import { manualClock, startPulse, type TestPulse } from "../helpers/pulse.ts";

// Hooks do not take bunfig's test timeout; booting Pulse on a busy machine can take longer than 5 s.
const HOOK_MS = 60_000;

const MAX_PER_ACCOUNT = 3;
const MAX_PER_IP = 6;

/** Every Set-Cookie line an agent receives, by cookie name (the last one wins). */
function recordCookies(a: Agent): Map<string, string> {
  const seen = new Map<string, string>();
  const inner = a.fetch;
  a.fetch = async (path, init) => {
    const res = await inner(path, init);
    for (const line of res.headers.getSetCookie()) seen.set(line.slice(0, line.indexOf("=")), line);
    return res;
  };
  return seen;
}

const attrs = (line: string) =>
  new Map(
    line
      .split(";")
      .slice(1)
      .map((p) => p.trim().split("=") as [string, string?])
      .map(([k, v]) => [k.toLowerCase(), v ?? ""] as const),
  );

describe("password sign-in over plain http", () => {
  let pulse: TestPulse;
  const clock = manualClock("2026-03-02T08:00:00Z");
  let admin: Agent;

  beforeAll(async () => {
    pulse = await startPulse({
      clock,
      config: { "http.trust_proxy": true, "auth.login_max_failures": MAX_PER_ACCOUNT, "auth.login_max_failures_per_ip": MAX_PER_IP },
    });
    await seedCast(pulse.app);
    admin = await signedIn(pulse.url, "admin", PASSWORDS.admin);
  }, HOOK_MS);
  afterAll(() => pulse?.stop(), HOOK_MS);

  /** One sign-in attempt from a client address: 303 when it worked, else the sign-in page's status. */
  const attempt = (ip: string, username: string, password: string) => signIn(agentFrom(pulse.url, ip), username, password);

  describe("password rules", () => {
    const create = (password: string, username = "gina") =>
      admin.send("/api/v1/users", { method: "POST", body: JSON.stringify({ username, email: `${username}@example.test`, password }) });

    test("too short, common (even dressed up), repetitive, or containing the username: 400 naming the field", async () => {
      const refused: Array<[string, RegExp]> = [
        ["eleven-char", /at least 12 characters/],
        ["Password1234!", /too common/],
        ["dragon2024dragon", /too common/],
        ["P@ssw0rd2024", /too common/],
        ["qwertyuiop123", /too common/],
        ["iloveyou2024!", /too common/],
        ["zzzzzzzzzzzzzzzz", /repetitive/],
        ["x".repeat(129), /at most 128/],
        ["gina-likes-long-walks", /username or email/],
        ["GINA.walks.the.dog", /username or email/],
      ];
      for (const [password, why] of refused) {
        const res = await create(password);
        const body = (await res.json()) as { error: { code: string; field?: string; message: string } };
        expect({ password, status: res.status, field: body.error.field, code: body.error.code }).toEqual({ password, status: 400, field: "password", code: "validation_failed" });
        expect(body.error.message).toMatch(why);
      }
      // A long phrase of unrelated words is fine, as is any character.
      expect((await create("copper kettle orbits 9 quietly")).status).toBe(201);
      expect((await create("ünïcødé-pässwörd-✓-ok", "hank")).status).toBe(201);
    });
  });

  describe("throttling", () => {
    let verify: ReturnType<typeof spyOn<typeof Bun.password, "verify">>;
    beforeAll(() => {
      verify = spyOn(Bun.password, "verify");
    }, HOOK_MS);
    afterAll(() => verify.mockRestore(), HOOK_MS);
    // Each test leaves locks behind; they last 15 minutes.
    afterEach(() => clock.advance(16 * 60_000));

    test(`after ${MAX_PER_ACCOUNT} failures the account answers 429 with Retry-After, without running argon2`, async () => {
      for (let i = 0; i < MAX_PER_ACCOUNT; i++) {
        const calls = verify.mock.calls.length;
        expect((await attempt("10.0.1.1", "bob", "not-bobs-password")).status).toBe(401);
        // The spy sees the argon2 runs of attempts that are not throttled.
        expect(verify.mock.calls.length).toBe(calls + 1);
      }
      const calls = verify.mock.calls.length;
      for (let i = 0; i < 20; i++) {
        // From any address, even with the right password.
        const res = await attempt(`10.0.1.${2 + (i % 3)}`, i % 2 ? "bob" : "BOB", i % 4 === 0 ? PASSWORDS.bob : "guess-" + i);
        expect(res.status).toBe(429);
        const retry = Number(res.headers.get("retry-after"));
        expect(retry).toBeGreaterThan(0);
        expect(retry).toBeLessThanOrEqual(15 * 60);
        expect(await res.text()).toContain("too many failed sign-ins");
      }
      // Not one argon2 run for the 20 throttled attempts.
      expect(verify.mock.calls.length).toBe(calls);

      // The lock is recorded once, when it starts: a flood of refused attempts does not flood the audit log.
      const log = (await (await admin.fetch("/api/v1/audit-log?action=auth.login_throttled&actor=bob&limit=100")).json()) as { items: unknown[] };
      expect(log.items).toHaveLength(1);
    });

    test(`twenty guesses sent at once cannot get past the limit of ${MAX_PER_ACCOUNT}`, async () => {
      const calls = verify.mock.calls.length;
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(`10.0.2.${i}`, "bob", "guess-at-once-" + i)));
      expect(results.filter((r) => r.status === 401)).toHaveLength(MAX_PER_ACCOUNT);
      expect(results.filter((r) => r.status === 429)).toHaveLength(20 - MAX_PER_ACCOUNT);
      expect(verify.mock.calls.length - calls).toBe(MAX_PER_ACCOUNT);
    });

    test("the lock ends after 15 minutes", async () => {
      // afterEach moved the clock on: bob is free again.
      expect((await attempt("10.0.1.1", "bob", PASSWORDS.bob)).status).toBe(303);
    });

    test(`one address failing ${MAX_PER_IP} times with different usernames is throttled for every account`, async () => {
      for (let i = 0; i < MAX_PER_IP; i++) expect((await attempt("10.0.2.1", `nobody-${i}`, "whatever-password")).status).toBe(401);
      const calls = verify.mock.calls.length;
      const locked = await attempt("10.0.2.1", "alice", PASSWORDS.alice);
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(verify.mock.calls.length).toBe(calls);
      // alice herself is not locked: from another address she signs in.
      expect((await attempt("10.0.2.2", "alice", PASSWORDS.alice)).status).toBe(303);
    });

    test("a successful sign-in clears the account's counter", async () => {
      for (let i = 0; i < MAX_PER_ACCOUNT - 1; i++) expect((await attempt("10.0.3.1", "carol", "wrong-password-" + i)).status).toBe(401);
      expect((await attempt("10.0.3.1", "carol", PASSWORDS.carol)).status).toBe(303);
      // Had the counter survived, the next failure would lock the account.
      for (let i = 0; i < MAX_PER_ACCOUNT - 1; i++) expect((await attempt("10.0.3.1", "carol", "wrong-again-" + i)).status).toBe(401);
      expect((await attempt("10.0.3.1", "carol", PASSWORDS.carol)).status).toBe(303);
      // And without a success in between, it does lock.
      for (let i = 0; i < MAX_PER_ACCOUNT; i++) expect((await attempt("10.0.3.2", "carol", "wrong-thrice-" + i)).status).toBe(401);
      expect((await attempt("10.0.3.2", "carol", PASSWORDS.carol)).status).toBe(429);
    });
  });

  describe("sessions", () => {
    test("the session cookie is HttpOnly, SameSite=Lax, Path=/, and not Secure over http", async () => {
      const a = agent(pulse.url);
      const cookies = recordCookies(a);
      expect((await signIn(a, "alice", PASSWORDS.alice)).status).toBe(303);
      for (const name of ["pulse_session", "pulse_idp"]) {
        const line = cookies.get(name);
        expect(line).toBeDefined();
        const at = attrs(line!);
        expect(at.has("httponly")).toBe(true);
        expect(at.get("samesite")).toBe("Lax");
        expect(at.get("path")).toBe("/");
        expect(at.has("secure")).toBe(false);
        expect(at.has("domain")).toBe(false);
        expect(Number(at.get("max-age"))).toBe(12 * 3600);
      }
      expect([...cookies.keys()].some((n) => n.startsWith("__Host-"))).toBe(false);
    });

    test("every sign-in gets a new session id, whatever cookie the browser brought (no fixation)", async () => {
      const planted = "planted-by-an-attacker-0123456789abcdefghijk";
      const a = agent(pulse.url);
      a.cookies.set("pulse_session", planted);
      a.cookies.set("pulse_idp", planted);
      expect((await signIn(a, "alice", PASSWORDS.alice)).status).toBe(303);
      const first = a.cookies.get("pulse_session")!;
      expect(first).not.toBe(planted);
      expect(a.cookies.get("pulse_idp")).not.toBe(planted);

      const b = await signedIn(pulse.url, "alice", PASSWORDS.alice);
      const second = b.cookies.get("pulse_session")!;
      expect(second).not.toBe(first);
      // Both sessions are live and distinct.
      expect((await a.fetch("/api/v1/me")).status).toBe(200);
      expect((await b.fetch("/api/v1/me")).status).toBe(200);
    });

    test("signing out ends the session on the server: the old cookies no longer work", async () => {
      const a = await signedIn(pulse.url, "alice", PASSWORDS.alice);
      const stolen = new Map(a.cookies);
      const me = (await (await a.fetch("/api/v1/me")).json()) as { csrf_token: string };
      const out = await a.fetch("/logout", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ _csrf: me.csrf_token }).toString() });
      expect(out.status).toBe(200);
      expect(a.cookies.has("pulse_session")).toBe(false);

      const replay = agent(pulse.url);
      for (const [k, v] of stolen) replay.cookies.set(k, v);
      expect((await replay.fetch("/api/v1/me")).status).toBe(401);
      // The provider's session ended too: signing in again asks for the password.
      const login = await replay.fetch("/login");
      expect(login.status).toBe(303);
      const authorize = await replay.fetch(login.headers.get("location")!);
      expect(authorize.status).toBe(200);
      expect(await authorize.text()).toContain('name="password"');
      // And a new sign-in gets yet another session.
      expect((await signIn(replay, "alice", PASSWORDS.alice)).status).toBe(303);
      expect(replay.cookies.get("pulse_session")).not.toBe(stolen.get("pulse_session"));
    });

    test("sign-out without the form token is refused", async () => {
      const a = await signedIn(pulse.url, "alice", PASSWORDS.alice);
      const out = await a.fetch("/logout", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "" });
      expect(out.status).toBe(403);
      expect((await a.fetch("/api/v1/me")).status).toBe(200);
    });
  });

  describe("CSRF on cookie-authenticated changes", () => {
    const invite = (a: Agent, headers: Record<string, string>, email: string) =>
      a.fetch("/api/v1/invites", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ email, role: "customer" }) });

    test("without X-CSRF-Token: 403; with it but from a cross-site Origin: 403; same origin with the token: 201", async () => {
      const alice = await signedIn(pulse.url, "alice", PASSWORDS.alice);
      const token = await alice.csrf();
      const none = await invite(alice, {}, "csrf1@acme.test");
      expect(none.status).toBe(403);
      expect(((await none.json()) as { error: { message: string } }).error.message).toContain("CSRF");
      expect((await invite(alice, { "x-csrf-token": "forged-token" }, "csrf2@acme.test")).status).toBe(403);
      expect((await invite(alice, { "x-csrf-token": token, origin: "https://evil.example" }, "csrf3@acme.test")).status).toBe(403);
      expect((await invite(alice, { "x-csrf-token": token, origin: pulse.url.replace("127.0.0.1", "127.0.0.2") }, "csrf4@acme.test")).status).toBe(403);
      // Another session's token does not fit this one.
      const other = await (await signedIn(pulse.url, "alice", PASSWORDS.alice)).csrf();
      expect(other).not.toBe(token);
      expect((await invite(alice, { "x-csrf-token": other }, "csrf5@acme.test")).status).toBe(403);
      // A form post (what a cross-site page can send) without _csrf is refused too.
      const form = await alice.fetch("/api/v1/invites", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "email=csrf6%40acme.test&role=customer" });
      expect(form.status).toBe(403);

      expect((await invite(alice, { "x-csrf-token": token, origin: pulse.url }, "csrf-ok@acme.test")).status).toBe(201);
      expect((await invite(alice, { "x-csrf-token": token }, "csrf-ok2@acme.test")).status).toBe(201);
      const pending = (await (await alice.fetch("/api/v1/invites")).json()) as { items: Array<{ email: string }> };
      expect(pending.items.map((i) => i.email).sort()).toEqual(["csrf-ok2@acme.test", "csrf-ok@acme.test"]);
    });
  });
});

describe("behind https (public_url https://pulse.example), with a generated admin password", () => {
  let pulse: TestPulse;

  beforeAll(async () => {
    pulse = await startPulse({ config: { public_url: "https://pulse.example", "bootstrap.admin_password": "" } });
    await seedCast(pulse.app);
  }, HOOK_MS);
  afterAll(() => pulse?.stop(), HOOK_MS);

  test("session cookies take the __Host- prefix and Secure", async () => {
    const a = agent(pulse.url);
    const cookies = recordCookies(a);
    expect((await signIn(a, "alice", PASSWORDS.alice)).status).toBe(303);
    for (const name of ["__Host-pulse_session", "__Host-pulse_idp"]) {
      const at = attrs(cookies.get(name) ?? "");
      expect({ name, secure: at.has("secure"), httpOnly: at.has("httponly"), path: at.get("path"), domain: at.get("domain"), sameSite: at.get("samesite") }).toEqual({
        name,
        secure: true,
        httpOnly: true,
        path: "/",
        domain: undefined,
        sameSite: "Lax",
      });
    }
    expect(cookies.has("pulse_session")).toBe(false);
    expect((await a.fetch("/api/v1/me")).status).toBe(200);
  });

  test("the generated admin password is shown once in the banner (never logged) and forces a password change", async () => {
    const banner = pulse.banner.join("");
    const password = /One-time password: (\S+)/.exec(banner)?.[1];
    expect(password).toBeDefined();
    expect(JSON.stringify(pulse.logs)).not.toContain(password!);

    const admin = await signedIn(pulse.url, "admin", password!);
    for (const page of ["/", "/devices", "/settings"]) {
      const res = await admin.fetch(page);
      expect({ page, status: res.status, location: res.headers.get("location") }).toEqual({ page, status: 303, location: "/account/password?required=1" });
    }
    // Someone without the flag goes where they asked.
    const alice = await signedIn(pulse.url, "alice", PASSWORDS.alice);
    expect((await alice.fetch("/")).headers.get("location")).not.toStartWith("/account/password");
  });
});
