// The engine judges each message as it is queued and writes the alert
// changes in the background, several transactions at a time. A kiln that
// recovers while the transaction opening its alert is still running must end
// with that alert opened and then resolved, in that order, while a second
// kiln's alert is written meanwhile without waiting for the first one's.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import type { TransitionHook } from "../../src/alerts/bus.ts";
import { RULES_CHANNEL } from "../../src/alerts/engine.ts";
import { createAlertRule } from "../../src/alerts/rules.ts";
import type { Accepted } from "../../src/ingest/writer.ts";
import { manualClock } from "../../src/lib/clock.ts";
import { platformAdmin, seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { registerDevice } from "../helpers/devices.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { alertsOf, eventsOf, heard } from "./fixtures.ts";

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

async function until(ok: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await Bun.sleep(5);
  }
}

for (const kind of dbKinds()) {
  describe(`alert writes on ${kind}`, () => {
    const clock = manualClock(Date.now());
    let pulse: TestPulse;
    /** A reading of acme's kiln as the writer hands it over once queued. */
    const reading = (device: string, temp: number, at: number): Accepted => ({
      env: { tenantId: "acme", deviceId: device, msgType: "telemetry", time: new Date(at), metrics: { temp_c: temp } },
      transport: "mqtt",
      receivedAt: new Date(at),
    });

    beforeAll(async () => {
      // On the main thread: the first test holds a transaction open through an
      // alert bus hook, and the app's writer thread has hooks of its own
      // (write-thread.test.ts covers that thread; the ordering is the engine's either way).
      pulse = await startPulse({ db: kind, clock, config: { "database.alert_thread": false } });
      await seedCast(pulse.app);
      for (const id of ["kiln-1", "kiln-2", "kiln-3", "kiln-4"]) await registerDevice(pulse.app, "acme", id, { site: "plant" });
      // Once every node has heard of the rule (the engine drops what it cached of acme then).
      await heard(pulse.app, RULES_CHANNEL, () =>
        createAlertRule({ db: pulse.app.db, clock: pulse.app.clock }, { ...platformAdmin, tenantId: "acme" }, { name: "Kiln too hot", metricName: "temp_c", operator: "GT", threshold: 1200, severity: "HIGH" }),
      );
    });
    afterAll(() => pulse?.stop());

    test("a recovery judged while the crossing's transaction is still open commits after it; another alert does not wait", async () => {
      const { engine, bus } = pulse.app.alerts;
      // kiln-1's opening transaction is held open inside it until released.
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let holding = false;
      const hold: TransitionHook = async (_tx, t) => {
        if (t.alert.device_id !== "kiln-1" || t.kind !== "triggered") return;
        holding = true;
        await released;
      };
      bus.inTransaction.push(hold);
      try {
        const t = Date.now();
        engine.accept(reading("kiln-1", 1250, t));
        await until(() => holding);
        engine.accept(reading("kiln-1", 900, t + 1));
        // Judged apart from the recovery (what is judged together is written together).
        await nextTurn();
        await nextTurn();
        engine.accept(reading("kiln-2", 1300, t + 1));
        // On Postgres kiln-2's alert commits meanwhile, on a connection of its
        // own (PGlite has one connection: there it waits its turn).
        if (kind === "postgres") {
          await until(async () => (await alertsOf(pulse.app, "acme", "kiln-2")).length === 1);
          expect(await alertsOf(pulse.app, "acme", "kiln-1")).toEqual([]);
        } else for (let i = 0; i < 20; i++) await nextTurn();
        release();
        await engine.idle();
      } finally {
        release();
        bus.inTransaction.splice(bus.inTransaction.indexOf(hold), 1);
      }

      const [kiln1] = await alertsOf(pulse.app, "acme", "kiln-1");
      expect(kiln1).toMatchObject({ status: "CLOSED", close_reason: "the value returned to normal", trigger_count: 1 });
      expect((await eventsOf(pulse.app, kiln1!.id)).map((e) => e.kind)).toEqual(["OPENED", "RESOLVED"]);
      expect((await alertsOf(pulse.app, "acme", "kiln-2")).map((a) => a.status)).toEqual(["OPEN"]);
    });

    test("a burst of crossings and recoveries, one per turn, leaves one timeline in the order sent", async () => {
      const engine = pulse.app.alerts.engine;
      const t = Date.now() + 10;
      for (let i = 0; i < 6; i++) {
        engine.accept(reading("kiln-1", i % 2 === 0 ? 1250 + i : 900, t + i));
        await nextTurn();
      }
      await engine.idle();
      // Within the rule's re-open window (an hour by default) each crossing re-opens the same alert.
      const all = await alertsOf(pulse.app, "acme", "kiln-1");
      expect(all.map((a) => [a.status, a.trigger_count])).toEqual([["CLOSED", 4]]);
      expect((await eventsOf(pulse.app, all[0]!.id)).map((e) => e.kind)).toEqual(["OPENED", "RESOLVED", "REOPENED", "RESOLVED", "REOPENED", "RESOLVED", "REOPENED", "RESOLVED"]);
    });

    test("a recovery accepted right behind its crossing waits for it and closes the alert; values that change nothing are counted at once", async () => {
      const engine = pulse.app.alerts.engine;
      const evaluations = () => Number(/^pulse_alert_evaluations_total (\d+)$/m.exec(pulse.app.metrics.render())?.[1] ?? 0);
      const t = Date.now() + 50;
      // kiln-4 has no state: alone, its 900 would be settled without judging. Behind its own crossing it must not be.
      engine.accept(reading("kiln-4", 1300, t));
      engine.accept(reading("kiln-4", 900, t + 1));
      await engine.idle();
      const [alert] = await alertsOf(pulse.app, "acme", "kiln-4");
      expect(alert).toMatchObject({ status: "CLOSED", close_reason: "the value returned to normal" });
      // A quiet kiln's values are one evaluation each (one rule), with nothing written.
      const before = evaluations();
      for (let i = 0; i < 5; i++) engine.accept(reading("kiln-4", 800 + i, t + 2 + i));
      expect(evaluations() - before).toBe(5);
      await engine.idle();
      expect(await alertsOf(pulse.app, "acme", "kiln-4")).toHaveLength(1);
    });

    test("a transaction whose connection went away is run again; one refused for another reason is not", async () => {
      const { engine, bus } = pulse.app.alerts;
      const retries = () => Number(/^pulse_alert_write_retries_total (\d+)$/m.exec(pulse.app.metrics.render())?.[1] ?? 0);
      const before = retries();
      // kiln-3's opening transaction fails as if its connection had been reset, twice.
      let failures: Array<{ code: string }> = [{ code: "ECONNRESET" }, { code: "CONNECTION_CLOSED" }];
      const fail: TransitionHook = async (_tx, t) => {
        if (t.alert.device_id !== "kiln-3") return;
        const f = failures.shift();
        if (f) throw Object.assign(new Error(`connection trouble (${f.code})`), f);
      };
      bus.inTransaction.push(fail);
      try {
        const t = Date.now() + 100;
        engine.accept(reading("kiln-3", 1250, t));
        await engine.idle();
        const [opened] = await alertsOf(pulse.app, "acme", "kiln-3");
        expect(opened).toMatchObject({ status: "OPEN", trigger_count: 1 });
        expect(retries() - before).toBe(2);

        // A refusal that would come again (here a unique violation) is not retried: the change is dropped
        // and the tenant's state reloaded, so the next reading is judged against what committed.
        failures = [{ code: "23505" }];
        engine.accept(reading("kiln-3", 900, t + 1));
        await engine.idle();
        expect(retries() - before).toBe(2);
        expect((await alertsOf(pulse.app, "acme", "kiln-3")).map((a) => a.status)).toEqual(["OPEN"]);
        engine.accept(reading("kiln-3", 910, t + 2));
        await engine.idle();
        expect((await alertsOf(pulse.app, "acme", "kiln-3")).map((a) => a.status)).toEqual(["CLOSED"]);
      } finally {
        bus.inTransaction.splice(bus.inTransaction.indexOf(fail), 1);
      }
    });

    if (kind === "postgres")
      test("a `for` deadline is judged only once the write clearing its pending state has committed", async () => {
        const { engine } = pulse.app.alerts;
        await heard(pulse.app, RULES_CHANNEL, () =>
          createAlertRule({ db: pulse.app.db, clock: pulse.app.clock }, { ...platformAdmin, tenantId: "acme" }, { name: "Kiln hot for a minute", metricName: "temp_f", operator: "GT", threshold: 2000, durationSeconds: 60, severity: "HIGH" }),
        );
        const t = clock.now().getTime();
        engine.accept({ ...reading("kiln-2", 0, t), env: { ...reading("kiln-2", 0, t).env, metrics: { temp_f: 2100 } } });
        await engine.idle();
        // Another session holds kiln-2's pending state row, so the write that clears it waits.
        const admin = postgres(pulse.db.config["database.url"]!, { max: 1, onnotice: () => {} });
        let release!: () => void;
        const released = new Promise<void>((r) => (release = r));
        let locked!: () => void;
        const isLocked = new Promise<void>((r) => (locked = r));
        const holder = admin.begin(async (sql) => {
          await sql`select 1 from rule_state where device_id = 'kiln-2' for update`;
          locked();
          await released;
        });
        try {
          await isLocked;
          engine.accept({ ...reading("kiln-2", 0, t + 1000), env: { ...reading("kiln-2", 0, t + 1000).env, metrics: { temp_f: 1500 } } });
          await Bun.sleep(50);
          // The minute passes while that write waits: the deadline job must not fire what was cleared.
          clock.advance(120_000);
          const fired = engine.checkDeadlines();
          await Bun.sleep(200);
          release();
          expect(await fired).toEqual([]);
        } finally {
          release();
          await holder;
          await admin.end();
        }
        await engine.idle();
        expect((await alertsOf(pulse.app, "acme", "kiln-2")).filter((a) => a.metric_name === "temp_f")).toEqual([]);
      });
  });
}
