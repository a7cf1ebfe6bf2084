// When the database cannot keep up, the write queue (ingest.queue_max) fills:
// HTTP answers 503 with Retry-After, MQTT publishers wait for their PUBACK,
// and nothing that was acknowledged is ever lost. A waiting MQTT message is
// judged by the alert rules at once; one turned away is not judged at all.
// The database is made slow for real: on Postgres another connection holds a
// lock on telemetry; on PGlite (one connection) the writer only flushes when
// the test says so.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { platformAdmin, seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { postMessage, quarantineRows, registerDevice, viaSocket, type TestDevice } from "../helpers/devices.ts";
import { connectDevice, type MqttClient } from "../helpers/mqtt.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { RULES_CHANNEL } from "../../src/alerts/engine.ts";
import { createAlertRule } from "../../src/alerts/rules.ts";
import { withSystem } from "../../src/db/scope.ts";
import { alertsOf, heard } from "../alerts/fixtures.ts";

// Suites boot whole servers (the first PGlite start runs initdb); bun test may not apply the preload's timeout to every file's hooks.
setDefaultTimeout(60_000);

const QUEUE_MAX = 100;

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(10);
  }
}

for (const kind of dbKinds()) {
  describe(`a full write queue (${kind})`, () => {
    let pulse: TestPulse;
    const devs: TestDevice[] = [];
    /** Make the database slow; returns how to make it fast again. */
    let stall: () => Promise<() => Promise<void>>;

    beforeAll(async () => {
      pulse = await startPulse({
        db: kind,
        config: {
          "ingest.queue_max": QUEUE_MAX,
          "ingest.device_rate_per_second": 0,
          // PGlite: no flush on its own during the test (Postgres: the lock does the stalling).
          ...(kind === "pglite" ? { "ingest.flush_ms": 10_000, "ingest.batch_rows": 1_000 } : {}),
        },
      });
      await seedCast(pulse.app);
      for (let i = 0; i < 4; i++) devs.push(await registerDevice(pulse.app, "acme", `d${i}`));
      stall =
        kind === "postgres"
          ? async () => {
              const admin = postgres(pulse.db.config["database.url"], { max: 1, onnotice: () => {} });
              let release!: () => void;
              const released = new Promise<void>((r) => (release = r));
              let locked!: () => void;
              const isLocked = new Promise<void>((r) => (locked = r));
              // Hold EXCLUSIVE on telemetry: reads go on, every insert waits.
              const tx = admin.begin(async (sql) => {
                await sql`lock table telemetry in exclusive mode`;
                locked();
                await released;
              });
              await isLocked;
              return async () => {
                release();
                await tx;
                await admin.end();
              };
            }
          : async () => {
              const writer = pulse.app.ingest.writer;
              return async () => {
                // Flush until the queue stays empty (waiting publishers refill it as room appears).
                for (let i = 0; i < 50 && writer.depth() > 0; i++) {
                  await writer.flush();
                  await Bun.sleep(20);
                }
              };
            };
    });
    afterAll(() => pulse.stop());

    /** Wait for p, flushing meanwhile (PGlite's writer here only flushes when told to). */
    async function pump<T>(p: Promise<T>): Promise<T> {
      let done = false;
      void p.finally(() => (done = true)).catch(() => {});
      while (!done) {
        await pulse.app.ingest.writer.flush();
        await Bun.sleep(20);
      }
      return p;
    }
    const count = async () => Number((await withSystem(pulse.app.db, (tx) => tx.query<{ n: number }>("select count(*)::int as n from telemetry")))[0]!.n);
    const seqsOf = async () => new Set((await withSystem(pulse.app.db, (tx) => tx.query<{ s: string }>("select device_id || ':' || (metrics->>'seq') as s from telemetry"))).map((r) => r.s));

    test("HTTP answers 503 with Retry-After once the queue is full, and every 202'd message ends up in telemetry", async () => {
      const http = viaSocket(pulse);
      const before = await count();
      const resume = await stall();
      const statuses: Array<{ key: string; status: number; retryAfter: string | null; reason?: string }> = [];
      // 150 messages from 4 devices at once: 100 fit, the rest are turned away.
      const sends = Array.from({ length: 150 }, (_, i) => {
        const d = devs[i % devs.length]!;
        const seq = 1 + i;
        return postMessage(http, d, { seq, metrics: { seq } }).then(async (res) => {
          const body = (await res.json()) as { reason?: string };
          statuses.push({ key: `${d.device}:${seq}`, status: res.status, retryAfter: res.headers.get("retry-after"), reason: body.reason });
        });
      });
      await until("50 requests are turned away", () => statuses.length >= 50);
      expect(pulse.app.ingest.writer.depth()).toBe(QUEUE_MAX);
      expect(statuses.every((s) => s.status === 503)).toBe(true);
      expect(statuses.every((s) => Number(s.retryAfter) >= 1 && s.reason === "QUEUE_FULL")).toBe(true);

      // A batch is all or nothing: it does not fit, so nothing of it is queued.
      const batch = await http.request("/ingest/v1/batch", {
        method: "POST",
        body: JSON.stringify({ messages: [{ tenant_id: "acme", device_id: "d0", msg_type: "telemetry", provision_token: devs[0]!.token, seq: 9999, metrics: { seq: 9999 } }] }),
      });
      expect(batch.status).toBe(503);
      expect(Number(batch.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await count()).toBe(before);

      await resume();
      await Promise.all(sends);
      const accepted = statuses.filter((s) => s.status === 202).map((s) => s.key);
      expect(accepted.length).toBe(QUEUE_MAX);
      expect(statuses.filter((s) => s.status !== 202 && s.status !== 503)).toEqual([]);
      const stored = await seqsOf();
      expect(accepted.filter((k) => !stored.has(k))).toEqual([]);
      expect(await count()).toBe(before + QUEUE_MAX);
      // Turned away is not refused: nothing went to the quarantine.
      expect(await quarantineRows(pulse.app)).toEqual([]);
      // And the queue takes messages again.
      expect((await pump(postMessage(http, devs[0]!, { seq: 500, metrics: { seq: 500 } }))).status).toBe(202);
    });

    test("MQTT publishers are slowed instead: no PUBACK until there is room, then every PUBACK'd message is stored", async () => {
      const http = viaSocket(pulse);
      const resume = await stall();
      // Fill the queue over HTTP.
      const fill = Array.from({ length: QUEUE_MAX }, (_, i) => postMessage(http, devs[i % 2]!, { seq: 1000 + i, metrics: { seq: 1000 + i } }));
      await until("the queue is full", () => pulse.app.ingest.writer.depth() >= QUEUE_MAX);

      const clients: MqttClient[] = [];
      const acked: string[] = [];
      const publishes: Promise<void>[] = [];
      try {
        for (const d of devs.slice(2)) {
          const c = await connectDevice(pulse.mqttPort, d);
          clients.push(c);
          for (let i = 0; i < 20; i++) {
            const seq = 2000 + i;
            publishes.push(c.publishAsync(`tenant/acme/device/${d.device}/telemetry`, JSON.stringify({ seq, metrics: { seq } }), { qos: 1 }).then(() => void acked.push(`${d.device}:${seq}`)));
          }
        }
        await Bun.sleep(1_000);
        expect(acked).toEqual([]);
        expect(pulse.app.ingest.writer.depth()).toBe(QUEUE_MAX);
        expect(clients.every((c) => c.connected)).toBe(true);

        await resume();
        await pump(Promise.all(publishes));
        expect(acked.length).toBe(40);
        const fills = await Promise.all(fill);
        expect(fills.map((r) => r.status)).toEqual(fills.map(() => 202));
        const stored = await seqsOf();
        expect(acked.filter((k) => !stored.has(k))).toEqual([]);
        expect(Array.from({ length: QUEUE_MAX }, (_, i) => `${devs[i % 2]!.device}:${1000 + i}`).filter((k) => !stored.has(k))).toEqual([]);
        expect(await quarantineRows(pulse.app)).toEqual([]);
      } finally {
        await Promise.all(clients.map((c) => c.endAsync(true)));
      }
    });

    test("a crossing waiting for room is judged at once (its alert opens before its PUBACK); one turned away with 503 raises nothing", async () => {
      await heard(pulse.app, RULES_CHANNEL, () =>
        createAlertRule({ db: pulse.app.db, clock: pulse.app.clock }, { ...platformAdmin, tenantId: "acme" }, { name: "Too hot", metricName: "temp_c", operator: "GT", threshold: 100, severity: "HIGH" }),
      );
      const http = viaSocket(pulse);
      const resume = await stall();
      const fill = Array.from({ length: QUEUE_MAX }, (_, i) => postMessage(http, devs[0]!, { seq: 3000 + i, metrics: { seq: 3000 + i } }));
      let c: MqttClient | undefined;
      try {
        await until("the queue is full", () => pulse.app.ingest.writer.depth() >= QUEUE_MAX);
        const turnedAway = await postMessage(http, devs[3]!, { metrics: { temp_c: 130 } });
        expect(turnedAway.status).toBe(503);

        c = await connectDevice(pulse.mqttPort, devs[2]!);
        let acked = false;
        const sent = c.publishAsync(`tenant/acme/device/d2/telemetry`, JSON.stringify({ metrics: { temp_c: 120 } }), { qos: 1 }).then(() => void (acked = true));
        await until("d2's alert is open", async () => (await alertsOf(pulse.app, "acme", "d2")).length === 1);
        expect(acked).toBe(false);
        expect(pulse.app.ingest.writer.depth()).toBe(QUEUE_MAX);

        await resume();
        await pump(sent);
        await Promise.all(fill);
        await pulse.app.alerts.engine.idle();
        expect((await alertsOf(pulse.app, "acme", "d2")).map((a) => [a.status, a.last_value])).toEqual([["OPEN", 120]]);
        expect(await alertsOf(pulse.app, "acme", "d3")).toEqual([]);
      } finally {
        await c?.endAsync(true);
      }
    });
  });
}
