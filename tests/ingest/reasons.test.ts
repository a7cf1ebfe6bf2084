// Every reason code of PROTOCOL.md, each produced by a crafted HTTP message:
// the right status, a body that names the reason, a quarantine row for the
// right tenant and device, and exact per-tenant, per-reason counts. Tokens
// never end up in the quarantine log.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { changeTenantStatus } from "../../src/tenants/service.ts";
import { REASONS } from "../../src/ingest/parse.ts";
import { platformAdmin, seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import {
  postMessage,
  quarantineRows,
  registerDevice,
  rejectionCounts,
  setDeviceLimit,
  setDeviceStatus,
  telemetryRows,
  viaSocket,
  waitForRegistry,
  type Requester,
  type TestDevice,
} from "../helpers/devices.ts";
import { connectMqtt, publishQos1 } from "../helpers/mqtt.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

// Suites boot whole servers (the first PGlite start runs initdb); bun test may not apply the preload's timeout to every file's hooks.
setDefaultTimeout(60_000);

const nowS = () => Math.floor(Date.now() / 1000);

for (const kind of dbKinds()) {
  describe(`reason codes (${kind})`, () => {
    let pulse: TestPulse;
    let http: Requester;
    let d1: TestDevice;
    let g1: TestDevice;
    // What we expect rejection_counts to say at the end, tenant → reason → n.
    const expected: Record<string, Record<string, number>> = {};
    const seen = new Set<string>();

    beforeAll(async () => {
      pulse = await startPulse({ db: kind, config: { "ingest.device_rate_per_second": 1, "ingest.device_rate_burst": 3 } });
      http = viaSocket(pulse);
      await seedCast(pulse.app);
      d1 = await registerDevice(pulse.app, "acme", "d1");
      g1 = await registerDevice(pulse.app, "globex", "g1", { site: "hq" });
    });
    afterAll(() => pulse.stop());

    /**
     * The answer refuses with `reason` and `status`, and the newest quarantine
     * row records it for `tenant` (null: no such tenant) and `device`.
     */
    async function expectRefused(res: Response, status: number, reason: string, at: { tenant: string | null; device: string | null }) {
      const body = (await res.json()) as { reason?: string; error?: { code?: string; message?: string } };
      expect({ status: res.status, reason: body.reason }).toEqual({ status, reason });
      expect(body.error?.code).toBe(reason);
      expect(body.error?.message?.length).toBeGreaterThan(5);
      const rows = await quarantineRows(pulse.app);
      const last = rows.at(-1)!;
      expect({ reason: last.reason, tenant: last.tenant_id, device: last.device_id, transport: last.transport }).toEqual({ reason, tenant: at.tenant, device: at.device, transport: "http" });
      if (at.tenant) ((expected[at.tenant] ??= {})[reason] = (expected[at.tenant]![reason] ?? 0) + 1);
      seen.add(reason);
      return last;
    }

    test("a good message is accepted with 202, with the token as a header or a Bearer token", async () => {
      expect((await postMessage(http, d1, { metrics: { temp_c: 20 } })).status).toBe(202);
      const bearer = await postMessage(http, { tenant: "acme", device: "d1" }, { metrics: { temp_c: 21 } }, "telemetry", { Authorization: `Bearer ${d1.token}` });
      expect(bearer.status).toBe(202);
      // The rate limit (a burst of 3, then 1/s) is checked last: refused messages below do not use it up.
      expect((await telemetryRows(pulse.app, "acme", "d1")).map((r) => r.metrics.temp_c)).toEqual([20, 21]);
    });

    test("PAYLOAD_TOO_LARGE: 413, whether the length is declared or streamed", async () => {
      const big = JSON.stringify({ metrics: { a: 1 }, pad: "x".repeat(9000) });
      await expectRefused(await postMessage(http, d1, big), 413, "PAYLOAD_TOO_LARGE", { tenant: "acme", device: "d1" });
      // Chunked, no Content-Length: the server stops reading at the limit.
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode("x".repeat(1000)));
          c.close();
        },
      });
      const res = await fetch(`${pulse.url}/ingest/v1/tenant/acme/device/d1/telemetry`, { method: "POST", headers: { "X-Provision-Token": d1.token }, body: stream });
      const row = await expectRefused(res, 413, "PAYLOAD_TOO_LARGE", { tenant: "acme", device: "d1" });
      expect(row.payload).toBeNull();
    });

    test("INVALID_JSON: 400", async () => {
      const row = await expectRefused(await postMessage(http, d1, '{"metrics": {"a": 1}'), 400, "INVALID_JSON", { tenant: "acme", device: "d1" });
      expect(row.payload).toBe('{"metrics": {"a": 1}');
    });

    test("INVALID_TOPIC: 400 for a path that is no message type, and for a body that contradicts the path", async () => {
      await expectRefused(await postMessage(http, d1, { metrics: { a: 1 } }, "commands"), 400, "INVALID_TOPIC", { tenant: "acme", device: "d1" });
      await expectRefused(await postMessage(http, d1, { device_id: "d2", metrics: { a: 1 } }), 400, "INVALID_TOPIC", { tenant: "acme", device: "d1" });
    });

    test("UNSUPPORTED_VERSION: 400", async () => {
      await expectRefused(await postMessage(http, d1, { version: "2", metrics: { a: 1 } }), 400, "UNSUPPORTED_VERSION", { tenant: "acme", device: "d1" });
    });

    test("MISSING_METRICS: 400 for telemetry; a heartbeat without metrics is fine", async () => {
      await expectRefused(await postMessage(http, d1, { seq: 1 }), 400, "MISSING_METRICS", { tenant: "acme", device: "d1" });
      expect((await postMessage(http, d1, { seq: 2 }, "heartbeat")).status).toBe(202);
    });

    test("INVALID_METRIC: 400", async () => {
      await expectRefused(await postMessage(http, d1, { metrics: { temp_c: { value: 1 } } }), 400, "INVALID_METRIC", { tenant: "acme", device: "d1" });
      await expectRefused(await postMessage(http, d1, '{"metrics": {"temp_c": 1e999}}'), 400, "INVALID_METRIC", { tenant: "acme", device: "d1" });
    });

    test("FUTURE_TIMESTAMP and STALE_TIMESTAMP: 400", async () => {
      await expectRefused(await postMessage(http, d1, { ts: nowS() + 3600, metrics: { a: 1 } }), 400, "FUTURE_TIMESTAMP", { tenant: "acme", device: "d1" });
      await expectRefused(await postMessage(http, d1, { ts: nowS() - 31 * 86_400, metrics: { a: 1 } }), 400, "STALE_TIMESTAMP", { tenant: "acme", device: "d1" });
    });

    test("UNREGISTERED_DEVICE: 403 for an unknown device, and for an unknown tenant (kept without a tenant)", async () => {
      await expectRefused(await postMessage(http, { tenant: "acme", device: "ghost", token: d1.token }, { metrics: { a: 1 } }), 403, "UNREGISTERED_DEVICE", { tenant: "acme", device: "ghost" });
      await expectRefused(await postMessage(http, { tenant: "initech", device: "x1", token: d1.token }, { metrics: { a: 1 } }), 403, "UNREGISTERED_DEVICE", { tenant: null, device: "x1" });
    });

    test("DEVICE_REVOKED: 403 once the device is decommissioned", async () => {
      const old = await registerDevice(pulse.app, "acme", "old-1");
      expect((await postMessage(http, old, { metrics: { a: 1 } })).status).toBe(202);
      await setDeviceStatus(pulse.app, "acme", "old-1", "REVOKED");
      await waitForRegistry(pulse.app, "acme", "old-1", (a) => a?.device?.status === "REVOKED");
      await expectRefused(await postMessage(http, old, { metrics: { a: 2 } }), 403, "DEVICE_REVOKED", { tenant: "acme", device: "old-1" });
      expect((await telemetryRows(pulse.app, "acme", "old-1")).length).toBe(1);
    });

    test("SITE_MISMATCH: 400 when site_id is not the device's site", async () => {
      await expectRefused(await postMessage(http, d1, { site_id: "lab-2", metrics: { a: 1 } }), 400, "SITE_MISMATCH", { tenant: "acme", device: "d1" });
      // Another tenant's site of the same name is still not this device's site.
      await expectRefused(await postMessage(http, d1, { site_id: "hq", metrics: { a: 1 } }), 400, "SITE_MISMATCH", { tenant: "acme", device: "d1" });
    });

    test("TOKEN_MISSING: 401 without a token", async () => {
      await expectRefused(await postMessage(http, { tenant: "acme", device: "d1" }, { metrics: { a: 1 } }), 401, "TOKEN_MISSING", { tenant: "acme", device: "d1" });
    });

    test("TOKEN_INVALID: 401 for a wrong token, another device's token, or a malformed Authorization header", async () => {
      await expectRefused(await postMessage(http, { ...d1, token: "not-the-token" }, { metrics: { a: 1 } }), 401, "TOKEN_INVALID", { tenant: "acme", device: "d1" });
      const d2 = await registerDevice(pulse.app, "acme", "d2");
      await expectRefused(await postMessage(http, { ...d1, token: d2.token }, { metrics: { a: 1 } }), 401, "TOKEN_INVALID", { tenant: "acme", device: "d1" });
      await expectRefused(await postMessage(http, { tenant: "acme", device: "d1" }, { metrics: { a: 1 } }, "telemetry", { Authorization: `Basic ${btoa("acme:" + d1.token)}` }), 401, "TOKEN_MISSING", {
        tenant: "acme",
        device: "d1",
      });
      // A device registered but not activated yet has no usable token.
      const pending = await registerDevice(pulse.app, "acme", "pending-1", { status: "PENDING" });
      await expectRefused(await postMessage(http, pending, { metrics: { a: 1 } }), 401, "TOKEN_INVALID", { tenant: "acme", device: "pending-1" });
    });

    test("RATE_LIMITED: 429 with Retry-After once a device exceeds its rate", async () => {
      const busy = await registerDevice(pulse.app, "acme", "chatty");
      // Five at once (so the 1/s refill cannot blur the edge): the burst of 3 passes, 2 are refused.
      const answers = await Promise.all([1, 2, 3, 4, 5].map((a) => postMessage(http, busy, { metrics: { a } })));
      expect(answers.map((r) => r.status).sort()).toEqual([202, 202, 202, 429, 429]);
      const limited = answers.filter((r) => r.status === 429);
      for (const res of limited) expect(res.headers.get("retry-after")).toBe("1");
      await expectRefused(limited[0]!, 429, "RATE_LIMITED", { tenant: "acme", device: "chatty" });
      expect(((await limited[1]!.json()) as { reason: string }).reason).toBe("RATE_LIMITED");
      expected.acme!.RATE_LIMITED! += 1;
      // Another device is not slowed by its neighbour.
      expect((await postMessage(http, g1, { metrics: { a: 1 } })).status).toBe(202);
      expect((await telemetryRows(pulse.app, "acme", "chatty")).length).toBe(3);
    });

    test("SUBSCRIPTION_SUSPENDED: 403 while the tenant is suspended, accepted again once resumed", async () => {
      const deps = { db: pulse.app.db, clock: pulse.app.clock };
      await changeTenantStatus(deps, platformAdmin, "globex", "suspend");
      await waitForRegistry(pulse.app, "globex", "g1", (a) => a?.tenantStatus === "SUSPENDED");
      await expectRefused(await postMessage(http, g1, { metrics: { a: 2 } }), 403, "SUBSCRIPTION_SUSPENDED", { tenant: "globex", device: "g1" });
      await changeTenantStatus(deps, platformAdmin, "globex", "resume");
      await waitForRegistry(pulse.app, "globex", "g1", (a) => a?.tenantStatus === "ACTIVE");
      expect((await postMessage(http, g1, { metrics: { a: 3 } })).status).toBe(202);
    });

    test("DEVICE_LIMIT: 403 for the devices beyond the tenant's limit, the oldest keep working", async () => {
      // globex has one device; a second one is beyond a limit of 1.
      const g2 = await registerDevice(pulse.app, "globex", "g2", { site: "hq" });
      await setDeviceLimit(pulse.app, "globex", 1);
      await waitForRegistry(pulse.app, "globex", "g2", (a) => a?.device?.overLimit === true);
      await expectRefused(await postMessage(http, g2, { metrics: { a: 1 } }), 403, "DEVICE_LIMIT", { tenant: "globex", device: "g2" });
      expect((await postMessage(http, g1, { metrics: { a: 4 } })).status).toBe(202);
      await setDeviceLimit(pulse.app, "globex", null);
      await waitForRegistry(pulse.app, "globex", "g2", (a) => a?.device?.overLimit === false);
      expect((await postMessage(http, g2, { metrics: { a: 2 } })).status).toBe(202);
    });

    test("every reason code of PROTOCOL.md was produced, and rejection_counts agree exactly", async () => {
      expect([...seen].sort()).toEqual([...REASONS].sort());
      expect(await rejectionCounts(pulse.app)).toEqual(expected);
      // Nothing refused was written: only the accepted messages are in telemetry.
      expect((await telemetryRows(pulse.app, "acme", "d1")).length).toBe(2);
      expect((await telemetryRows(pulse.app, "acme", "ghost")).length).toBe(0);
    });

    test("provision tokens never reach the quarantine log, not even cut in half", async () => {
      const secret = await registerDevice(pulse.app, "acme", "secretive", { token: "SECRET-4f1c9a2b7d3e8f60" });
      // In the body of a refused message.
      await postMessage(http, { tenant: "acme", device: "secretive" }, { provision_token: secret.token, seq: 1 });
      // Right where the kept snippet of a long payload ends (2048 characters).
      const head = '{"pad":"';
      const cut = `${head}${"x".repeat(2048 - head.length - '","provision_token":"'.length - 6)}","provision_token":"${secret.token}","metrics":{"bad name":1}}`;
      expect(cut.indexOf(secret.token)).toBe(2042);
      await postMessage(http, { tenant: "acme", device: "secretive" }, cut);
      // In a batch.
      await http.request("/ingest/v1/batch", { method: "POST", body: JSON.stringify({ messages: [{ tenant_id: "acme", device_id: "secretive", msg_type: "telemetry", provision_token: secret.token }] }) });
      // Over MQTT without credentials.
      const anon = await connectMqtt(`mqtt://127.0.0.1:${pulse.mqttPort}`);
      expect(await publishQos1(anon, "tenant/acme/device/secretive/telemetry", JSON.stringify({ provision_token: secret.token, metrics: {} }), 500)).toBe("no-ack");
      expect(await publishQos1(anon, "tenant/acme/device/secretive/telemetry", cut, 500)).toBe("no-ack");
      await anon.endAsync(true);

      const rows = await quarantineRows(pulse.app, { device: "secretive" });
      expect(rows.map((r) => `${r.transport} ${r.reason}`)).toEqual(["http MISSING_METRICS", "http INVALID_METRIC", "http MISSING_METRICS", "mqtt MISSING_METRICS", "mqtt INVALID_METRIC"]);
      for (const r of rows) {
        expect(r.payload).toContain('"provision_token":"****"');
        for (const part of [secret.token, "SECRET", "4f1c9a2b"]) {
          expect(r.payload).not.toContain(part);
          expect(r.detail ?? "").not.toContain(part);
        }
      }
    });
  });
}
