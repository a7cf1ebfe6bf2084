// A crash between escalation levels neither skips nor repeats one. Pulse
// runs as its own process on Postgres (tests/escalation/child.ts: the app as
// `pulse serve` starts it, on a clock read from a file) and is killed with
// SIGKILL: once right after level 1 went out, once the moment level 3 falls
// due (wherever in its step that lands). Each restart picks up where the
// database says; at the SMTP and webhook peers, each level arrived once (a
// delivery cut short may be sent again, under the same message id), to
// whoever was on call at that level's moment.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { createApp } from "../../src/app.ts";
import { createApiKey } from "../../src/auth/apikeys/service.ts";
import { openDatabase } from "../../src/db/open.ts";
import { manualClock } from "../../src/lib/clock.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { addMyContactMethod } from "../../src/oncall/contacts.ts";
import { platformAdmin, seedCast } from "../helpers/cast.ts";
import { createPostgresDatabase, databaseUrl, dbKinds, dropPostgresDatabase, tempDir, testConfig } from "../helpers/databases.ts";
import { registerDevice } from "../helpers/devices.ts";
import { freePort } from "../helpers/pulse.ts";
import { startHttpReceiver, startSmtpServer, verifyWebhook, type HttpReceiver, type SmtpReceiver } from "../helpers/receivers.ts";

setDefaultTimeout(120_000);

const CHILD = join(import.meta.dir, "child.ts");
const SECRET = "whsec_" + Buffer.from("pulse-crash-webhook-secret-tests!").toString("base64");
const KEY = "crash-test-secret-key-0123456789abcdef-0123";
// 08:50 in Berlin: alice is on call until the 09:00 handoff, then bob.
const T0 = Date.parse("2026-05-04T06:50:00Z");
const MIN = 60_000;

describe.skipIf(!dbKinds().includes("postgres"))("SIGKILL between escalation levels (Pulse on Postgres)", () => {
  let dbName: string;
  let sql: postgres.Sql;
  let smtp: SmtpReceiver;
  let rx: HttpReceiver;
  let dataDir: string;
  let clockFile: string;
  let env: Record<string, string>;
  let alertId: string;
  const procs: Array<ReturnType<typeof Bun.spawn>> = [];

  const setClock = (ms: number) => writeFileSync(clockFile, new Date(ms).toISOString());

  beforeAll(async () => {
    smtp = await startSmtpServer();
    rx = startHttpReceiver();
    dbName = await createPostgresDatabase();
    sql = postgres(databaseUrl(dbName), { max: 1, onnotice: () => {} });
    dataDir = tempDir();
    clockFile = join(dataDir, "clock");
    setClock(T0);

    // The world, set up through the services and the API of a Pulse that is never started.
    const clock = manualClock(T0);
    const config = testConfig({ data_dir: dataDir, "database.url": databaseUrl(dbName), "security.secret_key": KEY });
    const app = await createApp({ config, log: silentLogger(), clock, database: await openDatabase({ config, log: silentLogger() }), banner: () => {} });
    const { alice, bob } = await seedCast(app);
    await registerDevice(app, "acme", "pump-7", { token: "crash-pump-token" });
    const key = (await createApiKey({ db: app.db, clock }, { ...platformAdmin, tenantId: "acme" }, { name: "crash", role: "tenant-admin" })).secret;
    const api = async (path: string, body: unknown) => {
      const res = await app.http.request(`/api/v1${path}`, { method: "POST", headers: { Authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      const out = (await res.json()) as Record<string, any>;
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(out)}`);
      return out;
    };
    const deps = { db: app.db, clock, secrets: app.secrets };
    await addMyContactMethod(deps, { tenantId: "acme", actor: { kind: "user", id: alice.id, name: "alice" }, role: "tenant-admin" }, { kind: "email", address: "alice-pager@acme.test" });
    await addMyContactMethod(deps, { tenantId: "acme", actor: { kind: "user", id: bob.id, name: "bob" }, role: "customer" }, { kind: "webhook", url: rx.url("/bob"), secret: SECRET });
    await api("/heartbeat-rules", { name: "quiet", enabled: false });
    const schedule = await api("/oncall-schedules", { name: "Primary", timezone: "Europe/Berlin" });
    await api(`/oncall-schedules/${schedule.id}/layers`, { name: "Primary", rotation: "daily", handoff_time: "09:00", start_date: "2026-05-03", users: [alice.id, bob.id] });
    const ops = await api("/notification-channels", { name: "Ops", type: "webhook", settings: { url: rx.url("/ops"), secret: SECRET } });
    const policy = await api("/escalation-policies", {
      name: "Pumps",
      levels: [
        { delay_minutes: 0, targets: [{ type: "schedule", schedule_id: schedule.id }] },
        { delay_minutes: 15, targets: [{ type: "schedule", schedule_id: schedule.id }] },
        { delay_minutes: 15, targets: [{ type: "channel", channel_id: ops.id }] },
      ],
    });
    await api("/alert-rules", { name: "Pump too hot", metric_name: "temp_c", operator: "GT", threshold: 80, severity: "CRITICAL", escalation_policy_id: policy.id });
    await app.stop();

    env = {
      PATH: process.env.PATH ?? "/usr/bin",
      HOME: process.env.HOME ?? dataDir,
      TEST_CLOCK_FILE: clockFile,
      PULSE_DATA_DIR: dataDir,
      PULSE_DATABASE_URL: databaseUrl(dbName),
      PULSE_HTTP_HOST: "127.0.0.1",
      PULSE_HTTP_PORT: String(await freePort()),
      PULSE_MQTT_ENABLED: "false",
      PULSE_LOG_LEVEL: "warn",
      PULSE_SECURITY_SECRET_KEY: KEY,
      PULSE_BOOTSTRAP_ADMIN_PASSWORD: "crash-rig-passphrase-0123",
      PULSE_NOTIFY_ALLOW_PRIVATE_NETWORKS: "true",
      PULSE_SMTP_HOST: "127.0.0.1",
      PULSE_SMTP_PORT: String(smtp.port),
      PULSE_SMTP_SECURITY: "none",
    };
  });

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
    await sql?.end();
    if (dbName) await dropPostgresDatabase(dbName);
    await smtp?.stop();
    rx?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<ReturnType<typeof Bun.spawn>> {
    const proc = Bun.spawn([process.execPath, CHILD], { env, cwd: dataDir, stdout: "ignore", stderr: "pipe" });
    procs.push(proc);
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      if (proc.exitCode !== null) throw new Error(`pulse exited ${proc.exitCode}: ${await new Response(proc.stderr as ReadableStream).text()}`);
      const res = await fetch(`http://127.0.0.1:${env.PULSE_HTTP_PORT}/readyz`).catch(() => undefined);
      if (res?.status === 200) return proc;
      await Bun.sleep(50);
    }
    proc.kill("SIGKILL");
    throw new Error("pulse was not ready within 30 s");
  }

  async function kill(proc: ReturnType<typeof Bun.spawn>): Promise<void> {
    proc.kill("SIGKILL");
    await proc.exited;
    expect(proc.signalCode).toBe("SIGKILL");
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(100);
    }
  }

  const levelsQueued = async () =>
    (await sql<{ level: number; recipient: string | null; status: string }[]>`
      select (payload->'escalation'->>'level')::int as level, coalesce(recipient->>'username', 'ops') as recipient, status
        from notification_outbox where alert_id = ${alertId} and event = 'alert.escalated' order by id`).map((r) => ({ ...r }));

  test("each level is paged exactly once, to whoever is on call then, across two kill -9s", async () => {
    // First life: the alert opens at 08:50 and level 1 goes to alice.
    let proc = await start();
    const res = await fetch(`http://127.0.0.1:${env.PULSE_HTTP_PORT}/ingest/v1/tenant/acme/device/pump-7/telemetry`, { method: "POST", headers: { "X-Provision-Token": "crash-pump-token" }, body: JSON.stringify({ metrics: { temp_c: 97 } }) });
    expect(res.status).toBe(202);
    alertId = await until("the alert", async () => (await sql<{ id: string }[]>`select id from alerts where device_id = 'pump-7'`)[0]?.id);
    const [mail] = await smtp.waitFor(1, 30_000);
    expect(mail!.to).toEqual(["alice-pager@acme.test"]);
    await kill(proc);

    // Second life, at 09:05: level 2 is due, and bob has taken over the rotation.
    setClock(T0 + 15 * MIN);
    proc = await start();
    const [bobHook] = await rx.waitFor("/bob", 1, 30_000);
    expect(verifyWebhook(SECRET, bobHook!).data.escalation).toEqual({ level: 2, target: "bob (on call for Primary)" });
    // Level 3 falls due and the process dies at once, wherever that is in its step.
    setClock(T0 + 30 * MIN);
    await Bun.sleep(Math.floor(Math.random() * 5000));
    await kill(proc);

    // Third life: whatever the second one did not finish gets done, once.
    proc = await start();
    await rx.waitFor("/ops", 1, 30_000);
    await until("every page delivered", async () => ((await levelsQueued()).every((r) => r.status === "delivered") ? true : undefined));
    // One more round of the job (every 5 s) must change nothing.
    await Bun.sleep(6000);
    expect(await levelsQueued()).toEqual([
      { level: 1, recipient: "alice", status: "delivered" },
      { level: 2, recipient: "bob", status: "delivered" },
      { level: 3, recipient: "ops", status: "delivered" },
    ]);
    const steps = await sql<{ level: number }[]>`select (details->>'level')::int as level from alert_events where alert_id = ${alertId} and kind = 'ESCALATED' order by id`;
    expect(steps.map((s) => s.level)).toEqual([1, 2, 3]);
    // At the peers: one message per level (a delivery interrupted by the kill may repeat, with the same id).
    expect(new Set(smtp.mails.map((m) => m.header("message-id"))).size).toBe(1);
    expect(new Set(rx.at("/bob").map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect(new Set(rx.at("/ops").map((r) => r.headers["webhook-id"])).size).toBe(1);
    const [alert] = await sql<{ escalation_level: number; next_escalation_at: Date | null }[]>`select escalation_level, next_escalation_at from alerts where id = ${alertId}`;
    expect(alert).toEqual({ escalation_level: 3, next_escalation_at: null });
    await kill(proc);
  });
});
