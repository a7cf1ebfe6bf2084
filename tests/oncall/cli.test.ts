// `pulse oncall now|timeline` as the person at the box types it, spawned
// for real against a running Pulse (over its control socket, so on the
// server's clock): who is on call now and until when, and the coming days in
// the schedule's own zone with the DST change marked. Exit codes: 0 ok, 1
// failure (an unknown schedule), 2 usage (a forgotten --tenant).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { startWorld, type World } from "./fixtures.ts";

setDefaultTimeout(60_000);

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
let w: World;

async function pulseCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? "/usr/bin", HOME: process.env.HOME ?? "/tmp", PULSE_DATA_DIR: w.pulse.app.config.data_dir, PULSE_LOG_LEVEL: "warn" };
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { env, cwd: w.pulse.app.config.data_dir, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  // Saturday 28 March 2026, 12:00 in New York; Berlin's clocks go forward tonight.
  w = await startWorld({ start: "2026-03-28T16:00:00Z", devices: [] });
  const s = await w.must("/oncall-schedules", { body: { name: "EU Primary", timezone: "Europe/Berlin" } });
  await w.must(`/oncall-schedules/${s.id}/layers`, { body: { name: "Weekdays", rotation: "daily", handoff_time: "09:00", start_date: "2026-03-23", users: [w.cast.alice.id, w.cast.bob.id] } });
});
afterAll(() => w?.stop());

describe("pulse oncall", () => {
  test("now: who, until when, in the schedule's zone", async () => {
    const r = await pulseCli(["oncall", "now", "EU Primary", "--tenant", "acme"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // Saturday's shift (the sixth from Monday the 23rd) is bob's, until 09:00 CEST on Sunday: a 23-hour shift.
    expect(r.stdout.trim()).toBe("EU Primary (Europe/Berlin): bob until 2026-03-29 09:00 +02:00 [Weekdays]");
    const json = JSON.parse((await pulseCli(["oncall", "now", "EU Primary", "--tenant", "acme", "--json"])).stdout);
    expect(json).toMatchObject({ user: { username: "bob" }, until: "2026-03-29T07:00:00.000Z" });
  });

  test("timeline: shifts in local time with their real length, and the clock change", async () => {
    const r = await pulseCli(["oncall", "timeline", "EU Primary", "--tenant", "acme", "--days", "3"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("EU Primary (Europe/Berlin), 2026-03-28 17:00 +01:00 to 2026-03-31 18:00 +02:00");
    expect(lines[1]).toMatch(/^START\s+END\s+HOURS\s+ON CALL\s+LAYER$/);
    expect(lines.slice(2, 6).map((l) => l.split(/\s{2,}/))).toEqual([
      ["2026-03-28 17:00 +01:00", "2026-03-29 09:00 +02:00", "15 h", "bob", "Weekdays"],
      ["2026-03-29 09:00 +02:00", "2026-03-30 09:00 +02:00", "24 h", "alice", "Weekdays"],
      ["2026-03-30 09:00 +02:00", "2026-03-31 09:00 +02:00", "24 h", "bob", "Weekdays"],
      ["2026-03-31 09:00 +02:00", "2026-03-31 18:00 +02:00", "9 h", "alice", "Weekdays"],
    ]);
    expect(lines).toContain("clocks go forward 60 min at 2026-03-29 03:00 +02:00");
  });

  test("errors: an unknown schedule fails (1), a forgotten --tenant is a usage error (2)", async () => {
    const unknown = await pulseCli(["oncall", "now", "Nope", "--tenant", "acme"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("schedule Nope not found");
    const globex = await pulseCli(["oncall", "now", "EU Primary", "--tenant", "globex"]);
    expect(globex.code).toBe(1);
    const usage = await pulseCli(["oncall", "now", "EU Primary"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--tenant is required");
  });
});
