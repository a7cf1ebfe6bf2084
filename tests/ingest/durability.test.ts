// "QoS 1 PUBACK and HTTP 202 are sent only after the data is committed"
// (DESIGN.md §5). In process: the moment an acknowledgement arrives, the row
// is queryable from another connection. For real: a `pulse serve` child on
// Postgres is killed with SIGKILL right after a PUBACK (and right after a 202),
// restarted, and every acknowledged message is there.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { rmSync } from "node:fs";
import postgres from "postgres";
import { seedCast } from "../helpers/cast.ts";
import { createPostgresDatabase, databaseUrl, dbKinds, dropPostgresDatabase, tempDir } from "../helpers/databases.ts";
import { postMessage, registerDevice, telemetryRows, viaSocket, type TestDevice } from "../helpers/devices.ts";
import { connectDevice, connectMqtt, type MqttClient } from "../helpers/mqtt.ts";
import { freePort, startPulse, type TestPulse } from "../helpers/pulse.ts";
import { sha256Hex } from "../../src/lib/ids.ts";

// Suites boot whole servers (the first PGlite start runs initdb); bun test may not apply the preload's timeout to every file's hooks.
setDefaultTimeout(60_000);

// A wide flush window: an acknowledgement sent on queueing instead of on
// commit would arrive up to this long before the row exists.
const FLUSH_MS = 300;

for (const kind of dbKinds()) {
  describe(`acknowledged means committed (${kind})`, () => {
    let pulse: TestPulse;
    let dev: TestDevice;
    beforeAll(async () => {
      pulse = await startPulse({ db: kind, config: { "ingest.flush_ms": FLUSH_MS, "ingest.device_rate_per_second": 0 } });
      await seedCast(pulse.app);
      dev = await registerDevice(pulse.app, "acme", "d1");
    });
    afterAll(() => pulse.stop());

    const hasSeq = async (seq: number) => (await telemetryRows(pulse.app, "acme", "d1")).some((r) => r.metrics.seq === seq);

    test("MQTT QoS 1: as soon as the PUBACK arrives, the row is queryable", async () => {
      const c = await connectDevice(pulse.mqttPort, dev);
      try {
        for (let seq = 1; seq <= 8; seq++) {
          // The query starts in the PUBACK callback itself, before anything else can run.
          const found = await new Promise<Promise<boolean>>((resolve, reject) =>
            c.publish(`tenant/acme/device/d1/telemetry`, JSON.stringify({ seq, metrics: { seq } }), { qos: 1 }, (err) => (err ? reject(err) : resolve(hasSeq(seq)))),
          );
          expect({ seq, found: await found }).toEqual({ seq, found: true });
        }
        // Many in flight at once (a batch): each one's PUBACK still means its row is there.
        const checks = await Promise.all(
          Array.from({ length: 20 }, (_, i) => 100 + i).map(
            (seq) =>
              new Promise<Promise<boolean>>((resolve, reject) =>
                c.publish(`tenant/acme/device/d1/telemetry`, JSON.stringify({ seq, metrics: { seq } }), { qos: 1 }, (err) => (err ? reject(err) : resolve(hasSeq(seq)))),
              ),
          ),
        );
        expect(await Promise.all(checks)).toEqual(checks.map(() => true));
      } finally {
        await c.endAsync(true);
      }
    });

    test("the same through an envelope-token (anonymous) connection", async () => {
      const c = await connectMqtt(`mqtt://127.0.0.1:${pulse.mqttPort}`);
      try {
        const found = await new Promise<Promise<boolean>>((resolve, reject) =>
          c.publish(`tenant/acme/device/d1/telemetry`, JSON.stringify({ seq: 200, metrics: { seq: 200 }, provision_token: dev.token }), { qos: 1 }, (err) => (err ? reject(err) : resolve(hasSeq(200)))),
        );
        expect(await found).toBe(true);
      } finally {
        await c.endAsync(true);
      }
    });

    test("HTTP: a 202 means the row is queryable, for single messages and batches", async () => {
      const http = viaSocket(pulse);
      const singles = Array.from({ length: 10 }, (_, i) => 300 + i).map(async (seq) => {
        const res = await postMessage(http, dev, { seq, metrics: { seq } });
        const found = hasSeq(seq);
        return { status: res.status, found: await found };
      });
      expect(await Promise.all(singles)).toEqual(Array.from({ length: 10 }, () => ({ status: 202, found: true })));

      const messages = Array.from({ length: 50 }, (_, i) => ({ tenant_id: "acme", device_id: "d1", msg_type: "telemetry", provision_token: dev.token, seq: 400 + i, metrics: { seq: 400 + i } }));
      const res = await http.request("/ingest/v1/batch", { method: "POST", body: JSON.stringify({ messages }) });
      const rows = telemetryRows(pulse.app, "acme", "d1");
      expect(res.status).toBe(202);
      const seqs = new Set((await rows).map((r) => r.metrics.seq));
      expect(messages.filter((m) => !seqs.has(m.seq))).toEqual([]);
    });
  });
}

describe("kill -9 right after the acknowledgement (pulse serve on Postgres)", () => {
  const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
  const TOKEN = "durable-token-0123456789abcdef";
  let dbName: string;
  let sql: postgres.Sql;
  let env: Record<string, string>;
  let dataDir: string;
  const procs: Array<ReturnType<typeof Bun.spawn>> = [];

  beforeAll(async () => {
    dbName = await createPostgresDatabase();
    sql = postgres(databaseUrl(dbName), { max: 1, onnotice: () => {} });
    // The registry, as the device service would leave it (the database's owner bypasses row-level security).
    await sql`insert into tenants (id, name) values ('acme', 'Acme Corp')`;
    await sql`insert into sites (tenant_id, id, name) values ('acme', 'lab-1', 'Lab 1')`;
    await sql`insert into devices (tenant_id, id, site_id) values ('acme', 'd1', 'lab-1')`;
    await sql`insert into device_tokens (tenant_id, device_id, token_hash) values ('acme', 'd1', ${sha256Hex(TOKEN)})`;
    dataDir = tempDir();
    env = {
      PATH: process.env.PATH ?? "/usr/bin",
      HOME: process.env.HOME ?? dataDir,
      PULSE_DATA_DIR: dataDir,
      PULSE_DATABASE_URL: databaseUrl(dbName),
      PULSE_HTTP_HOST: "127.0.0.1",
      PULSE_HTTP_PORT: String(await freePort()),
      PULSE_MQTT_HOST: "127.0.0.1",
      PULSE_MQTT_PORT: String(await freePort()),
      PULSE_MQTT_TLS_PORT: "0",
      PULSE_LOG_LEVEL: "warn",
      PULSE_SECURITY_SECRET_KEY: "durability-test-secret-key-0123456789abc",
      PULSE_BOOTSTRAP_ADMIN_PASSWORD: "durability-rig-passphrase",
      PULSE_INGEST_FLUSH_MS: String(FLUSH_MS),
    };
  });
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
    await sql.end();
    await dropPostgresDatabase(dbName);
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function serve(): Promise<ReturnType<typeof Bun.spawn>> {
    const proc = Bun.spawn([process.execPath, MAIN, "serve"], { env, cwd: dataDir, stdout: "ignore", stderr: "pipe" });
    procs.push(proc);
    const started = performance.now();
    while (performance.now() - started < 30_000) {
      if (proc.exitCode !== null) throw new Error(`pulse serve exited ${proc.exitCode}: ${await new Response(proc.stderr as ReadableStream).text()}`);
      const res = await fetch(`http://127.0.0.1:${env.PULSE_HTTP_PORT}/readyz`).catch(() => undefined);
      if (res?.status === 200) return proc;
      await Bun.sleep(50);
    }
    proc.kill("SIGKILL");
    throw new Error("pulse serve was not ready within 30 s");
  }

  const stored = async () => (await sql<{ seq: number }[]>`select (metrics->>'seq')::int as seq from telemetry where tenant_id = 'acme' and device_id = 'd1'`).map((r) => r.seq);

  test("every PUBACK'd message survives a SIGKILL sent the instant the first PUBACK arrives", async () => {
    const proc = await serve();
    const c: MqttClient = await connectMqtt(`mqtt://127.0.0.1:${env.PULSE_MQTT_PORT}`, { username: "acme/d1", password: TOKEN });
    const acked: number[] = [];
    let killed = false;
    const firstAck = new Promise<void>((resolve) => {
      for (let seq = 1; seq <= 30; seq++) {
        c.publish("tenant/acme/device/d1/telemetry", JSON.stringify({ seq, metrics: { seq } }), { qos: 1 }, (err) => {
          if (err) return;
          acked.push(seq);
          if (!killed) {
            killed = true;
            proc.kill("SIGKILL");
            resolve();
          }
        });
      }
    });
    await Promise.race([firstAck, Bun.sleep(15_000)]);
    expect(killed).toBe(true);
    expect(await proc.exited).not.toBe(0);
    expect(proc.signalCode).toBe("SIGKILL");
    await c.endAsync(true);
    expect(acked.length).toBeGreaterThan(0);

    // Restarted, the server comes back (the data dir lock of the killed one is taken over) and the rows are there.
    const again = await serve();
    const seqs = new Set(await stored());
    expect(acked.filter((s) => !seqs.has(s))).toEqual([]);
    // And it ingests again.
    const c2 = await connectMqtt(`mqtt://127.0.0.1:${env.PULSE_MQTT_PORT}`, { username: "acme/d1", password: TOKEN });
    await c2.publishAsync("tenant/acme/device/d1/telemetry", JSON.stringify({ seq: 1000, metrics: { seq: 1000 } }), { qos: 1 });
    await c2.endAsync(true);
    expect(await stored()).toContain(1000);
    again.kill("SIGKILL");
    await again.exited;
  });

  test("every 202'd HTTP message survives a SIGKILL sent the instant the first 202 arrives", async () => {
    const proc = await serve();
    const url = `http://127.0.0.1:${env.PULSE_HTTP_PORT}`;
    const accepted: number[] = [];
    let killed = false;
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => 2000 + i).map(async (seq) => {
        const res = await postMessage(viaSocket({ url }), { tenant: "acme", device: "d1", token: TOKEN }, { seq, metrics: { seq } }).catch(() => undefined);
        if (res?.status !== 202) return;
        accepted.push(seq);
        if (!killed) {
          killed = true;
          proc.kill("SIGKILL");
        }
      }),
    );
    expect(killed).toBe(true);
    await proc.exited;
    expect(accepted.length).toBeGreaterThan(0);
    const again = await serve();
    const seqs = new Set(await stored());
    expect(accepted.filter((s) => !seqs.has(s))).toEqual([]);
    again.kill("SIGKILL");
    await again.exited;
  });
});
