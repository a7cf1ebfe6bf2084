// A device's credentials over its life, checked with real HTTP ingest on
// both databases: decommissioning revokes everything (ingest answers 403
// DEVICE_REVOKED) and is audited with who and why; recommissioning needs and
// gives a new token; rotation with an overlap keeps both tokens working until
// it ends (a manual clock moves time), without one the old token fails at
// once with TOKEN_INVALID; one token can be revoked alone.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { manualClock, startPulse, type TestPulse } from "../helpers/pulse.ts";
import { auditOf, castClients, ingest, type Clients } from "./fixtures.ts";

// Suites boot whole servers on a busy machine; hooks get the same room as tests.
setDefaultTimeout(120_000);

for (const kind of dbKinds()) {
  describe(`device credentials on ${kind}`, () => {
    let pulse: TestPulse;
    let c: Clients;
    const clock = manualClock("2026-06-01T10:00:00Z");
    const send = (device: string, token: string) => ingest(pulse.url, "acme", device, token);

    beforeAll(async () => {
      pulse = await startPulse({ db: kind, clock });
      c = await castClients(pulse.app, await seedCast(pulse.app));
      expect((await c.alice.post("/api/v1/sites", { id: "lab-1" })).status).toBe(201);
    });
    afterAll(() => pulse?.stop());

    test("decommission: tokens revoked, ingest answers DEVICE_REVOKED, history and audit kept; recommission gives a new token", async () => {
      const first = (await c.alice.post("/api/v1/devices", { id: "pump-7", site_id: "lab-1" })).body.provision_token as string;
      expect(await send("pump-7", first)).toEqual({ status: 202, reason: undefined });

      const res = await c.alice.post("/api/v1/devices/pump-7/decommission", { reason: "replaced by pump-8" });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: "REVOKED", decommissioned_at: clock.now().toISOString(), decommissioned_by: "alice", decommission_reason: "replaced by pump-8" });
      expect(await send("pump-7", first)).toEqual({ status: 403, reason: "DEVICE_REVOKED" });
      expect((await c.alice.get("/api/v1/devices/pump-7/tokens")).body.items).toMatchObject([{ active: false, revoked_at: clock.now().toISOString() }]);
      expect((await c.alice.post("/api/v1/devices/pump-7/decommission")).status).toBe(409);
      expect((await c.alice.post("/api/v1/devices/pump-7/tokens/rotate")).status).toBe(409);

      const [entry] = await auditOf(pulse.app, "device.decommissioned");
      expect(entry).toMatchObject({ tenant_id: "acme", actor_name: "alice", target_id: "pump-7", details: { reason: "replaced by pump-8", by: "alice", tokens_revoked: 1 } });
      // The history stays: the device, its telemetry state and its timeline.
      const got = (await c.alice.get("/api/v1/devices/pump-7")).body;
      expect(got).toMatchObject({ status: "REVOKED", messages: 1 });
      expect((await c.alice.get("/api/v1/devices?status=REVOKED")).body.items.map((d: { id: string }) => d.id)).toEqual(["pump-7"]);

      const back = await c.alice.post("/api/v1/devices/pump-7/recommission");
      expect(back.status).toBe(200);
      expect(back.body).toMatchObject({ status: "ACTIVE", decommissioned_at: null, decommission_reason: null });
      const second = back.body.provision_token as string;
      expect(second).not.toBe(first);
      expect(await send("pump-7", first)).toEqual({ status: 401, reason: "TOKEN_INVALID" });
      expect(await send("pump-7", second)).toEqual({ status: 202, reason: undefined });
      expect((await c.alice.post("/api/v1/devices/pump-7/recommission")).status).toBe(409);
      expect((await auditOf(pulse.app, "device.recommissioned")).map((a) => a.actor_name)).toEqual(["alice"]);
      // The connectivity sweep runs in the background and may add STATUS_CHANGED in between; the lifecycle is what this checks.
      const events = (await c.alice.get("/api/v1/devices/pump-7/events")).body.items.map((e: { kind: string }) => e.kind);
      expect(events.filter((k: string) => k !== "STATUS_CHANGED")).toEqual(["recommissioned", "decommissioned", "created"]);
    });

    test("rotation with an overlap: both tokens work until it ends, then only the new one", async () => {
      const old = (await c.alice.post("/api/v1/devices", { id: "meter-1", site_id: "lab-1" })).body.provision_token as string;
      expect((await send("meter-1", old)).status).toBe(202);
      const rotated = await c.alice.post("/api/v1/devices/meter-1/tokens/rotate", { overlap_seconds: 600 });
      expect(rotated.status).toBe(201);
      const fresh = rotated.body.provision_token as string;
      expect(rotated.body).toMatchObject({ active: true, expires_at: null });

      expect((await send("meter-1", old)).status).toBe(202);
      expect((await send("meter-1", fresh)).status).toBe(202);
      const tokens = (await c.alice.get("/api/v1/devices/meter-1/tokens")).body.items;
      expect(tokens.map((t: { expires_at: string | null; active: boolean }) => [t.expires_at, t.active])).toEqual([
        [null, true],
        [new Date(clock.now().getTime() + 600_000).toISOString(), true],
      ]);

      clock.advance(599_000);
      expect((await send("meter-1", old)).status).toBe(202);
      clock.advance(2_000);
      expect(await send("meter-1", old)).toEqual({ status: 401, reason: "TOKEN_INVALID" });
      expect((await send("meter-1", fresh)).status).toBe(202);
      expect((await c.alice.get("/api/v1/devices/meter-1/tokens")).body.items.map((t: { active: boolean }) => t.active)).toEqual([true, false]);
      expect((await c.alice.post("/api/v1/devices/meter-1/tokens/rotate", { overlap_seconds: -1 })).body.error.field).toBe("overlap_seconds");
    });

    test("rotation without an overlap: the old token fails at once with TOKEN_INVALID", async () => {
      const old = (await c.alice.post("/api/v1/devices", { id: "meter-2", site_id: "lab-1" })).body.provision_token as string;
      expect((await send("meter-2", old)).status).toBe(202);
      const fresh = (await c.alice.post("/api/v1/devices/meter-2/tokens/rotate")).body.provision_token as string;
      expect(await send("meter-2", old)).toEqual({ status: 401, reason: "TOKEN_INVALID" });
      expect((await send("meter-2", fresh)).status).toBe(202);
      const [entry] = (await auditOf(pulse.app, "device.token_rotated")).filter((a) => a.target_id === "meter-2");
      expect(entry).toMatchObject({ actor_name: "alice", details: { overlap_seconds: 0, previous_tokens: 1 } });
    });

    test("one token revoked alone; another device's token never works for this one", async () => {
      const a = (await c.alice.post("/api/v1/devices", { id: "gate-a", site_id: "lab-1" })).body.provision_token as string;
      const b = (await c.alice.post("/api/v1/devices", { id: "gate-b", site_id: "lab-1" })).body.provision_token as string;
      expect(await send("gate-a", b)).toEqual({ status: 401, reason: "TOKEN_INVALID" });
      const [token] = (await c.alice.get("/api/v1/devices/gate-a/tokens")).body.items;
      expect((await c.bob.del(`/api/v1/devices/gate-a/tokens/${token.id}`)).status).toBe(403);
      expect((await c.alice.del(`/api/v1/devices/gate-b/tokens/${token.id}`)).status).toBe(404);
      const revoked = await c.alice.del(`/api/v1/devices/gate-a/tokens/${token.id}`);
      expect(revoked.body).toMatchObject({ id: token.id, active: false, revoked_at: clock.now().toISOString() });
      expect(await send("gate-a", a)).toEqual({ status: 401, reason: "TOKEN_INVALID" });
      expect((await send("gate-b", b)).status).toBe(202);
    });
  });
}
