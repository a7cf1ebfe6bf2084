// The identity pages over plain HTTP, as a browser without JavaScript sees
// them: forms post and redirect, carry their tokens or are refused, secrets
// come once and are never cached, operators cannot change what they may only
// read, and a server with SMTP says that it emailed the link (it did: a real
// SMTP peer receives it). The helpers behind the pages are checked directly.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SMTPServer } from "smtp-server";
import { withSystem } from "../../src/db/scope.ts";
import { AppError, invalid } from "../../src/lib/errors.ts";
import { formError, sentence } from "../../web/components/form.ts";
import { zonedTimeToDate } from "../../web/components/format.ts";
import { signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS, seedCast } from "../helpers/cast.ts";
import { freePort, startPulse, type TestPulse } from "../helpers/pulse.ts";

async function post(a: Agent, path: string, fields: Record<string, string>, opts: { csrf?: boolean } = {}): Promise<Response> {
  const body = new URLSearchParams(fields);
  if (opts.csrf !== false) body.set("_csrf", await a.csrf());
  return a.fetch(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() });
}

const flashOf = (res: Response) => {
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("pulse_flash="));
  // Encoded by redirectWithFlash, then again by the cookie serializer.
  return cookie ? (JSON.parse(decodeURIComponent(decodeURIComponent(cookie.split(";")[0]!.slice("pulse_flash=".length)))) as { kind: string; text: string }) : undefined;
};

describe("identity pages without JavaScript", () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startPulse();
    await seedCast(pulse.app);
    // Hooks do not take bunfig's test timeout; booting and seeding on a busy box takes seconds.
  }, 60_000);
  afterAll(() => pulse?.stop(), 30_000);

  test("a form without the session's CSRF token is refused and changes nothing", async () => {
    const alice = await signedIn(pulse.url, "alice", PASSWORDS.alice);
    const res = await post(alice, "/users/invite", { email: "mallory@acme.test", role: "tenant-admin" }, { csrf: false });
    expect(res.status).toBe(403);
    const [row] = await withSystem(pulse.app.db, (tx) => tx.query<{ n: number }>("select count(*)::int as n from invites"));
    expect(row!.n).toBe(0);
  });

  test("a form posts and redirects with a flash; a field error re-renders the form with the message beside the field", async () => {
    const alice = await signedIn(pulse.url, "alice", PASSWORDS.alice);
    let res = await post(alice, "/account/profile", { name: "Alice A.", email: "alice@acme.test" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/account");
    expect(flashOf(res)).toEqual({ kind: "ok", text: "Profile saved." });

    res = await post(alice, "/account/profile", { name: "Alice A.", email: "bob@acme.test" });
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(page).toContain('id="profile-email-err"');
    expect(page).toMatch(/id="profile-email-err"[^>]*>That email belongs to another account</);
    // What was typed is kept.
    expect(page).toContain('value="bob@acme.test"');
  });

  test("a new API key is shown once: in the POST's answer, never cached, never in a cookie or URL", async () => {
    const alice = await signedIn(pulse.url, "alice", PASSWORDS.alice);
    const res = await post(alice, "/developer/keys", { name: "backup-script", role: "customer", expires_in_days: "" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const page = await res.text();
    const key = /pulse_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}/.exec(page)![0];
    expect(res.headers.getSetCookie().join(";")).not.toContain(key.slice(20));
    // The list afterwards shows the prefix only.
    const list = await (await alice.fetch("/developer")).text();
    expect(list).toContain(key.slice(0, 19));
    expect(list).not.toContain(key.slice(20));
  });

  test("public forms need their double-submit token", async () => {
    for (const path of ["/forgot-password", "/reset-password/abc", "/invite/abc"]) {
      const res = await fetch(pulse.url + path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "email=alice%40acme.test", redirect: "manual" });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("The form expired");
    }
  });

  test("an operator's read-only role cannot change anything through the pages", async () => {
    const oscar = await signedIn(pulse.url, "oscar", PASSWORDS.oscar);
    let res = await post(oscar, "/tenants", { id: "sneaky", name: "Sneaky", timezone: "UTC" });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.kind).toBe("error");
    res = await post(oscar, "/tenants/acme/suspend", {});
    expect(flashOf(res)).toEqual({ kind: "error", text: "Your role (operator) may not suspend tenants" });
    const tenants = await withSystem(pulse.app.db, (tx) => tx.query<{ id: string; status: string }>("select id, status from tenants order by id"));
    expect(tenants).toEqual([
      { id: "acme", status: "ACTIVE" },
      { id: "globex", status: "ACTIVE" },
    ]);
  });

  test("nobody switches into a tenant they do not belong to", async () => {
    const bob = await signedIn(pulse.url, "bob", PASSWORDS.bob);
    const res = await post(bob, "/session/tenant", { tenant: "globex", next: "/" });
    expect(res.status).toBe(403);
    const me = (await (await bob.fetch("/api/v1/me")).json()) as { tenant_id: string };
    expect(me.tenant_id).toBe("acme");
    // An off-site "next" is not followed.
    const ok = await post(bob, "/session/tenant", { tenant: "acme", next: "//evil.example/" });
    expect(ok.headers.get("location")).toBe("/");
  });

  test("the audit page's export link selects what its filters select", async () => {
    const alice = await signedIn(pulse.url, "alice", PASSWORDS.alice);
    const page = await (await alice.fetch("/audit?action=user.&actor=ali&from=2025-06-01T12:00")).text();
    // 12:00 in Europe/Berlin (acme's zone) in summer is 10:00 UTC.
    expect(page).toContain('href="/api/v1/audit-log.csv?action=user.&amp;actor=ali&amp;from=2025-06-01T10%3A00%3A00.000Z"');
    const csv = await (await alice.fetch("/api/v1/audit-log.csv?action=user.&actor=ali&from=2025-06-01T10%3A00%3A00.000Z")).text();
    expect(csv.split("\r\n")[0]).toStartWith("id,time,tenant_id");
  });
});

describe("with email configured", () => {
  let pulse: TestPulse;
  let smtp: SMTPServer;
  const mails: Array<{ to: string; body: string }> = [];

  beforeAll(async () => {
    const port = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      onData(stream, session, done) {
        let body = "";
        stream.on("data", (d: Buffer) => (body += d.toString()));
        stream.on("end", () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(","), body });
          done();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(port, "127.0.0.1", resolve));
    pulse = await startPulse({ config: { "smtp.host": "127.0.0.1", "smtp.port": port, "smtp.security": "none" } });
    await seedCast(pulse.app);
  }, 60_000);
  afterAll(async () => {
    await pulse?.stop();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  }, 30_000);

  test("an invitation says it was emailed, and the mail carries the same link", async () => {
    const alice = await signedIn(pulse.url, "alice", PASSWORDS.alice);
    const res = await post(alice, "/users/invite", { email: "erin@acme.test", role: "customer" });
    const page = await res.text();
    expect(page).toContain('data-emailed="true"');
    expect(page).toContain("Emailed to erin@acme.test");
    const link = /\/invite\/[A-Za-z0-9_-]{43}/.exec(page)![0];
    const mail = mails.find((m) => m.to === "erin@acme.test")!;
    expect(mail.body.replace(/=\r\n/g, "")).toContain(link);
  });

  test("forgot password answers the same for any email, and mails a link only to a real account", async () => {
    const form = await fetch(pulse.url + "/forgot-password");
    const cookie = form.headers.getSetCookie().find((c) => c.startsWith("pulse_form="))!.split(";")[0]!;
    const token = cookie.split("=")[1]!;
    const ask = (email: string) =>
      fetch(pulse.url + "/forgot-password", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", cookie }, body: new URLSearchParams({ _form: token, email }).toString() });
    const before = mails.length;
    const known = await (await ask("bob@acme.test")).text();
    const unknown = await (await ask("nobody@acme.test")).text();
    expect(known).toContain("If an account with that email exists, we sent it a link");
    expect(unknown.replace(/nobody/g, "bob")).toBe(known.replace(/nobody/g, "bob"));
    expect(mails.length).toBe(before + 1);
    expect(mails.at(-1)!.to).toBe("bob@acme.test");
    expect(mails.at(-1)!.body.replace(/=\r\n/g, "")).toContain("/reset-password/");
  });

  test("one address asking too often gets the form back with 429, Retry-After and why, not a 400", async () => {
    const form = await fetch(pulse.url + "/forgot-password");
    const cookie = form.headers.getSetCookie().find((c) => c.startsWith("pulse_form="))!.split(";")[0]!;
    const token = cookie.split("=")[1]!;
    const ask = () =>
      fetch(pulse.url + "/forgot-password", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", cookie }, body: new URLSearchParams({ _form: token, email: "nobody@acme.test" }).toString() });
    let res = await ask();
    for (let i = 0; i < 20 && res.status === 200; i++) res = await ask();
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const page = await res.text();
    expect(page).toContain('action="/forgot-password"');
    expect(page).toMatch(/too many|try again/i);
  });
});

describe("helpers behind the pages", () => {
  test("a wall-clock time in a zone becomes the right instant, across daylight saving", () => {
    expect(zonedTimeToDate("2025-01-15T10:00", "Europe/Berlin")!.toISOString()).toBe("2025-01-15T09:00:00.000Z");
    expect(zonedTimeToDate("2025-07-15T10:00", "Europe/Berlin")!.toISOString()).toBe("2025-07-15T08:00:00.000Z");
    expect(zonedTimeToDate("2025-07-15T10:00", "America/New_York")!.toISOString()).toBe("2025-07-15T14:00:00.000Z");
    expect(zonedTimeToDate("2025-03-09", "UTC")!.toISOString()).toBe("2025-03-09T00:00:00.000Z");
    // 02:30 does not exist on the spring-forward night; it lands an hour on.
    expect(zonedTimeToDate("2025-03-30T02:30", "Europe/Berlin")!.toISOString()).toBe("2025-03-30T01:30:00.000Z");
    expect(zonedTimeToDate("yesterday", "UTC")).toBeUndefined();
    expect(zonedTimeToDate("2025-13-45T99:00", "UTC")).toBeUndefined();
  });

  test("a service error lands beside its field, without the field's name in front", () => {
    const s = formError(invalid("redirect_uris.1", "redirect_uris.1: must use https"), { name: "x" }, {}, ["name", "redirect_uris"]);
    expect(s.errors).toEqual({ redirect_uris: "Must use https" });
    expect(s.values).toEqual({ name: "x" });
    const general = formError(new AppError("forbidden", "your role may not"), {});
    expect(general.general).toBe("your role may not");
    expect(() => formError(new Error("boom"), {})).toThrow("boom");
    expect(sentence("tenant acme already exists")).toBe("Tenant acme already exists");
    expect(sentence("carol@globex.test is already a member")).toBe("carol@globex.test is already a member");
  });
});
