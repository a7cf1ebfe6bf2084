// On Postgres the alert transactions run on a thread of their own, with
// connections of their own, so that their round trips do not wait for the
// main thread's event loop. What commits with an alert change must not differ:
// acme's pump crosses its limit, and the alert opens with its webhook delivery
// queued and its escalation started, while the main thread's listeners hear of
// it as before. The thread survives its connections being killed, and a thread
// that dies takes only its unanswered transactions with it.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import type { Transition } from "../../src/alerts/lifecycle.ts";
import { startWriteThread } from "../../src/alerts/write-thread.ts";
import { APP_ROLE } from "../../src/db/open.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { startWorld, type World } from "../notify/fixtures.ts";
import { eventsOf } from "./fixtures.ts";

describe("the alert writer thread on postgres", () => {
  let w: World;
  let admin: postgres.Sql;
  const threadConnections = async () =>
    Number((await admin`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'pulse-alerts'`)[0]!.n);

  beforeAll(async () => {
    w = await startWorld({ db: "postgres" });
    admin = postgres(w.pulse.db.config["database.url"]!, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin?.end();
    await w?.stop();
  });

  test("a crossing commits on the thread's connections with its delivery queued and escalation started; the main thread's listeners get it", async () => {
    const heard: Transition[] = [];
    w.pulse.app.alerts.bus.afterCommit.push((t) => heard.push(t));
    const channel = await w.channel("webhook", { url: "http://127.0.0.1:9/ops" });
    await w.route(channel);
    const policy = (await w.api("/escalation-policies", { body: { name: "Pumps", is_tenant_default: true, levels: [{ delay_minutes: 5, targets: [{ type: "channel", channel_id: channel }] }] } })).body;
    expect(policy.id).toBeString();
    await w.rule("temp_c");

    await w.send("pump-7", { temp_c: 95 });

    const alert = await w.alertOf("pump-7", "temp_c");
    expect(alert?.status).toBe("OPEN");
    expect((await w.deliveries(channel)).map((d) => [d.alert_id, d.event, d.status])).toEqual([[alert!.id, "alert.triggered", "pending"]]);
    expect((await eventsOf(w.pulse.app, alert!.id)).map((e) => [e.kind, e.details.policy_id])).toEqual([
      ["OPENED", undefined],
      ["ESCALATION_STARTED", policy.id],
    ]);
    // The listeners get the alert as the thread left it (dates as dates, escalation filled in).
    const t = heard.find((x) => x.alert.id === alert!.id)!;
    expect(t.kind).toBe("triggered");
    expect(t.alert.opened_at).toBeInstanceOf(Date);
    expect((t.alert as unknown as Record<string, unknown>).escalation_policy_id).toBe(policy.id);
    // Written by the thread, on connections of its own.
    expect(await threadConnections()).toBeGreaterThanOrEqual(1);
  });

  test("with its connections killed, the next crossing still commits", async () => {
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'pulse-alerts'`;
    while ((await threadConnections()) > 0) await Bun.sleep(10);
    await w.send("pump-8", { temp_c: 97 });
    expect((await w.alertOf("pump-8", "temp_c"))?.status).toBe("OPEN");
  });

  test("a thread that dies fails the transaction it held, and the next one starts a new thread", async () => {
    const errors: string[] = [];
    const log = { ...silentLogger(), error: (msg: string) => void errors.push(msg) };
    const thread = await startWriteThread({
      db: { url: w.pulse.db.config["database.url"]!, poolMax: 1, statementTimeoutMs: 10_000, applicationName: "pulse-alerts-test", role: APP_ROLE },
      retryHorizonSeconds: 3600,
      publicUrl: () => "http://pulse.test",
      log: log as never,
      workerUrl: new URL("./crashing-thread.ts", import.meta.url).href,
    });
    try {
      const silent = (fingerprint: string) => ({
        fingerprint,
        subject: { tenantId: "acme", deviceId: "fan-1", ruleId: null, change: "raise" as const },
        raise: { tenantId: "acme", fingerprint, type: "NO_HEARTBEAT" as const, ruleId: null, deviceId: "fan-1", siteId: "plant", severity: "HIGH" as const, summary: "fan-1 has not been heard from", metricName: null, value: null, suppressed: false, at: new Date(), reopenWindowSeconds: 0 },
      });
      await expect(thread.apply([], [silent("crash")])).rejects.toThrow("the alert writer thread stopped");
      expect(errors).toEqual(["alerts: the alert writer thread stopped; the next alert write starts a new one"]);
      const [opened] = await thread.apply([], [silent("NO_HEARTBEAT:fan-1")]);
      expect(opened).toMatchObject({ kind: "triggered", alert: { device_id: "fan-1", alert_type: "NO_HEARTBEAT", status: "OPEN" } });
    } finally {
      await thread.stop();
    }
    await expect(thread.apply([], [])).rejects.toThrow("stopping");
  });

  test("a database it cannot open is refused at start with the reason", async () => {
    const url = new URL(w.pulse.db.config["database.url"]!);
    url.pathname = "/no_such_database_here";
    await expect(
      startWriteThread({ db: { url: url.toString(), poolMax: 1, statementTimeoutMs: 0, role: APP_ROLE }, retryHorizonSeconds: 3600, publicUrl: () => "", log: silentLogger() }),
    ).rejects.toThrow(/alert writer thread stopped \(db: cannot connect to .*no_such_database_here/);
  });
});
