// Tenants never see each other's devices, on both databases: carol (globex)
// gets 404 for every acme device by id, whatever the verb, and never finds
// them in lists, counts, searches or imports; the same device id lives in
// both tenants independently. Underneath, the registry tables are under
// forced row-level security.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { withTenant } from "../../src/db/scope.ts";
import { seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { castClients, ingest, type Clients } from "./fixtures.ts";

// Suites boot whole servers on a busy machine; hooks get the same room as tests.
setDefaultTimeout(120_000);

const REGISTRY_TABLES = ["sites", "devices", "device_tokens", "activation_codes", "device_state", "device_events"];

for (const kind of dbKinds()) {
  describe(`devices are per tenant on ${kind}`, () => {
    let pulse: TestPulse;
    let c: Clients;
    let acmeToken: string;
    let tokenId: string;

    beforeAll(async () => {
      pulse = await startPulse({ db: kind });
      c = await castClients(pulse.app, await seedCast(pulse.app));
      await c.alice.post("/api/v1/sites", { id: "acme-lab" });
      await c.carol.post("/api/v1/sites", { id: "globex-lab" });
      acmeToken = (await c.alice.post("/api/v1/devices", { id: "acme-pump", name: "Secret pump", site_id: "acme-lab", serial: "ACME-SN-1", tags: { owner: "acme" } })).body.provision_token;
      await c.alice.post("/api/v1/devices", { id: "shared-id", name: "Acme's", site_id: "acme-lab" });
      expect((await c.carol.post("/api/v1/devices", { id: "shared-id", name: "Globex's", site_id: "globex-lab" })).status).toBe(201);
      tokenId = (await c.alice.get("/api/v1/devices/acme-pump/tokens")).body.items[0].id;
    });
    afterAll(() => pulse?.stop());

    test("carol gets 404 for acme's device by id, for every verb", async () => {
      const attempts = [
        await c.carol.get("/api/v1/devices/acme-pump"),
        await c.carol.patch("/api/v1/devices/acme-pump", { name: "Mine" }),
        await c.carol.post("/api/v1/devices/acme-pump/decommission", { reason: "hostile" }),
        await c.carol.post("/api/v1/devices/acme-pump/recommission"),
        await c.carol.get("/api/v1/devices/acme-pump/events"),
        await c.carol.get("/api/v1/devices/acme-pump/tokens"),
        await c.carol.post("/api/v1/devices/acme-pump/tokens/rotate"),
        await c.carol.del(`/api/v1/devices/acme-pump/tokens/${tokenId}`),
      ];
      expect(attempts.map((r) => r.status)).toEqual(attempts.map(() => 404));
      for (const r of attempts) expect(JSON.stringify(r.body)).not.toContain("Secret pump");
      // Nothing happened to it.
      expect((await c.alice.get("/api/v1/devices/acme-pump")).body).toMatchObject({ name: "Secret pump", status: "ACTIVE" });
      expect((await ingest(pulse.url, "acme", "acme-pump", acmeToken)).status).toBe(202);
    });

    test("carol never sees acme's devices in lists, counts, filters or searches", async () => {
      for (const q of ["", "q=secret", "q=ACME-SN", "tag=owner=acme", "site_id=acme-lab", "status=ACTIVE", "sort=last_seen_at&order=desc"]) {
        const body = (await c.carol.get(`/api/v1/devices?${q}`)).body;
        expect({ q, ids: body.items.map((d: { id: string }) => d.id) }).toEqual({ q, ids: q.includes("acme") || q.includes("secret") || q.includes("ACME") ? [] : ["shared-id"] });
      }
      expect((await c.carol.get("/api/v1/devices")).body.total).toBe(1);
      expect((await c.carol.get("/api/v1/devices/shared-id")).body.name).toBe("Globex's");
      expect((await c.alice.get("/api/v1/devices/shared-id")).body.name).toBe("Acme's");
      expect((await c.alice.get("/api/v1/devices")).body.total).toBe(2);
    });

    test("carol cannot place devices in acme's site, by API or import", async () => {
      expect((await c.carol.post("/api/v1/devices", { id: "spy", site_id: "acme-lab" })).body.error.field).toBe("site_id");
      const report = (await c.carol.post("/api/v1/devices/import", "device_id,site_id,parent_device_id\nspy,acme-lab,\nspy2,globex-lab,acme-pump\n", { "content-type": "text/csv" })).body;
      expect(report.ok).toBe(false);
      expect(report.rows.map((r: { errors: string[] }) => r.errors)).toEqual([["site_id: no site acme-lab in this tenant; create it first"], ["parent_device_id: no device acme-pump in this tenant or this file"]]);
    });

    test("the registry tables are under forced row-level security; a globex scope sees no acme rows", async () => {
      const rows = await pulse.app.db.query<{ relname: string; on: boolean; forced: boolean }>(
        "select relname, relrowsecurity as on, relforcerowsecurity as forced from pg_class where relname = any($1::text[]) and relkind in ('r', 'p') order by relname",
        [REGISTRY_TABLES],
      );
      expect(rows).toEqual([...REGISTRY_TABLES].sort().map((relname) => ({ relname, on: true, forced: true })));
      await withTenant(pulse.app.db, { tenantId: "globex" }, async (tx) => {
        for (const table of REGISTRY_TABLES) {
          const [r] = await tx.query<{ n: number }>(`select count(*)::int as n from ${table} where tenant_id = 'acme'`);
          expect({ table, n: r!.n }).toEqual({ table, n: 0 });
        }
      });
    });
  });
}
