// Retention, as the nightly job runs it on both databases: a year and more of
// acme's and globex's history lies around — delivered and dead notifications,
// throttle markers, device events, closed alerts, expired activation codes and
// invites, old audit entries. The job removes what is past its time, in short
// batches, and leaves everything a day younger, every pending notification and
// every open alert. The audit log stays append-only for the app itself.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { recordAudit } from "../../src/audit/service.ts";
import type { Db } from "../../src/db/db.ts";
import { withSystem, withTenant } from "../../src/db/scope.ts";
import { SYSTEM_ACTOR } from "../../src/lib/ctx.ts";
import { createMetrics } from "../../src/lib/metrics.ts";
import { runRetention, type RetentionPolicy } from "../../src/retention/job.ts";
import { seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { manualClock, startPulse, type TestPulse } from "../helpers/pulse.ts";

// Hooks do not take bunfig's test timeout; booting Pulse on a busy machine can take longer than 5 s.
const HOOK_MS = 60_000;
const DAY = 86_400_000;
const NOW = "2026-06-01T10:00:00Z";
const TENANTS = ["acme", "globex"] as const;

/** `days` ago (negative: ahead), from the test's fixed now. */
const ago = (days: number) => new Date(new Date(NOW).getTime() - days * DAY);

/** Rows a little past each default limit ("old") and a little short of it ("fresh"), in both tenants. */
async function seedHistory(db: Db): Promise<void> {
  await withSystem(db, async (tx) => {
    for (const t of TENANTS) {
      await tx.query("insert into sites (tenant_id, id, name) values ($1, 'plant-1', 'Plant 1')", [t]);
      await tx.query("insert into devices (tenant_id, id, site_id) values ($1, 'pump-7', 'plant-1')", [t]);
      const [channel] = await tx.query<{ id: string }>("insert into notification_channels (tenant_id, name, type) values ($1, 'ops hook', 'webhook') returning id", [t]);

      // Outbox: delivered 30 days, dead 90 days after the last attempt; pending never.
      const outbox = async (key: string, status: string, at: { created: Date; delivered?: Date; next: Date }) => {
        const [row] = await tx.query<{ id: number }>(
          `insert into notification_outbox (tenant_id, channel_id, event, idempotency_key, payload, status, attempts, created_at, delivered_at, next_attempt_at, give_up_at)
           values ($1, $2, 'triggered', $3, '{}', $4, 1, $5, $6, $7, $7::timestamptz + interval '1 day') returning id`,
          [t, channel!.id, key, status, at.created, at.delivered ?? null, at.next],
        );
        await tx.query("insert into notification_attempts (tenant_id, outbox_id, time, ok, latency_ms) values ($1, $2, $3, $4, 12)", [t, row!.id, at.delivered ?? at.next, status === "delivered"]);
      };
      await outbox("delivered-old", "delivered", { created: ago(31), delivered: ago(31), next: ago(31) });
      await outbox("delivered-fresh", "delivered", { created: ago(40), delivered: ago(29), next: ago(29) });
      await outbox("dead-old", "dead", { created: ago(92), next: ago(91) });
      // Died long ago, replayed, and died again last week: its clock restarted.
      await outbox("dead-replayed", "dead", { created: ago(200), next: ago(7) });
      // Queued long ago and still pending (its next try tomorrow, so the outbox worker leaves it alone here).
      await outbox("pending-ancient", "pending", { created: ago(500), next: ago(-1) });

      await tx.query(
        "insert into notification_throttle (tenant_id, channel_id, fingerprint, last_at) values ($1, $2, 'NO_HEARTBEAT:old', $3), ($1, $2, 'NO_HEARTBEAT:fresh', $4)",
        [t, channel!.id, ago(8), ago(6)],
      );

      await tx.query("insert into device_events (tenant_id, device_id, time, kind) values ($1, 'pump-7', $2, 'old'), ($1, 'pump-7', $3, 'fresh')", [t, ago(91), ago(89)]);

      const alert = async (fingerprint: string, status: string, opened: Date, closed: Date | null) => {
        const [row] = await tx.query<{ id: string }>(
          `insert into alerts (tenant_id, fingerprint, alert_type, device_id, severity, status, summary, opened_at, last_triggered_at, closed_at)
           values ($1, $2, 'NO_HEARTBEAT', 'pump-7', 'HIGH', $3, 'pump-7 is silent', $4, $4, $5) returning id`,
          [t, fingerprint, status, opened, closed],
        );
        await tx.query("insert into alert_events (tenant_id, alert_id, time, kind) values ($1, $2, $3, 'triggered')", [t, row!.id, opened]);
      };
      await alert("closed-old", "CLOSED", ago(370), ago(366));
      await alert("closed-fresh", "CLOSED", ago(370), ago(364));
      await alert("open-ancient", "OPEN", ago(800), null);

      await tx.query(
        "insert into activation_codes (code_hash, tenant_id, device_id, created_at, expires_at, used_at) values ($1, $2, 'pump-7', $3, $4, $3), ($5, $2, 'pump-7', $6, $7, null)",
        [`${t}-code-old`, t, ago(9), ago(8), `${t}-code-fresh`, ago(7), ago(6)],
      );

      await tx.query(
        `insert into invites (token_hash, tenant_id, email, role, created_at, expires_at, accepted_at) values
           ($1 || '-old', $1, 'old@' || $1 || '.test', 'customer', $2, $3, $2),
           ($1 || '-fresh', $1, 'fresh@' || $1 || '.test', 'customer', $4, $5, null),
           ($1 || '-pending', $1, 'pending@' || $1 || '.test', 'customer', $6, $7, null)`,
        [t, ago(15), ago(8), ago(13), ago(6), ago(1), ago(-6)],
      );
    }
  });
  // Audit entries go in through the service, as every entry does; only their time is old.
  for (const [tenantId, days] of [
    ["acme", 401],
    ["acme", 399],
    ["globex", 401],
    [null, 401],
    [null, 399],
  ] as const) {
    await recordAudit({ db, clock: manualClock(ago(days)) }, { tenantId, actor: SYSTEM_ACTOR, action: `test.${days > 400 ? "old" : "fresh"}` });
  }
}

/** What is left of the seeded history, table by table (marker columns only). */
async function history(db: Db) {
  return withSystem(db, async (tx) => {
    const pick = async (text: string) => (await tx.query<{ v: string }>(text)).map((r) => r.v);
    return {
      outbox: await pick("select tenant_id || ':' || idempotency_key as v from notification_outbox order by 1"),
      attempts: await pick("select o.tenant_id || ':' || o.idempotency_key as v from notification_attempts a join notification_outbox o on o.id = a.outbox_id order by 1"),
      orphanAttempts: await pick("select a.id::text as v from notification_attempts a where not exists (select 1 from notification_outbox o where o.id = a.outbox_id)"),
      throttle: await pick("select tenant_id || ':' || fingerprint as v from notification_throttle order by 1"),
      deviceEvents: await pick("select tenant_id || ':' || kind as v from device_events where kind in ('old', 'fresh') order by 1"),
      alerts: await pick("select tenant_id || ':' || fingerprint as v from alerts where fingerprint in ('closed-old', 'closed-fresh', 'open-ancient') order by 1"),
      alertEvents: await pick("select a.tenant_id || ':' || a.fingerprint as v from alert_events e join alerts a on a.id = e.alert_id order by 1"),
      orphanAlertEvents: await pick("select e.id::text as v from alert_events e where not exists (select 1 from alerts a where a.id = e.alert_id)"),
      activationCodes: await pick("select code_hash as v from activation_codes order by 1"),
      invites: await pick("select token_hash as v from invites where token_hash like '%-old' or token_hash like '%-fresh' or token_hash like '%-pending' order by 1"),
      audit: await pick("select coalesce(tenant_id, 'platform') || ':' || action as v from audit_log where action like 'test.%' order by 1"),
    };
  });
}

const bothTenants = (...suffixes: string[]) => TENANTS.flatMap((t) => suffixes.map((s) => `${t}:${s}`)).sort();

for (const kind of dbKinds()) {
  describe(`retention on ${kind}`, () => {
    let pulse: TestPulse;
    const clock = manualClock(NOW);

    beforeAll(async () => {
      pulse = await startPulse({ db: kind, clock });
      await seedCast(pulse.app);
      await seedHistory(pulse.app.db);
    }, HOOK_MS);
    afterAll(() => pulse?.stop(), HOOK_MS);

    test("before the night's run, all of the history is there", async () => {
      const h = await history(pulse.app.db);
      expect(h.outbox).toEqual(bothTenants("dead-old", "dead-replayed", "delivered-fresh", "delivered-old", "pending-ancient"));
      expect(h.deviceEvents).toEqual(bothTenants("fresh", "old"));
      expect(h.audit).toEqual(["acme:test.fresh", "acme:test.old", "globex:test.old", "platform:test.fresh", "platform:test.old"]);
    });

    test("the retention job deletes what is past its time in every table and keeps the rest", async () => {
      await pulse.app.runJob("retention");
      const h = await history(pulse.app.db);
      expect(h).toEqual({
        // Delivered 29 days ago, died again last week, still pending: all stay.
        outbox: bothTenants("dead-replayed", "delivered-fresh", "pending-ancient"),
        // Attempts went with their notifications.
        attempts: bothTenants("dead-replayed", "delivered-fresh", "pending-ancient"),
        orphanAttempts: [],
        throttle: bothTenants("NO_HEARTBEAT:fresh"),
        deviceEvents: bothTenants("fresh"),
        // An alert open for 800 days is still open: only closed ones age out.
        alerts: bothTenants("closed-fresh", "open-ancient"),
        alertEvents: bothTenants("closed-fresh", "open-ancient"),
        orphanAlertEvents: [],
        activationCodes: ["acme-code-fresh", "globex-code-fresh"],
        invites: ["acme-fresh", "acme-pending", "globex-fresh", "globex-pending"],
        audit: ["acme:test.fresh", "platform:test.fresh"],
      });

      const deleted = (table: string) => pulse.app.metrics.counter("pulse_retention_deleted_total", "").get({ table });
      expect({
        notification_outbox: deleted("notification_outbox"),
        notification_throttle: deleted("notification_throttle"),
        device_events: deleted("device_events"),
        alerts: deleted("alerts"),
        activation_codes: deleted("activation_codes"),
        invites: deleted("invites"),
        audit_log: deleted("audit_log"),
      }).toEqual({ notification_outbox: 4, notification_throttle: 2, device_events: 2, alerts: 2, activation_codes: 2, invites: 2, audit_log: 3 });
      expect(pulse.app.metrics.render()).toContain('pulse_retention_deleted_total{table="audit_log"} 3');
      expect(pulse.logs.find((l) => l.msg === "retention: old rows deleted")).toMatchObject({ deleted: { audit_log: 3, device_events: 2 } });
    });

    test("pruning the audit log is itself on the platform record", async () => {
      const rows = await withSystem(pulse.app.db, (tx) =>
        tx.query<{ tenant_id: string | null; actor_name: string; details: Record<string, unknown> }>("select tenant_id, actor_name, details from audit_log where action = 'audit.pruned'"),
      );
      expect(rows).toEqual([{ tenant_id: null, actor_name: "system", details: { before: ago(400).toISOString(), deleted: 3 } }]);
    });

    test("a second run the same night finds nothing more", async () => {
      const before = await history(pulse.app.db);
      await pulse.app.runJob("retention");
      expect(await history(pulse.app.db)).toEqual(before);
      expect(pulse.app.metrics.counter("pulse_retention_deleted_total", "").get({ table: "audit_log" })).toBe(3);
    });

    test("the audit log is still append-only for the app: no update or delete outside retention", async () => {
      const snapshot = () => withSystem(pulse.app.db, (tx) => tx.query("select id, action, details from audit_log order by id"));
      const before = await snapshot();
      const refusal = (p: Promise<unknown>) =>
        p.then(
          () => "allowed",
          (e: unknown) => (e as Error).message,
        );
      expect(await refusal(withSystem(pulse.app.db, (tx) => tx.query("delete from audit_log where action = 'test.fresh'")))).toMatch(/append-only/);
      expect(await refusal(withSystem(pulse.app.db, (tx) => tx.query("update audit_log set action = 'nothing.happened'")))).toMatch(/append-only/);
      expect(await refusal(withTenant(pulse.app.db, { tenantId: "acme" }, (tx) => tx.query("delete from audit_log")))).toMatch(/append-only/);
      expect(await snapshot()).toEqual(before);
    });

    test("a backlog goes in bounded batches, and a 0 keeps rows forever", async () => {
      // Three more years of device events for acme, long past any retention.
      await withSystem(pulse.app.db, (tx) =>
        tx.query("insert into device_events (tenant_id, device_id, time, kind) select 'acme', 'pump-7', $1::timestamptz - make_interval(days => n), 'backlog' from generate_series(1, 7) as n", [ago(1000)]),
      );
      await recordAudit({ db: pulse.app.db, clock: manualClock(ago(5000)) }, { tenantId: "acme", actor: SYSTEM_ACTOR, action: "test.ancient" });

      // Every batch is its own transaction: record what each one deleted.
      const batches: number[] = [];
      const db: Db = {
        ...pulse.app.db,
        transaction: async (fn) => {
          const r = await pulse.app.db.transaction(fn);
          if (typeof r === "number") batches.push(r);
          return r;
        },
      };
      const onlyDeviceEvents: RetentionPolicy = { outboxDeliveredDays: 0, outboxDeadDays: 0, notificationThrottleDays: 0, deviceEventsDays: 90, closedAlertsDays: 0, expiredCodesDays: 0, auditDays: 0 };
      const counts = await runRetention({ db, clock, log: pulse.app.log, metrics: createMetrics() }, onlyDeviceEvents, { batchRows: 2 });

      expect(counts).toEqual({ device_events: 7 });
      expect(batches).toEqual([2, 2, 2, 1]);
      const left = await withSystem(pulse.app.db, (tx) => tx.query<{ n: number }>("select count(*)::int as n from device_events where kind = 'backlog'"));
      expect(left).toEqual([{ n: 0 }]);
      // audit_days = 0: even a fourteen-year-old entry stays.
      const ancient = await withSystem(pulse.app.db, (tx) => tx.query("select id from audit_log where action = 'test.ancient'"));
      expect(ancient.length).toBe(1);
    });
  });
}
