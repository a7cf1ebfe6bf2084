// The device registry through the API: alice registers devices (each with
// its first provision token, once), changes them, lists them with filters,
// sorting and pages; bad input names its field; parents must exist and never
// form a cycle; the tenant's device limit refuses with DEVICE_LIMIT; bob
// (customer) reads but changes nothing. Tenant device settings are the
// operator-admin's (limit) and the tenant-admin's (default heartbeat).

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { withSystem } from "../../src/db/scope.ts";
import { sha256Hex } from "../../src/lib/ids.ts";
import { updateTenantDetails } from "../../src/tenants/service.ts";
import { seedCast, platformAdmin, PASSWORDS } from "../helpers/cast.ts";
import { signedIn } from "../helpers/agent.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { auditOf, castClients, type Clients } from "./fixtures.ts";

// Suites boot whole servers on a busy machine; hooks get the same room as tests.
setDefaultTimeout(120_000);

const ids = (items: Array<{ id: string }>) => items.map((d) => d.id);

describe("devices", () => {
  let pulse: TestPulse;
  let c: Clients;

  beforeAll(async () => {
    pulse = await startPulse();
    c = await castClients(pulse.app, await seedCast(pulse.app));
    for (const id of ["lab-1", "lab-2"]) expect((await c.alice.post("/api/v1/sites", { id })).status).toBe(201);
  });
  afterAll(() => pulse?.stop());

  test("alice registers a device: its token is in the answer once, and only its sha256 is stored", async () => {
    const res = await c.alice.post("/api/v1/devices", {
      id: "pump-1",
      name: "Pump 1",
      site_id: "lab-1",
      tags: { zone: "cold", line: 3 },
      heartbeat_seconds: 30,
      model: "P-200",
      serial: "SN-0001",
      lat: 52.5,
      lng: 13.4,
      metadata: { firmware: "1.2.3" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body).toMatchObject({
      id: "pump-1",
      name: "Pump 1",
      site_id: "lab-1",
      status: "ACTIVE",
      tags: { zone: "cold", line: "3" },
      heartbeat_seconds: 30,
      effective_heartbeat_seconds: 30,
      model: "P-200",
      serial: "SN-0001",
      metadata: { firmware: "1.2.3" },
      connectivity: "OFFLINE",
      last_seen_at: null,
      decommissioned_at: null,
    });
    const token: string = res.body.provision_token;
    expect(Buffer.from(token, "base64url").length).toBe(32);
    const stored = await withSystem(pulse.app.db, (tx) => tx.query<{ token_hash: string }>("select token_hash from device_tokens where device_id = 'pump-1'"));
    expect(stored).toEqual([{ token_hash: sha256Hex(token) }]);

    const got = await c.alice.get("/api/v1/devices/pump-1");
    expect(got.body).not.toHaveProperty("provision_token");
    expect(JSON.stringify(got.body)).not.toContain(token);
    const tokens = await c.alice.get("/api/v1/devices/pump-1/tokens");
    expect(tokens.body.items).toMatchObject([{ active: true, expires_at: null, revoked_at: null, last_used_at: null }]);
    expect(JSON.stringify(tokens.body)).not.toContain(stored[0]!.token_hash);

    // Defaults: the name is the id, the heartbeat the tenant's.
    const plain = await c.alice.post("/api/v1/devices", { id: "pump-2", site_id: "lab-1" });
    expect(plain.body).toMatchObject({ name: "pump-2", tags: {}, heartbeat_seconds: null, effective_heartbeat_seconds: 60, parent_device_id: null });
    expect((await auditOf(pulse.app, "device.created")).map((a) => [a.tenant_id, a.target_id, a.actor_name])).toEqual([
      ["acme", "pump-1", "alice"],
      ["acme", "pump-2", "alice"],
    ]);
  });

  test("bad input is refused with 400 naming the field; an existing id is 409", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ id: "bad id", site_id: "lab-1" }, "id"],
      [{ id: "x".repeat(65), site_id: "lab-1" }, "id"],
      [{ site_id: "lab-1" }, "id"],
      [{ id: "d9" }, "site_id"],
      [{ id: "d9", site_id: "no-such-site" }, "site_id"],
      [{ id: "d9", site_id: "lab-1", heartbeat_seconds: 2 }, "heartbeat_seconds"],
      [{ id: "d9", site_id: "lab-1", heartbeat_seconds: 86_401 }, "heartbeat_seconds"],
      [{ id: "d9", site_id: "lab-1", heartbeat_seconds: 1.5 }, "heartbeat_seconds"],
      [{ id: "d9", site_id: "lab-1", tags: { "bad key": "v" } }, "tags.bad key"],
      [{ id: "d9", site_id: "lab-1", tags: { k: "v".repeat(201) } }, "tags.k"],
      [{ id: "d9", site_id: "lab-1", tags: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])) }, "tags"],
      [{ id: "d9", site_id: "lab-1", lat: 100, lng: 0 }, "lat"],
      [{ id: "d9", site_id: "lab-1", lng: 10 }, "lat"],
      [{ id: "d9", site_id: "lab-1", parent_device_id: "ghost" }, "parent_device_id"],
      [{ id: "d9", site_id: "lab-1", parent_device_id: "d9" }, "parent_device_id"],
      [{ id: "d9", site_id: "lab-1", model: "m".repeat(201) }, "model"],
      [{ id: "d9", site_id: "lab-1", metadata: { blob: "x".repeat(9000) } }, "metadata"],
      [{ id: "d9", site_id: "lab-1", name: "   " }, "name"],
    ];
    for (const [body, field] of cases) {
      const res = await c.alice.post("/api/v1/devices", body);
      expect({ body: Object.keys(body), status: res.status, field: res.body.error?.field }).toEqual({ body: Object.keys(body), status: 400, field });
    }
    expect((await c.alice.get("/api/v1/devices/d9")).status).toBe(404);
    const dup = await c.alice.post("/api/v1/devices", { id: "pump-1", site_id: "lab-2" });
    expect(dup.status).toBe(409);
    expect(dup.body.error.field).toBe("id");
  });

  test("alice changes a device; parents must exist in the tenant and never form a cycle", async () => {
    const res = await c.alice.patch("/api/v1/devices/pump-2", { name: "Pump two", site_id: "lab-2", tags: { zone: "warm" }, heartbeat_seconds: 120, serial: "SN-0002", parent_device_id: "pump-1" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: "Pump two", site_id: "lab-2", tags: { zone: "warm" }, heartbeat_seconds: 120, effective_heartbeat_seconds: 120, serial: "SN-0002", parent_device_id: "pump-1" });
    expect((await c.alice.post("/api/v1/devices", { id: "valve-3", site_id: "lab-1", parent_device_id: "pump-2" })).status).toBe(201);

    for (const [id, parent] of [
      ["pump-1", "pump-1"],
      ["pump-1", "pump-2"],
      ["pump-1", "valve-3"],
    ]) {
      const cycle = await c.alice.patch(`/api/v1/devices/${id}`, { parent_device_id: parent });
      expect({ parent, status: cycle.status, field: cycle.body.error?.field }).toEqual({ parent, status: 400, field: "parent_device_id" });
    }
    expect((await c.alice.patch("/api/v1/devices/pump-2", { site_id: "mars" })).body.error.field).toBe("site_id");
    expect((await c.alice.patch("/api/v1/devices/pump-2", { heartbeat_seconds: 1 })).body.error.field).toBe("heartbeat_seconds");
    // null puts things back to their defaults.
    const cleared = await c.alice.patch("/api/v1/devices/valve-3", { parent_device_id: null, heartbeat_seconds: null, lat: 1, lng: 2 });
    expect(cleared.body).toMatchObject({ parent_device_id: null, heartbeat_seconds: null, effective_heartbeat_seconds: 60, lat: 1, lng: 2 });
    expect((await c.alice.patch("/api/v1/devices/ghost", { name: "x" })).status).toBe(404);
    const events = await c.alice.get("/api/v1/devices/pump-2/events");
    expect(events.body.items.map((e: { kind: string }) => e.kind)).toEqual(["updated", "created"]);
    expect(events.body.items[0].details).toMatchObject({ by: "alice" });
  });

  test("the list filters by status, connectivity, site, tags and text; sorts; pages by cursor or offset", async () => {
    for (let i = 0; i < 7; i++) {
      await c.alice.post("/api/v1/devices", { id: `sensor-${i}`, name: `Sensor ${String.fromCharCode(71 - i)}`, site_id: i % 2 ? "lab-1" : "lab-2", tags: { kind: "sensor", floor: String(i % 3) }, serial: `SER-${i}` });
    }
    await c.alice.post("/api/v1/devices/sensor-6/decommission", { reason: "test" });
    const list = async (q: string) => (await c.alice.get(`/api/v1/devices?${q}`)).body;

    expect((await list("")).total).toBe(10);
    expect(ids((await list("status=REVOKED")).items)).toEqual(["sensor-6"]);
    expect(ids((await list("site_id=lab-2&tag=kind=sensor")).items)).toEqual(["sensor-0", "sensor-2", "sensor-4", "sensor-6"]);
    expect(ids((await list("tag=kind=sensor&tag=floor=1")).items)).toEqual(["sensor-1", "sensor-4"]);
    expect(ids((await list("tag=line")).items)).toEqual(["pump-1"]);
    expect(ids((await list("q=ser-5")).items)).toEqual(["sensor-5"]);
    expect(ids((await list("q=pump%20two")).items)).toEqual(["pump-2"]);
    expect((await list("connectivity=ONLINE")).total).toBe(0);
    expect((await list("connectivity=OFFLINE")).total).toBe(10);
    expect(ids((await list("tag=kind=sensor&sort=name")).items)).toEqual(["sensor-6", "sensor-5", "sensor-4", "sensor-3", "sensor-2", "sensor-1", "sensor-0"]);

    // Cursor pages in descending id order add up to the whole list, without repeats.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Array<{ id: string }>; next_cursor: string | null } = await list(`sort=id&order=desc&limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...ids(page.items));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(ids((await list("limit=100")).items).reverse());
    expect(ids((await list("limit=2&offset=2")).items)).toEqual(seen.slice().reverse().slice(2, 4));

    const first = await list("sort=name&limit=2");
    const mixed = await c.alice.get(`/api/v1/devices?sort=id&cursor=${first.next_cursor}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.field).toBe("cursor");
    expect((await c.alice.get("/api/v1/devices?sort=colour")).body.error.field).toBe("sort");
    expect((await c.alice.get("/api/v1/devices?status=GONE")).body.error.field).toBe("status");
  });

  test("the list shows each device's latest state once it has sent something, sorted by last seen", async () => {
    const token = (await c.alice.post("/api/v1/devices", { id: "chatty", site_id: "lab-1" })).body.provision_token;
    const sent = await fetch(`${pulse.url}/ingest/v1/tenant/acme/device/chatty/telemetry`, { method: "POST", headers: { "X-Provision-Token": token }, body: JSON.stringify({ metrics: { temp_c: 4.5 } }) });
    expect(sent.status).toBe(202);
    const d = (await c.alice.get("/api/v1/devices/chatty")).body;
    expect(d).toMatchObject({ last_metrics: { temp_c: 4.5 }, messages: 1 });
    expect(d.last_seen_at).not.toBeNull();
    expect(ids((await c.alice.get("/api/v1/devices?sort=last_seen_at&order=desc&limit=1")).body.items)).toEqual(["chatty"]);
  });

  test("bob (customer) reads devices, their tokens and events, but changes nothing", async () => {
    const bob = await signedIn(pulse.url, "bob", PASSWORDS.bob);
    expect((await bob.fetch("/api/v1/devices/pump-1")).status).toBe(200);
    expect((await c.bob.get("/api/v1/devices")).body.total).toBe(11);
    expect((await c.bob.get("/api/v1/devices/pump-1/tokens")).status).toBe(200);
    expect((await c.bob.get("/api/v1/devices/pump-1/events")).status).toBe(200);
    const refused = [
      await bob.send("/api/v1/devices", { method: "POST", body: JSON.stringify({ id: "bobs", site_id: "lab-1" }) }),
      await bob.send("/api/v1/devices/pump-1/decommission", { method: "POST", body: "{}" }),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403]);
    for (const res of [
      await c.bob.post("/api/v1/devices", { id: "bobs", site_id: "lab-1" }),
      await c.bob.patch("/api/v1/devices/pump-1", { name: "Bob's pump" }),
      await c.bob.post("/api/v1/devices/pump-1/decommission"),
      await c.bob.post("/api/v1/devices/sensor-6/recommission"),
      await c.bob.post("/api/v1/devices/pump-1/tokens/rotate"),
      await c.bob.post("/api/v1/devices/import", "device_id,site_id\nbobs,lab-1\n", { "content-type": "text/csv" }),
    ]) {
      expect(res.status).toBe(403);
    }
    expect((await c.alice.get("/api/v1/devices/pump-1")).body).toMatchObject({ name: "Pump 1", status: "ACTIVE" });
    expect((await c.alice.get("/api/v1/devices/bobs")).status).toBe(404);
  });

  test("the device limit: set by an operator-admin only; creation past it is refused with DEVICE_LIMIT", async () => {
    const live = (await c.alice.get("/api/v1/devices")).body.total - (await c.alice.get("/api/v1/devices?status=REVOKED")).body.total;
    // alice may set the default heartbeat of her tenant, not its device limit.
    expect((await c.alice.patch("/api/v1/tenants/acme", { heartbeat_seconds: 30 })).body).toMatchObject({ heartbeat_seconds: 30, device_limit: null });
    expect((await c.alice.patch("/api/v1/tenants/acme", { heartbeat_seconds: 3 })).body.error.field).toBe("heartbeat_seconds");
    expect((await c.alice.patch("/api/v1/tenants/acme", { device_limit: 1000 })).status).toBe(403);
    expect((await c.alice.get("/api/v1/devices/pump-2")).body.effective_heartbeat_seconds).toBe(120);
    expect((await c.alice.get("/api/v1/devices/valve-3")).body.effective_heartbeat_seconds).toBe(30);

    const admin = await signedIn(pulse.url, "admin", PASSWORDS.admin);
    const set = await admin.send("/api/v1/tenants/acme", { method: "PATCH", body: JSON.stringify({ device_limit: live + 1 }) });
    expect(await set.json()).toMatchObject({ device_limit: live + 1 });
    const bad = await admin.send("/api/v1/tenants/acme", { method: "PATCH", body: JSON.stringify({ device_limit: -1 }) });
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("device_limit");

    expect((await c.alice.post("/api/v1/devices", { id: "last-one", site_id: "lab-1" })).status).toBe(201);
    const over = await c.alice.post("/api/v1/devices", { id: "one-too-many", site_id: "lab-1" });
    expect(over.status).toBe(403);
    expect(over.body.error).toMatchObject({ code: "DEVICE_LIMIT", field: "device_limit" });
    // Decommissioned devices do not count; bringing one back does.
    expect((await c.alice.post("/api/v1/devices/sensor-6/recommission")).body.error.code).toBe("DEVICE_LIMIT");
    await c.alice.post("/api/v1/devices/last-one/decommission");
    expect((await c.alice.post("/api/v1/devices", { id: "one-too-many", site_id: "lab-1" })).status).toBe(201);
    await updateTenantDetails({ db: pulse.app.db, clock: pulse.app.clock }, platformAdmin, "acme", { deviceLimit: null });
    expect((await c.alice.post("/api/v1/devices/sensor-6/recommission")).status).toBe(200);
  });

  test("the OpenAPI document describes the device and site routes", async () => {
    const doc = (await (await pulse.request("/api/v1/openapi.json")).json()) as { paths: Record<string, unknown> };
    for (const p of ["/devices", "/devices/{id}", "/devices/{id}/decommission", "/devices/{id}/recommission", "/devices/{id}/tokens/rotate", "/devices/{id}/events", "/devices/import", "/sites", "/sites/{id}"]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });
});
