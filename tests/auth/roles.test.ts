// Who may do what, told with the cast on both databases: bob (customer) may
// use acme but not administer it; alice (tenant-admin) administers acme but
// cannot leave it without an admin; carol (globex) cannot even see acme's
// things; oscar (operator) reads across tenants, changes nothing, and every
// read is in the audit log; removing or disabling someone ends their access
// at once.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { switchSessionTenant } from "../../src/auth/sessions/service.ts";
import { sha256Hex } from "../../src/lib/ids.ts";
import { agent, signIn, signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS, seedCast, type Cast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { refresh, registerClient, tokensFor, withBearer } from "../helpers/oauth.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

// Hooks do not take bunfig's test timeout; booting Pulse on a busy machine can take longer than 5 s.
const HOOK_MS = 60_000;

const REDIRECT = "http://127.0.0.1:47312/cb";
const json = JSON.stringify;

interface AuditEntry {
  tenant_id: string | null;
  actor_name: string;
  action: string;
  ip: string | null;
  details: Record<string, unknown>;
}

for (const kind of dbKinds()) {
  describe(`roles and tenant isolation on ${kind}`, () => {
    let pulse: TestPulse;
    let cast: Cast;
    let alice: Agent, bob: Agent, carol: Agent, oscar: Agent, admin: Agent;
    let acmeClient: string;
    let acmeKeyId: string;
    let acmeInviteId: string;

    beforeAll(async () => {
      pulse = await startPulse({ db: kind });
      cast = await seedCast(pulse.app);
      [alice, bob, carol, oscar, admin] = await Promise.all([
        signedIn(pulse.url, "alice", PASSWORDS.alice),
        signedIn(pulse.url, "bob", PASSWORDS.bob),
        signedIn(pulse.url, "carol", PASSWORDS.carol),
        signedIn(pulse.url, "oscar", PASSWORDS.oscar),
        signedIn(pulse.url, "admin", PASSWORDS.admin),
      ]);
      acmeClient = await registerClient(alice, [REDIRECT], "Acme integration");
      const key = await alice.send("/api/v1/api-keys", { method: "POST", body: json({ name: "acme-ci", role: "customer" }) });
      acmeKeyId = ((await key.json()) as { id: string }).id;
      const invite = await alice.send("/api/v1/invites", { method: "POST", body: json({ email: "dave@acme.test", role: "customer" }) });
      acmeInviteId = ((await invite.json()) as { invite: { id: string } }).invite.id;
    }, HOOK_MS);
    afterAll(() => pulse?.stop(), HOOK_MS);

    const getJson = async <T>(a: Agent, path: string): Promise<T> => {
      const res = await a.fetch(path);
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    test("bob, a customer, uses acme but may not list people, invite, change roles or make API keys (403)", async () => {
      expect(await getJson(bob, "/api/v1/me")).toMatchObject({ tenant_id: "acme", role: "customer" });
      expect((await bob.fetch("/api/v1/users")).status).toBe(403);
      expect((await bob.fetch("/api/v1/invites")).status).toBe(403);
      expect((await bob.fetch("/api/v1/api-keys")).status).toBe(403);
      expect((await bob.fetch("/api/v1/audit-log")).status).toBe(403);
      expect((await bob.send("/api/v1/invites", { method: "POST", body: json({ email: "mallory@acme.test", role: "tenant-admin" }) })).status).toBe(403);
      expect((await bob.send(`/api/v1/users/${cast.bob.id}`, { method: "PATCH", body: json({ role: "tenant-admin" }) })).status).toBe(403);
      expect((await bob.send(`/api/v1/users/${cast.alice.id}`, { method: "PATCH", body: json({ role: "customer" }) })).status).toBe(403);
      expect((await bob.send("/api/v1/api-keys", { method: "POST", body: json({ name: "mine", role: "tenant-admin" }) })).status).toBe(403);
      expect((await bob.send("/api/v1/oauth-clients", { method: "POST", body: json({ name: "mine", redirect_uris: [REDIRECT] }) })).status).toBe(403);
      expect((await bob.send("/api/v1/users", { method: "POST", body: json({ username: "bobs-friend", password: "a-long-enough-passphrase", role: "tenant-admin" }) })).status).toBe(403);
      // Nothing changed.
      expect(await getJson(bob, "/api/v1/me")).toMatchObject({ role: "customer" });
    });

    test("alice invites people and changes bob's role; the change is audited", async () => {
      const invite = await alice.send("/api/v1/invites", { method: "POST", body: json({ email: "erin@acme.test", role: "customer" }) });
      expect(invite.status).toBe(201);
      expect(((await invite.json()) as { link: string }).link).toContain("/invite/");

      const up = await alice.send(`/api/v1/users/${cast.bob.id}`, { method: "PATCH", body: json({ role: "tenant-admin" }) });
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ id: cast.bob.id, role: "tenant-admin" });
      // bob's very next request has the new role.
      expect(await getJson(bob, "/api/v1/me")).toMatchObject({ role: "tenant-admin" });
      expect((await bob.fetch("/api/v1/users")).status).toBe(200);

      const down = await alice.send(`/api/v1/users/${cast.bob.id}`, { method: "PATCH", body: json({ role: "customer" }) });
      expect(down.status).toBe(200);
      expect((await bob.fetch("/api/v1/users")).status).toBe(403);

      const log = await getJson<{ items: AuditEntry[] }>(alice, "/api/v1/audit-log?action=user.role_changed");
      expect(log.items.map((e) => e.details)).toEqual([
        { from: "tenant-admin", to: "customer" },
        { from: "customer", to: "tenant-admin" },
      ]);
    });

    test("alice cannot demote or remove herself while she is acme's last tenant-admin (409)", async () => {
      const demote = await alice.send(`/api/v1/users/${cast.alice.id}`, { method: "PATCH", body: json({ role: "customer" }) });
      expect(demote.status).toBe(409);
      expect(((await demote.json()) as { error: { message: string } }).error.message).toContain("last tenant-admin");
      expect((await alice.send(`/api/v1/users/${cast.alice.id}`, { method: "DELETE" })).status).toBe(409);
      expect(await getJson(alice, "/api/v1/me")).toMatchObject({ tenant_id: "acme", role: "tenant-admin" });
    });

    test("carol gets 404 for every acme resource by id, and lists that hold only globex", async () => {
      for (const [method, path] of [
        ["GET", `/api/v1/users/${cast.alice.id}`],
        ["GET", `/api/v1/users/${cast.bob.id}`],
        ["PATCH", `/api/v1/users/${cast.bob.id}`],
        ["DELETE", `/api/v1/users/${cast.bob.id}`],
        ["POST", `/api/v1/users/${cast.bob.id}/password-reset`],
        ["DELETE", `/api/v1/api-keys/${acmeKeyId}`],
        ["DELETE", `/api/v1/invites/${acmeInviteId}`],
        ["DELETE", `/api/v1/oauth-clients/${acmeClient}`],
        ["GET", "/api/v1/tenants/acme"],
        ["PATCH", "/api/v1/tenants/acme"],
      ] as const) {
        const body = method === "PATCH" ? json(path.includes("tenants") ? { name: "Pwned" } : { role: "customer" }) : undefined;
        const res = await carol.send(path, { method, body });
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      }
      const users = await getJson<{ items: Array<{ username: string }> }>(carol, "/api/v1/users");
      expect(users.items.map((u) => u.username)).toEqual(["carol"]);
      expect((await getJson<{ items: unknown[] }>(carol, "/api/v1/api-keys")).items).toEqual([]);
      expect((await getJson<{ items: unknown[] }>(carol, "/api/v1/invites")).items).toEqual([]);
      expect((await getJson<{ items: unknown[] }>(carol, "/api/v1/oauth-clients")).items).toEqual([]);
      expect((await getJson<{ items: Array<{ id: string }> }>(carol, "/api/v1/tenants")).items.map((t) => t.id)).toEqual(["globex"]);
      const log = await getJson<{ items: AuditEntry[] }>(carol, "/api/v1/audit-log?limit=1000");
      expect(log.items.length).toBeGreaterThan(0);
      expect(log.items.filter((e) => e.tenant_id !== "globex")).toEqual([]);

      // acme's things are untouched.
      const keys = await getJson<{ items: Array<{ id: string; revoked_at: string | null }> }>(alice, "/api/v1/api-keys");
      expect(keys.items.find((k) => k.id === acmeKeyId)?.revoked_at).toBeNull();
      expect((await getJson<{ items: Array<{ id: string }> }>(alice, "/api/v1/invites")).items.map((i) => i.id)).toContain(acmeInviteId);
      expect((await getJson<{ items: Array<{ client_id: string }> }>(alice, "/api/v1/oauth-clients")).items.map((c) => c.client_id)).toEqual([acmeClient]);
      expect((await getJson<{ name: string }>(alice, "/api/v1/tenants/acme")).name).toBe("Acme Corp");
    });

    test("a removed member's session, access token and refresh token stop working at once", async () => {
      const created = await alice.send("/api/v1/users", { method: "POST", body: json({ username: "erin", email: "erin@acme.test", password: "reads-the-gauges-every-day", role: "customer" }) });
      expect(created.status).toBe(201);
      const erinId = ((await created.json()) as { id: string }).id;
      const erin = await signedIn(pulse.url, "erin", "reads-the-gauges-every-day");
      const tokens = await tokensFor(pulse.url, acmeClient, REDIRECT, "erin", "reads-the-gauges-every-day");
      expect(await getJson(erin, "/api/v1/me")).toMatchObject({ tenant_id: "acme", role: "customer" });
      expect((await withBearer(pulse.url, "/api/v1/me", tokens.access_token)).status).toBe(200);

      expect((await alice.send(`/api/v1/users/${erinId}`, { method: "DELETE" })).status).toBe(204);

      expect((await erin.fetch("/api/v1/me")).status).toBe(401);
      expect((await withBearer(pulse.url, "/api/v1/me", tokens.access_token)).status).toBe(401);
      const r = await refresh(pulse.url, acmeClient, tokens.refresh_token!);
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ error: "invalid_grant" });
      // The account still exists, but belongs to no tenant now.
      const again = await signedIn(pulse.url, "erin", "reads-the-gauges-every-day");
      expect(await getJson(again, "/api/v1/me")).toMatchObject({ tenant_id: null, role: null, tenants: [] });
      expect((await getJson<{ items: Array<{ username: string }> }>(alice, "/api/v1/users")).items.map((u) => u.username)).not.toContain("erin");
    });

    test("oscar reads every tenant's users through the platform scope but may change nothing (403)", async () => {
      const all = await getJson<{ items: Array<{ username: string }> }>(oscar, "/api/v1/users?scope=platform");
      expect(all.items.map((u) => u.username)).toEqual(expect.arrayContaining(["alice", "bob", "carol", "oscar", "admin"]));
      expect(await getJson(oscar, `/api/v1/users/${cast.alice.id}`)).toMatchObject({ username: "alice" });
      expect((await getJson<{ items: Array<{ id: string }> }>(oscar, "/api/v1/tenants")).items.map((t) => t.id)).toEqual(["acme", "globex"]);

      expect((await oscar.send(`/api/v1/users/${cast.bob.id}`, { method: "PATCH", body: json({ role: "tenant-admin" }) })).status).toBe(403);
      expect((await oscar.send(`/api/v1/users/${cast.bob.id}`, { method: "PATCH", body: json({ status: "DISABLED" }) })).status).toBe(403);
      expect((await oscar.send(`/api/v1/users/${cast.bob.id}`, { method: "PATCH", body: json({ platform_role: "operator" }) })).status).toBe(403);
      expect((await oscar.send(`/api/v1/users/${cast.bob.id}`, { method: "DELETE" })).status).toBe(403);
      expect((await oscar.send("/api/v1/tenants", { method: "POST", body: json({ id: "oscorp" }) })).status).toBe(403);
      expect((await oscar.send("/api/v1/tenants/acme/suspend", { method: "POST" })).status).toBe(403);
      expect((await oscar.send("/api/v1/users", { method: "POST", body: json({ username: "oscars-friend", password: "a-long-enough-passphrase", platform_role: "operator-admin" }) })).status).toBe(403);
      expect(await getJson(bob, "/api/v1/me")).toMatchObject({ role: "customer" });
    });

    test("oscar working inside acme reads its members but still changes nothing", async () => {
      // What the UI's tenant switcher does: the session now works in acme.
      await switchSessionTenant(pulse.app.auth.sessions, sha256Hex(oscar.cookies.get(pulse.app.auth.cookies.session)!), "acme");
      expect(await getJson(oscar, "/api/v1/me")).toMatchObject({ tenant_id: "acme", role: "operator", platform_role: "operator" });
      const members = await getJson<{ items: Array<{ username: string }> }>(oscar, "/api/v1/users");
      expect(members.items.map((u) => u.username).sort()).toEqual(["alice", "bob"]);
      expect((await oscar.send(`/api/v1/users/${cast.bob.id}`, { method: "PATCH", body: json({ role: "tenant-admin" }) })).status).toBe(403);
      expect((await oscar.send("/api/v1/invites", { method: "POST", body: json({ email: "spy@acme.test", role: "tenant-admin" }) })).status).toBe(403);
      expect((await oscar.send("/api/v1/api-keys", { method: "POST", body: json({ name: "backdoor", role: "tenant-admin" }) })).status).toBe(403);
    });

    test("oscar's reads are in the audit log as operator.access: who, what, which tenant, from where", async () => {
      const log = await getJson<{ items: AuditEntry[] }>(admin, "/api/v1/audit-log?action=operator.access&actor=oscar&limit=1000");
      const reads = log.items.map((e) => ({ tenant: e.tenant_id, path: e.details.path, cross: e.details.cross_tenant }));
      expect(reads).toEqual(
        expect.arrayContaining([
          { tenant: null, path: "/api/v1/users", cross: true },
          { tenant: null, path: `/api/v1/users/${cast.alice.id}`, cross: true },
          { tenant: null, path: "/api/v1/tenants", cross: true },
          { tenant: "acme", path: "/api/v1/users", cross: false },
        ]),
      );
      for (const e of log.items) {
        expect(e.actor_name).toBe("oscar");
        expect(e.ip).toMatch(/127\.0\.0\.1/);
        expect(e.details.method).toBe("GET");
      }
      // Refused attempts read nothing and are not "access".
      expect(log.items.some((e) => e.details.method !== "GET")).toBe(false);
      // acme's admin sees that an operator looked at acme.
      const own = await getJson<{ items: AuditEntry[] }>(alice, "/api/v1/audit-log?action=operator.access");
      expect(own.items.map((e) => [e.actor_name, e.tenant_id, e.details.path])).toContainEqual(["oscar", "acme", "/api/v1/users"]);
    });

    test("disabling bob (operator-admin) signs him out everywhere, for good; a tenant-admin may not disable accounts", async () => {
      const tokens = await tokensFor(pulse.url, acmeClient, REDIRECT, "bob", PASSWORDS.bob);
      expect((await alice.send(`/api/v1/users/${cast.bob.id}`, { method: "PATCH", body: json({ status: "DISABLED" }) })).status).toBe(403);

      const off = await admin.send(`/api/v1/users/${cast.bob.id}`, { method: "PATCH", body: json({ status: "DISABLED" }) });
      expect(off.status).toBe(200);
      expect(await off.json()).toMatchObject({ status: "DISABLED" });
      expect((await bob.fetch("/api/v1/me")).status).toBe(401);
      expect((await withBearer(pulse.url, "/api/v1/me", tokens.access_token)).status).toBe(401);
      const attempt = await signIn(agent(pulse.url), "bob", PASSWORDS.bob);
      expect(attempt.status).toBe(401);
      expect(await attempt.text()).toContain("disabled");

      const on = await admin.send(`/api/v1/users/${cast.bob.id}`, { method: "PATCH", body: json({ status: "ACTIVE" }) });
      expect(on.status).toBe(200);
      // Re-enabling does not bring back what disabling ended: the old session and refresh token stay dead.
      expect((await bob.fetch("/api/v1/me")).status).toBe(401);
      const r = await refresh(pulse.url, acmeClient, tokens.refresh_token!);
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ error: "invalid_grant" });
      bob = await signedIn(pulse.url, "bob", PASSWORDS.bob);
      expect(await getJson(bob, "/api/v1/me")).toMatchObject({ tenant_id: "acme", role: "customer" });
    });
  });
}
