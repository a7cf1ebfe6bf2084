// Sites through the API: alice (acme's tenant-admin) creates, renames and
// deletes them; bad input is refused naming the field; bob (customer) reads
// but cannot change; a site with devices cannot be deleted. On both
// databases, carol (globex) never sees acme's sites.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { auditOf, castClients, type Clients } from "../devices/fixtures.ts";

// Suites boot whole servers on a busy machine; hooks get the same room as tests.
setDefaultTimeout(120_000);

describe("sites", () => {
  let pulse: TestPulse;
  let c: Clients;

  beforeAll(async () => {
    pulse = await startPulse({ listen: false });
    c = await castClients(pulse.app, await seedCast(pulse.app));
  });
  afterAll(() => pulse?.stop());

  test("alice creates a site; name and time zone default to the id and UTC", async () => {
    const res = await c.alice.post("/api/v1/sites", { id: "berlin-1", name: "Berlin plant", timezone: "Europe/Berlin", lat: 52.52, lng: 13.4, address: "Werkstraße 1" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: "berlin-1", name: "Berlin plant", timezone: "Europe/Berlin", lat: 52.52, lng: 13.4, address: "Werkstraße 1", device_count: 0 });
    expect((await c.alice.post("/api/v1/sites", { id: "cold-room" })).body).toMatchObject({ id: "cold-room", name: "cold-room", timezone: "UTC", lat: null, lng: null, address: null });
    const dup = await c.alice.post("/api/v1/sites", { id: "berlin-1" });
    expect(dup.status).toBe(409);
    expect(dup.body.error.field).toBe("id");
    expect((await auditOf(pulse.app, "site.created")).map((a) => [a.tenant_id, a.target_id])).toEqual([
      ["acme", "berlin-1"],
      ["acme", "cold-room"],
    ]);
  });

  test("bad input is refused with 400 naming the field", async () => {
    const cases: Array<[unknown, string]> = [
      [{ id: "bad id!" }, "id"],
      [{ id: "-dash" }, "id"],
      [{ id: "x".repeat(65) }, "id"],
      [{ name: "no id" }, "id"],
      [{ id: "s1", timezone: "Mars/Olympus_Mons" }, "timezone"],
      [{ id: "s1", name: "  " }, "name"],
      [{ id: "s1", lat: 91, lng: 0 }, "lat"],
      [{ id: "s1", lat: 10, lng: 181 }, "lng"],
      [{ id: "s1", lat: 10 }, "lng"],
      [{ id: "s1", lat: "north", lng: 1 }, "lat"],
      [{ id: "s1", address: "a".repeat(501) }, "address"],
    ];
    for (const [body, field] of cases) {
      const res = await c.alice.post("/api/v1/sites", body);
      expect({ body, status: res.status, field: res.body.error?.field }).toEqual({ body, status: 400, field });
    }
    expect((await c.alice.get("/api/v1/sites/s1")).status).toBe(404);
  });

  test("alice changes a site; null clears position and address", async () => {
    const res = await c.alice.patch("/api/v1/sites/berlin-1", { name: "Berlin North", timezone: "Europe/Paris", lat: null, lng: null, address: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: "berlin-1", name: "Berlin North", timezone: "Europe/Paris", lat: null, lng: null, address: null });
    expect((await c.alice.patch("/api/v1/sites/berlin-1", { timezone: "CEST" })).body.error.field).toBe("timezone");
    expect((await c.alice.patch("/api/v1/sites/nowhere", { name: "x" })).status).toBe(404);
  });

  test("bob reads sites but may not change them", async () => {
    expect((await c.bob.get("/api/v1/sites")).body.items.map((s: { id: string }) => s.id)).toEqual(["berlin-1", "cold-room"]);
    expect((await c.bob.get("/api/v1/sites/cold-room")).status).toBe(200);
    expect((await c.bob.post("/api/v1/sites", { id: "bobs-shed" })).status).toBe(403);
    expect((await c.bob.patch("/api/v1/sites/cold-room", { name: "Bob's" })).status).toBe(403);
    expect((await c.bob.del("/api/v1/sites/cold-room")).status).toBe(403);
  });

  test("the list counts devices and pages by cursor; a site with devices is not deleted (409)", async () => {
    expect((await c.alice.post("/api/v1/devices", { id: "fridge-1", site_id: "cold-room" })).status).toBe(201);
    expect((await c.alice.post("/api/v1/devices", { id: "fridge-2", site_id: "cold-room" })).status).toBe(201);
    const first = await c.alice.get("/api/v1/sites?limit=1");
    expect(first.body.items).toMatchObject([{ id: "berlin-1", device_count: 0 }]);
    const second = await c.alice.get(`/api/v1/sites?limit=1&cursor=${first.body.next_cursor}`);
    expect(second.body.items).toMatchObject([{ id: "cold-room", device_count: 2 }]);
    expect((await c.alice.get("/api/v1/sites?q=north")).body.items.map((s: { id: string }) => s.id)).toEqual(["berlin-1"]);

    const refused = await c.alice.del("/api/v1/sites/cold-room");
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain("2 devices");
    // Decommissioned devices keep their history, and with it their site.
    await c.alice.post("/api/v1/devices/fridge-1/decommission", { reason: "scrapped" });
    expect((await c.alice.del("/api/v1/sites/cold-room")).status).toBe(409);

    expect((await c.alice.del("/api/v1/sites/berlin-1")).status).toBe(204);
    expect((await c.alice.get("/api/v1/sites/berlin-1")).status).toBe(404);
    expect((await auditOf(pulse.app, "site.deleted")).map((a) => a.target_id)).toEqual(["berlin-1"]);
  });
});

for (const kind of dbKinds()) {
  describe(`sites are per tenant on ${kind}`, () => {
    let pulse: TestPulse;
    let c: Clients;

    beforeAll(async () => {
      pulse = await startPulse({ db: kind, listen: false });
      c = await castClients(pulse.app, await seedCast(pulse.app));
      expect((await c.alice.post("/api/v1/sites", { id: "acme-hq", name: "Acme HQ" })).status).toBe(201);
      expect((await c.carol.post("/api/v1/sites", { id: "globex-hq" })).status).toBe(201);
    });
    afterAll(() => pulse?.stop());

    test("carol gets 404 for acme's site by id, for every verb, and never sees it listed", async () => {
      expect((await c.carol.get("/api/v1/sites/acme-hq")).status).toBe(404);
      expect((await c.carol.patch("/api/v1/sites/acme-hq", { name: "Mine now" })).status).toBe(404);
      expect((await c.carol.del("/api/v1/sites/acme-hq")).status).toBe(404);
      expect((await c.carol.get("/api/v1/sites")).body.items.map((s: { id: string }) => s.id)).toEqual(["globex-hq"]);
      expect((await c.alice.get("/api/v1/sites")).body.items.map((s: { id: string }) => s.id)).toEqual(["acme-hq"]);
      expect((await c.alice.get("/api/v1/sites/acme-hq")).body.name).toBe("Acme HQ");
    });

    test("the same site id may exist in both tenants, and a device cannot use the other tenant's site", async () => {
      expect((await c.carol.post("/api/v1/sites", { id: "acme-hq", name: "Globex's own" })).status).toBe(201);
      expect((await c.alice.get("/api/v1/sites/acme-hq")).body.name).toBe("Acme HQ");
      const res = await c.alice.post("/api/v1/devices", { id: "d1", site_id: "globex-hq" });
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe("site_id");
    });
  });
}
