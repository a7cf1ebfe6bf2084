// API keys for acme's scripts: alice makes one (shown once, stored hashed),
// a script uses it as a Bearer credential with the key's tenant and role,
// Pulse notes when it was last used, and it stops working when revoked,
// when it expires, and while acme is suspended. Every change is audited.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { withSystem } from "../../src/db/scope.ts";
import { sha256Hex } from "../../src/lib/ids.ts";
import { signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS, seedCast } from "../helpers/cast.ts";
import { withBearer } from "../helpers/oauth.ts";
import { manualClock, startPulse, type TestPulse } from "../helpers/pulse.ts";

// Hooks do not take bunfig's test timeout; booting Pulse on a busy machine can take longer than 5 s.
const HOOK_MS = 60_000;

interface KeyJson {
  id: string;
  name: string;
  prefix: string;
  role: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  key?: string;
}

describe("API keys", () => {
  let pulse: TestPulse;
  const clock = manualClock("2026-04-01T09:00:00Z");
  let alice: Agent;
  let admin: Agent;
  let exporter: KeyJson & { key: string };

  const create = async (body: Record<string, unknown>) => {
    const res = await alice.send("/api/v1/api-keys", { method: "POST", body: JSON.stringify(body) });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    return (await res.json()) as KeyJson & { key: string };
  };
  const list = async () => ((await (await alice.fetch("/api/v1/api-keys")).json()) as { items: KeyJson[] }).items;
  const me = (key: string) => withBearer(pulse.url, "/api/v1/me", key);

  beforeAll(async () => {
    pulse = await startPulse({ clock });
    await seedCast(pulse.app);
    alice = await signedIn(pulse.url, "alice", PASSWORDS.alice);
    admin = await signedIn(pulse.url, "admin", PASSWORDS.admin);
  }, HOOK_MS);
  afterAll(() => pulse?.stop(), HOOK_MS);

  test("alice creates a key: it is shown once, and only its hash is stored", async () => {
    exporter = await create({ name: "pump-exporter", role: "customer" });
    expect(exporter.key).toMatch(/^pulse_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(exporter.key.startsWith(`pulse_${exporter.prefix}_`)).toBe(true);
    expect(exporter).toMatchObject({ name: "pump-exporter", role: "customer", expires_at: null, last_used_at: null, revoked_at: null });

    const listed = await list();
    expect(listed.map((k) => k.id)).toEqual([exporter.id]);
    expect(listed[0]).not.toHaveProperty("key");
    const secret = exporter.key.split("_").slice(2).join("_");
    expect(JSON.stringify(listed)).not.toContain(secret);

    const [row] = await withSystem(pulse.app.db, (tx) => tx.query<Record<string, unknown>>("select * from api_keys where id = $1", [exporter.id]));
    expect(row!.secret_hash).toBe(sha256Hex(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  test("a script uses the key as a Bearer credential: tenant and role come from the key", async () => {
    const res = await me(exporter.key);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ kind: "apikey", id: exporter.id, name: "pump-exporter", tenant_id: "acme", role: "customer", platform_role: null, via: "apikey", tenants: [] });
    // A customer key is a customer: no administration.
    expect((await withBearer(pulse.url, "/api/v1/users", exporter.key)).status).toBe(403);
    expect((await withBearer(pulse.url, "/api/v1/api-keys", exporter.key, { method: "POST", body: JSON.stringify({ name: "escalate", role: "tenant-admin" }) })).status).toBe(403);

    const adminKey = await create({ name: "acme-provisioning", role: "tenant-admin" });
    const users = await withBearer(pulse.url, "/api/v1/users", adminKey.key);
    expect(users.status).toBe(200);
    expect(((await users.json()) as { items: Array<{ username: string }> }).items.map((u) => u.username).sort()).toEqual(["alice", "bob"]);
  });

  test("the key's last use is recorded", async () => {
    clock.advance(5 * 60_000);
    expect((await me(exporter.key)).status).toBe(200);
    const k = (await list()).find((x) => x.id === exporter.id)!;
    expect(k.last_used_at).toBe(clock.now().toISOString());
  });

  test("a wrong secret behind a real prefix, or a malformed key, is 401", async () => {
    const tampered = exporter.key.slice(0, -1) + (exporter.key.endsWith("A") ? "B" : "A");
    for (const key of [tampered, `pulse_${exporter.prefix}_`, "pulse_nothing", `${exporter.key}x`]) {
      const res = await me(key);
      expect(res.status).toBe(401);
    }
  });

  test("a key of a suspended tenant is refused until the tenant is resumed", async () => {
    expect((await admin.send("/api/v1/tenants/acme/suspend", { method: "POST" })).status).toBe(200);
    const res = await me(exporter.key);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("API key");
    expect((await admin.send("/api/v1/tenants/acme/resume", { method: "POST" })).status).toBe(200);
    expect((await me(exporter.key)).status).toBe(200);
  });

  test("a revoked key is refused at once", async () => {
    const res = await alice.send(`/api/v1/api-keys/${exporter.id}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as KeyJson).revoked_at).toBe(clock.now().toISOString());
    expect((await me(exporter.key)).status).toBe(401);
    expect((await alice.send("/api/v1/api-keys/not-a-key-id", { method: "DELETE" })).status).toBe(404);
  });

  test("creation and revocation are in acme's audit log, without the secret", async () => {
    const log = (await (await alice.fetch("/api/v1/audit-log?action=apikey.")).json()) as { items: Array<{ action: string; actor_name: string; target_id: string; tenant_id: string; details: Record<string, unknown> }> };
    expect(log.items.map((e) => [e.action, e.target_id])).toEqual(
      expect.arrayContaining([
        ["apikey.created", exporter.id],
        ["apikey.revoked", exporter.id],
      ]),
    );
    for (const e of log.items) expect(e).toMatchObject({ actor_name: "alice", tenant_id: "acme" });
    expect(log.items.find((e) => e.action === "apikey.created" && e.target_id === exporter.id)?.details).toEqual({ name: "pump-exporter", role: "customer", prefix: exporter.prefix });
    expect(JSON.stringify(log)).not.toContain(exporter.key.split("_").slice(2).join("_"));
  });

  test("an expired key is refused", async () => {
    const shortLived = await create({ name: "one-day", role: "customer", expires_in_days: 1 });
    expect(shortLived.expires_at).toBe(new Date(clock.now().getTime() + 86_400_000).toISOString());
    expect((await me(shortLived.key)).status).toBe(200);
    clock.advance(86_400_000 - 1000);
    expect((await me(shortLived.key)).status).toBe(200);
    clock.advance(1000);
    expect((await me(shortLived.key)).status).toBe(401);
  });
});
