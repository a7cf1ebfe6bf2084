// Which alert changes reach which channel, end to end (telemetry in, webhook
// out), on a clock the suite moves by hand: minimum severity, alert types,
// sites and tags, transitions, active hours in a time zone, the throttle
// window, and alerts that are never routed (inside a maintenance window, or
// silenced).
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { manualClock } from "../../src/lib/clock.ts";
import { startHttpReceiver, type HttpReceiver } from "../helpers/receivers.ts";
import { bodies, startWorld, type World } from "./fixtures.ts";

// Monday 7 January 2030, 09:00 in Berlin.
const clock = manualClock("2030-01-07T08:00:00Z");
let w: World;
let rx: HttpReceiver;
let n = 0;

beforeAll(async () => {
  rx = startHttpReceiver();
  w = await startWorld({ clock });
}, 60_000);
afterEach(() => w.reset(), 60_000);
afterAll(async () => {
  await w.stop();
  rx.stop();
}, 60_000);

/** A fresh webhook channel routed with these settings; returns the receiver path. */
async function routed(route: Record<string, unknown>): Promise<string> {
  const path = `/r${++n}`;
  const channel = await w.channel("webhook", { url: rx.url(path) });
  await w.route(channel, route);
  return path;
}

/** What a path received: "event device severity" per notification, in order. */
async function got(path: string): Promise<string[]> {
  await w.drain();
  return bodies(rx.at(path)).map((b) => `${b.type.replace("alert.", "")} ${b.data.alert.device_id} ${b.data.alert.severity}`);
}

/** Move the clock forward to a time (never back: deliveries are due by this clock). */
function at(iso: string): void {
  const t = new Date(iso).getTime();
  if (t < clock.now().getTime()) throw new Error(`the clock only moves forward (${iso})`);
  clock.set(t);
}

describe("routes filter", () => {
  test("by minimum severity", async () => {
    const path = await routed({ min_severity: "HIGH" });
    await w.rule("m_crit", { severity: "CRITICAL" });
    await w.rule("m_high", { severity: "HIGH" });
    await w.rule("m_med", { severity: "MEDIUM" });
    await w.send("pump-7", { m_crit: 99, m_high: 99, m_med: 99 });
    expect((await got(path)).sort()).toEqual(["triggered pump-7 CRITICAL", "triggered pump-7 HIGH"]);
  });

  test("by alert type", async () => {
    const heartbeats = await routed({ alert_types: ["NO_HEARTBEAT"] });
    const thresholds = await routed({ alert_types: ["THRESHOLD"] });
    await w.rule("m_type");
    await w.send("pump-7", { m_type: 99 });
    expect(await got(heartbeats)).toEqual([]);
    expect(await got(thresholds)).toEqual(["triggered pump-7 CRITICAL"]);
  });

  test("by site and by tag", async () => {
    const depot = await routed({ scope: { sites: ["depot"] } });
    const north = await routed({ scope: { tags: { zone: "north" } } });
    await w.rule("m_scope");
    for (const d of ["pump-7", "pump-8", "fan-1"] as const) await w.send(d, { m_scope: 99 });
    expect(await got(depot)).toEqual(["triggered pump-8 CRITICAL"]);
    expect(await got(north)).toEqual(["triggered pump-7 CRITICAL"]);
  });

  test("by transition", async () => {
    const resolvedOnly = await routed({ transitions: ["resolved"] });
    const ackOnly = await routed({ transitions: ["acknowledged"] });
    const usual = await routed({});
    await w.rule("m_tr");
    await w.send("pump-7", { m_tr: 99 });
    const alert = await w.alertOf("pump-7", "m_tr");
    expect((await w.api(`/alerts/${alert!.id}/acknowledge`, { body: {} })).status).toBe(200);
    await w.send("pump-7", { m_tr: 10 });
    expect(await got(resolvedOnly)).toEqual(["resolved pump-7 CRITICAL"]);
    expect(await got(ackOnly)).toEqual(["acknowledged pump-7 CRITICAL"]);
    expect(await got(usual)).toEqual(["triggered pump-7 CRITICAL", "resolved pump-7 CRITICAL"]);
  });

  test("by active hours, in the route's time zone", async () => {
    const office = await routed({ active_hours: { days: ["MO", "TU", "WE", "TH", "FR"], start: "08:00", end: "18:00", timezone: "Europe/Berlin" } });
    await w.rule("m_hours");
    at("2030-01-12T09:00:00Z"); // Saturday 10:00 in Berlin
    await w.send("pump-7", { m_hours: 99 });
    at("2030-01-14T06:30:00Z"); // Monday 07:30 in Berlin: not yet
    await w.send("pump-8", { m_hours: 99 });
    at("2030-01-14T08:00:00Z"); // Monday 09:00 in Berlin
    await w.send("fan-1", { m_hours: 99 });
    at("2030-01-14T17:30:00Z"); // Monday 18:30 in Berlin (but 17:30 UTC: the zone decides)
    await w.send("fan-1", { m_hours: 10 });
    expect(await got(office)).toEqual(["triggered fan-1 CRITICAL"]);
  });

  test("by throttle: the same alert firing twice within the window notifies once", async () => {
    const path = await routed({ transitions: ["triggered"], throttle_seconds: 600 });
    await w.rule("m_flap", { reopen_window_seconds: 3600 });
    const t0 = clock.now().getTime();
    const step = async (seconds: number, value: number) => {
      at(new Date(t0 + seconds * 1000).toISOString());
      await w.send("pump-7", { m_flap: value });
    };
    await step(0, 99);
    await step(60, 10);
    await step(120, 99); // re-opened within 600 s: throttled
    await step(180, 10);
    expect(await got(path)).toEqual(["triggered pump-7 CRITICAL"]);
    await step(700, 99); // the window has passed
    expect(await got(path)).toEqual(["triggered pump-7 CRITICAL", "triggered pump-7 CRITICAL"]);
  });
});

describe("never routed", () => {
  test("alerts raised inside a maintenance window (suppressed)", async () => {
    const path = await routed({});
    await w.rule("m_maint");
    const now = clock.now().getTime();
    const win = await w.api("/maintenance-windows", { body: { name: "plant service", scope: { sites: ["plant"] }, starts_at: new Date(now - 3600_000).toISOString(), ends_at: new Date(now + 3600_000).toISOString() } });
    expect(win.status).toBe(201);
    w.pulse.app.alerts.engine.invalidate("acme");
    await w.send("pump-7", { m_maint: 99 }); // at plant: in the window
    await w.send("pump-8", { m_maint: 99 }); // at depot: not
    expect((await w.alertOf("pump-7", "m_maint"))!.suppressed).toBe(true);
    expect(await got(path)).toEqual(["triggered pump-8 CRITICAL"]);
    await w.send("pump-7", { m_maint: 10 });
    expect(await got(path)).toEqual(["triggered pump-8 CRITICAL"]);
    expect((await w.api(`/maintenance-windows/${win.body.id}`, { method: "DELETE" })).status).toBe(204);
    w.pulse.app.alerts.engine.invalidate("acme");
  });

  test("changes of a silenced alert", async () => {
    const path = await routed({ transitions: ["triggered", "acknowledged", "resolved"] });
    await w.rule("m_silence");
    await w.send("pump-7", { m_silence: 99 });
    expect(await got(path)).toEqual(["triggered pump-7 CRITICAL"]);
    const alert = await w.alertOf("pump-7", "m_silence");
    expect((await w.api(`/alerts/${alert!.id}/silence`, { body: { minutes: 60 } })).status).toBe(200);
    expect((await w.api(`/alerts/${alert!.id}/acknowledge`, { body: {} })).status).toBe(200);
    await w.send("pump-7", { m_silence: 10 });
    expect((await w.alertOf("pump-7", "m_silence"))!.status).toBe("CLOSED");
    expect(await got(path)).toEqual(["triggered pump-7 CRITICAL"]);
  });
});
