// The evaluator's pure core, told as the values a pump might send: which
// values meet a rule, how long they must hold (`for`), when a firing rule lets
// go (hysteresis, so a value hovering at the limit does not flap), deadlines
// that pass without a new message, which devices a scope covers, and when a
// maintenance window is open — one-off, daily, weekly, over midnight and
// across daylight-saving changes in Europe/Berlin and America/New_York.

import { describe, expect, test } from "bun:test";
import { checkDeadline, cleared, dueAt, evaluate, holds, inScope, SEVERITY_RANK, type RuleSpec, type RuleState } from "../../src/alerts/evaluate.ts";
import { inMaintenance, occurrenceAt, type WindowSpec } from "../../src/alerts/windows.ts";

const S = 1000;
const idle: RuleState = { pendingSince: null, firing: false };
const rule = (r: Partial<RuleSpec> & Pick<RuleSpec, "operator" | "threshold">): RuleSpec => ({ clearThreshold: null, durationSeconds: 0, ...r });

/** Feed [time in s, value] pairs through a rule; the actions taken, in order, with their times. */
function run(r: RuleSpec, values: Array<[number, unknown]>, from: RuleState = idle): { actions: string[]; state: RuleState } {
  let state = from;
  const actions: string[] = [];
  for (const [t, v] of values) {
    const ev = evaluate(r, state, v, t * S);
    // `changed` must be exactly "the state differs": the engine saves only then.
    expect(ev.changed).toBe(JSON.stringify(ev.state) !== JSON.stringify(state));
    state = ev.state;
    if (ev.action) actions.push(`${ev.action}@${t}`);
  }
  return { actions, state };
}

describe("operators", () => {
  test("GT, GTE, LT and LTE compare numbers, at the limit and either side", () => {
    const at = (operator: RuleSpec["operator"]) => [79, 80, 81].map((v) => holds({ operator, threshold: 80 }, v));
    expect(at("GT")).toEqual([false, false, true]);
    expect(at("GTE")).toEqual([false, true, true]);
    expect(at("LT")).toEqual([true, false, false]);
    expect(at("LTE")).toEqual([true, true, false]);
    expect(holds({ operator: "LT", threshold: -5.5 }, -5.6)).toBe(true);
  });

  test("EQ and NEQ compare booleans and enum strings (and numbers)", () => {
    expect(holds({ operator: "EQ", threshold: true }, true)).toBe(true);
    expect(holds({ operator: "EQ", threshold: true }, false)).toBe(false);
    expect(holds({ operator: "NEQ", threshold: false }, true)).toBe(true);
    expect(holds({ operator: "EQ", threshold: "fault" }, "fault")).toBe(true);
    expect(holds({ operator: "EQ", threshold: "fault" }, "Fault")).toBe(false);
    expect(holds({ operator: "NEQ", threshold: "running" }, "stopped")).toBe(true);
    expect(holds({ operator: "NEQ", threshold: "running" }, "running")).toBe(false);
    expect(holds({ operator: "EQ", threshold: 3 }, 3)).toBe(true);
  });

  test("values of the wrong kind are ignored: they neither fire nor clear nor reset a pending condition", () => {
    expect(holds({ operator: "GT", threshold: 80 }, "90")).toBeUndefined();
    expect(holds({ operator: "GT", threshold: 80 }, true)).toBeUndefined();
    expect(holds({ operator: "GT", threshold: 80 }, null)).toBeUndefined();
    expect(holds({ operator: "EQ", threshold: true }, 1)).toBeUndefined();
    expect(holds({ operator: "EQ", threshold: "fault" }, true)).toBeUndefined();
    expect(holds({ operator: "NEQ", threshold: "running" }, 0)).toBeUndefined();

    const r = rule({ operator: "GT", threshold: 80, durationSeconds: 60 });
    // Pending from t=0; a string at t=30 does not reset it; it fires at t=60.
    expect(run(r, [[0, 90], [30, "n/a"], [60, 91]]).actions).toEqual(["fire@60"]);
    // Firing; a boolean does not clear it; a real low value does.
    const firing = run(rule({ operator: "GT", threshold: 80 }), [[0, 90], [10, false], [20, {}]]);
    expect(firing.actions).toEqual(["fire@0"]);
    expect(firing.state.firing).toBe(true);
    expect(run(rule({ operator: "GT", threshold: 80 }), [[30, 10]], firing.state).actions).toEqual(["clear@30"]);
  });

  test("severities rank 1 (CRITICAL) to 5 (INFO)", () => {
    expect(SEVERITY_RANK).toEqual({ CRITICAL: 1, HIGH: 2, MEDIUM: 3, LOW: 4, INFO: 5 });
  });
});

describe("`for` durations", () => {
  const r = rule({ operator: "GT", threshold: 80, durationSeconds: 60 });

  test("without a duration the first crossing fires, and only once while it lasts", () => {
    expect(run(rule({ operator: "GT", threshold: 80 }), [[0, 81], [1, 95], [2, 99]]).actions).toEqual(["fire@0"]);
  });

  test("fires only once the condition has held for the whole duration", () => {
    const { actions, state } = run(r, [[0, 85], [20, 86], [59, 90]]);
    expect(actions).toEqual([]);
    expect(state).toEqual({ pendingSince: 0, firing: false });
    expect(run(r, [[60, 90]], state).actions).toEqual(["fire@60"]);
  });

  test("a dip below the threshold resets the clock", () => {
    const { actions, state } = run(r, [[0, 85], [50, 70], [55, 85], [100, 90]]);
    expect(actions).toEqual([]);
    expect(state.pendingSince).toBe(55 * S);
    expect(run(r, [[115, 90]], state).actions).toEqual(["fire@115"]);
  });

  test("checkDeadline fires a pending condition once its deadline passes without a new message", () => {
    const pending: RuleState = { pendingSince: 1000 * S, firing: false };
    expect(dueAt(r, pending)).toBe(1060 * S);
    expect(checkDeadline(r, pending, 1059 * S)).toEqual({ state: pending, action: null, changed: false });
    expect(checkDeadline(r, pending, 1060 * S)).toEqual({ state: { pendingSince: null, firing: true }, action: "fire", changed: true });
    // Nothing pending, or already firing: nothing to do.
    expect(dueAt(r, idle)).toBeNull();
    expect(checkDeadline(r, idle, 5000 * S).action).toBeNull();
    expect(checkDeadline(r, { pendingSince: null, firing: true }, 5000 * S).action).toBeNull();
  });
});

describe("clearing and hysteresis", () => {
  test("without a clear threshold, a value back across the limit clears", () => {
    expect(run(rule({ operator: "GT", threshold: 80 }), [[0, 81], [10, 80]]).actions).toEqual(["fire@0", "clear@10"]);
    expect(run(rule({ operator: "LT", threshold: 10 }), [[0, 9], [10, 10]]).actions).toEqual(["fire@0", "clear@10"]);
    expect(run(rule({ operator: "EQ", threshold: "fault" }), [[0, "fault"], [5, "fault"], [10, "ok"]]).actions).toEqual(["fire@0", "clear@10"]);
  });

  test("a value hovering at the limit flaps without a clear threshold", () => {
    const hover: Array<[number, unknown]> = [[0, 81], [10, 79], [20, 81], [30, 79], [40, 81]];
    expect(run(rule({ operator: "GT", threshold: 80 }), hover).actions).toEqual(["fire@0", "clear@10", "fire@20", "clear@30", "fire@40"]);
  });

  test("with a clear threshold the same hovering fires once and clears only below the clear threshold", () => {
    const r = rule({ operator: "GT", threshold: 80, clearThreshold: 70 });
    const hover: Array<[number, unknown]> = [[0, 81], [10, 79], [20, 81], [30, 75], [40, 71], [50, 81], [60, 70.5]];
    const { actions, state } = run(r, hover);
    expect(actions).toEqual(["fire@0"]);
    expect(state.firing).toBe(true);
    expect(cleared(r, 70)).toBe(true);
    expect(run(r, [[70, 70]], state).actions).toEqual(["clear@70"]);
  });

  test("for LT the clear threshold sits above: the value must climb back to it", () => {
    const r = rule({ operator: "LT", threshold: 10, clearThreshold: 15 });
    expect(run(r, [[0, 9], [10, 11], [20, 9.5], [30, 14.9], [40, 15]]).actions).toEqual(["fire@0", "clear@40"]);
  });

  test("a flapping sequence with a duration fires once per real episode", () => {
    const r = rule({ operator: "GTE", threshold: 100, clearThreshold: 90, durationSeconds: 30 });
    const seq: Array<[number, unknown]> = [
      [0, 100], [10, 99], // a blip: never held 30 s
      [20, 101], [40, 105], [50, 102], // held 30 s at t=50: fire
      [60, 95], [70, 100], [80, 91], // above the clear threshold: still firing
      [90, 89], // cleared
      [100, 120], [110, 80], [120, 120], [149, 120], [150, 121], // the dip at 110 restarts the clock: fire at 150
    ];
    expect(run(r, seq).actions).toEqual(["fire@50", "clear@90", "fire@150"]);
  });
});

describe("scope", () => {
  const pump = { id: "pump-7", siteId: "plant", tags: { line: "a", kind: "pump" } };

  test("an empty scope covers every device", () => {
    expect(inScope({}, pump)).toBe(true);
    expect(inScope({ sites: [], devices: [] }, pump)).toBe(true);
  });

  test("sites, devices and tags each narrow it, and all given must match", () => {
    expect(inScope({ sites: ["plant", "depot"] }, pump)).toBe(true);
    expect(inScope({ sites: ["depot"] }, pump)).toBe(false);
    expect(inScope({ devices: ["pump-7"] }, pump)).toBe(true);
    expect(inScope({ devices: ["pump-8"] }, pump)).toBe(false);
    expect(inScope({ tags: { line: "a" } }, pump)).toBe(true);
    expect(inScope({ tags: { line: "a", kind: "pump" } }, pump)).toBe(true);
    expect(inScope({ tags: { line: "b" } }, pump)).toBe(false);
    expect(inScope({ tags: { missing: "x" } }, pump)).toBe(false);
    expect(inScope({ sites: ["plant"], tags: { line: "b" } }, pump)).toBe(false);
    expect(inScope({ sites: ["plant"], devices: ["pump-7"], tags: { kind: "pump" } }, pump)).toBe(true);
  });
});

describe("maintenance windows", () => {
  const at = (iso: string) => Date.parse(iso);
  const daily = (start: string, durationMinutes: number, timezone: string, first = "2024-01-01T00:00:00Z", last: string | null = null): WindowSpec => ({
    scope: {},
    startsAt: at(first),
    endsAt: last ? at(last) : null,
    recurrence: { freq: "daily", start, durationMinutes, timezone },
  });
  const inside = (w: WindowSpec, iso: string) => occurrenceAt(w, at(iso)) !== undefined;
  const iso = (o: { start: number; end: number } | undefined) => o && { start: new Date(o.start).toISOString(), end: new Date(o.end).toISOString() };

  test("a one-off window is [start, end)", () => {
    const w: WindowSpec = { scope: {}, startsAt: at("2024-05-01T08:00:00Z"), endsAt: at("2024-05-01T10:00:00Z"), recurrence: null };
    expect(inside(w, "2024-05-01T07:59:59Z")).toBe(false);
    expect(inside(w, "2024-05-01T08:00:00Z")).toBe(true);
    expect(inside(w, "2024-05-01T09:59:59Z")).toBe(true);
    expect(inside(w, "2024-05-01T10:00:00Z")).toBe(false);
  });

  test("a daily window repeats at the same local time, from its first day to its last", () => {
    const w = daily("09:00", 30, "Europe/Berlin", "2024-06-03T00:00:00Z", "2024-06-06T00:00:00Z");
    expect(iso(occurrenceAt(w, at("2024-06-04T07:10:00Z")))).toEqual({ start: "2024-06-04T07:00:00.000Z", end: "2024-06-04T07:30:00.000Z" });
    expect(inside(w, "2024-06-04T07:30:00Z")).toBe(false);
    expect(inside(w, "2024-06-04T06:59:00Z")).toBe(false);
    expect(inside(w, "2024-06-02T07:10:00Z")).toBe(false); // before its first day
    expect(inside(w, "2024-06-05T07:10:00Z")).toBe(true);
    expect(inside(w, "2024-06-06T07:10:00Z")).toBe(false); // starts after its end
  });

  test("a window spanning midnight is still open the next morning", () => {
    const w = daily("22:00", 240, "Europe/Berlin");
    expect(iso(occurrenceAt(w, at("2024-06-05T23:30:00Z")))).toEqual({ start: "2024-06-05T20:00:00.000Z", end: "2024-06-06T00:00:00.000Z" }); // 01:30 local
    expect(inside(w, "2024-06-05T19:59:00Z")).toBe(false);
    expect(inside(w, "2024-06-06T00:00:00Z")).toBe(false); // 02:00 local: over
  });

  test("a weekly window opens only on its days, including the night that runs into the next day", () => {
    const w: WindowSpec = { scope: {}, startsAt: at("2024-01-01T00:00:00Z"), endsAt: null, recurrence: { freq: "weekly", days: ["FR"], start: "23:00", durationMinutes: 120, timezone: "America/New_York" } };
    // Friday 7 June 2024, 23:30 EDT = Saturday 03:30Z: open; Saturday 00:30 EDT: still open.
    expect(inside(w, "2024-06-08T03:30:00Z")).toBe(true);
    expect(inside(w, "2024-06-08T04:30:00Z")).toBe(true);
    expect(inside(w, "2024-06-08T05:00:00Z")).toBe(false);
    // Thursday and Saturday at 23:30: closed.
    expect(inside(w, "2024-06-07T03:30:00Z")).toBe(false);
    expect(inside(w, "2024-06-09T03:30:00Z")).toBe(false);
  });

  test("Europe/Berlin: 02:00 stays 02:00 local across the spring and autumn changes", () => {
    const w = daily("02:00", 60, "Europe/Berlin");
    // Winter (UTC+1) and summer (UTC+2).
    expect(iso(occurrenceAt(w, at("2024-03-30T01:30:00Z")))).toEqual({ start: "2024-03-30T01:00:00.000Z", end: "2024-03-30T02:00:00.000Z" });
    expect(iso(occurrenceAt(w, at("2024-04-01T00:30:00Z")))).toEqual({ start: "2024-04-01T00:00:00.000Z", end: "2024-04-01T01:00:00.000Z" });
    // 31 March: 02:00 does not exist (clocks jump to 03:00 = 01:00Z); the window opens when the gap ends.
    expect(iso(occurrenceAt(w, at("2024-03-31T01:30:00Z")))).toEqual({ start: "2024-03-31T01:00:00.000Z", end: "2024-03-31T02:00:00.000Z" });
    expect(inside(w, "2024-03-31T00:30:00Z")).toBe(false);
    expect(inside(w, "2024-03-31T02:30:00Z")).toBe(false);
    // 27 October: 02:00–03:00 happens twice; the window opens at the first 02:00 (CEST, 00:00Z) and lasts 60 real minutes.
    expect(iso(occurrenceAt(w, at("2024-10-27T00:30:00Z")))).toEqual({ start: "2024-10-27T00:00:00.000Z", end: "2024-10-27T01:00:00.000Z" });
    expect(inside(w, "2024-10-27T01:30:00Z")).toBe(false); // the second 02:30, in CET
  });

  test("America/New_York: 02:30 across the spring gap and the autumn repeat", () => {
    const w = daily("02:30", 30, "America/New_York");
    expect(iso(occurrenceAt(w, at("2024-03-09T07:40:00Z")))).toEqual({ start: "2024-03-09T07:30:00.000Z", end: "2024-03-09T08:00:00.000Z" }); // EST
    // 10 March: 02:30 does not exist; the window opens at 03:00 EDT (07:00Z), never the evening before.
    expect(iso(occurrenceAt(w, at("2024-03-10T07:10:00Z")))).toEqual({ start: "2024-03-10T07:00:00.000Z", end: "2024-03-10T07:30:00.000Z" });
    expect(inside(w, "2024-03-10T02:40:00Z")).toBe(false);
    expect(iso(occurrenceAt(w, at("2024-03-11T06:40:00Z")))).toEqual({ start: "2024-03-11T06:30:00.000Z", end: "2024-03-11T07:00:00.000Z" }); // EDT
    // 3 November at 01:30 happens twice: the window covers the first (EDT, 05:30Z) only.
    const night = daily("01:30", 20, "America/New_York");
    expect(iso(occurrenceAt(night, at("2024-11-03T05:40:00Z")))).toEqual({ start: "2024-11-03T05:30:00.000Z", end: "2024-11-03T05:50:00.000Z" });
    expect(inside(night, "2024-11-03T06:40:00Z")).toBe(false);
    // A window that straddles the change lasts its real duration: 01:00 EDT + 120 min = 02:00 EST.
    const long = daily("01:00", 120, "America/New_York");
    expect(iso(occurrenceAt(long, at("2024-11-03T06:30:00Z")))).toEqual({ start: "2024-11-03T05:00:00.000Z", end: "2024-11-03T07:00:00.000Z" });
  });

  test("inMaintenance needs both: the device in the window's scope and the window open", () => {
    const w: WindowSpec = { scope: { sites: ["plant"] }, startsAt: at("2024-05-01T08:00:00Z"), endsAt: at("2024-05-01T10:00:00Z"), recurrence: null };
    const pump = { id: "pump-7", siteId: "plant", tags: {} };
    const truck = { id: "truck-1", siteId: "depot", tags: {} };
    expect(inMaintenance([w], pump, at("2024-05-01T09:00:00Z"))).toBe(true);
    expect(inMaintenance([w], truck, at("2024-05-01T09:00:00Z"))).toBe(false);
    expect(inMaintenance([w], pump, at("2024-05-01T11:00:00Z"))).toBe(false);
    expect(inMaintenance([], pump, at("2024-05-01T09:00:00Z"))).toBe(false);
  });
});
