// The on-call resolver, pure, over daylight-saving transitions in four kinds
// of zone: Europe/Berlin and America/New_York (one hour), Australia/Lord_Howe
// (half an hour) and Asia/Kolkata (none). Handoffs stay on the wall clock
// (the shift spanning a transition is shorter or longer and belongs to
// whoever holds that day); a handoff time the clocks skip is refused when
// entered and one they repeat means its first occurrence; custom lengths
// count real hours; restrictions clip; higher layers win; overrides win over
// all; gaps are marked; edits never rewrite the past; neighbours merge.
import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/lib/errors.ts";
import { checkInstant, checkLayer } from "../../src/oncall/check.ts";
import { coverage, dstTransitions, timeline, whoIsOnCall, type LayerVersion, type Override, type Segment } from "../../src/oncall/resolve.ts";

const H = 3_600_000;
const BERLIN = { timezone: "Europe/Berlin" };
const NEW_YORK = { timezone: "America/New_York" };
const LORD_HOWE = { timezone: "Australia/Lord_Howe" };
const KOLKATA = { timezone: "Asia/Kolkata" };

let n = 0;
/** A layer version, valid for ever unless said otherwise. */
function layer(p: Partial<LayerVersion> & Pick<LayerVersion, "rotation" | "handoffTime" | "startDate" | "users">): LayerVersion {
  n++;
  return { id: `v${n}`, layerId: `layer${n}`, name: `Layer ${n}`, position: 1, lengthHours: null, handoffWeekday: null, restrictions: [], effectiveFrom: new Date("2020-01-01T00:00:00Z"), effectiveUntil: null, ...p };
}

/** Segments as [start, end, user] with ISO instants, for exact comparison. */
const rows = (segs: Segment[]) => segs.map((s) => [s.start.toISOString().replace(":00.000Z", "Z"), s.end.toISOString().replace(":00.000Z", "Z"), s.userId]);
const hoursOf = (segs: Segment[]) => segs.map((s) => [s.userId, (s.end.getTime() - s.start.getTime()) / H]);
const at = (iso: string) => new Date(iso);
const who = (schedule: { timezone: string }, layers: LayerVersion[], overrides: Override[], t: string) => {
  const r = whoIsOnCall(schedule, layers, overrides, at(t));
  return "gap" in r ? null : r.userId;
};

/** The AppError a check throws (to assert the field it names). */
function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("Europe/Berlin (clocks forward 2026-03-29 02:00→03:00, back 2026-10-25 03:00→02:00)", () => {
  test("the zone's transitions are where the resolver says", () => {
    expect(dstTransitions("Europe/Berlin", at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))).toEqual([
      { at: at("2026-03-29T01:00:00Z"), offsetBefore: 60, offsetAfter: 120 },
      { at: at("2026-10-25T01:00:00Z"), offsetBefore: 120, offsetAfter: 60 },
    ]);
  });

  test("daily 09:00 across spring forward: 09:00 local every day; the 23-hour shift is the day's owner's", () => {
    const l = layer({ rotation: "daily", handoffTime: "09:00", startDate: "2026-03-26", users: ["ann", "bob", "cid"] });
    expect(rows(timeline(BERLIN, [l], [], at("2026-03-26T08:00:00Z"), at("2026-03-31T07:00:00Z")))).toEqual([
      ["2026-03-26T08:00Z", "2026-03-27T08:00Z", "ann"], // 09:00 CET
      ["2026-03-27T08:00Z", "2026-03-28T08:00Z", "bob"],
      ["2026-03-28T08:00Z", "2026-03-29T07:00Z", "cid"], // to 09:00 CEST: 23 h
      ["2026-03-29T07:00Z", "2026-03-30T07:00Z", "ann"],
      ["2026-03-30T07:00Z", "2026-03-31T07:00Z", "bob"],
    ]);
    expect(who(BERLIN, [l], [], "2026-03-29T06:59:59Z")).toBe("cid");
    expect(who(BERLIN, [l], [], "2026-03-29T07:00:00Z")).toBe("ann");
  });

  test("daily 09:00 across fall back: the 25-hour shift is the day's owner's", () => {
    const l = layer({ rotation: "daily", handoffTime: "09:00", startDate: "2026-10-22", users: ["ann", "bob", "cid"] });
    expect(hoursOf(timeline(BERLIN, [l], [], at("2026-10-22T07:00:00Z"), at("2026-10-26T08:00:00Z")))).toEqual([
      ["ann", 24],
      ["bob", 24],
      ["cid", 25],
      ["ann", 24],
    ]);
    expect(who(BERLIN, [l], [], "2026-10-25T07:59:00Z")).toBe("cid"); // 08:59 CET
    expect(who(BERLIN, [l], [], "2026-10-25T08:00:00Z")).toBe("ann"); // 09:00 CET
  });

  test("weekly, Monday 10:00: the week with spring forward is 167 h, the one with fall back 169 h", () => {
    const spring = layer({ rotation: "weekly", handoffTime: "10:00", handoffWeekday: "MO", startDate: "2026-03-16", users: ["ann", "bob"] });
    expect(rows(timeline(BERLIN, [spring], [], at("2026-03-16T09:00:00Z"), at("2026-04-06T08:00:00Z")))).toEqual([
      ["2026-03-16T09:00Z", "2026-03-23T09:00Z", "ann"],
      ["2026-03-23T09:00Z", "2026-03-30T08:00Z", "bob"],
      ["2026-03-30T08:00Z", "2026-04-06T08:00Z", "ann"],
    ]);
    const fall = layer({ rotation: "weekly", handoffTime: "10:00", handoffWeekday: "MO", startDate: "2026-10-19", users: ["ann", "bob"] });
    expect(hoursOf(timeline(BERLIN, [fall], [], at("2026-10-19T08:00:00Z"), at("2026-11-02T09:00:00Z")))).toEqual([
      ["ann", 169],
      ["bob", 168],
    ]);
  });

  test("weekly starts at the first handoff weekday on or after the start date; before it the layer is absent", () => {
    const l = layer({ rotation: "weekly", handoffTime: "10:00", handoffWeekday: "MO", startDate: "2026-03-18", users: ["ann", "bob"] }); // a Wednesday
    expect(who(BERLIN, [l], [], "2026-03-20T12:00:00Z")).toBeNull();
    expect(who(BERLIN, [l], [], "2026-03-23T09:00:00Z")).toBe("ann");
  });

  test("a handoff time the clocks skip is refused on the day it is entered for, naming the field", () => {
    const e = refusal(() => checkLayer({ name: "Primary", rotation: "daily", handoff_time: "02:30", start_date: "2026-03-29", users: ["00000000-0000-4000-8000-000000000001"] }, { timezone: "Europe/Berlin", today: "2026-03-01", nextPosition: 0 }));
    expect(e.field).toBe("handoff_time");
    expect(e.message).toContain("02:30 does not exist on 2026-03-29 in Europe/Berlin");
    // The same time on an ordinary day is fine.
    expect(checkLayer({ name: "Primary", rotation: "daily", handoff_time: "02:30", start_date: "2026-03-28", users: ["00000000-0000-4000-8000-000000000001"] }, { timezone: "Europe/Berlin", today: "2026-03-01", nextPosition: 0 }).handoff_time).toBe("02:30");
  });

  test("an ambiguous handoff (02:30 on fall-back day) is its first occurrence", () => {
    const fields = checkLayer({ name: "Night", rotation: "daily", handoff_time: "02:30", start_date: "2026-10-25", users: ["00000000-0000-4000-8000-000000000001"] }, { timezone: "Europe/Berlin", today: "2026-10-01", nextPosition: 0 });
    const l = layer({ rotation: "daily", handoffTime: fields.handoff_time, startDate: fields.start_date, users: ["ann", "bob"] });
    // 02:30 CEST (00:30Z) comes first; 02:30 CET (01:30Z) is the second time round.
    expect(who(BERLIN, [l], [], "2026-10-25T00:29:59Z")).toBeNull();
    expect(who(BERLIN, [l], [], "2026-10-25T00:30:00Z")).toBe("ann");
    // The next handoff is 02:30 CET the day after: ann's first shift is 25 h.
    expect(hoursOf(timeline(BERLIN, [l], [], at("2026-10-25T00:30:00Z"), at("2026-10-27T01:30:00Z")))).toEqual([
      ["ann", 25],
      ["bob", 24],
    ]);
  });

  test("a daily 02:30 rotation that meets spring forward later hands off at 03:30 that day (moved on by the gap)", () => {
    const l = layer({ rotation: "daily", handoffTime: "02:30", startDate: "2026-03-27", users: ["ann", "bob"] });
    expect(rows(timeline(BERLIN, [l], [], at("2026-03-27T01:30:00Z"), at("2026-03-30T00:30:00Z")))).toEqual([
      ["2026-03-27T01:30Z", "2026-03-28T01:30Z", "ann"],
      ["2026-03-28T01:30Z", "2026-03-29T01:30Z", "bob"], // to 03:30 CEST
      ["2026-03-29T01:30Z", "2026-03-30T00:30Z", "ann"], // to 02:30 CEST: 23 h
    ]);
  });

  test("hourly rotation: the skipped hour's owner is passed over, no zero-length shift appears", () => {
    const l = layer({ rotation: "custom", lengthHours: 1, handoffTime: "00:00", startDate: "2026-03-29", users: ["a", "b", "c", "d"] });
    const segs = timeline(BERLIN, [l], [], at("2026-03-28T23:00:00Z"), at("2026-03-29T03:00:00Z"));
    // 00:00 CET a, 01:00 CET b, (02:00 does not exist: c), 03:00 CEST d, 04:00 CEST a.
    expect(rows(segs)).toEqual([
      ["2026-03-28T23:00Z", "2026-03-29T00:00Z", "a"],
      ["2026-03-29T00:00Z", "2026-03-29T01:00Z", "b"],
      ["2026-03-29T01:00Z", "2026-03-29T02:00Z", "d"],
      ["2026-03-29T02:00Z", "2026-03-29T03:00Z", "a"],
    ]);
    expect(segs.every((s) => s.end > s.start)).toBe(true);
  });

  test("restrictions clip a layer and follow the wall clock across DST", () => {
    // Business hours Monday to Friday; the weekend is a gap.
    const l = layer({ rotation: "daily", handoffTime: "09:00", startDate: "2026-03-23", users: ["ann"], restrictions: [{ days: ["MO", "TU", "WE", "TH", "FR"], start: "09:00", end: "17:00" }] });
    expect(rows(timeline(BERLIN, [l], [], at("2026-03-27T00:00:00Z"), at("2026-03-31T00:00:00Z")))).toEqual([
      ["2026-03-27T00:00Z", "2026-03-27T08:00Z", null],
      ["2026-03-27T08:00Z", "2026-03-27T16:00Z", "ann"], // Friday 09:00–17:00 CET
      ["2026-03-27T16:00Z", "2026-03-30T07:00Z", null], // the weekend
      ["2026-03-30T07:00Z", "2026-03-30T15:00Z", "ann"], // Monday 09:00–17:00 CEST
      ["2026-03-30T15:00Z", "2026-03-31T00:00Z", null],
    ]);
    // A night span belongs to the day it starts: Friday 22:00 to Saturday 06:00 only.
    const night = layer({ rotation: "daily", handoffTime: "09:00", startDate: "2026-03-23", users: ["nia"], restrictions: [{ days: ["FR"], start: "22:00", end: "06:00" }] });
    expect(who(BERLIN, [night], [], "2026-03-28T03:00:00Z")).toBe("nia"); // Saturday 04:00 CET
    expect(who(BERLIN, [night], [], "2026-03-29T03:00:00Z")).toBeNull(); // Sunday 05:00 CEST
    // 01:00–04:00 on spring-forward night is two real hours.
    const early = layer({ rotation: "daily", handoffTime: "00:00", startDate: "2026-03-01", users: ["eve"], restrictions: [{ start: "01:00", end: "04:00" }] });
    expect(rows(timeline(BERLIN, [early], [], at("2026-03-29T00:00:00Z"), at("2026-03-29T02:00:00Z")))).toEqual([["2026-03-29T00:00Z", "2026-03-29T02:00Z", "eve"]]);
  });
});

describe("America/New_York (clocks forward 2026-03-08, back 2026-11-01)", () => {
  test("daily 08:00: 23 h and 25 h shifts, 08:00 local throughout", () => {
    const spring = layer({ rotation: "daily", handoffTime: "08:00", startDate: "2026-03-06", users: ["ann", "bob"] });
    expect(rows(timeline(NEW_YORK, [spring], [], at("2026-03-06T13:00:00Z"), at("2026-03-09T12:00:00Z")))).toEqual([
      ["2026-03-06T13:00Z", "2026-03-07T13:00Z", "ann"], // 08:00 EST
      ["2026-03-07T13:00Z", "2026-03-08T12:00Z", "bob"], // 23 h
      ["2026-03-08T12:00Z", "2026-03-09T12:00Z", "ann"], // 08:00 EDT
    ]);
    const fall = layer({ rotation: "daily", handoffTime: "08:00", startDate: "2026-10-30", users: ["ann", "bob"] });
    expect(hoursOf(timeline(NEW_YORK, [fall], [], at("2026-10-30T12:00:00Z"), at("2026-11-02T13:00:00Z")))).toEqual([
      ["ann", 24],
      ["bob", 25],
      ["ann", 24],
    ]);
  });

  test("12-hour shifts (length dividing a day) stay at 07:00 and 19:00 local: the night shift over spring forward is 11 h", () => {
    const l = layer({ rotation: "custom", lengthHours: 12, handoffTime: "07:00", startDate: "2026-03-06", users: ["day", "night"] });
    expect(rows(timeline(NEW_YORK, [l], [], at("2026-03-07T12:00:00Z"), at("2026-03-08T23:00:00Z")))).toEqual([
      ["2026-03-07T12:00Z", "2026-03-08T00:00Z", "day"], // 07:00–19:00 EST
      ["2026-03-08T00:00Z", "2026-03-08T11:00Z", "night"], // 19:00 EST – 07:00 EDT
      ["2026-03-08T11:00Z", "2026-03-08T23:00Z", "day"], // 07:00–19:00 EDT
    ]);
  });

  test("a custom 10-hour rotation counts real hours from its start, whatever the wall clock says", () => {
    const l = layer({ rotation: "custom", lengthHours: 10, handoffTime: "20:00", startDate: "2026-03-07", users: ["a", "b"] });
    const segs = timeline(NEW_YORK, [l], [], at("2026-03-08T01:00:00Z"), at("2026-03-09T07:00:00Z"));
    expect(rows(segs)).toEqual([
      ["2026-03-08T01:00Z", "2026-03-08T11:00Z", "a"], // from 20:00 EST
      ["2026-03-08T11:00Z", "2026-03-08T21:00Z", "b"], // 07:00 EDT: ten real hours later
      ["2026-03-08T21:00Z", "2026-03-09T07:00Z", "a"],
    ]);
  });
});

describe("Australia/Lord_Howe (half-hour DST: back 2026-04-05 02:00→01:30, forward 2026-10-04 02:00→02:30)", () => {
  test("the transitions move the clocks by 30 minutes", () => {
    expect(dstTransitions("Australia/Lord_Howe", at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))).toEqual([
      { at: at("2026-04-04T15:00:00Z"), offsetBefore: 660, offsetAfter: 630 },
      { at: at("2026-10-03T15:30:00Z"), offsetBefore: 630, offsetAfter: 660 },
    ]);
  });

  test("daily 09:00: the shifts over the transitions are 24.5 h and 23.5 h", () => {
    const back = layer({ rotation: "daily", handoffTime: "09:00", startDate: "2026-04-03", users: ["ann", "bob", "cid"] });
    expect(rows(timeline(LORD_HOWE, [back], [], at("2026-04-02T22:00:00Z"), at("2026-04-05T22:30:00Z")))).toEqual([
      ["2026-04-02T22:00Z", "2026-04-03T22:00Z", "ann"], // 09:00 +11
      ["2026-04-03T22:00Z", "2026-04-04T22:30Z", "bob"], // to 09:00 +10:30: 24.5 h
      ["2026-04-04T22:30Z", "2026-04-05T22:30Z", "cid"],
    ]);
    const forward = layer({ rotation: "daily", handoffTime: "09:00", startDate: "2026-10-02", users: ["ann", "bob", "cid"] });
    expect(hoursOf(timeline(LORD_HOWE, [forward], [], at("2026-10-01T22:30:00Z"), at("2026-10-04T22:00:00Z")))).toEqual([
      ["ann", 24],
      ["bob", 23.5],
      ["cid", 24],
    ]);
  });

  test("02:15 does not exist on 2026-10-04 (refused); 01:45 on 2026-04-05 happens twice (the first counts)", () => {
    const e = refusal(() => checkLayer({ name: "LH", rotation: "daily", handoff_time: "02:15", start_date: "2026-10-04", users: ["00000000-0000-4000-8000-000000000001"] }, { timezone: "Australia/Lord_Howe", today: "2026-09-01", nextPosition: 0 }));
    expect(e.field).toBe("handoff_time");
    const l = layer({ rotation: "daily", handoffTime: "01:45", startDate: "2026-04-05", users: ["ann"] });
    // 01:45 +11:00 is 14:45Z; its repeat at +10:30 would be 15:15Z.
    expect(who(LORD_HOWE, [l], [], "2026-04-04T14:44:59Z")).toBeNull();
    expect(who(LORD_HOWE, [l], [], "2026-04-04T14:45:00Z")).toBe("ann");
  });

  test("override times entered as local: a skipped one is refused, a repeated one is the first", () => {
    expect(refusal(() => checkInstant("starts_at", "2026-10-04T02:15", "Australia/Lord_Howe")).field).toBe("starts_at");
    expect(checkInstant("starts_at", "2026-04-05T01:45", "Australia/Lord_Howe").toISOString()).toBe("2026-04-04T14:45:00.000Z");
    expect(checkInstant("ends_at", "2026-04-05T01:45+10:30", "Australia/Lord_Howe").toISOString()).toBe("2026-04-04T15:15:00.000Z");
  });
});

describe("Asia/Kolkata (no DST)", () => {
  test("no transitions; every daily shift is 24 h at 09:00 IST", () => {
    expect(dstTransitions("Asia/Kolkata", at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))).toEqual([]);
    const l = layer({ rotation: "daily", handoffTime: "09:00", startDate: "2026-03-26", users: ["ann", "bob"] });
    const segs = timeline(KOLKATA, [l], [], at("2026-03-26T03:30:00Z"), at("2026-04-02T03:30:00Z"));
    expect(segs.map((s) => s.start.toISOString().slice(11, 16))).toEqual(Array(7).fill("03:30"));
    expect(hoursOf(segs).map(([, h]) => h)).toEqual(Array(7).fill(24));
  });
});

describe("layers, overrides, gaps, history", () => {
  const base = layer({ rotation: "daily", handoffTime: "09:00", startDate: "2026-05-01", users: ["ann", "bob"], position: 1 });

  test("a higher layer wins where it covers; the lower one fills in around it", () => {
    const evenings = layer({ rotation: "daily", handoffTime: "09:00", startDate: "2026-05-01", users: ["eve"], position: 2, restrictions: [{ start: "18:00", end: "22:00" }] });
    expect(rows(timeline(BERLIN, [base, evenings], [], at("2026-05-04T07:00:00Z"), at("2026-05-05T07:00:00Z")))).toEqual([
      ["2026-05-04T07:00Z", "2026-05-04T16:00Z", "bob"],
      ["2026-05-04T16:00Z", "2026-05-04T20:00Z", "eve"],
      ["2026-05-04T20:00Z", "2026-05-05T07:00Z", "bob"],
    ]);
    const report = coverage(BERLIN, [base, evenings], [], at("2026-05-04T07:00:00Z"), at("2026-05-05T07:00:00Z"));
    expect(report.gaps).toEqual([]);
    expect(report.overlaps.map((o) => [o.start.toISOString(), o.end.toISOString(), o.layers.map((l) => l.userId)])).toEqual([["2026-05-04T16:00:00.000Z", "2026-05-04T20:00:00.000Z", ["eve", "bob"]]]);
  });

  test("overrides win over every layer, cover gaps too, and the newest wins where they overlap", () => {
    const overrides: Override[] = [
      { id: "o1", userId: "zoe", startsAt: at("2026-05-04T10:00:00Z"), endsAt: at("2026-05-04T12:00:00Z"), createdAt: at("2026-05-01T00:00:00Z") },
      { id: "o2", userId: "yan", startsAt: at("2026-05-04T11:00:00Z"), endsAt: at("2026-05-04T13:00:00Z"), createdAt: at("2026-05-02T00:00:00Z") },
    ];
    const segs = timeline(BERLIN, [base], overrides, at("2026-05-04T09:00:00Z"), at("2026-05-04T14:00:00Z"));
    expect(rows(segs)).toEqual([
      ["2026-05-04T09:00Z", "2026-05-04T10:00Z", "bob"],
      ["2026-05-04T10:00Z", "2026-05-04T11:00Z", "zoe"],
      ["2026-05-04T11:00Z", "2026-05-04T13:00Z", "yan"],
      ["2026-05-04T13:00Z", "2026-05-04T14:00Z", "bob"],
    ]);
    expect(segs[1]!.overrideId).toBe("o1");
    expect(segs[1]!.layer).toBeNull();
    // Before the layer starts there is nobody, except under an override.
    const early: Override = { id: "o3", userId: "zoe", startsAt: at("2026-04-30T00:00:00Z"), endsAt: at("2026-04-30T06:00:00Z") };
    expect(rows(timeline(BERLIN, [base], [early], at("2026-04-29T22:00:00Z"), at("2026-04-30T08:00:00Z")))).toEqual([
      ["2026-04-29T22:00Z", "2026-04-30T00:00Z", null],
      ["2026-04-30T00:00Z", "2026-04-30T06:00Z", "zoe"],
      ["2026-04-30T06:00Z", "2026-04-30T08:00Z", null],
    ]);
  });

  test("gaps: no layers is a gap; the report lists the gaps of a restricted layer", () => {
    expect(whoIsOnCall(BERLIN, [], [], at("2026-05-04T10:00:00Z"))).toEqual({ gap: true });
    const office = layer({ rotation: "daily", handoffTime: "09:00", startDate: "2026-05-01", users: ["ann"], restrictions: [{ start: "09:00", end: "17:00" }] });
    const report = coverage(BERLIN, [office], [], at("2026-05-04T00:00:00Z"), at("2026-05-05T00:00:00Z"));
    expect(report.gaps.map((g) => [g.start.toISOString(), g.end.toISOString()])).toEqual([
      ["2026-05-04T00:00:00.000Z", "2026-05-04T07:00:00.000Z"],
      ["2026-05-04T15:00:00.000Z", "2026-05-05T00:00:00.000Z"],
    ]);
    expect(report.overlaps).toEqual([]);
  });

  test("an edit applies from its moment on: before it, the timeline is what it was", () => {
    const v1: LayerVersion = { ...base, id: "v-old", layerId: "primary", effectiveUntil: at("2026-05-06T12:00:00Z") };
    const v2: LayerVersion = { ...base, id: "v-new", layerId: "primary", users: ["cid", "dan"], effectiveFrom: at("2026-05-06T12:00:00Z") };
    const from = at("2026-05-04T07:00:00Z");
    const to = at("2026-05-08T07:00:00Z");
    const before = timeline(BERLIN, [{ ...base, id: "v-old", layerId: "primary" }], [], from, at("2026-05-06T12:00:00Z"));
    const after = timeline(BERLIN, [v1, v2], [], from, to);
    expect(rows(after.filter((s) => s.end <= at("2026-05-06T12:00:00Z")))).toEqual(rows(before.filter((s) => s.end <= at("2026-05-06T12:00:00Z"))));
    expect(rows(after)).toEqual([
      ["2026-05-04T07:00Z", "2026-05-05T07:00Z", "bob"],
      ["2026-05-05T07:00Z", "2026-05-06T07:00Z", "ann"],
      ["2026-05-06T07:00Z", "2026-05-06T12:00Z", "bob"],
      ["2026-05-06T12:00Z", "2026-05-07T07:00Z", "dan"], // the new rotation from the same start: shift 5 is its users[1]
      ["2026-05-07T07:00Z", "2026-05-08T07:00Z", "cid"],
    ]);
    expect(who(BERLIN, [v1, v2], [], "2026-05-06T11:59:59Z")).toBe("bob");
    expect(who(BERLIN, [v1, v2], [], "2026-05-06T12:00:00Z")).toBe("dan");
  });

  test("adjacent shifts of the same person and layer merge into one segment", () => {
    const l = layer({ rotation: "daily", handoffTime: "09:00", startDate: "2026-05-01", users: ["ann", "ann", "bob"] });
    expect(rows(timeline(BERLIN, [l], [], at("2026-05-01T07:00:00Z"), at("2026-05-04T07:00:00Z")))).toEqual([
      ["2026-05-01T07:00Z", "2026-05-03T07:00Z", "ann"],
      ["2026-05-03T07:00Z", "2026-05-04T07:00Z", "bob"],
    ]);
    const solo = layer({ rotation: "weekly", handoffTime: "09:00", handoffWeekday: "MO", startDate: "2026-03-02", users: ["sol"] });
    expect(rows(timeline(BERLIN, [solo], [], at("2026-03-10T00:00:00Z"), at("2026-04-10T00:00:00Z")))).toEqual([["2026-03-10T00:00Z", "2026-04-10T00:00Z", "sol"]]);
  });
});
