// Tenants through the API, as the operator-admin runs them: create, rename,
// suspend (people still sign in, but work in no tenant, and the tenant's API
// keys stop), resume, delete (refused at once, restorable for 30 days), and
// the purge that ends the grace period, taking the tenant's audit trail with
// it and leaving a platform audit entry behind. Validation names the field.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser } from "../../src/auth/users/service.ts";
import { purgeTenants } from "../../src/tenants/service.ts";
import { withSystem } from "../../src/db/scope.ts";
import { signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS, platformAdmin, seedCast } from "../helpers/cast.ts";
import { withBearer } from "../helpers/oauth.ts";
import { manualClock, startPulse, type TestPulse } from "../helpers/pulse.ts";

// Hooks do not take bunfig's test timeout; booting Pulse on a busy machine can take longer than 5 s.
const HOOK_MS = 60_000;

interface TenantJson {
  id: string;
  name: string;
  status: "ACTIVE" | "SUSPENDED" | "DELETED";
  timezone: string;
  suspended_at: string | null;
  deleted_at: string | null;
  purge_after: string | null;
}

interface AuditJson {
  action: string;
  tenant_id: string | null;
  actor_kind: string;
  actor_name: string;
  target_kind: string | null;
  target_id: string | null;
  details: Record<string, unknown>;
}

const DAY = 86_400_000;
const IVAN_PASSWORD = "initech-printer-jams-daily";

describe("tenants", () => {
  let pulse: TestPulse;
  const clock = manualClock("2026-06-01T10:00:00Z");
  let admin: Agent;
  let alice: Agent;
  let initechAuditRows = 0;

  const post = (a: Agent, path: string, body?: unknown) => a.send(path, { method: "POST", body: body === undefined ? undefined : JSON.stringify(body) });
  const patch = (a: Agent, path: string, body: unknown) => a.send(path, { method: "PATCH", body: JSON.stringify(body) });
  const auditOf = async (a: Agent, query: string) => {
    const res = await a.fetch(`/api/v1/audit-log?${query}&limit=100`);
    if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
    return ((await res.json()) as { items: AuditJson[] }).items;
  };
  const tenantOf = async (res: Response) => {
    if (res.status !== 200 && res.status !== 201) throw new Error(`${res.status} ${await res.text()}`);
    return (await res.json()) as TenantJson;
  };

  beforeAll(async () => {
    pulse = await startPulse({ clock });
    await seedCast(pulse.app);
    // The bootstrap admin's password came from config, so no forced change stands in the way.
    admin = await signedIn(pulse.url, "admin", PASSWORDS.admin);
    alice = await signedIn(pulse.url, "alice", PASSWORDS.alice);
  }, HOOK_MS);
  afterAll(() => pulse?.stop(), HOOK_MS);

  test("the operator-admin creates a tenant", async () => {
    expect(await (await admin.fetch("/api/v1/me")).json()).toMatchObject({ platform_role: "operator-admin" });
    const res = await post(admin, "/api/v1/tenants", { id: "initech", name: "Initech", timezone: "America/Chicago" });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ id: "initech", name: "Initech", status: "ACTIVE", timezone: "America/Chicago", suspended_at: null, deleted_at: null });
    // Name and time zone default to the id and UTC.
    expect(await tenantOf(await post(admin, "/api/v1/tenants", { id: "hooli" }))).toMatchObject({ id: "hooli", name: "hooli", timezone: "UTC" });
    const ids = ((await (await admin.fetch("/api/v1/tenants")).json()) as { items: TenantJson[] }).items.map((t) => t.id);
    expect(ids).toEqual(["acme", "globex", "hooli", "initech"]);
  });

  test("bad input is refused with 400 naming the field; a duplicate id is 409", async () => {
    const cases: Array<[unknown, string]> = [
      [{ id: "bad slug!" }, "id"],
      [{ id: "-starts-with-dash" }, "id"],
      [{ id: "x".repeat(65) }, "id"],
      [{ id: "" }, "id"],
      [{ name: "no id" }, "id"],
      [{ id: "umbrella", timezone: "Mars/Olympus_Mons" }, "timezone"],
      [{ id: "umbrella", timezone: "CEST+2" }, "timezone"],
      [{ id: "umbrella", name: "   " }, "name"],
      [{ id: "umbrella", name: "n".repeat(201) }, "name"],
    ];
    for (const [body, field] of cases) {
      const res = await post(admin, "/api/v1/tenants", body);
      const err = ((await res.json()) as { error: { field?: string } }).error;
      expect({ body, status: res.status, field: err?.field }).toEqual({ body, status: 400, field });
    }
    const dup = await post(admin, "/api/v1/tenants", { id: "acme", name: "Acme again" });
    expect(dup.status).toBe(409);
    expect(((await dup.json()) as { error: { field?: string } }).error.field).toBe("id");
    expect(((await (await admin.fetch("/api/v1/tenants/acme")).json()) as TenantJson).name).toBe("Acme Corp");

    const tz = await patch(admin, "/api/v1/tenants/initech", { timezone: "Europe/Atlantis" });
    expect(tz.status).toBe(400);
    expect(((await tz.json()) as { error: { field?: string } }).error.field).toBe("timezone");
    expect((await admin.fetch("/api/v1/tenants/umbrella")).status).toBe(404);
  });

  test("only an operator-admin creates, suspends or deletes tenants", async () => {
    expect((await post(alice, "/api/v1/tenants", { id: "aliceco" })).status).toBe(403);
    expect((await post(alice, "/api/v1/tenants/acme/suspend")).status).toBe(403);
    expect((await alice.send("/api/v1/tenants/acme", { method: "DELETE" })).status).toBe(403);
    expect((await tenantOf(await alice.fetch("/api/v1/tenants/acme"))).status).toBe("ACTIVE");
  });

  test("renaming: the operator-admin any tenant, a tenant-admin only her own", async () => {
    expect(await tenantOf(await patch(admin, "/api/v1/tenants/initech", { name: "Initech Ltd", timezone: "Europe/London" }))).toMatchObject({ name: "Initech Ltd", timezone: "Europe/London" });
    expect(await tenantOf(await patch(alice, "/api/v1/tenants/acme", { name: "Acme Corporation" }))).toMatchObject({ id: "acme", name: "Acme Corporation", timezone: "Europe/Berlin" });
    expect((await patch(alice, "/api/v1/tenants/globex", { name: "Globex (owned)" })).status).toBe(404);
    const bob = await signedIn(pulse.url, "bob", PASSWORDS.bob);
    expect((await patch(bob, "/api/v1/tenants/acme", { name: "Bob's" })).status).toBe(403);
    expect((await tenantOf(await admin.fetch("/api/v1/tenants/globex"))).name).toBe("Globex");
  });

  test("a suspended tenant: its people still sign in but work in no tenant, and its API keys stop", async () => {
    const key = ((await (await post(alice, "/api/v1/api-keys", { name: "acme-sync", role: "customer" })).json()) as { key: string }).key;
    const bobBefore = await signedIn(pulse.url, "bob", PASSWORDS.bob);

    const suspended = await tenantOf(await post(admin, "/api/v1/tenants/acme/suspend"));
    expect(suspended).toMatchObject({ status: "SUSPENDED", suspended_at: clock.now().toISOString() });
    expect((await post(admin, "/api/v1/tenants/acme/suspend")).status).toBe(409);

    const bob = await signedIn(pulse.url, "bob", PASSWORDS.bob);
    expect(await (await bob.fetch("/api/v1/me")).json()).toMatchObject({ kind: "user", tenant_id: null, role: null });
    expect(await (await bobBefore.fetch("/api/v1/me")).json()).toMatchObject({ tenant_id: null, role: null });
    expect((await bob.fetch("/api/v1/api-keys")).status).toBe(403);
    // With no tenant, bob has no role at all.
    expect((await bob.fetch("/api/v1/tenants")).status).toBe(403);
    expect((await withBearer(pulse.url, "/api/v1/me", key)).status).toBe(401);
    expect(await (await alice.fetch("/api/v1/me")).json()).toMatchObject({ tenant_id: null });

    expect(await tenantOf(await post(admin, "/api/v1/tenants/acme/resume"))).toMatchObject({ status: "ACTIVE", suspended_at: null });
    expect((await post(admin, "/api/v1/tenants/acme/resume")).status).toBe(409);
    expect((await withBearer(pulse.url, "/api/v1/me", key)).status).toBe(200);
    // Sessions opened before the suspension work in acme again; a new sign-in lands in acme.
    expect(await (await bobBefore.fetch("/api/v1/me")).json()).toMatchObject({ tenant_id: "acme", role: "customer" });
    expect(await (await (await signedIn(pulse.url, "bob", PASSWORDS.bob)).fetch("/api/v1/me")).json()).toMatchObject({ tenant_id: "acme", role: "customer" });
  });

  test("a deleted tenant is hidden and refused at once, can be restored, and is purged after the grace period", async () => {
    await createUser({ db: pulse.app.db, clock }, platformAdmin, { username: "ivan", email: "ivan@initech.test", password: IVAN_PASSWORD, tenant: { id: "initech", role: "tenant-admin" } });
    const ivan = await signedIn(pulse.url, "ivan", IVAN_PASSWORD);
    expect(await (await ivan.fetch("/api/v1/me")).json()).toMatchObject({ tenant_id: "initech" });

    // Suspended, then deleted: a restore brings it back suspended.
    await tenantOf(await post(admin, "/api/v1/tenants/initech/suspend"));
    const deleted = await tenantOf(await admin.send("/api/v1/tenants/initech", { method: "DELETE" }));
    expect(deleted).toMatchObject({ status: "DELETED", deleted_at: clock.now().toISOString(), purge_after: new Date(clock.now().getTime() + 30 * DAY).toISOString() });
    expect(((await (await admin.fetch("/api/v1/tenants")).json()) as { items: TenantJson[] }).items.map((t) => t.id)).not.toContain("initech");
    expect(((await (await admin.fetch("/api/v1/tenants?include_deleted=true")).json()) as { items: TenantJson[] }).items.map((t) => t.id)).toContain("initech");
    expect(await (await ivan.fetch("/api/v1/me")).json()).toMatchObject({ tenant_id: null });
    expect((await patch(admin, "/api/v1/tenants/initech", { name: "Zombie" })).status).toBe(404);
    expect((await post(admin, "/api/v1/tenants/initech/resume")).status).toBe(409);
    expect((await admin.send("/api/v1/tenants/initech", { method: "DELETE" })).status).toBe(409);

    expect(await tenantOf(await post(admin, "/api/v1/tenants/initech/restore"))).toMatchObject({ status: "SUSPENDED", deleted_at: null, purge_after: null });
    expect((await post(admin, "/api/v1/tenants/initech/restore")).status).toBe(409);
    await tenantOf(await post(admin, "/api/v1/tenants/initech/resume"));
    expect(await (await ivan.fetch("/api/v1/me")).json()).toMatchObject({ tenant_id: "initech" });

    // Deleted for good this time.
    await tenantOf(await admin.send("/api/v1/tenants/initech", { method: "DELETE" }));
    // Every change so far is in the audit log under the tenant, until the purge.
    const trail = await auditOf(admin, "action=tenant.&tenant=initech");
    expect(trail.map((e) => e.action).reverse()).toEqual([
      "tenant.created",
      "tenant.updated",
      "tenant.suspended",
      "tenant.deleted",
      "tenant.restored",
      "tenant.resumed",
      "tenant.deleted",
    ]);
    expect(new Set(trail.map((e) => e.actor_name))).toEqual(new Set(["admin"]));
    expect(new Set(trail.map((e) => e.tenant_id))).toEqual(new Set(["initech"]));
    // Ivan's account and sign-ins are in it too.
    [{ n: initechAuditRows }] = await withSystem(pulse.app.db, (tx) => tx.query<{ n: number }>("select count(*)::int as n from audit_log where tenant_id = 'initech'")) as [{ n: number }];
    expect(initechAuditRows).toBeGreaterThan(trail.length);
    const deps = { db: pulse.app.db, clock };
    clock.advance(30 * DAY - 60_000);
    expect(await purgeTenants(deps)).toEqual([]);
    clock.advance(60_000);
    expect(await purgeTenants(deps)).toEqual(["initech"]);
    expect(await purgeTenants(deps)).toEqual([]);

    const left = await withSystem(pulse.app.db, async (tx) => ({
      tenants: await tx.query("select id from tenants where id = 'initech'"),
      memberships: await tx.query("select user_id from tenant_memberships where tenant_id = 'initech'"),
      ivan: await tx.query<{ status: string }>("select status from users where username = 'ivan'"),
    }));
    expect(left).toEqual({ tenants: [], memberships: [], ivan: [{ status: "ACTIVE" }] });
    const fresh = await signedIn(pulse.url, "admin", PASSWORDS.admin);
    expect((await fresh.fetch("/api/v1/tenants/initech")).status).toBe(404);
    expect(((await (await fresh.fetch("/api/v1/tenants?include_deleted=true")).json()) as { items: TenantJson[] }).items.map((t) => t.id)).toEqual(["acme", "globex", "hooli"]);
  });

  test("the purge takes the tenant's audit trail with it, and is itself on the platform record", async () => {
    const fresh = await signedIn(pulse.url, "admin", PASSWORDS.admin);
    expect(await auditOf(fresh, "tenant=initech")).toEqual([]);
    const [left] = await withSystem(pulse.app.db, (tx) => tx.query<{ n: number }>("select count(*)::int as n from audit_log where tenant_id = 'initech'"));
    expect(left).toEqual({ n: 0 });

    const purged = await auditOf(fresh, "action=tenant.purged");
    expect(purged).toEqual([
      expect.objectContaining({
        tenant_id: null,
        actor_kind: "system",
        actor_name: "system",
        target_kind: "tenant",
        target_id: "initech",
        details: { name: "Initech Ltd", deleted_at: expect.any(String), deleted_by: "admin", audit_entries_removed: initechAuditRows },
      }),
    ]);
    // A platform entry: no tenant-admin sees it, and other tenants' trails are untouched.
    const aliceNow = await signedIn(pulse.url, "alice", PASSWORDS.alice);
    expect(await auditOf(aliceNow, "action=tenant.")).not.toContainEqual(expect.objectContaining({ action: "tenant.purged" }));
    expect((await auditOf(fresh, "tenant=acme")).length).toBeGreaterThan(0);
  });
});
