// The on-call and escalation API as people use it, signed in: schedules,
// layers (a skipped handoff time refused naming the field; edits that never
// rewrite the past, with their history), overrides ("take over for 3
// hours"), who is on call now, the timeline with its DST transitions, the gap
// and overlap report, "when am I on call next", contact methods, escalation
// policies, and the dry run. Tenant isolation: carol (globex) gets 404 for
// acme's schedules and policies.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS } from "../helpers/cast.ts";
import { MINUTE, startWorld, type World } from "./fixtures.ts";

setDefaultTimeout(60_000);

const HOUR = 60 * MINUTE;
let w: World;
let alice: Agent, bob: Agent, carol: Agent;
let scheduleId: string;
let layerId: string;

async function call(a: Agent, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = method === "GET" ? await a.fetch(`/api/v1${path}`) : await a.send(`/api/v1${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  // Sunday 22 March 2026, 10:00 in Berlin: a week before the clocks go forward.
  // Sessions outlive the clock jumps below.
  w = await startWorld({ start: "2026-03-22T09:00:00Z", config: { "auth.session_hours": 720, "auth.session_idle_minutes": 10080 } });
  alice = await signedIn(w.pulse.url, "alice", PASSWORDS.alice);
  bob = await signedIn(w.pulse.url, "bob", PASSWORDS.bob);
  carol = await signedIn(w.pulse.url, "carol", PASSWORDS.carol);
});
afterAll(() => w?.stop());

describe("schedules and layers", () => {
  test("a schedule in a time zone; names are unique; zones are checked", async () => {
    const r = await call(alice, "POST", "/oncall-schedules", { name: "Primary", timezone: "Europe/Berlin" });
    expect(r.status).toBe(201);
    scheduleId = r.body.id;
    expect((await call(alice, "POST", "/oncall-schedules", { name: "primary", timezone: "UTC" })).status).toBe(409);
    const bad = await call(alice, "POST", "/oncall-schedules", { name: "Mars", timezone: "Mars/Olympus" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("timezone");
    // Customers read, tenant-admins write.
    expect((await call(bob, "POST", "/oncall-schedules", { name: "Bob's", timezone: "UTC" })).status).toBe(403);
    expect((await call(bob, "GET", "/oncall-schedules")).body.items.map((s: any) => s.name)).toEqual(["Primary"]);
  });

  test("a handoff time the clocks skip is refused, naming the field; one they repeat is fine", async () => {
    const { alice: a, bob: b } = w.cast;
    const skipped = await call(alice, "POST", `/oncall-schedules/${scheduleId}/layers`, { name: "Night", rotation: "daily", handoff_time: "02:30", start_date: "2026-03-29", users: [a.id, b.id] });
    expect(skipped.status).toBe(400);
    expect(skipped.body.error).toMatchObject({ code: "validation_failed", field: "handoff_time" });
    expect(skipped.body.error.message).toContain("does not exist on 2026-03-29 in Europe/Berlin");
    // Not a member of acme: refused too.
    const stranger = await call(alice, "POST", `/oncall-schedules/${scheduleId}/layers`, { name: "X", rotation: "daily", users: [w.cast.carol.id] });
    expect(stranger.body.error.field).toBe("users");
  });

  test("a daily layer: who is on call now, the timeline with the DST transition, warnings about skipped handoffs", async () => {
    const { alice: a, bob: b } = w.cast;
    const r = await call(alice, "POST", `/oncall-schedules/${scheduleId}/layers`, { name: "Primary", rotation: "daily", handoff_time: "09:00", start_date: "2026-03-22", users: [a.id, b.id] });
    expect(r.status).toBe(201);
    layerId = r.body.id;
    expect(r.body).toMatchObject({ rotation: "daily", handoff_time: "09:00", start_date: "2026-03-22", position: 0, effective_until: null, warnings: [] });

    const now = await call(bob, "GET", `/oncall-schedules/${scheduleId}/current`);
    expect(now.body).toMatchObject({ gap: false, user: { username: "alice" }, layer: { name: "Primary" }, until: "2026-03-23T08:00:00.000Z" });

    const t = await call(bob, "GET", `/oncall-schedules/${scheduleId}/timeline?days=14`);
    expect(t.status).toBe(200);
    expect(t.body.dst_transitions).toEqual([{ at: "2026-03-29T01:00:00.000Z", offset_before_minutes: 60, offset_after_minutes: 120 }]);
    const starts = t.body.segments.slice(1).map((s: any) => s.start);
    // 09:00 local every day: 08:00Z before the change, 07:00Z after it.
    expect(starts.slice(0, 8)).toEqual(["2026-03-23T08:00:00.000Z", "2026-03-24T08:00:00.000Z", "2026-03-25T08:00:00.000Z", "2026-03-26T08:00:00.000Z", "2026-03-27T08:00:00.000Z", "2026-03-28T08:00:00.000Z", "2026-03-29T07:00:00.000Z", "2026-03-30T07:00:00.000Z"]);
    expect(t.body.segments.map((s: any) => s.user.username).slice(0, 4)).toEqual(["alice", "bob", "alice", "bob"]);

    // A 02:30 handoff from a day that has one: saved, with a warning about the day it moves.
    const night = await call(alice, "POST", `/oncall-schedules/${scheduleId}/layers`, { name: "Night", rotation: "daily", handoff_time: "02:30", start_date: "2026-03-23", users: [b.id], restrictions: [{ start: "22:00", end: "06:00" }] });
    expect(night.status).toBe(201);
    expect(night.body.position).toBe(1);
    expect(night.body.warnings).toEqual([
      "02:30 does not exist on 2026-03-29 in Europe/Berlin: that handoff happens at 03:30",
      "02:30 happens twice on 2026-10-25 in Europe/Berlin: the handoff is at the first",
    ]);
    // The report: no gaps; from its first handoff (02:30 on the 23rd) the Night layer shadows Primary at night.
    const report = await call(bob, "GET", `/oncall-schedules/${scheduleId}/report?days=2`);
    expect(report.body.gaps).toEqual([]);
    expect(report.body.overlaps[0]).toMatchObject({ start: "2026-03-23T01:30:00.000Z", end: "2026-03-23T05:00:00.000Z", layers: [{ name: "Night", user: { username: "bob" } }, { name: "Primary", user: { username: "alice" } }] });
    expect((await call(alice, "DELETE", `/oncall-schedules/${scheduleId}/layers/${night.body.id}`)).status).toBe(204);
  });

  test("an edit applies from now on: the past keeps the old version, and both are in the history", async () => {
    const { alice: a, bob: b } = w.cast;
    const before = await call(bob, "GET", `/oncall-schedules/${scheduleId}/timeline?days=3&from=2026-03-22T09:00:00Z`);
    w.clock.advance(2 * 24 * HOUR); // Tuesday 10:00
    const edit = await call(alice, "PATCH", `/oncall-schedules/${scheduleId}/layers/${layerId}`, { users: [b.id, b.id, a.id] });
    expect(edit.status).toBe(200);
    expect(edit.body).toMatchObject({ id: layerId, users: [b.id, b.id, a.id], effective_from: "2026-03-24T09:00:00.000Z", handoff_time: "09:00" });
    const after = await call(bob, "GET", `/oncall-schedules/${scheduleId}/timeline?days=3&from=2026-03-22T09:00:00Z`);
    // Up to the edit, the same people at the same times.
    const EDIT = "2026-03-24T09:00:00.000Z";
    const upTo = (segs: any[]) => segs.filter((s) => s.start < EDIT).map((s) => [s.start, s.end < EDIT ? s.end : EDIT, s.user.username]);
    expect(upTo(after.body.segments)).toEqual(upTo(before.body.segments));
    // From it, the new rotation (same start): shift 2 of [bob, bob, alice] is alice's, then bob has two days.
    expect(after.body.segments.map((s: any) => [s.start, s.user.username])).toEqual([
      ["2026-03-22T09:00:00.000Z", "alice"],
      ["2026-03-23T08:00:00.000Z", "bob"],
      ["2026-03-24T08:00:00.000Z", "alice"],
      ["2026-03-25T08:00:00.000Z", "bob"],
    ]);
    expect(before.body.segments.map((s: any) => s.user.username)).toEqual(["alice", "bob", "alice", "bob"]);
    const history = await call(bob, "GET", `/oncall-schedules/${scheduleId}/layers?history=true`);
    expect(history.body.items.filter((l: any) => l.id === layerId).map((l: any) => [l.effective_from, l.effective_until])).toEqual([
      ["2026-03-22T09:00:00.000Z", "2026-03-24T09:00:00.000Z"],
      ["2026-03-24T09:00:00.000Z", null],
    ]);
    // The zone cannot change under existing layers.
    expect((await call(alice, "PATCH", `/oncall-schedules/${scheduleId}`, { timezone: "UTC" })).body.error.field).toBe("timezone");
  });
});

describe("overrides and my shifts", () => {
  test("bob takes over for the next 3 hours; he may not put alice on call; ending it early ends it now", async () => {
    const o = await call(bob, "POST", `/oncall-schedules/${scheduleId}/overrides`, { hours: 3 });
    expect(o.status).toBe(201);
    expect(o.body).toMatchObject({ user_id: w.cast.bob.id, starts_at: "2026-03-24T09:00:00.000Z", ends_at: "2026-03-24T12:00:00.000Z" });
    expect((await call(bob, "GET", `/oncall-schedules/${scheduleId}/current`)).body).toMatchObject({ user: { username: "bob" }, layer: null, override_id: o.body.id, until: "2026-03-24T12:00:00.000Z" });
    expect((await call(bob, "POST", `/oncall-schedules/${scheduleId}/overrides`, { hours: 1, user_id: w.cast.alice.id })).status).toBe(403);
    // The past is not rewritten.
    const past = await call(alice, "POST", `/oncall-schedules/${scheduleId}/overrides`, { user_id: w.cast.alice.id, starts_at: "2026-03-23T10:00", ends_at: "2026-03-23T12:00" });
    expect(past.body.error.field).toBe("starts_at");
    // A local time the clocks skip is refused.
    expect((await call(alice, "POST", `/oncall-schedules/${scheduleId}/overrides`, { user_id: w.cast.alice.id, starts_at: "2026-03-29T02:30", ends_at: "2026-03-29T05:00" })).body.error.field).toBe("starts_at");
    w.clock.advance(HOUR);
    const ended = await call(bob, "DELETE", `/oncall-schedules/${scheduleId}/overrides/${o.body.id}`);
    expect(ended.body).toMatchObject({ removed: false, override: { ends_at: "2026-03-24T10:00:00.000Z" } });
    expect((await call(bob, "GET", `/oncall-schedules/${scheduleId}/current`)).body.user.username).toBe("alice");
  });

  test("/oncall/me: the shift in progress and when I am on call next", async () => {
    const mine = await call(alice, "GET", "/oncall/me?days=7");
    expect(mine.body.now.map((s: any) => [s.schedule.name, s.end])).toEqual([["Primary", "2026-03-25T08:00:00.000Z"]]);
    const bobs = await call(bob, "GET", "/oncall/me");
    expect(bobs.body.now).toEqual([]);
    expect(bobs.body.next).toMatchObject({ schedule: { name: "Primary" }, start: "2026-03-25T08:00:00.000Z", end: "2026-03-27T08:00:00.000Z" });
    // An API key is not a person.
    expect((await w.api("/oncall/me")).status).toBe(400);
  });
});

describe("contact methods", () => {
  test("each person keeps their own; URLs are secret; bad input names the field", async () => {
    const email = await call(bob, "POST", "/me/contact-methods", { kind: "email", address: "bob-pager@acme.test", min_severity: "HIGH" });
    expect(email.status).toBe(201);
    const slack = await call(bob, "POST", "/me/contact-methods", { kind: "slack", url: "https://hooks.slack.com/services/T000/B000/secret-token" });
    expect(slack.body).toMatchObject({ kind: "slack", address: "https://hooks.slack.com/…", min_severity: "INFO" });
    expect(JSON.stringify(slack.body)).not.toContain("secret-token");
    const hook = await call(bob, "POST", "/me/contact-methods", { kind: "webhook", url: "https://example.com/page-bob" });
    expect(hook.body.signing_secret).toStartWith("whsec_");
    expect((await call(bob, "GET", "/me/contact-methods")).body.items.map((m: any) => m.kind).sort()).toEqual(["email", "slack", "webhook"]);
    expect((await call(alice, "GET", "/me/contact-methods")).body.items).toEqual([]);
    expect((await call(alice, "PATCH", `/me/contact-methods/${email.body.id}`, { min_severity: "LOW" })).status).toBe(404);
    expect((await call(bob, "PATCH", `/me/contact-methods/${email.body.id}`, { min_severity: "CRITICAL" })).body.min_severity).toBe("CRITICAL");
    expect((await call(bob, "POST", "/me/contact-methods", { kind: "email", address: "not-an-address" })).body.error.field).toBe("address");
    expect((await call(bob, "POST", "/me/contact-methods", { kind: "teams", url: "ftp://x" })).body.error.field).toBe("url");
    expect((await call(bob, "POST", "/me/contact-methods", { kind: "sms", address: "+1" })).body.error.field).toBe("kind");
    expect((await call(bob, "DELETE", `/me/contact-methods/${hook.body.id}`)).status).toBe(204);
  });
});

describe("escalation policies and the dry run", () => {
  let policyId: string;
  test("a policy validates its levels, naming the field; one tenant default at a time", async () => {
    const tooMany = await call(alice, "POST", "/escalation-policies", { name: "Big", levels: Array(6).fill({ delay_minutes: 5, targets: [{ type: "schedule", schedule_id: scheduleId }] }) });
    expect(tooMany.body.error.field).toBe("levels");
    const badTarget = await call(alice, "POST", "/escalation-policies", { name: "Bad", levels: [{ delay_minutes: 0, targets: [{ type: "user", user_id: w.cast.carol.id }] }] });
    expect(badTarget.body.error.field).toBe("levels.0.targets.0.user_id");
    const r = await call(alice, "POST", "/escalation-policies", {
      name: "Default",
      is_tenant_default: true,
      levels: [
        { delay_minutes: 0, targets: [{ type: "schedule", schedule_id: scheduleId }] },
        { delay_minutes: 10, targets: [{ type: "user", user_id: w.cast.bob.id }, { type: "webhook", url: "https://hooks.example.com/ops?token=abc" }] },
      ],
    });
    expect(r.status).toBe(201);
    policyId = r.body.id;
    expect(r.body.levels[1].targets).toEqual([
      { type: "user", user_id: w.cast.bob.id, username: "bob" },
      { type: "webhook", id: expect.any(String), url: "https://hooks.example.com/…" },
    ]);
    // Replacing the levels keeps a webhook given by its id (its URL is never shown again).
    const hookId = r.body.levels[1].targets[1].id;
    const put = await call(alice, "PUT", `/escalation-policies/${policyId}`, { name: "Default", is_tenant_default: true, levels: [{ delay_minutes: 0, targets: [{ type: "schedule", schedule_id: scheduleId }] }, { delay_minutes: 20, targets: [{ type: "webhook", id: hookId }] }] });
    expect(put.body.levels[1]).toEqual({ level: 2, delay_minutes: 20, targets: [{ type: "webhook", id: hookId, url: "https://hooks.example.com/…" }] });
    const second = await call(alice, "POST", "/escalation-policies", { name: "Other", is_tenant_default: true, levels: [{ targets: [{ type: "user", user_id: w.cast.alice.id }] }] });
    const all = (await call(bob, "GET", "/escalation-policies")).body.items;
    expect(all.map((p: any) => [p.name, p.is_tenant_default])).toEqual([
      ["Default", false],
      ["Other", true],
    ]);
    expect((await call(alice, "DELETE", `/escalation-policies/${second.body.id}`)).status).toBe(204);
    await call(alice, "PUT", `/escalation-policies/${policyId}`, { ...put.body, is_tenant_default: true, levels: [{ delay_minutes: 0, targets: [{ type: "schedule", schedule_id: scheduleId }] }, { delay_minutes: 20, targets: [{ type: "webhook", id: hookId }] }] });
    // A schedule a policy pages cannot be deleted.
    expect((await call(alice, "DELETE", `/oncall-schedules/${scheduleId}`)).status).toBe(409);
  });

  test("dry run: who would be paged now for a CRITICAL alert on pump-7, level by level, with their contact methods", async () => {
    const r = await call(bob, "POST", "/oncall/dry-run", { severity: "CRITICAL", device_id: "pump-7" });
    expect(r.status).toBe(200);
    expect(r.body.policy).toMatchObject({ id: policyId, name: "Default" });
    expect(r.body.levels.map((l: any) => [l.level, l.at, l.targets.map((t: any) => t.message)])).toEqual([
      [1, "2026-03-24T10:00:00.000Z", ["level 1: paged alice via email, on call for Primary"]],
      [2, "2026-03-24T10:20:00.000Z", ["level 2: called webhook https://hooks.example.com/…"]],
    ]);
    // alice has no contact methods: her account's email.
    expect(r.body.levels[0].targets[0].via).toEqual([{ kind: "email", address: "alice@acme.test" }]);
    expect((await call(bob, "POST", "/oncall/dry-run", { severity: "CRITICAL", device_id: "nope" })).body.error.field).toBe("device_id");
    // Nothing was sent or written.
    expect((await w.api("/deliveries")).body.items).toEqual([]);
  });
});

describe("tenant isolation", () => {
  test("carol (globex) gets 404 for acme's schedules and policies, and sees none of them", async () => {
    const policy = (await call(alice, "GET", "/escalation-policies")).body.items[0].id;
    for (const path of [`/oncall-schedules/${scheduleId}`, `/oncall-schedules/${scheduleId}/current`, `/oncall-schedules/${scheduleId}/timeline`, `/oncall-schedules/${scheduleId}/layers`, `/oncall-schedules/${scheduleId}/overrides`, `/oncall-schedules/${scheduleId}/report`, `/oncall-schedules/Primary/current`, `/escalation-policies/${policy}`]) {
      expect({ path, status: (await call(carol, "GET", path)).status }).toEqual({ path, status: 404 });
    }
    expect((await call(carol, "PATCH", `/oncall-schedules/${scheduleId}/layers/${layerId}`, { users: [w.cast.carol.id] })).status).toBe(404);
    expect((await call(carol, "POST", `/oncall-schedules/${scheduleId}/overrides`, { hours: 2 })).status).toBe(404);
    expect((await call(carol, "PUT", `/escalation-policies/${policy}`, { name: "Mine", levels: [{ targets: [{ type: "user", user_id: w.cast.carol.id }] }] })).status).toBe(404);
    expect((await call(carol, "DELETE", `/escalation-policies/${policy}`)).status).toBe(404);
    expect((await call(carol, "DELETE", `/oncall-schedules/${scheduleId}`)).status).toBe(404);
    expect((await call(carol, "GET", "/oncall-schedules")).body.items).toEqual([]);
    expect((await call(carol, "GET", "/escalation-policies")).body.items).toEqual([]);
    // Nor can she page acme's schedule from a policy of her own.
    const sneaky = await call(carol, "POST", "/escalation-policies", { name: "Sneaky", levels: [{ targets: [{ type: "schedule", schedule_id: scheduleId }] }] });
    expect(sneaky.body.error.field).toBe("levels.0.targets.0.schedule_id");
  });
});
