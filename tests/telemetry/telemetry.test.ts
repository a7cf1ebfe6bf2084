// Reading telemetry back: downsampled series for charts, latest values from
// the device's state, streamed exports, and normalized metrics — for alice's
// pump at acme, never for carol at globex.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createApiKey } from "../../src/auth/apikeys/service.ts";
import { DEVICES_CHANNEL, notifyChange } from "../../src/db/bus.ts";
import { withSystem } from "../../src/db/scope.ts";
import { sha256Hex } from "../../src/lib/ids.ts";
import { autoBucket } from "../../src/telemetry/service.ts";
import { platformAdmin, seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

// Booting Pulse on a database can take longer than bun's 5 s on a busy machine,
// and the preload's setDefaultTimeout does not reach this file's hooks (it runs
// among the first; its beforeAll timed out at 5 s in a CI run).
setDefaultTimeout(60_000);

const HOUR = 3_600_000;

for (const kind of dbKinds()) {
  describe(`telemetry reads on ${kind}`, () => {
    let pulse: TestPulse;
    let aliceKey: string;
    let carolKey: string;
    const start = new Date(Date.now() - 2 * HOUR);
    const api = (key: string, path: string) => fetch(`${pulse.url}/api/v1${path}`, { headers: { Authorization: `Bearer ${key}` } });

    beforeAll(async () => {
      pulse = await startPulse({ db: kind });
      await seedCast(pulse.app);
      const deps = { db: pulse.app.db, clock: pulse.app.clock };
      aliceKey = (await createApiKey(deps, { ...platformAdmin, tenantId: "acme" }, { name: "alice-script", role: "customer" })).secret;
      carolKey = (await createApiKey(deps, { ...platformAdmin, tenantId: "globex" }, { name: "carol-script", role: "customer" })).secret;
      await withSystem(pulse.app.db, async (tx) => {
        await tx.query("insert into sites (tenant_id, id, name) values ('acme', 'plant', 'Plant')");
        await tx.query("insert into devices (tenant_id, id, site_id) values ('acme', 'pump-7', 'plant')");
        await tx.query("insert into device_tokens (tenant_id, device_id, token_hash) values ('acme', 'pump-7', $1)", [sha256Hex("pump-7-token")]);
        await notifyChange(tx, DEVICES_CHANNEL, "acme/pump-7");
      });
      // Two hours of one reading a minute: temperature climbing, a valve flipping, a mode string.
      const messages = Array.from({ length: 120 }, (_, i) => ({
        tenant_id: "acme",
        device_id: "pump-7",
        msg_type: "telemetry",
        provision_token: "pump-7-token",
        ts: (start.getTime() + i * 60_000) / 1000,
        metrics: { temp_c: 20 + i / 10, valve_open: i % 2 === 0, mode: i < 60 ? "cool" : "idle" },
      }));
      const res = await fetch(`${pulse.url}/ingest/v1/batch`, { method: "POST", body: JSON.stringify({ messages }) });
      expect((await res.json()) as object).toMatchObject({ accepted: 120, rejected: 0 });
    });
    afterAll(() => pulse.stop());

    test("a range is bucketed to at most ~1000 points, with avg/min/max of numbers and the last value of the rest", async () => {
      const from = start.toISOString();
      const to = new Date(start.getTime() + 2 * HOUR).toISOString();
      const res = await api(aliceKey, `/devices/pump-7/telemetry?from=${from}&to=${to}&metric=temp_c&metric=mode&bucket=1800`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { bucket_seconds: number; series: Array<{ metric: string; kind: string; points: unknown[][] }> };
      expect(body.bucket_seconds).toBe(1800);
      const temp = body.series.find((s) => s.metric === "temp_c")!;
      expect(temp.kind).toBe("number");
      expect(temp.points.length).toBeGreaterThanOrEqual(4);
      expect(temp.points.length).toBeLessThanOrEqual(5);
      for (const [, avg, min, max, n] of temp.points as Array<[string, number, number, number, number]>) {
        expect(min).toBeLessThanOrEqual(avg);
        expect(avg).toBeLessThanOrEqual(max);
        expect(n).toBeGreaterThan(0);
      }
      const mode = body.series.find((s) => s.metric === "mode")!;
      expect(mode.kind).toBe("string");
      expect(mode.points.at(-1)![1]).toBe("idle");
      expect(autoBucket(new Date(0), new Date(7 * 24 * HOUR))).toBe(900);
    });

    test("bad ranges and unknown devices are named; globex cannot read acme's pump", async () => {
      const bad = await api(aliceKey, `/devices/pump-7/telemetry?from=${new Date().toISOString()}&to=${start.toISOString()}&metric=temp_c`);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("to");
      const carol = await api(carolKey, `/devices/pump-7/telemetry?from=${start.toISOString()}&to=${new Date().toISOString()}&metric=temp_c`);
      expect(carol.status).toBe(404);
      expect((await api(carolKey, "/devices/pump-7/telemetry/latest")).status).toBe(404);
    });

    test("latest values come from the device state, normalized when the catalog says so", async () => {
      const admin = (await createApiKey({ db: pulse.app.db, clock: pulse.app.clock }, { ...platformAdmin, tenantId: "acme" }, { name: "alice-admin", role: "tenant-admin" })).secret;
      const patch = await fetch(`${pulse.url}/api/v1/metrics/temp_c`, {
        method: "PATCH",
        headers: { Authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify({ unit: "°C", multiplier: 1.8, offset: 32, normalized_unit: "°F" }),
      });
      expect(patch.status).toBe(200);
      const refused = await fetch(`${pulse.url}/api/v1/metrics/mode`, {
        method: "PATCH",
        headers: { Authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify({ multiplier: 2 }),
      });
      expect(refused.status).toBe(400);
      const latest = (await (await api(aliceKey, "/devices/pump-7/telemetry/latest")).json()) as { metrics: Array<{ metric: string; value: unknown; normalized?: number; normalized_unit?: string }> };
      const temp = latest.metrics.find((m) => m.metric === "temp_c")!;
      expect(temp.value).toBeCloseTo(31.9);
      expect(temp.normalized).toBeCloseTo(31.9 * 1.8 + 32);
      expect(temp.normalized_unit).toBe("°F");
      const catalog = (await (await api(aliceKey, "/metrics")).json()) as { items: Array<{ name: string; kind: string }> };
      expect(catalog.items.map((m) => [m.name, m.kind])).toEqual([
        ["mode", "string"],
        ["temp_c", "number"],
        ["valve_open", "boolean"],
      ]);
    });

    test("an export streams every row as CSV with a column per metric", async () => {
      const res = await api(aliceKey, `/devices/pump-7/telemetry/export?from=${start.toISOString()}&to=${new Date().toISOString()}&format=csv`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/csv");
      const lines = (await res.text()).trim().split("\r\n");
      expect(lines[0]).toBe("time,mode,temp_c,valve_open");
      expect(lines.length).toBe(121);
      expect(lines[1]).toMatch(/^\d{4}-.*Z,cool,20,true$/);
      const json = await api(aliceKey, `/devices/pump-7/telemetry/export?from=${start.toISOString()}&to=${new Date().toISOString()}&format=json`);
      expect((await json.text()).trim().split("\n").length).toBe(120);
    });
  });
}
