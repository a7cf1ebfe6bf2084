// Escalation end to end on a manual clock, with real peers on loopback: an
// SMTP server (the platform mailer delivers personal email) and an HTTP
// receiver checking Standard Webhooks signatures (a personal webhook and a
// channel). A three-level policy pages whoever the schedule has on call at
// the moment of each level; acknowledging at level 2 stops level 3; a
// re-opened alert starts again at level 1; repeats run the policy again; a
// step whose transaction fails is neither half-done nor lost.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { withSystem } from "../../src/db/scope.ts";
import { createEscalationWorker } from "../../src/escalation/worker.ts";
import { manualClock } from "../../src/lib/clock.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { addMyContactMethod } from "../../src/oncall/contacts.ts";
import { registerDevice } from "../helpers/devices.ts";
import { startHttpReceiver, startSmtpServer, verifyWebhook, type HttpReceiver, type SmtpReceiver } from "../helpers/receivers.ts";
import { MINUTE, startWorld, type World } from "../oncall/fixtures.ts";

setDefaultTimeout(60_000);

const SECRET = "whsec_" + Buffer.from("pulse-escalation-secret-for-tests!").toString("base64");

let w: World;
let smtp: SmtpReceiver;
let rx: HttpReceiver;
let scheduleId: string;
let opsChannel: string;

/** Outbox rows of escalation pages for an alert, oldest first. */
const pages = (alertId: string) =>
  withSystem(w.pulse.app.db, (tx) => tx.query<{ idempotency_key: string; channel_id: string | null; recipient: Record<string, any> | null; payload: Record<string, any>; status: string }>("select idempotency_key, channel_id, recipient, payload, status from notification_outbox where alert_id = $1 and event = 'alert.escalated' order by id", [alertId]));

const messages = async (alertId: string) => (await w.events(alertId)).filter((e) => e.kind.startsWith("ESCALAT")).map((e) => `${e.kind}: ${e.details.message}`);

beforeAll(async () => {
  smtp = await startSmtpServer();
  rx = startHttpReceiver();
  // 08:50 in Berlin on a Monday: alice's day on the Primary rotation ends at 09:00, then it is bob's.
  w = await startWorld({ start: "2026-05-04T06:50:00Z", config: { "smtp.host": "127.0.0.1", "smtp.port": smtp.port, "smtp.security": "none", "smtp.from": "Pulse <pulse@pulse.test>" } });
  const { alice, bob } = w.cast;
  const deps = { db: w.pulse.app.db, clock: w.clock, secrets: w.pulse.app.secrets };
  await addMyContactMethod(deps, w.as(alice), { kind: "email", address: "alice-pager@acme.test", min_severity: "HIGH" });
  await addMyContactMethod(deps, w.as(bob, "customer"), { kind: "webhook", url: rx.url("/bob"), secret: SECRET });

  scheduleId = (await w.must("/oncall-schedules", { body: { name: "Primary", timezone: "Europe/Berlin" } })).id;
  await w.must(`/oncall-schedules/${scheduleId}/layers`, { body: { name: "Primary", rotation: "daily", handoff_time: "09:00", start_date: "2026-05-03", users: [alice.id, bob.id] } });
  opsChannel = (await w.must("/notification-channels", { body: { name: "Ops", type: "webhook", settings: { url: rx.url("/ops"), secret: SECRET } } })).id;
  const policy = await w.must("/escalation-policies", {
    body: {
      name: "Pumps",
      levels: [
        { delay_minutes: 0, targets: [{ type: "schedule", schedule_id: scheduleId }] },
        { delay_minutes: 15, targets: [{ type: "schedule", schedule_id: scheduleId }] },
        { delay_minutes: 15, targets: [{ type: "channel", channel_id: opsChannel }] },
      ],
    },
  });
  await w.must("/alert-rules", { body: { name: "Pump too hot", metric_name: "temp_c", operator: "GT", threshold: 80, severity: "CRITICAL", escalation_policy_id: policy.id } });
  w.pulse.app.alerts.engine.invalidate("acme");
});

afterAll(async () => {
  await w?.stop();
  await smtp?.stop();
  rx?.stop();
});

describe("a three-level policy", () => {
  test("escalates on schedule, paging whoever is on call at the moment of each level", async () => {
    await w.send("pump-7", { temp_c: 95 });
    let a = await w.alert("pump-7");
    expect(a.status).toBe("OPEN");
    expect(a.escalation_policy_id).toBeString();
    // Started in the alert's own transaction, level 1 due at once (0 min). (The app's job may already be on it.)
    const started = (await w.events(a.id)).find((e) => e.kind === "ESCALATION_STARTED")!;
    expect(started.details).toMatchObject({ policy: "Pumps", next_level: 1, due_at: new Date(a.opened_at).toISOString() });

    // Level 1 at 08:50: alice is on call; her pager email (HIGH and above) gets it through the platform mailer.
    await w.escalate();
    await w.pulse.app.drainOutbox();
    const [mail] = await smtp.waitFor(1);
    expect(mail!.to).toEqual(["alice-pager@acme.test"]);
    expect(mail!.header("subject")).toContain("[CRITICAL]");
    expect(mail!.header("x-pulse-event")).toBe("alert.escalated");
    a = await w.alert("pump-7");
    expect(a.escalation_level).toBe(1);
    expect(new Date(a.next_escalation_at).toISOString()).toBe("2026-05-04T07:05:00.000Z");

    // Nothing before level 2 is due.
    w.clock.advance(14 * MINUTE);
    await w.escalate();
    expect(await pages(a.id)).toHaveLength(1);

    // Level 2 at 09:05 Berlin: the rotation handed over at 09:00, so bob is paged, on his signed webhook.
    w.clock.advance(1 * MINUTE);
    await w.escalate();
    await w.pulse.app.drainOutbox();
    const [bobHook] = await rx.waitFor("/bob", 1);
    const body = verifyWebhook(SECRET, bobHook!);
    expect(body.type).toBe("alert.escalated");
    expect(body.data.escalation).toEqual({ level: 2, target: "bob (on call for Primary)" });
    expect(body.data.alert.id).toBe(a.id);
    expect(smtp.mails).toHaveLength(1);

    // Level 3, 15 minutes later: the Ops channel.
    w.clock.advance(15 * MINUTE);
    await w.escalate();
    await w.pulse.app.drainOutbox();
    const [ops] = await rx.waitFor("/ops", 1);
    expect(verifyWebhook(SECRET, ops!).data.escalation).toEqual({ level: 3, target: "channel Ops (webhook)" });

    // Every step is in the timeline; then nothing more happens.
    expect(await messages(a.id)).toEqual([
      "ESCALATION_STARTED: escalation policy Pumps: level 1 now",
      "ESCALATED: level 1: paged alice via email, on call for Primary",
      "ESCALATED: level 2: paged bob via webhook, on call for Primary",
      "ESCALATED: level 3: notified channel Ops (webhook)",
      "ESCALATION_EXHAUSTED: level 3 was the last; nobody acknowledged",
    ]);
    w.clock.advance(120 * MINUTE);
    await w.escalate();
    const all = await pages(a.id);
    expect(all.map((p) => [p.payload.escalation.level, p.recipient?.username ?? p.channel_id, p.status])).toEqual([
      [1, "alice", "delivered"],
      [2, "bob", "delivered"],
      [3, opsChannel, "delivered"],
    ]);
    expect(new Set(all.map((p) => p.idempotency_key)).size).toBe(3);
    expect((await w.alert("pump-7")).next_escalation_at).toBeNull();

    // The delivery log says where each page went.
    const log = (await w.must("/deliveries?alert_id=" + a.id)).items.filter((d: any) => d.event === "alert.escalated");
    expect(log.map((d: any) => [d.channel_type, d.recipient?.username ?? null])).toEqual([
      ["webhook", null],
      ["webhook", "bob"],
      ["email", "alice"],
    ]);
  });

  test("acknowledging at level 2 stops level 3", async () => {
    const opsBefore = rx.at("/ops").length;
    await w.send("pump-8", { temp_c: 99 });
    const a = await w.alert("pump-8");
    await w.escalate(); // level 1 (bob is on call all day now)
    w.clock.advance(15 * MINUTE);
    await w.escalate(); // level 2
    expect((await pages(a.id)).map((p) => p.payload.escalation.level)).toEqual([1, 2]);

    expect((await w.api(`/alerts/${a.id}/acknowledge`, { method: "POST", body: { note: "on it" } })).status).toBe(200);
    expect((await w.alert("pump-8")).next_escalation_at).toBeNull();
    w.clock.advance(60 * MINUTE);
    await w.escalate();
    await w.pulse.app.drainOutbox();
    expect((await pages(a.id)).map((p) => p.payload.escalation.level)).toEqual([1, 2]);
    expect(rx.at("/ops").length).toBe(opsBefore);
    expect((await messages(a.id)).filter((m) => m.includes("level 3"))).toEqual([]);
  });

  test("a re-opened alert starts again at level 1", async () => {
    const first = await w.alert("pump-7");
    expect((await w.api(`/alerts/${first.id}/close`, { method: "POST", body: {} })).status).toBe(200);
    await w.send("pump-7", { temp_c: 20 }); // the condition clears…
    await w.send("pump-7", { temp_c: 96 }); // …and comes back within the re-open window
    const a = await w.alert("pump-7");
    expect(a.id).toBe(first.id);
    expect(a.status).toBe("OPEN");
    const restarted = (await w.events(a.id)).filter((e) => e.kind === "ESCALATION_STARTED").at(-1)!;
    expect(restarted.details.due_at).toBe(w.clock.now().toISOString());
    await w.escalate();
    const levels = (await pages(a.id)).map((p) => [p.payload.escalation.level, p.recipient?.username ?? "ops"]);
    expect(levels).toEqual([
      [1, "alice"],
      [2, "bob"],
      [3, "ops"],
      [1, "bob"], // bob holds the rotation now
    ]);
    expect((await w.alert("pump-7")).escalation_level).toBe(1);
    await w.api(`/alerts/${a.id}/close`, { method: "POST", body: {} });
  });
});

describe("policies", () => {
  test("repeat: the whole policy runs again N times, repeat_delay_minutes after its last level", async () => {
    const { alice } = w.cast;
    const policy = await w.must("/escalation-policies", { body: { name: "Fans", repeat_count: 2, repeat_delay_minutes: 10, levels: [{ delay_minutes: 5, targets: [{ type: "user", user_id: alice.id }] }] } });
    await w.must("/alert-rules", { body: { name: "Fan stopped", metric_name: "rpm", operator: "LT", threshold: 100, severity: "LOW", escalation_policy_id: policy.id } });
    w.pulse.app.alerts.engine.invalidate("acme");
    await w.send("fan-1", { rpm: 0 });
    const a = await w.alert("fan-1");
    const fired: number[] = [];
    const steps = async () => (await messages(a.id)).filter((m) => /^ESCALAT(ED|ION_SKIPPED):/.test(m));
    for (let minute = 0; minute <= 40; minute++) {
      await w.escalate();
      if ((await steps()).length > fired.length) fired.push(minute);
      w.clock.advance(MINUTE);
    }
    // At 5, then 10 after the last level (15), then again (25); then no more.
    expect(fired).toEqual([5, 15, 25]);
    // A LOW alert is below alice's only contact method (email, HIGH and above): she is not paged, and the timeline says why.
    expect(await pages(a.id)).toHaveLength(0);
    expect(await steps()).toEqual(Array(3).fill("ESCALATION_SKIPPED: level 1: alice not paged: has no contact method for LOW alerts"));
    expect(await messages(a.id)).toContain("ESCALATION_EXHAUSTED: level 1 was the last (after 2 repeats); nobody acknowledged");
    await w.api(`/alerts/${a.id}/close`, { method: "POST", body: {} });
  });

  test("a silenced alert's escalation waits for the silence to end", async () => {
    const { bob } = w.cast;
    // Level 1 a minute after opening, so the alert is silenced before anything is due.
    const policy = await w.must("/escalation-policies", { body: { name: "Quiet", levels: [{ delay_minutes: 1, targets: [{ type: "user", user_id: bob.id }] }] } });
    await w.must("/alert-rules", { body: { name: "Pressure", metric_name: "bar", operator: "GT", threshold: 5, severity: "HIGH", escalation_policy_id: policy.id } });
    w.pulse.app.alerts.engine.invalidate("acme");
    await w.send("pump-8", { bar: 9 });
    const [row] = await withSystem(w.pulse.app.db, (tx) => tx.query<{ id: string }>("select id from alerts where rule_id = (select id from alert_rules where name = 'Pressure')"));
    const until = new Date(w.clock.now().getTime() + 30 * MINUTE).toISOString();
    expect((await w.api(`/alerts/${row!.id}/silence`, { method: "POST", body: { minutes: 30 } })).status).toBe(200);
    w.clock.advance(MINUTE);
    await w.escalate();
    expect(await pages(row!.id)).toHaveLength(0);
    w.clock.advance(10 * MINUTE);
    await w.escalate();
    expect(await pages(row!.id)).toHaveLength(0);
    // Lifted early: the level is due at once.
    expect((await w.api(`/alerts/${row!.id}/silence`, { method: "POST", body: {} })).status).toBe(200);
    await w.escalate();
    expect((await pages(row!.id)).map((p) => p.recipient?.username)).toEqual(["bob"]);
    expect((await messages(row!.id)).filter((m) => !m.startsWith("ESCALATION_STARTED"))).toEqual([
      `ESCALATION_POSTPONED: escalation waits while the alert is silenced (until ${until})`,
      "ESCALATED: level 1: paged bob via webhook",
      "ESCALATION_EXHAUSTED: level 1 was the last; nobody acknowledged",
    ]);
    await w.api(`/alerts/${row!.id}/close`, { method: "POST", body: {} });
  });
});

describe("crash safety of one step", () => {
  test("a step whose transaction dies after writing its pages leaves nothing behind, and the level fires once later", async () => {
    const { alice } = w.cast;
    // Level 1 an hour after opening: the app's own job (on the app's clock, which stays put) never finds it due,
    // so only our worker, on a clock of its own two hours ahead, steps this alert.
    const policy = await w.must("/escalation-policies", { body: { name: "Crashy", levels: [{ delay_minutes: 60, targets: [{ type: "user", user_id: alice.id }] }] } });
    await w.must("/alert-rules", { body: { name: "Vibration", metric_name: "vib", operator: "GT", threshold: 1, severity: "CRITICAL", escalation_policy_id: policy.id } });
    w.pulse.app.alerts.engine.invalidate("acme");
    let die = true;
    const errors: unknown[] = [];
    const clock = manualClock(w.clock.now().getTime() + 120 * MINUTE);
    const worker = createEscalationWorker({
      db: w.pulse.app.db,
      clock,
      log: createLogger({ level: "error", format: "json", write: (l) => errors.push(l) }),
      publicUrl: () => "http://pulse.test",
      retryHorizonSeconds: 3600,
      afterWrite: async () => {
        if (die) throw new Error("killed mid-step");
      },
    });
    await w.send("fan-1", { vib: 5 });
    const [row] = await withSystem(w.pulse.app.db, (tx) => tx.query<{ id: string }>("select id from alerts where rule_id = (select id from alert_rules where name = 'Vibration')"));
    const level = async () => (await withSystem(w.pulse.app.db, (tx) => tx.query<{ escalation_level: number }>("select escalation_level from alerts where id = $1", [row!.id])))[0]!.escalation_level;
    await worker.run();
    expect(errors.length).toBeGreaterThan(0);
    expect(await pages(row!.id)).toHaveLength(0);
    expect(await level()).toBe(0);
    expect((await messages(row!.id)).filter((m) => m.startsWith("ESCALATED"))).toEqual([]);
    // Retried a minute later: the level fires once, however often the worker runs.
    die = false;
    await worker.run();
    expect(await pages(row!.id)).toHaveLength(0);
    clock.advance(MINUTE);
    await worker.run();
    await worker.run();
    expect((await pages(row!.id)).map((p) => p.payload.escalation.level)).toEqual([1]);
    expect(await level()).toBe(1);
    await w.api(`/alerts/${row!.id}/close`, { method: "POST", body: {} });
  });
});

describe("which policy an alert gets", () => {
  test("its rule's; for NO_HEARTBEAT the most specific heartbeat rule's; otherwise the tenant default", async () => {
    const { alice, bob } = w.cast;
    await registerDevice(w.pulse.app, "acme", "valve-1", { site: "depot" });
    const plant = await w.must("/escalation-policies", { body: { name: "Plant heartbeat", levels: [{ targets: [{ type: "user", user_id: alice.id }] }] } });
    const fallback = await w.must("/escalation-policies", { body: { name: "Fallback", is_tenant_default: true, levels: [{ targets: [{ type: "user", user_id: bob.id }] }] } });
    // Disabled, so no alert is raised in this suite; its policy would still be the one for the plant's devices.
    await w.must("/heartbeat-rules", { body: { name: "plant", scope: { sites: ["plant"] }, enabled: false, escalation_policy_id: plant.id } });
    const rules = (await w.must("/alert-rules")).items as Array<{ id: string; name: string }>;
    const pumpRule = rules.find((r) => r.name === "Pump too hot")!.id;
    const policyOf = async (body: Record<string, unknown>) => (await w.must("/oncall/dry-run", { body: { severity: "HIGH", ...body } })).policy?.name ?? null;
    expect(await policyOf({ device_id: "pump-7", type: "NO_HEARTBEAT" })).toBe("Plant heartbeat");
    expect(await policyOf({ device_id: "valve-1", type: "NO_HEARTBEAT" })).toBe("Fallback");
    expect(await policyOf({ device_id: "pump-7", rule_id: pumpRule })).toBe("Pumps");
    expect(await policyOf({ device_id: "pump-7" })).toBe("Fallback");
    // A policy in use by a rule cannot be deleted; the default can.
    expect((await w.api(`/escalation-policies/${plant.id}`, { method: "DELETE" })).status).toBe(409);
    expect((await w.api(`/escalation-policies/${fallback.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await policyOf({ device_id: "valve-1", type: "NO_HEARTBEAT" })).toBeNull();
  });
});
