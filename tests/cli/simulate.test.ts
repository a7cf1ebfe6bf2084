// `pulse simulate` against a running Pulse: it provisions devices through
// the control socket and publishes over MQTT and HTTP; the devices come
// online and their telemetry is stored.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { withSystem } from "../../src/db/scope.ts";
import { freePort, startPulse, type TestPulse } from "../helpers/pulse.ts";

const HOOK_MS = 60_000;

async function simulate(pulse: TestPulse, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(["bun", "src/main.ts", "simulate", ...args, "--json"], {
    cwd: `${import.meta.dir}/../..`,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PULSE_DATA_DIR: pulse.app.config.data_dir,
      PULSE_HTTP_PORT: String(pulse.app.ports.http),
      PULSE_MQTT_PORT: String(pulse.app.ports.mqtt),
      PULSE_LOG_LEVEL: "warn",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, out, err };
}

describe("pulse simulate", () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startPulse({ config: { "http.port": await freePort(), "mqtt.port": await freePort() } });
  }, HOOK_MS);
  afterAll(() => pulse?.stop(), HOOK_MS);

  test("ten devices over MQTT: every message acknowledged (after commit) and stored", async () => {
    const r = await simulate(pulse, ["--devices", "10", "--rate", "5", "--seconds", "3"]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out) as { devices: number; sent: number; acknowledged: number; errors: number };
    expect(summary.devices).toBe(10);
    expect(summary.errors).toBe(0);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.sent).toBeGreaterThanOrEqual(100);
    const [rows] = await withSystem(pulse.app.db, (tx) => tx.query<{ n: number }>("select count(*) as n from telemetry where tenant_id = 'demo'"));
    expect(rows!.n).toBeGreaterThanOrEqual(summary.acknowledged - 10 * 2); // heartbeats carry no metrics
  }, HOOK_MS);

  test("a second run reuses the devices with fresh tokens, over HTTP", async () => {
    const r = await simulate(pulse, ["--devices", "10", "--rate", "2", "--seconds", "2", "--transport", "http"]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out) as { acknowledged: number; errors: number };
    expect(summary.errors).toBe(0);
    expect(summary.acknowledged).toBeGreaterThan(0);
    const [d] = await withSystem(pulse.app.db, (tx) => tx.query<{ n: number }>("select count(*) as n from devices where tenant_id = 'demo'"));
    expect(d!.n).toBe(10);
  }, HOOK_MS);

  test("bad options are usage errors", async () => {
    const r = await simulate(pulse, ["--devices", "0"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--devices");
  }, HOOK_MS);
});
