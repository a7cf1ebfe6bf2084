// The provisioning API of PROTOCOL.md, end to end over real sockets: off
// (404) without an admin key; with one, factory tooling registers a device
// (PENDING; unknown sites created on the fly), the device trades its
// one-time activation code for a provision token (ACTIVE) and sends
// telemetry with it. Codes work once and expire; existing ids are 409; the
// device limit holds; every call is audited as "provisioning". With
// provisioning.listen the API is served on its own listener only.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { updateTenantDetails } from "../../src/tenants/service.ts";
import { platformAdmin, seedCast } from "../helpers/cast.ts";
import { manualClock, startPulse, type TestPulse } from "../helpers/pulse.ts";
import { auditOf, castClients, ingest, type Clients } from "./fixtures.ts";

// Suites boot whole servers on a busy machine; hooks get the same room as tests.
setDefaultTimeout(120_000);

const ADMIN_KEY = "factory-admin-key-0123456789abcdef";

async function call(base: string, path: string, body: unknown, key?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { "X-Admin-Key": key } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

describe("provisioning API without an admin key", () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startPulse();
    await seedCast(pulse.app);
  });
  afterAll(() => pulse?.stop());

  test("is off: every route answers 404 and nothing is created", async () => {
    expect((await call(pulse.url, "/api/admin/devices", { tenant_id: "acme", device_id: "d1", site_id: "s1" }, "anything-at-all-anything-at-all")).status).toBe(404);
    expect((await call(pulse.url, "/api/admin/devices/d1/activate-code", { tenant_id: "acme" }, "x")).status).toBe(404);
    expect((await call(pulse.url, "/api/device/activate", { tenant_id: "acme", device_id: "d1", activation_code: "x" })).status).toBe(404);
  });
});

describe("provisioning API on the HTTP port", () => {
  let pulse: TestPulse;
  let c: Clients;
  const clock = manualClock("2026-03-01T08:00:00Z");
  const admin = (path: string, body: unknown, key = ADMIN_KEY) => call(pulse.url, path, body, key);
  const activate = (body: unknown) => call(pulse.url, "/api/device/activate", body);

  beforeAll(async () => {
    pulse = await startPulse({ clock, config: { "provisioning.admin_key": ADMIN_KEY } });
    c = await castClients(pulse.app, await seedCast(pulse.app));
  });
  afterAll(() => pulse?.stop());

  test("a missing or wrong admin key is 401, also with an Authorization header, and audited", async () => {
    const body = { tenant_id: "acme", device_id: "f-1", site_id: "factory-9" };
    expect((await admin("/api/admin/devices", body, "")).status).toBe(401);
    const wrong = await admin("/api/admin/devices", body, ADMIN_KEY.slice(0, -1) + "X");
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("unauthorized");
    const res = await fetch(`${pulse.url}/api/admin/devices`, { method: "POST", headers: { authorization: "Basic Zm9vOmJhcg==", "X-Admin-Key": "nope" }, body: JSON.stringify(body) });
    expect(res.status).toBe(401);
    expect((await c.alice.get("/api/v1/devices/f-1")).status).toBe(404);
    const refusals = await auditOf(pulse.app, "provisioning.refused");
    expect(refusals.length).toBe(3);
    expect(refusals[0]).toMatchObject({ tenant_id: null, actor_name: "provisioning", details: { status: 401, claimed_tenant: null } });
  });

  test("create → PENDING with its site created on the fly → activate → ACTIVE, and the token works for real ingest", async () => {
    const created = await admin("/api/admin/devices", { tenant_id: "acme", device_id: "f-1", site_id: "factory-9" });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(["activation_code", "device_id", "expires_at"]);
    expect(created.body).toMatchObject({ device_id: "f-1", expires_at: new Date(clock.now().getTime() + 24 * 3_600_000).toISOString() });
    const code: string = created.body.activation_code;
    expect(code.length).toBeGreaterThanOrEqual(22);

    expect((await c.alice.get("/api/v1/devices/f-1")).body).toMatchObject({ status: "PENDING", site_id: "factory-9" });
    expect((await c.alice.get("/api/v1/sites/factory-9")).body).toMatchObject({ id: "factory-9", name: "factory-9", timezone: "UTC" });
    expect((await c.alice.get("/api/v1/devices/f-1/tokens")).body.items).toEqual([]);

    const wrong = await activate({ tenant_id: "acme", device_id: "f-1", activation_code: "not-the-code" });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.field).toBe("activation_code");
    expect((await activate({ tenant_id: "acme", device_id: "other", activation_code: code })).status).toBe(401);
    expect((await activate({ tenant_id: "globex", device_id: "f-1", activation_code: code })).status).toBe(401);

    const activated = await activate({ tenant_id: "acme", device_id: "f-1", activation_code: code });
    expect(activated.status).toBe(200);
    const token: string = activated.body.provision_token;
    expect(Buffer.from(token, "base64url").length).toBe(32);
    expect((await c.alice.get("/api/v1/devices/f-1")).body.status).toBe("ACTIVE");
    expect(await ingest(pulse.url, "acme", "f-1", token)).toEqual({ status: 202, reason: undefined });

    const reused = await activate({ tenant_id: "acme", device_id: "f-1", activation_code: code });
    expect(reused.status).toBe(401);
    expect(reused.body.error.message).toContain("already used");

    // Lifecycle events only: the background connectivity sweep may add STATUS_CHANGED once the device has sent something.
    const actions = (await c.alice.get("/api/v1/devices/f-1/events")).body.items
      .filter((e: { kind: string }) => e.kind !== "STATUS_CHANGED")
      .map((e: { kind: string; details: { by: string } }) => [e.kind, e.details.by]);
    expect(actions).toEqual([
      ["activated", "provisioning"],
      ["created", "provisioning"],
    ]);
    for (const action of ["device.created", "device.activation_code_issued", "device.activated"]) {
      expect((await auditOf(pulse.app, action)).filter((a) => a.target_id === "f-1").map((a) => [a.tenant_id, a.actor_name])).toEqual([["acme", "provisioning"]]);
    }
  });

  test("a fresh code replaces the old one; a code expires after 24 hours", async () => {
    await admin("/api/admin/devices", { tenant_id: "acme", device_id: "f-2", site_id: "factory-9" });
    const first = await admin("/api/admin/devices/f-2/activate-code", { tenant_id: "acme" });
    expect(first.status).toBe(200);
    const second = await admin("/api/admin/devices/f-2/activate-code", { tenant_id: "acme" });
    expect((await activate({ tenant_id: "acme", device_id: "f-2", activation_code: first.body.activation_code })).status).toBe(401);

    clock.advance(24 * 3_600_000 + 1000);
    const expired = await activate({ tenant_id: "acme", device_id: "f-2", activation_code: second.body.activation_code });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toContain("expired");
    expect((await c.alice.get("/api/v1/devices/f-2")).body.status).toBe("PENDING");

    const third = await admin("/api/admin/devices/f-2/activate-code", { tenant_id: "acme" });
    expect((await activate({ tenant_id: "acme", device_id: "f-2", activation_code: third.body.activation_code })).status).toBe(200);
  });

  test("re-activating an ACTIVE device replaces its tokens", async () => {
    const fresh = await admin("/api/admin/devices/f-1/activate-code", { tenant_id: "acme" });
    const old = (await c.alice.get("/api/v1/devices/f-1/tokens")).body.items;
    const token = (await activate({ tenant_id: "acme", device_id: "f-1", activation_code: fresh.body.activation_code })).body.provision_token;
    expect((await ingest(pulse.url, "acme", "f-1", token)).status).toBe(202);
    const after = (await c.alice.get("/api/v1/devices/f-1/tokens")).body.items;
    expect(after.filter((t: { active: boolean }) => t.active).length).toBe(1);
    expect(after.find((t: { id: string }) => t.id === old[0].id).active).toBe(false);
  });

  test("an existing device id is 409, an unknown tenant 404, bad input 400 naming the field", async () => {
    const dup = await admin("/api/admin/devices", { tenant_id: "acme", device_id: "f-1", site_id: "elsewhere" });
    expect(dup.status).toBe(409);
    expect(dup.body.error.field).toBe("device_id");
    expect((await c.alice.get("/api/v1/sites/elsewhere")).status).toBe(404);
    expect((await admin("/api/admin/devices", { tenant_id: "nosuch", device_id: "f-9", site_id: "s" })).status).toBe(404);
    expect((await admin("/api/admin/devices/nosuch/activate-code", { tenant_id: "acme" })).status).toBe(404);
    for (const [body, field] of [
      [{ device_id: "f-9", site_id: "s" }, "tenant_id"],
      [{ tenant_id: "acme", device_id: "bad id", site_id: "s" }, "device_id"],
      [{ tenant_id: "acme", device_id: "f-9", site_id: "bad site!" }, "site_id"],
      ["not json", "body"],
    ] as const) {
      const res = await admin("/api/admin/devices", body);
      expect({ body, status: res.status, field: res.body.error.field }).toEqual({ body, status: 400, field });
    }
    // The same device id in another tenant is a different device.
    expect((await admin("/api/admin/devices", { tenant_id: "globex", device_id: "f-1", site_id: "plant" })).status).toBe(201);
    expect((await c.carol.get("/api/v1/devices/f-1")).body.status).toBe("PENDING");
  });

  test("the device limit holds, counting devices still pending", async () => {
    const live = (await c.alice.get("/api/v1/devices")).body.total;
    await updateTenantDetails({ db: pulse.app.db, clock }, platformAdmin, "acme", { deviceLimit: live });
    const res = await admin("/api/admin/devices", { tenant_id: "acme", device_id: "f-3", site_id: "factory-9" });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("DEVICE_LIMIT");
    await updateTenantDetails({ db: pulse.app.db, clock }, platformAdmin, "acme", { deviceLimit: null });
    expect((await admin("/api/admin/devices", { tenant_id: "acme", device_id: "f-3", site_id: "factory-9" })).status).toBe(201);
  });

  test("a decommissioned device gets no code; its unused codes stop working", async () => {
    const code = (await admin("/api/admin/devices/f-3/activate-code", { tenant_id: "acme" })).body.activation_code;
    await c.alice.post("/api/v1/devices/f-3/decommission", { reason: "lost in transit" });
    expect((await activate({ tenant_id: "acme", device_id: "f-3", activation_code: code })).status).toBe(401);
    expect((await admin("/api/admin/devices/f-3/activate-code", { tenant_id: "acme" })).status).toBe(409);
  });
});

describe("provisioning API on a listener of its own", () => {
  let pulse: TestPulse;
  let c: Clients;
  let own: string;

  beforeAll(async () => {
    pulse = await startPulse({ config: { "provisioning.admin_key": ADMIN_KEY, "provisioning.listen": "127.0.0.1:0" } });
    c = await castClients(pulse.app, await seedCast(pulse.app));
    expect(pulse.app.ports.provisioning).toBeGreaterThan(0);
    expect(pulse.app.ports.provisioning).not.toBe(pulse.app.ports.http);
    own = `http://127.0.0.1:${pulse.app.ports.provisioning}`;
  });
  afterAll(() => pulse?.stop());

  test("serves the API there and not on the HTTP port", async () => {
    const body = { tenant_id: "acme", device_id: "side-1", site_id: "dock" };
    const onMain = await call(pulse.url, "/api/admin/devices", body, ADMIN_KEY);
    expect(onMain.status).toBe(404);
    expect((await call(pulse.url, "/api/device/activate", { tenant_id: "acme", device_id: "side-1", activation_code: "x" })).status).toBe(404);

    const created = await call(own, "/api/admin/devices", body, ADMIN_KEY);
    expect(created.status).toBe(201);
    const token = (await call(own, "/api/device/activate", { tenant_id: "acme", device_id: "side-1", activation_code: created.body.activation_code })).body.provision_token;
    expect(await ingest(pulse.url, "acme", "side-1", token)).toEqual({ status: 202, reason: undefined });
    expect((await call(own, "/api/admin/devices", body, "wrong-key-wrong-key-wrong-key")).status).toBe(401);

    // Nothing else is served there.
    expect((await fetch(`${own}/api/v1/devices`)).status).toBe(404);
    expect((await fetch(`${own}/ingest/v1/batch`, { method: "POST", body: "{}" })).status).toBe(404);
    expect((await c.alice.get("/api/v1/devices/side-1")).body.status).toBe("ACTIVE");
  });
});
