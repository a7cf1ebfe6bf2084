// POST /ingest/v1/batch (PROTOCOL.md "HTTP"): per-message results by index,
// only the good messages written, limits on count and size, and a batch of
// 1000 (the original allowed 100; Pulse allows at least 1000).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { withSystem } from "../../src/db/scope.ts";
import { seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { deviceState, quarantineRows, registerDevice, telemetryRows, viaSocket, type Requester, type TestDevice } from "../helpers/devices.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

// Suites boot whole servers (the first PGlite start runs initdb); bun test may not apply the preload's timeout to every file's hooks.
setDefaultTimeout(60_000);

const MAX_MESSAGES = 1000;

for (const kind of dbKinds()) {
  describe(`batch ingest (${kind})`, () => {
    let pulse: TestPulse;
    let http: Requester;
    let d1: TestDevice;
    let g1: TestDevice;
    const fleet: TestDevice[] = [];

    beforeAll(async () => {
      pulse = await startPulse({ db: kind, config: { "ingest.max_batch_messages": MAX_MESSAGES } });
      http = viaSocket(pulse);
      await seedCast(pulse.app);
      d1 = await registerDevice(pulse.app, "acme", "d1");
      g1 = await registerDevice(pulse.app, "globex", "g1", { site: "hq" });
      for (let i = 0; i < 10; i++) fleet.push(await registerDevice(pulse.app, "acme", `f${i}`));
    });
    afterAll(() => pulse.stop());

    const post = (body: unknown) => http.request("/ingest/v1/batch", { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
    const of = (d: TestDevice, extra: Record<string, unknown> = {}) => ({ tenant_id: d.tenant, device_id: d.device, msg_type: "telemetry", provision_token: d.token, ...extra });
    const telemetryCount = async () => Number((await withSystem(pulse.app.db, (tx) => tx.query<{ n: number }>("select count(*)::int as n from telemetry")))[0]!.n);

    test("mixed good and bad messages: a result per index, only the good ones written, the bad ones quarantined", async () => {
      const nowS = Math.floor(Date.now() / 1000);
      const messages = [
        of(d1, { seq: 1, metrics: { temp_c: 20 } }), // 0 ok
        of(d1, { metrics: { temp_c: "x".repeat(65) } }), // 1 INVALID_METRIC
        of(d1, { provision_token: g1.token, metrics: { temp_c: 1 } }), // 2 TOKEN_INVALID: globex's token for an acme device
        of(g1, { seq: 7, metrics: { flow: 3.5 } }), // 3 ok: one batch may carry several tenants (a gateway)
        of({ tenant: "acme", device: "ghost", site: "lab-1", token: d1.token }, { metrics: { a: 1 } }), // 4 UNREGISTERED_DEVICE
        of(d1, { metrics: {} }), // 5 MISSING_METRICS
        of(d1, { msg_type: "heartbeat", seq: 2 }), // 6 ok: a heartbeat (no telemetry row)
        { tenant_id: "acme", device_id: "d1", provision_token: d1.token, metrics: { a: 1 } }, // 7 INVALID_TOPIC: no msg_type
        "not an object", // 8 INVALID_JSON
        of(d1, { ts: nowS + 3600, metrics: { a: 1 } }), // 9 FUTURE_TIMESTAMP
        { ...of(d1, { metrics: { a: 1 } }), provision_token: undefined }, // 10 TOKEN_MISSING
        of(d1, { metrics: { a: 1 }, pad: "x".repeat(9000) }), // 11 PAYLOAD_TOO_LARGE (one message over 8 KiB)
        of(d1, { version: "2", metrics: { a: 1 } }), // 12 UNSUPPORTED_VERSION
        of(d1, { site_id: "hq", metrics: { a: 1 } }), // 13 SITE_MISMATCH
        of(d1, { seq: 3, metrics: { temp_c: 21 } }), // 14 ok
      ];
      const res = await post({ messages });
      expect(res.status).toBe(202);
      const body = (await res.json()) as { accepted: number; rejected: number; results: Array<{ index: number; ok: boolean; reason?: string }> };
      expect({ accepted: body.accepted, rejected: body.rejected }).toEqual({ accepted: 4, rejected: 11 });
      expect(body.results.map((r) => [r.index, r.ok, r.reason])).toEqual([
        [0, true, undefined],
        [1, false, "INVALID_METRIC"],
        [2, false, "TOKEN_INVALID"],
        [3, true, undefined],
        [4, false, "UNREGISTERED_DEVICE"],
        [5, false, "MISSING_METRICS"],
        [6, true, undefined],
        [7, false, "INVALID_TOPIC"],
        [8, false, "INVALID_JSON"],
        [9, false, "FUTURE_TIMESTAMP"],
        [10, false, "TOKEN_MISSING"],
        [11, false, "PAYLOAD_TOO_LARGE"],
        [12, false, "UNSUPPORTED_VERSION"],
        [13, false, "SITE_MISMATCH"],
        [14, true, undefined],
      ]);
      // Both without ts: the same receive time, so compare as a set.
      expect((await telemetryRows(pulse.app, "acme", "d1")).map((r) => r.metrics.temp_c).sort()).toEqual([20, 21]);
      expect((await telemetryRows(pulse.app, "globex", "g1")).map((r) => r.metrics)).toEqual([{ flow: 3.5 }]);
      expect((await deviceState(pulse.app, "acme", "d1"))).toMatchObject({ messages: 3, last_seq: 3 });
      expect((await deviceState(pulse.app, "acme", "d1"))!.last_heartbeat_at).not.toBeNull();
      const q = await quarantineRows(pulse.app);
      expect(q.map((r) => r.reason).sort()).toEqual(body.results.filter((r) => !r.ok).map((r) => r.reason!).sort());
      expect(q.every((r) => r.transport === "http" && r.topic === "/ingest/v1/batch")).toBe(true);
      expect(q.find((r) => r.reason === "TOKEN_INVALID")).toMatchObject({ tenant_id: "acme", device_id: "d1" });
    });

    test("a batch of only bad messages writes nothing and still answers with every result", async () => {
      const before = await telemetryCount();
      const res = await post({ messages: [of(d1, { metrics: {} }), of(d1, { provision_token: "nope", metrics: { a: 1 } })] });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ accepted: 0, rejected: 2, results: [{ index: 0, ok: false, reason: "MISSING_METRICS" }, { index: 1, ok: false, reason: "TOKEN_INVALID" }] });
      expect(await telemetryCount()).toBe(before);
      expect(await (await post({ messages: [] })).json()).toEqual({ accepted: 0, rejected: 0, results: [] });
    });

    test("a body that is no batch is refused whole: 400 INVALID_JSON", async () => {
      for (const body of ["{not json", "[]", '{"messages": {"a": 1}}', '{"msgs": []}', "null"]) {
        const res = await post(body);
        expect(res.status).toBe(400);
        expect(((await res.json()) as { reason: string }).reason).toBe("INVALID_JSON");
      }
    });

    test("more than ingest.max_batch_messages is refused whole with PAYLOAD_TOO_LARGE (413), nothing written", async () => {
      const before = await telemetryCount();
      const messages = Array.from({ length: MAX_MESSAGES + 1 }, (_, i) => of(fleet[i % fleet.length]!, { seq: i, metrics: { i } }));
      const res = await post({ messages });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { reason: string }).reason).toBe("PAYLOAD_TOO_LARGE");
      expect(await telemetryCount()).toBe(before);
    });

    test("a body over ingest.max_batch_bytes is refused with 413", async () => {
      const big = JSON.stringify({ messages: [of(d1, { metrics: { a: 1 } })], pad: "x".repeat(pulse.app.config["ingest.max_batch_bytes"]) });
      const res = await post(big);
      expect(res.status).toBe(413);
      expect(((await res.json()) as { reason: string }).reason).toBe("PAYLOAD_TOO_LARGE");
    });

    test("a batch of 1000 from a gateway's 10 devices is accepted whole and written", async () => {
      const before = await telemetryCount();
      const ts = Math.floor(Date.now() / 1000) - 600;
      const messages = Array.from({ length: MAX_MESSAGES }, (_, i) => of(fleet[i % fleet.length]!, { ts: ts + Math.floor(i / fleet.length), seq: Math.floor(i / fleet.length), metrics: { i, on: i % 2 === 0, mode: "auto" } }));
      const res = await post({ messages });
      expect(res.status).toBe(202);
      const body = (await res.json()) as { accepted: number; rejected: number; results: Array<{ ok: boolean }> };
      expect({ accepted: body.accepted, rejected: body.rejected, results: body.results.length }).toEqual({ accepted: 1000, rejected: 0, results: 1000 });
      expect(await telemetryCount()).toBe(before + 1000);
      const f3 = await telemetryRows(pulse.app, "acme", "f3");
      expect(f3.length).toBe(100);
      expect(f3.map((r) => r.metrics.i)).toEqual(Array.from({ length: 100 }, (_, k) => 3 + 10 * k));
      expect(await deviceState(pulse.app, "acme", "f3")).toMatchObject({ messages: 100, last_seq: 99, seq_gaps: 0, last_metrics: { i: 993, on: false, mode: "auto" } });
    });
  });
}
