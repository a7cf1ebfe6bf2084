// The alert engine end to end, on both databases, with devices speaking MQTT
// (MQTT.js, 3.1.1) and a clock the story moves by hand: a boiler crossing its
// limit over four connections at once opens exactly one alert, recovery
// closes it and a relapse re-opens it; a chiller that needs a person stays
// open when it clears; an oven's normalized reading follows the catalog;
// silent meters get NO_HEARTBEAT (tuned per site and tag, not for children of
// a gateway that is down) until they speak again; presses in maintenance are
// recorded but suppressed; bob and alice acknowledge, silence and close, one
// at a time and in bulk, and oscar may only look. Last, a Pulse restarted
// between a crossing and its `for` deadline still fires once.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { RULES_CHANNEL } from "../../src/alerts/engine.ts";
import { createApp, type App } from "../../src/app.ts";
import { switchSessionTenant } from "../../src/auth/sessions/service.ts";
import type { Config } from "../../src/config.ts";
import { withSystem } from "../../src/db/scope.ts";
import { openDatabase } from "../../src/db/open.ts";
import { manualClock } from "../../src/lib/clock.ts";
import { sha256Hex } from "../../src/lib/ids.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { createAlertRule } from "../../src/alerts/rules.ts";
import { createTenant } from "../../src/tenants/service.ts";
import { loadAssets } from "../../web/assets.ts";
import { signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS, platformAdmin, seedCast } from "../helpers/cast.ts";
import { createPostgresDatabase, databaseUrl, dbKinds, dropPostgresDatabase, freshDb, testConfig, type DbKind } from "../helpers/databases.ts";
import { postMessage, registerDevice, type TestDevice } from "../helpers/devices.ts";
import { connectDevice, publishQos1, type MqttClient } from "../helpers/mqtt.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { alertsOf, eventsOf, getJson, heard, send, shapeDevice, type AlertOut } from "./fixtures.ts";

// Suites boot whole servers on two shared cores; bun applies the preload's timeout to the first file only, and hooks need it too.
setDefaultTimeout(60_000);

const SECOND = 1000;
const MINUTE = 60 * SECOND;

for (const kind of dbKinds()) {
  describe(`alert engine on ${kind}`, () => {
    const clock = manualClock(Date.now());
    let pulse: TestPulse;
    let alice: Agent, bob: Agent, oscar: Agent;
    const devices = new Map<string, TestDevice>();
    const clients: MqttClient[] = [];

    /** A device of acme registered at a site, heartbeat every 10 s unless said otherwise. */
    const device = async (id: string, site: string, heartbeatSeconds = 10) => {
      const d = await registerDevice(pulse.app, "acme", id, { site, heartbeatSeconds });
      devices.set(id, d);
      return d;
    };
    const connection = new Map<string, MqttClient>();
    /** Publish QoS 1 as the device over its own MQTT connection; resolves once evaluated. */
    const publish = async (id: string, metrics: Record<string, unknown> | null, type: "telemetry" | "heartbeat" = "telemetry") => {
      let c = connection.get(id);
      if (!c) {
        c = await connectDevice(pulse.mqttPort, devices.get(id)!, { clientId: `${id}-main` });
        clients.push(c);
        connection.set(id, c);
      }
      expect(await publishQos1(c, `tenant/acme/device/${id}/${type}`, JSON.stringify(metrics ? { metrics } : {}), 5_000)).toBe("acked");
      await pulse.app.alerts.engine.idle();
    };
    /** The leader's status sweep and NO_HEARTBEAT check, at the clock's time (run twice: the second surely starts now). */
    const sweep = async () => {
      await pulse.app.runJob("device-status-sweep");
      await pulse.app.runJob("device-status-sweep");
    };
    const rule = async (body: Record<string, unknown>) => {
      const res = await heard(pulse.app, RULES_CHANNEL, () => send(alice, "POST", "/api/v1/alert-rules", { severity: "HIGH", ...body }));
      expect(res.status).toBe(201);
      return res.body as { id: string };
    };
    const only = async (id: string, type: AlertOut["alert_type"] = "THRESHOLD") => {
      const list = await alertsOf(pulse.app, "acme", id, type);
      expect(list.length).toBe(1);
      return list[0]!;
    };
    const kinds = async (alertId: string) => (await eventsOf(pulse.app, alertId)).map((e) => e.kind);

    beforeAll(async () => {
      pulse = await startPulse({ db: kind, clock, config: { "devices.status_sweep_seconds": 3600, "auth.session_idle_minutes": 1440 } });
      await seedCast(pulse.app);
      [alice, bob, oscar] = await Promise.all([signedIn(pulse.url, "alice", PASSWORDS.alice), signedIn(pulse.url, "bob", PASSWORDS.bob), signedIn(pulse.url, "oscar", PASSWORDS.oscar)]);
      // oscar, the operator, looks into acme.
      await switchSessionTenant(pulse.app.auth.sessions, sha256Hex(oscar.cookies.get(pulse.app.auth.cookies.session)!), "acme");
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
      await pulse?.stop();
    });

    test("a crossing sent over four connections of one device at once opens exactly one alert", async () => {
      await device("boiler-1", "plant", 60);
      const r = await rule({ name: "Boiler overheating", metric_name: "temp_c", operator: "GT", threshold: 90, clear_threshold: 80, severity: "CRITICAL", scope: { devices: ["boiler-1"] }, reopen_window_seconds: 600 });
      const conns = await Promise.all([1, 2, 3, 4].map((i) => connectDevice(pulse.mqttPort, devices.get("boiler-1")!, { clientId: `boiler-1-conn-${i}` })));
      clients.push(...conns);
      const topic = "tenant/acme/device/boiler-1/telemetry";
      const outcomes = await Promise.all(conns.flatMap((c, i) => Array.from({ length: 10 }, (_, j) => publishQos1(c, topic, JSON.stringify({ metrics: { temp_c: 91 + i + j / 10 } }), 5_000))));
      expect(outcomes.filter((o) => o !== "acked")).toEqual([]);
      await pulse.app.alerts.engine.idle();

      const alert = await only("boiler-1");
      expect(alert).toMatchObject({ rule_id: r.id, fingerprint: `THRESHOLD:${r.id}:boiler-1`, status: "OPEN", severity: "CRITICAL", site_id: "plant", metric_name: "temp_c", trigger_count: 1, suppressed: false });
      expect(alert.summary).toContain("Boiler overheating");
      expect(await kinds(alert.id)).toEqual(["OPENED"]);
    });

    test("recovery past the clear threshold closes it; a relapse within the window re-opens the same alert", async () => {
      await publish("boiler-1", { temp_c: 85 }); // below the limit, above the clear threshold: still firing
      expect((await only("boiler-1")).status).toBe("OPEN");
      await publish("boiler-1", { temp_c: 78 });
      const closed = await only("boiler-1");
      expect(closed).toMatchObject({ status: "CLOSED", closed_by: "system", close_reason: "the value returned to normal", last_value: 78 });

      clock.advance(5 * MINUTE);
      await publish("boiler-1", { temp_c: 96 });
      const reopened = await only("boiler-1");
      expect(reopened).toMatchObject({ id: closed.id, status: "OPEN", trigger_count: 2, last_value: 96, closed_by: null });
      const api = await getJson<{ status: string; trigger_count: number; timeline: Array<{ kind: string; actor_name: string }> }>(alice, `/api/v1/alerts/${closed.id}`);
      expect(api.timeline.map((e) => e.kind)).toEqual(["OPENED", "RESOLVED", "REOPENED"]);

      // Past the re-open window a relapse is a new alert.
      await publish("boiler-1", { temp_c: 70 });
      clock.advance(11 * MINUTE);
      await publish("boiler-1", { temp_c: 99 });
      const all = await alertsOf(pulse.app, "acme", "boiler-1", "THRESHOLD");
      expect(all.map((a) => [a.id === closed.id, a.status, a.trigger_count])).toEqual([
        [true, "CLOSED", 2],
        [false, "OPEN", 1],
      ]);
    });

    test("with auto_close off, a cleared condition leaves the alert open with a CLEARED event", async () => {
      await device("chiller-1", "plant", 60);
      await rule({ name: "Chiller pressure low", metric_name: "pressure_bar", operator: "LT", threshold: 2, scope: { devices: ["chiller-1"] }, auto_close: false });
      await publish("chiller-1", { pressure_bar: 1.5 });
      await publish("chiller-1", { pressure_bar: 3 });
      const alert = await only("chiller-1");
      expect(alert).toMatchObject({ status: "OPEN", trigger_count: 1, last_value: 3 });
      expect(await kinds(alert.id)).toEqual(["OPENED", "CLEARED"]);
      // It comes back: the same open alert counts it.
      await publish("chiller-1", { pressure_bar: 1.2 });
      expect(await only("chiller-1")).toMatchObject({ id: alert.id, status: "OPEN", trigger_count: 2, last_value: 1.2 });
      expect(await kinds(alert.id)).toEqual(["OPENED", "CLEARED", "TRIGGERED"]);
    });

    test("booleans and enum strings: EQ and NEQ rules fire on their values and ignore other kinds", async () => {
      await device("door-1", "plant", 60);
      await rule({ name: "Door open", metric_name: "door_open", operator: "EQ", threshold: true, scope: { devices: ["door-1"] } });
      await rule({ name: "Door controller faulted", metric_name: "door_mode", operator: "NEQ", threshold: "auto", scope: { devices: ["door-1"] } });
      await publish("door-1", { door_open: "yes", door_mode: 1 }); // wrong kinds: ignored
      expect(await alertsOf(pulse.app, "acme", "door-1")).toEqual([]);
      await publish("door-1", { door_open: true, door_mode: "auto" });
      await publish("door-1", { door_open: false, door_mode: "manual" });
      const alerts = await alertsOf(pulse.app, "acme", "door-1");
      expect(alerts.map((a) => [a.metric_name, a.status, a.last_value]).sort()).toEqual([
        ["door_mode", "OPEN", "manual"],
        ["door_open", "CLOSED", false],
      ]);
    });

    test("many rules on one metric: plain thresholds and scoped rules side by side, each value judged against every rule in scope", async () => {
      await device("fridge-1", "plant", 60);
      await device("fridge-2", "lab", 60);
      // Plain rules (every device, raw value, numeric) and rules scoped by device and by site.
      const warm = await rule({ name: "Fridge warm", metric_name: "fridge_c", operator: "GT", threshold: 8 });
      const hot = await rule({ name: "Fridge hot for a minute", metric_name: "fridge_c", operator: "GTE", threshold: 12, duration_seconds: 60 });
      await rule({ name: "Fridge frozen", metric_name: "fridge_c", operator: "LT", threshold: -30 });
      const cold = await rule({ name: "Fridge 1 too cold", metric_name: "fridge_c", operator: "LT", threshold: 2, scope: { devices: ["fridge-1"] } });
      const lab = await rule({ name: "Lab fridges above 5", metric_name: "fridge_c", operator: "GT", threshold: 5, scope: { sites: ["lab"] } });
      for (let i = 0; i < 20; i++) await rule({ name: `Fridge never ${i}`, metric_name: "fridge_c", operator: i % 2 ? "GT" : "LT", threshold: i % 2 ? 1000 + i : -1000 - i });
      const open = async (id: string) => (await alertsOf(pulse.app, "acme", id)).map((a) => [a.rule_id, a.status]);

      await publish("fridge-1", { fridge_c: 4 }); // between every plain threshold; the scoped ones do not hold (or do not cover it)
      expect(await open("fridge-1")).toEqual([]);
      await publish("fridge-1", { fridge_c: 1 });
      expect(await open("fridge-1")).toEqual([[cold.id, "OPEN"]]);
      await publish("fridge-1", { fridge_c: 13 }); // too cold clears; warm fires; hot starts its minute
      expect((await open("fridge-1")).sort()).toEqual([[cold.id, "CLOSED"], [warm.id, "OPEN"]].sort());
      await publish("fridge-1", { fridge_c: 4 }); // back between the plain thresholds: warm clears and hot's minute is reset
      const [state] = await withSystem(pulse.app.db, (tx) => tx.query<{ pending_since: Date | null; firing: boolean }>("select pending_since, firing from rule_state where rule_id = $1 and device_id = 'fridge-1'", [hot.id]));
      expect(state).toEqual({ pending_since: null, firing: false });
      clock.advance(2 * MINUTE);
      await pulse.app.runJob("alert-deadlines");
      expect((await open("fridge-1")).sort()).toEqual([[cold.id, "CLOSED"], [warm.id, "CLOSED"]].sort());

      await publish("fridge-2", { fridge_c: 6 }); // only the lab's rule covers it and holds
      expect(await open("fridge-2")).toEqual([[lab.id, "OPEN"]]);
    });

    test("a normalized rule compares raw × multiplier + offset, following the catalog as it changes", async () => {
      await device("oven-1", "plant", 60);
      await publish("oven-1", { oven_temp: 20 }); // the catalog learns oven_temp
      await rule({ name: "Oven above 150 °F", metric_name: "oven_temp", normalized: true, operator: "GT", threshold: 150, scope: { devices: ["oven-1"] } });
      await publish("oven-1", { oven_temp: 70 }); // no multiplier yet: 70 is 70
      expect(await alertsOf(pulse.app, "acme", "oven-1")).toEqual([]);
      // Every node's engine hears of the new normalization (as of rule changes).
      const patch = await heard(pulse.app, RULES_CHANNEL, () => send(alice, "PATCH", "/api/v1/metrics/oven_temp", { unit: "°C", multiplier: 1.8, offset: 32, normalized_unit: "°F" }));
      expect(patch.status).toBe(200);
      await publish("oven-1", { oven_temp: 69 }); // 69 °C = 156.2 °F
      const alert = await only("oven-1");
      expect(alert.last_value).toBeCloseTo(156.2);
      await publish("oven-1", { oven_temp: 65 }); // 149 °F
      expect((await only("oven-1")).status).toBe("CLOSED");
    });

    test("silent devices get NO_HEARTBEAT, tuned per site and tag, never for a child of a gateway that is down; it closes when they speak", async () => {
      await device("meter-1", "plant");
      await device("meter-2", "yard");
      await device("meter-3", "lab");
      await device("gw-1", "plant");
      await device("sensor-1", "plant");
      await shapeDevice(pulse.app, "acme", "meter-1", { tags: { tier: "critical" } });
      await shapeDevice(pulse.app, "acme", "sensor-1", { parent: "gw-1" });
      const hb = async (body: Record<string, unknown>) => {
        const res = await heard(pulse.app, RULES_CHANNEL, () => send(alice, "POST", "/api/v1/heartbeat-rules", body));
        expect(res.status).toBe(201);
      };
      await hb({ name: "Critical meters", scope: { tags: { tier: "critical" } }, severity: "CRITICAL" });
      await hb({ name: "Yard radios are patchy", scope: { sites: ["yard"] }, grace_seconds: 120, auto_close: false });
      await hb({ name: "Lab devices come and go", scope: { sites: ["lab"] }, enabled: false });
      const ids = ["meter-1", "meter-2", "meter-3", "gw-1", "sensor-1"];
      const open = async () => {
        const out: Record<string, string> = {};
        for (const id of ids) for (const a of await alertsOf(pulse.app, "acme", id, "NO_HEARTBEAT")) out[id] = `${a.status} ${a.severity}`;
        return out;
      };

      for (const id of ids) await publish(id, null, "heartbeat");
      await sweep();
      expect(await open()).toEqual({});

      // 51 s of silence is more than 5 intervals of 10 s: offline.
      clock.advance(51 * SECOND);
      await sweep();
      expect(await open()).toEqual({ "meter-1": "OPEN CRITICAL", "gw-1": "OPEN HIGH" });
      expect((await only("meter-1", "NO_HEARTBEAT")).summary).toBe("meter-1 has not been heard from for 51 s (heartbeat every 10 s)");

      // The yard's grace runs out 120 s after it went offline; the lab never alerts; the child waits for its gateway.
      clock.advance(119 * SECOND);
      await sweep();
      expect(Object.keys(await open())).toEqual(["meter-1", "gw-1"]);
      clock.advance(2 * SECOND);
      await sweep();
      expect(await open()).toEqual({ "meter-1": "OPEN CRITICAL", "meter-2": "OPEN HIGH", "gw-1": "OPEN HIGH" });

      // They speak again: closed by the system, except the yard's, which waits for a person. The child, still silent, is now reported.
      for (const id of ["meter-1", "meter-2", "gw-1"]) await publish(id, null, "heartbeat");
      await sweep();
      expect(await open()).toEqual({ "meter-1": "CLOSED CRITICAL", "meter-2": "OPEN HIGH", "gw-1": "CLOSED HIGH", "sensor-1": "OPEN HIGH" });
      const meter1 = await only("meter-1", "NO_HEARTBEAT");
      expect(meter1).toMatchObject({ fingerprint: "NO_HEARTBEAT:meter-1", closed_by: "system", close_reason: "heartbeats resumed" });
      expect(await kinds(meter1.id)).toEqual(["OPENED", "RESOLVED"]);
      // Later sweeps add nothing: one open alert per device, one CLEARED per recovery.
      await sweep();
      await sweep();
      const meter2 = await only("meter-2", "NO_HEARTBEAT");
      expect(await kinds(meter2.id)).toEqual(["OPENED", "CLEARED"]);
      expect((await alertsOf(pulse.app, "acme", "sensor-1", "NO_HEARTBEAT")).length).toBe(1);
      expect((await alertsOf(pulse.app, "acme", "meter-3", "NO_HEARTBEAT")).length).toBe(0);

      // Silent again before anyone closed it: the same alert counts the new outage, and its end.
      clock.advance(51 * SECOND);
      await sweep();
      expect((await only("meter-2", "NO_HEARTBEAT")).trigger_count).toBe(1); // the yard's grace again
      clock.advance(120 * SECOND);
      await sweep();
      expect(await only("meter-2", "NO_HEARTBEAT")).toMatchObject({ id: meter2.id, status: "OPEN", trigger_count: 2 });
      await publish("meter-2", null, "heartbeat");
      await sweep();
      await sweep();
      expect(await kinds(meter2.id)).toEqual(["OPENED", "CLEARED", "TRIGGERED", "CLEARED"]);
    });

    test("alerts raised inside a maintenance window (one-off or recurring in a time zone) are recorded but suppressed", async () => {
      await device("press-1", "hall-2", 60);
      await device("press-2", "hall-3", 60);
      await device("press-3", "hall-4", 60);
      const now = clock.now().getTime();
      const oneOff = await heard(pulse.app, RULES_CHANNEL, () =>
        send(bob, "POST", "/api/v1/maintenance-windows", { name: "Hall 2 overhaul", scope: { sites: ["hall-2"] }, starts_at: new Date(now - 60 * MINUTE).toISOString(), ends_at: new Date(now + 60 * MINUTE).toISOString() }),
      );
      expect(oneOff.status).toBe(201);
      expect(oneOff.body.active_now).not.toBeNull();
      // Every day from ten minutes ago (Berlin time) for an hour.
      const local = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(now - 10 * MINUTE));
      const daily = await heard(pulse.app, RULES_CHANNEL, () =>
        send(alice, "POST", "/api/v1/maintenance-windows", {
          name: "Hall 4 nightly cleaning",
          scope: { devices: ["press-3"] },
          starts_at: new Date(now - 2 * 24 * 60 * MINUTE).toISOString(),
          recurrence: { freq: "daily", start: local, duration_minutes: 60, timezone: "Europe/Berlin" },
        }),
      );
      expect(daily.status).toBe(201);
      expect(daily.body).toMatchObject({ recurrence: { freq: "daily", start: local, duration_minutes: 60, timezone: "Europe/Berlin" } });
      expect(daily.body.active_now).not.toBeNull();

      await rule({ name: "Press vibrating", metric_name: "vibration_mm_s", operator: "GT", threshold: 5, scope: { devices: ["press-1", "press-2", "press-3"] }, reopen_window_seconds: 7200 });
      for (const id of ["press-1", "press-2", "press-3"]) await publish(id, { vibration_mm_s: 7.5 });
      const suppressed = Object.fromEntries(await Promise.all(["press-1", "press-2", "press-3"].map(async (id) => [id, (await only(id)).suppressed])));
      expect(suppressed).toEqual({ "press-1": true, "press-2": false, "press-3": true });
      const press1 = await only("press-1");
      expect(press1.status).toBe("OPEN");
      expect((await eventsOf(pulse.app, press1.id))[0]).toMatchObject({ kind: "OPENED", details: { suppressed: true } });
      const listed = await getJson<{ items: Array<{ device_id: string; suppressed: boolean }> }>(alice, "/api/v1/alerts?device_id=press-1");
      expect(listed.items.map((a) => a.suppressed)).toEqual([true]);

      // A press that falls silent in the hall under maintenance: NO_HEARTBEAT, suppressed too.
      await device("press-4", "hall-2");
      await publish("press-4", null, "heartbeat");
      await sweep();
      clock.advance(51 * SECOND);
      await sweep();
      expect(await only("press-4", "NO_HEARTBEAT")).toMatchObject({ status: "OPEN", suppressed: true });

      // The daily window, removed while its occurrence runs, no longer covers press-3.
      await publish("press-3", { vibration_mm_s: 1 });
      await heard(pulse.app, RULES_CHANNEL, () => send(alice, "DELETE", `/api/v1/maintenance-windows/${daily.body.id}`));
      await publish("press-3", { vibration_mm_s: 9 });
      expect(await only("press-3")).toMatchObject({ status: "OPEN", trigger_count: 2, suppressed: false });

      // Once the one-off window is over, press-1's relapse re-opens its alert, no longer suppressed.
      await publish("press-1", { vibration_mm_s: 1 });
      clock.advance(61 * MINUTE);
      await publish("press-1", { vibration_mm_s: 9 });
      expect(await only("press-1")).toMatchObject({ id: press1.id, status: "OPEN", trigger_count: 2, suppressed: false });
      expect((await eventsOf(pulse.app, press1.id)).map((e) => [e.kind, e.details.suppressed])).toEqual([
        ["OPENED", true],
        ["RESOLVED", undefined],
        ["REOPENED", false],
      ]);
    });

    test("acknowledge, silence and close, one at a time and in bulk: every step is in the timeline with who did it; bob may, oscar may not", async () => {
      for (const id of ["valve-1", "valve-2", "valve-3"]) {
        await device(id, "plant", 60);
        await shapeDevice(pulse.app, "acme", id, { tags: { kind: "valve" } });
      }
      await rule({ name: "Valve leaking", metric_name: "leak", operator: "EQ", threshold: true, severity: "MEDIUM", scope: { tags: { kind: "valve" } } });
      for (const id of ["valve-1", "valve-2", "valve-3"]) await publish(id, { leak: true });
      const [v1, v2, v3] = (await Promise.all(["valve-1", "valve-2", "valve-3"].map(async (id) => (await only(id)).id))) as [string, string, string];
      const act = (a: Agent, id: string, action: string, body: unknown = {}) => send(a, "POST", `/api/v1/alerts/${id}/${action}`, body);

      // oscar reads but changes nothing.
      expect((await getJson<{ id: string }>(oscar, `/api/v1/alerts/${v1}`)).id).toBe(v1);
      for (const [action, body] of [["acknowledge", {}], ["close", { reason: "looks fine" }], ["silence", { minutes: 5 }]] as const) expect((await act(oscar, v1, action, body)).status).toBe(403);
      expect((await send(oscar, "POST", "/api/v1/alerts/bulk", { ids: [v1, v2], action: "acknowledge" })).status).toBe(403);
      expect((await only("valve-1")).status).toBe("OPEN");

      // One at a time.
      const ack = await act(bob, v1, "acknowledge", { note: "on my way" });
      expect(ack.status).toBe(200);
      expect(ack.body).toMatchObject({ id: v1, status: "ACKNOWLEDGED", acknowledged_by: "bob" });
      const now = clock.now().getTime();
      expect((await act(alice, v2, "silence", { minutes: 30 })).body.silenced_until).toBe(new Date(now + 30 * MINUTE).toISOString());
      const until = new Date(now + 3 * 60 * MINUTE).toISOString();
      expect((await act(bob, v3, "silence", { until })).body.silenced_until).toBe(until);
      expect((await act(bob, v3, "silence", { until: new Date(now - MINUTE).toISOString() })).status).toBe(400);
      expect((await act(bob, v3, "silence", {})).body.silenced_until).toBeNull();
      const closed = await act(alice, v1, "close", { reason: "replaced the seal" });
      expect(closed.body).toMatchObject({ status: "CLOSED", closed_by: "alice", close_reason: "replaced the seal" });

      // In bulk: all or nothing.
      expect((await send(bob, "POST", "/api/v1/alerts/bulk", { ids: [v2, "00000000-0000-4000-8000-000000000000"], action: "acknowledge" })).status).toBe(404);
      expect((await only("valve-2")).status).toBe("OPEN");
      const badUntil = await send(bob, "POST", "/api/v1/alerts/bulk", { ids: [v2, v3], action: "silence", until: "tomorrow-ish" });
      expect([badUntil.status, badUntil.body.error.field]).toEqual([400, "until"]);
      const bulkAck = await send(bob, "POST", "/api/v1/alerts/bulk", { ids: [v2, v3], action: "acknowledge" });
      expect(bulkAck.status).toBe(200);
      expect(bulkAck.body.items.map((a: AlertOut) => [a.id, a.status, a.acknowledged_by])).toEqual([
        [v2, "ACKNOWLEDGED", "bob"],
        [v3, "ACKNOWLEDGED", "bob"],
      ]);
      const bulkSilence = await send(bob, "POST", "/api/v1/alerts/bulk", { ids: [v2, v3], action: "silence", minutes: 15 });
      expect(bulkSilence.body.items.map((a: AlertOut) => a.silenced_until)).toEqual([new Date(now + 15 * MINUTE).toISOString(), new Date(now + 15 * MINUTE).toISOString()]);
      const bulkClose = await send(alice, "POST", "/api/v1/alerts/bulk", { ids: [v2, v3, v1], action: "close", reason: "valves replaced" });
      expect(bulkClose.body.items.map((a: AlertOut) => [a.status, a.closed_by, a.close_reason])).toEqual([
        ["CLOSED", "alice", "valves replaced"],
        ["CLOSED", "alice", "valves replaced"],
        ["CLOSED", "alice", "replaced the seal"], // already closed: unchanged
      ]);

      const timeline = async (id: string) => (await getJson<{ timeline: Array<{ kind: string; actor_kind: string; actor_name: string; details: Record<string, unknown> }> }>(bob, `/api/v1/alerts/${id}`)).timeline;
      expect((await timeline(v1)).map((e) => [e.kind, e.actor_name])).toEqual([
        ["OPENED", "system"],
        ["ACKNOWLEDGED", "bob"],
        ["CLOSED", "alice"],
      ]);
      expect((await timeline(v1))[1]).toMatchObject({ actor_kind: "user", details: { note: "on my way" } });
      expect((await timeline(v2)).map((e) => [e.kind, e.actor_name])).toEqual([
        ["OPENED", "system"],
        ["SILENCED", "alice"],
        ["ACKNOWLEDGED", "bob"],
        ["SILENCED", "bob"],
        ["CLOSED", "alice"],
      ]);
      expect((await timeline(v3)).map((e) => [e.kind, e.actor_name])).toEqual([
        ["OPENED", "system"],
        ["SILENCED", "bob"],
        ["UNSILENCED", "bob"],
        ["ACKNOWLEDGED", "bob"],
        ["SILENCED", "bob"],
        ["CLOSED", "alice"],
      ]);
      expect((await timeline(v3))[1]!.details).toEqual({ until });
      expect((await timeline(v2)).at(-1)!.details).toEqual({ reason: "valves replaced" });
    });
  });
}

// ---- A restart between the crossing and the `for` deadline ----

let assets: ReturnType<typeof loadAssets> | undefined;

/** A Pulse on a database that outlives it (PGlite in data_dir, or a Postgres database), started. */
async function boot(config: Config, clock: ReturnType<typeof manualClock>, template?: Blob): Promise<App> {
  const database = await openDatabase({ config, log: silentLogger(), pgliteTemplate: template });
  const app = await createApp({ config, log: silentLogger(), clock, database, assets: await (assets ??= loadAssets()), banner: () => {} });
  await app.start();
  return app;
}

async function persistentConfig(kind: DbKind): Promise<{ config: Config; template?: Blob; dispose(): Promise<void> }> {
  if (kind === "postgres") {
    const name = await createPostgresDatabase();
    return { config: testConfig({ "database.url": databaseUrl(name) }), dispose: () => dropPostgresDatabase(name) };
  }
  // A migrated PGlite, copied into a data dir of its own.
  const seed = await freshDb("pglite");
  const template = await seed.db.dump!();
  await seed.dispose();
  return { config: testConfig({}), template, dispose: async () => {} };
}

for (const kind of dbKinds()) {
  describe(`restarts on ${kind}`, () => {
    test("a restart between a crossing and its `for` deadline still fires exactly once", async () => {
      const clock = manualClock(Date.now());
      const store = await persistentConfig(kind);
      let app = await boot(store.config, clock, store.template);
      try {
        const deps = { db: app.db, clock };
        await createTenant(deps, platformAdmin, { id: "acme", name: "Acme Corp" });
        const kiln = await registerDevice(app, "acme", "kiln-1", { site: "plant" });
        const r = await createAlertRule(deps, { ...platformAdmin, tenantId: "acme" }, { name: "Kiln too hot for 2 min", metricName: "temp_c", operator: "GT", threshold: 300, durationSeconds: 120, severity: "HIGH" });
        const crossedAt = clock.now();
        expect((await postMessage({ request: (p, i) => Promise.resolve(app.http.request(p, i)) }, kiln, { metrics: { temp_c: 350 } })).status).toBe(202);
        await app.alerts.engine.idle();
        const [state] = await withSystem(app.db, (tx) => tx.query<{ pending_since: Date; firing: boolean }>("select pending_since, firing from rule_state where rule_id = $1", [r.id]));
        expect({ pending: new Date(state!.pending_since).getTime(), firing: state!.firing }).toEqual({ pending: crossedAt.getTime(), firing: false });
        expect(await alertsOf(app, "acme", "kiln-1")).toEqual([]);
        await app.stop();

        // A minute later a new process: not due yet.
        clock.advance(60 * SECOND);
        app = await boot(store.config, clock);
        const deadlines = async () => {
          await app.runJob("alert-deadlines");
          await app.runJob("alert-deadlines");
        };
        await deadlines();
        expect(await alertsOf(app, "acme", "kiln-1")).toEqual([]);

        // Past the deadline with nothing said since: it fires, once, however often the job runs.
        clock.advance(61 * SECOND);
        await deadlines();
        await deadlines();
        const alerts = await alertsOf(app, "acme", "kiln-1");
        expect(alerts.map((a) => [a.rule_id, a.status, a.trigger_count, a.last_value, a.opened_at])).toEqual([[r.id, "OPEN", 1, 350, clock.now().toISOString()]]);
        expect((await eventsOf(app, alerts[0]!.id)).map((e) => e.kind)).toEqual(["OPENED"]);
        // A reading still above the limit is part of the same episode: nothing new.
        expect((await postMessage({ request: (p, i) => Promise.resolve(app.http.request(p, i)) }, kiln, { metrics: { temp_c: 360 } })).status).toBe(202);
        await app.alerts.engine.idle();
        expect((await alertsOf(app, "acme", "kiln-1")).map((a) => a.trigger_count)).toEqual([1]);
      } finally {
        await app.stop().catch(() => {});
        await store.dispose();
      }
    });
  });
}
