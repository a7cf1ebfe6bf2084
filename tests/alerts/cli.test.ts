// `pulse alerts list|ack|close` as the person at the box types it, spawned
// for real: against a running Pulse (over its control socket) and, on
// Postgres, with no server at all. One alert a line with severity, status,
// device, how long ago it opened and its summary; acknowledging and closing
// by id, recorded in the timeline as "cli"; acme's alerts only for acme.
// Exit codes: 0 ok, 1 failure, 2 usage.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { createAlertRule } from "../../src/alerts/rules.ts";
import { createApiKey } from "../../src/auth/apikeys/service.ts";
import { manualClock } from "../../src/lib/clock.ts";
import { platformAdmin, seedCast } from "../helpers/cast.ts";
import { createPostgresDatabase, databaseUrl, dbKinds, dropPostgresDatabase } from "../helpers/databases.ts";
import { postMessage, registerDevice } from "../helpers/devices.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { alertsOf, eventsOf } from "./fixtures.ts";

// Suites boot whole servers on two shared cores; bun applies the preload's timeout to the first file only, and hooks need it too.
setDefaultTimeout(60_000);

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
const HOUR = 3_600_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const onPostgres = dbKinds().includes("postgres");

describe("pulse alerts", () => {
  const clock = manualClock(Date.now() - 3 * HOUR);
  let pulse: TestPulse;
  let pgName: string | undefined;
  const ids: Record<string, string> = {};

  /** Run `pulse <args>` with the box's environment: its data dir (and so its control socket). */
  async function pulseCli(args: string[], extra: Record<string, string> = {}): Promise<Run> {
    const env = { PATH: process.env.PATH ?? "/usr/bin", HOME: process.env.HOME ?? "/tmp", PULSE_DATA_DIR: pulse.app.config.data_dir, PULSE_LOG_LEVEL: "warn", ...extra };
    const proc = Bun.spawn([process.execPath, MAIN, ...args], { env, cwd: pulse.app.config.data_dir, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  }
  const lines = (s: string) => s.split("\n").filter((l) => l.trim() !== "");

  beforeAll(async () => {
    // On Postgres the database outlives the server, so the CLI can also run without one.
    if (onPostgres) pgName = await createPostgresDatabase();
    pulse = await startPulse({ db: "pglite", clock, config: pgName ? { "database.url": databaseUrl(pgName) } : {} });
    await seedCast(pulse.app);
    const deps = { db: pulse.app.db, clock };
    const acme = { ...platformAdmin, tenantId: "acme" };
    for (const [id, site] of [["pump-7", "plant"], ["pump-8", "plant"], ["fan-1", "roof"]] as const) await registerDevice(pulse.app, "acme", id, { site });
    const globexFan = await registerDevice(pulse.app, "globex", "fan-9", { site: "hq" });
    await createAlertRule(deps, acme, { name: "Pump too hot", metricName: "temp_c", operator: "GT", threshold: 80, severity: "CRITICAL", scope: { devices: ["pump-7"] } });
    await createAlertRule(deps, acme, { name: "Pump running warm", metricName: "temp_c", operator: "GT", threshold: 60, severity: "LOW", scope: { devices: ["pump-8"] } });
    await createAlertRule(deps, acme, { name: "Fan stopped", metricName: "rpm", operator: "LT", threshold: 100, severity: "HIGH" });
    await createAlertRule(deps, { ...platformAdmin, tenantId: "globex" }, { name: "Globex fan stopped", metricName: "rpm", operator: "LT", threshold: 100, severity: "HIGH" });
    const send = async (d: { tenant: string; device: string; token: string }, metrics: Record<string, unknown>) => {
      expect((await postMessage(pulse, d, { metrics })).status).toBe(202);
      await pulse.app.alerts.engine.idle();
    };
    const dev = (device: string) => ({ tenant: "acme", device, token: `tok-acme-${device}` });
    // Three hours ago pump-7 overheated; five minutes ago pump-8 ran warm; the fan stopped and started again.
    await send(dev("pump-7"), { temp_c: 95 });
    clock.set(Date.now() - 2 * HOUR);
    await send(dev("fan-1"), { rpm: 0 });
    await send(dev("fan-1"), { rpm: 900 });
    clock.set(Date.now() - 5 * 60_000);
    await send(dev("pump-8"), { temp_c: 65 });
    await send(globexFan, { rpm: 0 });
    for (const d of ["pump-7", "pump-8", "fan-1"]) ids[d] = (await alertsOf(pulse.app, "acme", d))[0]!.id;
    ids["fan-9"] = (await alertsOf(pulse.app, "globex", "fan-9"))[0]!.id;
  });
  afterAll(async () => {
    await pulse?.stop();
    if (pgName) await dropPostgresDatabase(pgName);
  });

  test("list shows a tenant's open alerts, one a line: severity, status, device, opened how long ago, summary", async () => {
    const run = await pulseCli(["alerts", "list", "--tenant", "acme"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = lines(run.stdout);
    expect(out[0]).toMatch(/^ID\s+SEVERITY\s+STATUS\s+DEVICE\s+OPENED\s+SUMMARY$/);
    expect(out.length).toBe(3);
    expect(out[1]).toMatch(new RegExp(`^${ids["pump-8"]}\\s+LOW\\s+OPEN\\s+pump-8\\s+5 min ago\\s+Pump running warm: temp_c 65 > 60 on pump-8$`));
    expect(out[2]).toMatch(new RegExp(`^${ids["pump-7"]}\\s+CRITICAL\\s+OPEN\\s+pump-7\\s+3 h ago\\s+Pump too hot: temp_c 95 > 80 on pump-7$`));
    expect(run.stdout).not.toContain("fan-9"); // globex's
  });

  test("filters by status and severity, and prints JSON for scripts", async () => {
    const devicesIn = async (...args: string[]) => {
      const run = await pulseCli(["alerts", "list", "--tenant", "acme", "--json", ...args]);
      expect(run.code).toBe(0);
      return (JSON.parse(run.stdout) as Array<{ device_id: string }>).map((a) => a.device_id);
    };
    expect(await devicesIn("--status", "ALL")).toEqual(["pump-8", "fan-1", "pump-7"]);
    expect(await devicesIn("--status", "closed")).toEqual(["fan-1"]);
    expect(await devicesIn("--severity", "critical")).toEqual(["pump-7"]);
    expect(await devicesIn("--severity", "4,1")).toEqual(["pump-8", "pump-7"]);
    const json = JSON.parse((await pulseCli(["alerts", "list", "--tenant", "acme", "--json", "--severity", "LOW"])).stdout);
    expect(json).toMatchObject([{ id: ids["pump-8"], severity: "LOW", status: "OPEN", device_id: "pump-8", trigger_count: 1 }]);
    const none = await pulseCli(["alerts", "list", "--tenant", "acme", "--status", "ACKNOWLEDGED"]);
    expect([none.code, none.stdout.trim()]).toEqual([0, "no acknowledged alerts"]);
  });

  test("ack and close take one or more ids; the timeline says the cli did it", async () => {
    const ack = await pulseCli(["alerts", "ack", "--tenant", "acme", ids["pump-7"]!]);
    expect(ack.code).toBe(0);
    expect(ack.stdout.trim()).toBe(`${ids["pump-7"]}  ACKNOWLEDGED  pump-7  Pump too hot: temp_c 95 > 80 on pump-7`);
    expect((await alertsOf(pulse.app, "acme", "pump-7"))[0]).toMatchObject({ status: "ACKNOWLEDGED", acknowledged_by: "cli" });
    const listed = await pulseCli(["alerts", "list", "--tenant", "acme"]);
    expect(lines(listed.stdout)[2]).toMatch(/CRITICAL\s+ACKNOWLEDGED\s+pump-7/);

    const close = await pulseCli(["alerts", "close", "--tenant", "acme", ids["pump-7"]!, ids["pump-8"]!, "--reason", "fixed on site"]);
    expect(close.code).toBe(0);
    expect(lines(close.stdout).map((l) => l.split("  ").slice(0, 3).join(" "))).toEqual([`${ids["pump-7"]} CLOSED pump-7`, `${ids["pump-8"]} CLOSED pump-8`]);
    for (const d of ["pump-7", "pump-8"]) expect((await alertsOf(pulse.app, "acme", d))[0]).toMatchObject({ status: "CLOSED", closed_by: "cli", close_reason: "fixed on site" });
    expect((await eventsOf(pulse.app, ids["pump-7"]!)).map((e) => [e.kind, e.actor_name])).toEqual([
      ["OPENED", "system"],
      ["ACKNOWLEDGED", "cli"],
      ["CLOSED", "cli"],
    ]);
    expect((await pulseCli(["alerts", "list", "--tenant", "acme"])).stdout.trim()).toBe("no open or acknowledged alerts");
  });

  test("mistakes are named: usage errors exit 2, unknown tenants, ids and values exit 1, and nothing changes", async () => {
    const noIds = await pulseCli(["alerts", "ack", "--tenant", "acme"]);
    expect([noIds.code, lines(noIds.stderr)[0]]).toEqual([2, "pulse alerts: ack takes one or more alert IDs"]);
    const noTenant = await pulseCli(["alerts", "list"]);
    expect([noTenant.code, lines(noTenant.stderr)[0]]).toEqual([2, "pulse alerts: --tenant is required"]);
    const unknownSub = await pulseCli(["alerts", "mute", "--tenant", "acme"]);
    expect(unknownSub.code).toBe(2);
    expect(noIds.stderr).toContain("Usage: pulse alerts");

    const failures: Array<[string[], string]> = [
      [["alerts", "list", "--tenant", "nope"], "tenant nope not found"],
      [["alerts", "list", "--tenant", "acme", "--status", "BOGUS"], "--status"],
      [["alerts", "list", "--tenant", "acme", "--severity", "URGENT"], "--severity: URGENT"],
      [["alerts", "ack", "--tenant", "acme", "00000000-0000-4000-8000-000000000000"], "not found"],
      // globex's alert is not acme's to close.
      [["alerts", "close", "--tenant", "acme", ids["fan-9"]!], "not found"],
    ];
    for (const [args, message] of failures) {
      const run = await pulseCli(args);
      expect({ args, code: run.code, named: run.stderr.includes(message) }).toEqual({ args, code: 1, named: true });
    }
    expect((await alertsOf(pulse.app, "globex", "fan-9"))[0]!.status).toBe("OPEN");
  });

  test("pulse help lists the alerts command", async () => {
    const help = await pulseCli(["--help"]);
    expect(help.stdout).toMatch(/^\s+alerts\s+List alerts of a tenant; acknowledge or close them$/m);
    const usage = await pulseCli(["help", "alerts"]);
    expect([usage.code, usage.stdout]).toEqual([0, expect.stringContaining("close ID... [--reason TEXT]")]);
  });

  if (onPostgres) {
    test("with no server running, the CLI opens the database itself, answers the same, and still queues the notifications", async () => {
      // Carol has globex's alerts go to a webhook, acknowledgements included.
      const key = (await createApiKey({ db: pulse.app.db, clock }, { ...platformAdmin, tenantId: "globex" }, { name: "carol's script", role: "tenant-admin" })).secret;
      const api = async (path: string, body: unknown) => (await (await pulse.request(`/api/v1${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) })).json()) as { id: string };
      const channel = await api("/notification-channels", { name: "globex ops", type: "webhook", settings: { url: "https://ops.globex.test/hook" } });
      await api("/notification-routing-rules", { name: "everything", channel_id: channel.id, transitions: ["triggered", "acknowledged", "resolved"] });

      const dataDir = pulse.app.config.data_dir;
      await pulse.app.stop(); // the control socket goes with it
      const run = await pulseCli(["alerts", "list", "--tenant", "globex"], { PULSE_DATA_DIR: dataDir, PULSE_DATABASE_URL: databaseUrl(pgName!), PULSE_SECURITY_SECRET_KEY: "test-secret-key-test-secret-key-test-secret" });
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(lines(run.stdout)[1]).toMatch(new RegExp(`^${ids["fan-9"]}\\s+HIGH\\s+OPEN\\s+fan-9\\s+\\d+ min ago\\s+Globex fan stopped`));
      const ack = await pulseCli(["alerts", "ack", "--tenant", "globex", ids["fan-9"]!], { PULSE_DATABASE_URL: databaseUrl(pgName!), PULSE_SECURITY_SECRET_KEY: "test-secret-key-test-secret-key-test-secret" });
      expect([ack.code, ack.stdout]).toEqual([0, expect.stringContaining("ACKNOWLEDGED  fan-9")]);
      // The acknowledgement's notification waits in the outbox for the server, committed with the change.
      const sql = postgres(databaseUrl(pgName!), { max: 1, onnotice: () => {} });
      try {
        const rows = await sql<Array<{ event: string }>>`select event from notification_outbox where alert_id = ${ids["fan-9"]!}`;
        expect(rows.map((r) => r.event)).toEqual(["alert.acknowledged"]);
      } finally {
        await sql.end();
      }
    });
  }
});
