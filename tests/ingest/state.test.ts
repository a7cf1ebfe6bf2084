// What ingest keeps besides telemetry: the latest state of each device
// (last seen, last metrics by the device's own time, sequence gaps, message
// count), the metric catalog, and connectivity from the status sweep
// (PROTOCOL.md "Status"), driven by a manual clock.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { withSystem } from "../../src/db/scope.ts";
import { STATUS_CHANNEL, sweepStatus } from "../../src/ingest/status-sweep.ts";
import { seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { deviceState, postMessage, registerDevice, setDeviceStatus, telemetryRows, type TestDevice } from "../helpers/devices.ts";
import { manualClock, startPulse, type TestPulse } from "../helpers/pulse.ts";

// Suites boot whole servers (the first PGlite start runs initdb); bun test may not apply the preload's timeout to every file's hooks.
setDefaultTimeout(60_000);

const T0 = new Date(Math.floor(Date.now() / 1000) * 1000);
const s = (d: Date) => d.getTime() / 1000;
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

for (const kind of dbKinds()) {
  describe(`device state (${kind})`, () => {
    let pulse: TestPulse;
    const clock = manualClock(T0);
    beforeAll(async () => {
      // No listeners and no scheduler: the test runs the sweep itself, at the times it chooses.
      pulse = await startPulse({ db: kind, clock, listen: false, config: { "ingest.device_rate_per_second": 0 } });
      await seedCast(pulse.app);
    });
    afterAll(() => pulse.stop());

    async function send(d: TestDevice, body: Record<string, unknown>, msgType = "telemetry") {
      const res = await postMessage(pulse, d, body, msgType);
      expect(res.status).toBe(202);
    }

    test("last seen, last metrics merged by the device's time, seq gaps and message count", async () => {
      clock.set(T0);
      const d = await registerDevice(pulse.app, "acme", "st-1");
      await send(d, { ts: s(at(-10)), seq: 1, metrics: { temp_c: 20, mode: "cool" }, lat: 52.5, lng: 13.4 });
      clock.set(at(1));
      await send(d, { ts: s(at(0)), seq: 2, metrics: { temp_c: 21 } });
      let st = (await deviceState(pulse.app, "acme", "st-1"))!;
      expect(st).toMatchObject({ last_metrics: { temp_c: 21, mode: "cool" }, last_seq: 2, seq_gaps: 0, messages: 2, lat: 52.5, lng: 13.4 });
      expect(st.last_seen_at).toEqual(at(1));
      expect(st.last_telemetry_at).toEqual(at(0));
      expect(st.last_heartbeat_at).toBeNull();

      // seq 3 and 4 never arrive.
      clock.set(at(2));
      await send(d, { ts: s(at(2)), seq: 5, metrics: { temp_c: 22 } });
      // A heartbeat counts as seen, carries no telemetry, and keeps the metrics.
      clock.set(at(3));
      await send(d, { ts: s(at(3)), seq: 6 }, "heartbeat");
      st = (await deviceState(pulse.app, "acme", "st-1"))!;
      expect(st).toMatchObject({ last_metrics: { temp_c: 22, mode: "cool" }, last_seq: 6, seq_gaps: 2, messages: 4 });
      expect(st.last_heartbeat_at).toEqual(at(3));
      expect(st.last_seen_at).toEqual(at(3));
      expect((await telemetryRows(pulse.app, "acme", "st-1")).length).toBe(3);
    });

    test("a late message (older device time) is stored but does not overwrite newer values", async () => {
      clock.set(at(10));
      const d = await registerDevice(pulse.app, "acme", "st-late");
      await send(d, { ts: s(at(10)), metrics: { temp_c: 21, mode: "cool" } });
      clock.set(at(11));
      // Buffered by the device during an outage and sent now: measured 30 s earlier.
      await send(d, { ts: s(at(-20)), metrics: { temp_c: 5, mode: "heat", humidity_pct: 40 } });
      const st = (await deviceState(pulse.app, "acme", "st-late"))!;
      // Newer values stay; a name only the late message has is still the latest value of it.
      expect(st.last_metrics).toEqual({ temp_c: 21, mode: "cool", humidity_pct: 40 });
      expect(st.last_telemetry_at).toEqual(at(10));
      expect(st.last_seen_at).toEqual(at(11));
      expect(st.messages).toBe(2);
      expect((await telemetryRows(pulse.app, "acme", "st-late")).map((r) => r.metrics.temp_c)).toEqual([5, 21]);
    });

    test("the same within one batch: newest by device time wins, whatever the arrival order", async () => {
      clock.set(at(20));
      const d = await registerDevice(pulse.app, "acme", "st-batch");
      const m = (ts: Date, seq: number, metrics: Record<string, unknown>) => ({ tenant_id: "acme", device_id: "st-batch", msg_type: "telemetry", provision_token: d.token, ts: s(ts), seq, metrics });
      const res = await pulse.request("/ingest/v1/batch", {
        method: "POST",
        body: JSON.stringify({ messages: [m(at(20), 10, { temp_c: 30 }), m(at(15), 9, { temp_c: 25 }), m(at(18), 12, { door: true })] }),
      });
      expect(res.status).toBe(202);
      const st = (await deviceState(pulse.app, "acme", "st-batch"))!;
      // temp_c from the newest message; door only came in an older one, so it is still the latest door value.
      expect(st.last_metrics).toEqual({ temp_c: 30, door: true });
      expect(st).toMatchObject({ last_seq: 12, messages: 3 });
      expect(st.last_telemetry_at).toEqual(at(20));
    });

    test("seq gaps add up across batches", async () => {
      clock.set(at(30));
      const d = await registerDevice(pulse.app, "acme", "st-seq");
      for (const seq of [1, 2, 3, 7, 8, 20]) await send(d, { seq, metrics: { n: seq } });
      const st = (await deviceState(pulse.app, "acme", "st-seq"))!;
      expect(st).toMatchObject({ last_seq: 20, seq_gaps: 3 + 11, messages: 6 });
    });

    test("metric_catalog learns each name with its kind, per tenant", async () => {
      clock.set(at(40));
      const d = await registerDevice(pulse.app, "acme", "st-cat");
      const g = await registerDevice(pulse.app, "globex", "st-cat", { site: "hq" });
      await send(d, { metrics: { pressure_bar: 1.2, valve_open: true, state: "idle" } });
      await send(g, { metrics: { globex_only: 1 } });
      const rows = await withSystem(pulse.app.db, (tx) => tx.query<{ tenant_id: string; name: string; kind: string }>("select tenant_id, name, kind from metric_catalog order by tenant_id, name"));
      const acme = Object.fromEntries(rows.filter((r) => r.tenant_id === "acme").map((r) => [r.name, r.kind]));
      expect(acme).toMatchObject({ pressure_bar: "number", valve_open: "boolean", state: "string", temp_c: "number", mode: "string", door: "boolean" });
      expect(acme.globex_only).toBeUndefined();
      expect(rows.filter((r) => r.tenant_id === "globex")).toEqual([{ tenant_id: "globex", name: "globex_only", kind: "number" }]);
    });

    describe("status sweep", () => {
      let slow: TestDevice;
      let fast: TestDevice;
      let quiet: TestDevice;
      let other: TestDevice;
      const B = 1000; // seconds after T0: a fresh start for these devices.

      const connectivity = async (d: TestDevice) => (await deviceState(pulse.app, d.tenant, d.device))?.connectivity;
      const sweep = async (seconds: number) => {
        clock.set(at(B + seconds));
        return (await sweepStatus(pulse.app.db, clock.now())).filter((t) => t.deviceId.startsWith("sw-")).map((t) => `${t.tenantId}/${t.deviceId} ${t.from}→${t.to}`);
      };

      beforeAll(async () => {
        clock.set(at(B));
        await sweepStatus(pulse.app.db, clock.now()); // settle the devices of the tests above
        slow = await registerDevice(pulse.app, "acme", "sw-slow"); // the tenant's default: 60 s
        fast = await registerDevice(pulse.app, "acme", "sw-fast", { heartbeatSeconds: 10 }); // its own: 10 s
        quiet = await registerDevice(pulse.app, "acme", "sw-quiet");
        other = await registerDevice(pulse.app, "globex", "sw-other", { site: "hq" });
        await withSystem(pulse.app.db, (tx) => tx.query("update tenants set heartbeat_seconds = 30 where id = 'globex'"));
      });

      test("ONLINE on a message, STALE after 2 heartbeat intervals, OFFLINE after 5, per device or tenant default", async () => {
        clock.set(at(B));
        for (const d of [slow, fast, other]) await send(d, {}, "heartbeat");
        expect((await sweep(0)).sort()).toEqual(["acme/sw-fast OFFLINE→ONLINE", "acme/sw-slow OFFLINE→ONLINE", "globex/sw-other OFFLINE→ONLINE"]);
        // A device that never sent anything is OFFLINE (and not a change).
        expect(await connectivity(quiet)).toBe("OFFLINE");
        expect(await sweep(0)).toEqual([]);

        expect(await sweep(19)).toEqual([]);
        expect(await sweep(21)).toEqual(["acme/sw-fast ONLINE→STALE"]); // 2 × 10 s
        expect(await sweep(49)).toEqual([]);
        expect(await sweep(51)).toEqual(["acme/sw-fast STALE→OFFLINE"]); // 5 × 10 s
        expect(await sweep(61)).toEqual(["globex/sw-other ONLINE→STALE"]); // 2 × globex's 30 s
        expect(await sweep(119)).toEqual([]);
        expect(await sweep(121)).toEqual(["acme/sw-slow ONLINE→STALE"]); // 2 × 60 s
        expect(await sweep(151)).toEqual(["globex/sw-other STALE→OFFLINE"]); // 5 × 30 s
        expect(await sweep(301)).toEqual(["acme/sw-slow STALE→OFFLINE"]); // 5 × 60 s
        expect(await sweep(302)).toEqual([]);
        expect(await connectivity(slow)).toBe("OFFLINE");
      });

      test("back ONLINE with the next message, and every transition is a device event", async () => {
        clock.set(at(B + 400));
        await send(slow, { metrics: { temp_c: 19 } });
        expect(await sweep(400)).toEqual(["acme/sw-slow OFFLINE→ONLINE"]);
        expect(await connectivity(slow)).toBe("ONLINE");
        const events = await withSystem(pulse.app.db, (tx) =>
          tx.query<{ time: string; kind: string; details: { from: string; to: string; last_seen_at: string } }>(
            "select time, kind, details from device_events where tenant_id = 'acme' and device_id = 'sw-slow' order by id",
          ),
        );
        expect(events.map((e) => [new Date(e.time), e.kind, `${e.details.from}→${e.details.to}`])).toEqual([
          [at(B), "STATUS_CHANGED", "OFFLINE→ONLINE"],
          [at(B + 121), "STATUS_CHANGED", "ONLINE→STALE"],
          [at(B + 301), "STATUS_CHANGED", "STALE→OFFLINE"],
          [at(B + 400), "STATUS_CHANGED", "OFFLINE→ONLINE"],
        ]);
        expect(new Date(events.at(-1)!.details.last_seen_at)).toEqual(at(B + 400));
        // Nothing of this reached the other tenant's events.
        const leaked = await withSystem(pulse.app.db, (tx) => tx.query("select 1 from device_events where tenant_id = 'globex' and device_id like 'sw-slow%'"));
        expect(leaked).toEqual([]);
      });

      test("a sweep that changes something notifies live views, once per tenant", async () => {
        const heard: string[] = [];
        const unlisten = await pulse.app.db.listen(STATUS_CHANNEL, (p) => heard.push(p));
        try {
          clock.set(at(B + 500));
          await send(fast, {}, "heartbeat");
          await send(other, {}, "heartbeat");
          expect((await sweep(500)).sort()).toEqual(["acme/sw-fast OFFLINE→ONLINE", "globex/sw-other OFFLINE→ONLINE"]);
          const until = Date.now() + 3_000;
          while (heard.length < 2 && Date.now() < until) await Bun.sleep(20);
          expect(heard.sort()).toEqual(["acme", "globex"]);
        } finally {
          await unlisten();
        }
      });

      test("revoked devices are left alone", async () => {
        await setDeviceStatus(pulse.app, "acme", "sw-fast", "REVOKED");
        expect(await sweep(2_000)).not.toContain("acme/sw-fast ONLINE→STALE");
        expect(await sweep(2_000)).toEqual([]);
        expect(await connectivity(fast)).toBe("ONLINE");
      });
    });
  });
}
