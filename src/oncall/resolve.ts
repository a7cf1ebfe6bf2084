// Who is on call, pure: a schedule (its time zone), its layer versions,
// overrides and an instant → one person or a gap; over a range → a merged
// timeline, a coverage report (gaps, overlaps) and the zone's DST
// transitions. No database, no clock: the same answer for the same input.
//
// The rules, which are the whole point (DST bugs are the most reported
// defect of on-call tools):
// - Handoffs happen at wall-clock time in the schedule's zone. Rotations
//   whose length divides 24 h (or is a whole number of days, like weekly)
//   stay on the wall clock across DST: a daily 09:00 handoff is 09:00 local
//   every day, so the shift spanning a transition is 23 or 25 real hours and
//   belongs to whoever holds that day.
// - Other custom lengths count real hours from the first handoff.
// - A local time that happens twice (fall back) means its first occurrence.
//   One that never happens (spring forward) is refused when a layer is
//   entered (see firstHandoffProblem); on a later day it moves forward by
//   the length of the gap (02:30 → 03:30 in Berlin), as Temporal and
//   java.time read it.
// - Restrictions clip a layer (outside them it is absent); higher positions
//   win where they cover; overrides win over every layer (the newest one
//   where overrides overlap); a layer version counts only inside
//   [effective_from, effective_until), so edits never rewrite the past.

import { addDays, instantOf, localParts } from "../lib/zoned.ts";
import { DAY_MS, dayNumber, dstTransitions, HOUR, parseHhmm, parseYmd, weekdayOf, Zone, type DstTransition, type Ymd } from "./wallclock.ts";

export { dstTransitions, type DstTransition };

export type Weekday = "MO" | "TU" | "WE" | "TH" | "FR" | "SA" | "SU";
/** Indexed like Date#getDay (0 = Sunday). */
export const WEEKDAYS: readonly Weekday[] = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];
export type RotationKind = "daily" | "weekly" | "custom";

export interface Restriction {
  /** Days the span starts on (a span past midnight belongs to the day it started); empty or absent: every day. */
  days?: Weekday[];
  /** "HH:MM" local. */
  start: string;
  /** "HH:MM" local; at or before start means the next day. */
  end: string;
}

/** One version of a layer, valid from effectiveFrom until effectiveUntil. */
export interface LayerVersion {
  /** This version's id. */
  id: string;
  /** The layer's id, the same across its versions. */
  layerId: string;
  name: string;
  /** Higher wins. */
  position: number;
  rotation: RotationKind;
  /** Shift length in hours for custom rotations (ignored otherwise). */
  lengthHours: number | null;
  /** "HH:MM" local. */
  handoffTime: string;
  /** The handoff day of weekly rotations. */
  handoffWeekday: Weekday | null;
  /** "YYYY-MM-DD", local: the first handoff is on this date (weekly: the first handoff weekday on or after it). */
  startDate: string;
  /** In rotation order. */
  users: string[];
  restrictions: Restriction[];
  effectiveFrom: Date;
  effectiveUntil: Date | null;
}

export interface Override {
  id: string;
  userId: string;
  startsAt: Date;
  endsAt: Date;
  /** Where overrides overlap, the newest wins. */
  createdAt?: Date;
}

export interface ScheduleInfo {
  timezone: string;
}

export interface LayerRef {
  id: string;
  name: string;
  position: number;
}

export type OnCall = { userId: string; layer: LayerRef | null; overrideId: string | null } | { gap: true };

export interface Segment {
  start: Date;
  end: Date;
  /** null: nobody is on call (a gap). */
  userId: string | null;
  /** The layer that decides; null for overrides and gaps. */
  layer: LayerRef | null;
  overrideId: string | null;
}

export interface CoverageReport {
  gaps: Array<{ start: Date; end: Date }>;
  /** Where more than one layer covers: only the highest one pages, the rest are shadowed. */
  overlaps: Array<{ start: Date; end: Date; layers: Array<LayerRef & { userId: string }> }>;
}

/** How a rotation's handoffs fall. */
type Plan =
  /** Every `days` local days at hh:mm, from anchor. */
  | { kind: "days"; days: number; anchor: Ymd; hour: number; minute: number }
  /** `slot` hours (dividing 24) from hh:mm each local day, from anchor. */
  | { kind: "slots"; slot: number; anchor: Ymd; hour: number; minute: number }
  /** Every `hours` real hours from an instant. */
  | { kind: "hours"; hours: number; anchorDate: Ymd; hour: number; minute: number };

/** Wall-clock aligned unless a custom length neither divides nor is a multiple of a day. */
export function isWallClockAligned(rotation: RotationKind, lengthHours: number | null): boolean {
  if (rotation !== "custom") return true;
  const l = lengthHours ?? 24;
  return 24 % l === 0 || l % 24 === 0;
}

function planOf(v: Pick<LayerVersion, "rotation" | "lengthHours" | "handoffTime" | "handoffWeekday" | "startDate">): Plan {
  const { hour, minute } = parseHhmm(v.handoffTime);
  const start = parseYmd(v.startDate);
  if (v.rotation === "daily") return { kind: "days", days: 1, anchor: start, hour, minute };
  if (v.rotation === "weekly") {
    const want = WEEKDAYS.indexOf(v.handoffWeekday ?? WEEKDAYS[weekdayOf(start)]!);
    return { kind: "days", days: 7, anchor: addDays(start, (want - weekdayOf(start) + 7) % 7), hour, minute };
  }
  const l = v.lengthHours ?? 24;
  if (l % 24 === 0) return { kind: "days", days: l / 24, anchor: start, hour, minute };
  if (24 % l === 0) return { kind: "slots", slot: l, anchor: start, hour, minute };
  return { kind: "hours", hours: l, anchorDate: start, hour, minute };
}

/** The instant of the first handoff. */
function firstHandoff(plan: Plan, z: Zone): number {
  return plan.kind === "hours" ? z.at(plan.anchorDate, plan.hour, plan.minute) : z.at(plan.anchor, plan.hour, plan.minute);
}

/** The index of the shift holding t (0 = the first), or undefined before the first handoff. */
function shiftIndex(plan: Plan, z: Zone, t: number): number | undefined {
  if (plan.kind === "hours") {
    const a = firstHandoff(plan, z);
    return t < a ? undefined : Math.floor((t - a) / (plan.hours * HOUR));
  }
  // The rotation day holding t: days start at the handoff time of day.
  const d = z.ymd(t);
  let n = dayNumber(d) - dayNumber(plan.anchor);
  let day = d;
  if (t < z.at(d, plan.hour, plan.minute)) {
    n -= 1;
    day = addDays(d, -1);
  }
  if (n < 0) return undefined;
  if (plan.kind === "days") return Math.floor(n / plan.days);
  const perDay = 24 / plan.slot;
  let j = 0;
  for (let k = 1; k < perDay; k++) if (z.at(day, plan.hour + k * plan.slot, plan.minute) <= t) j = k;
  return n * perDay + j;
}

/** Every instant a shift may change in [from, to] (a superset is fine: equal neighbours merge). */
function handoffsBetween(plan: Plan, z: Zone, from: number, to: number): number[] {
  const out: number[] = [];
  if (plan.kind === "hours") {
    const a = firstHandoff(plan, z);
    const step = plan.hours * HOUR;
    for (let k = Math.max(0, Math.floor((from - a) / step)); a + k * step <= to; k++) out.push(a + k * step);
    return out;
  }
  const first = dayNumber(z.ymd(from)) - 1;
  const last = dayNumber(z.ymd(to)) + 1;
  const perDay = plan.kind === "slots" ? 24 / plan.slot : 1;
  const slot = plan.kind === "slots" ? plan.slot : 0;
  for (let n = first; n <= last; n++) {
    const d = addDays(plan.anchor, n - dayNumber(plan.anchor));
    for (let k = 0; k < perDay; k++) out.push(z.at(d, plan.hour + k * slot, plan.minute));
  }
  return out;
}

/** The restriction spans starting on local day d. */
function restrictionSpans(r: Restriction, z: Zone, d: Ymd): [number, number] | undefined {
  if (r.days?.length && !r.days.includes(WEEKDAYS[weekdayOf(d)]!)) return undefined;
  const s = parseHhmm(r.start);
  const e = parseHhmm(r.end);
  const overnight = e.hour * 60 + e.minute <= s.hour * 60 + s.minute;
  return [z.at(d, s.hour, s.minute), z.at(overnight ? addDays(d, 1) : d, e.hour, e.minute)];
}

function withinRestrictions(v: LayerVersion, z: Zone, t: number): boolean {
  if (!v.restrictions.length) return true;
  const d = z.ymd(t);
  for (const day of [addDays(d, -1), d]) {
    for (const r of v.restrictions) {
      const span = restrictionSpans(r, z, day);
      if (span && span[0] <= t && t < span[1]) return true;
    }
  }
  return false;
}

const activeAt = (v: LayerVersion, t: number) => v.effectiveFrom.getTime() <= t && (v.effectiveUntil === null || t < v.effectiveUntil.getTime());

/** The user a version puts on call at t, if it covers t. */
function coverOf(v: LayerVersion, z: Zone, plans: Map<LayerVersion, Plan>, t: number): string | undefined {
  if (!v.users.length || !activeAt(v, t)) return undefined;
  let plan = plans.get(v);
  if (!plan) plans.set(v, (plan = planOf(v)));
  const k = shiftIndex(plan, z, t);
  if (k === undefined || !withinRestrictions(v, z, t)) return undefined;
  return v.users[k % v.users.length];
}

const refOf = (v: LayerVersion): LayerRef => ({ id: v.layerId, name: v.name, position: v.position });

/** Higher positions first; between equals, the later version. */
const byPrecedence = (a: LayerVersion, b: LayerVersion) => b.position - a.position || b.effectiveFrom.getTime() - a.effectiveFrom.getTime() || (a.layerId < b.layerId ? -1 : 1);

interface Ctx {
  z: Zone;
  plans: Map<LayerVersion, Plan>;
  versions: LayerVersion[];
  overrides: Override[];
}

function pointAt(c: Ctx, t: number): OnCall {
  let best: Override | undefined;
  const newer = (a: Override, b: Override) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0) || a.startsAt.getTime() - b.startsAt.getTime();
  for (const o of c.overrides) if (o.startsAt.getTime() <= t && t < o.endsAt.getTime() && (!best || newer(o, best) > 0)) best = o;
  if (best) return { userId: best.userId, layer: null, overrideId: best.id };
  for (const v of c.versions) {
    const user = coverOf(v, c.z, c.plans, t);
    if (user !== undefined) return { userId: user, layer: refOf(v), overrideId: null };
  }
  return { gap: true };
}

function context(schedule: ScheduleInfo, layers: readonly LayerVersion[], overrides: readonly Override[]): Ctx {
  return { z: new Zone(schedule.timezone), plans: new Map(), versions: [...layers].sort(byPrecedence), overrides: [...overrides] };
}

/** Who is on call at t. */
export function whoIsOnCall(schedule: ScheduleInfo, layers: readonly LayerVersion[], overrides: readonly Override[], t: Date): OnCall {
  return pointAt(context(schedule, layers, overrides), t.getTime());
}

/** Every instant in [from, to] where the answer may change, sorted, with from and to. */
function boundaries(c: Ctx, from: number, to: number): number[] {
  const set = new Set<number>([from, to]);
  const add = (t: number) => {
    if (t > from && t < to) set.add(t);
  };
  for (const v of c.versions) {
    const vFrom = v.effectiveFrom.getTime();
    const vTo = v.effectiveUntil?.getTime() ?? Infinity;
    if (vTo <= from || vFrom >= to) continue;
    add(vFrom);
    add(vTo);
    const lo = Math.max(from, vFrom);
    const hi = Math.min(to, vTo);
    let plan = c.plans.get(v);
    if (!plan) c.plans.set(v, (plan = planOf(v)));
    for (const t of handoffsBetween(plan, c.z, lo, hi)) add(t);
    if (v.restrictions.length) {
      const first = c.z.ymd(lo);
      const days = dayNumber(c.z.ymd(hi)) - dayNumber(first);
      for (let i = -1; i <= days; i++) {
        const d = addDays(first, i);
        for (const r of v.restrictions) {
          const span = restrictionSpans(r, c.z, d);
          if (span) span.forEach(add);
        }
      }
    }
  }
  for (const o of c.overrides) {
    add(o.startsAt.getTime());
    add(o.endsAt.getTime());
  }
  return [...set].sort((a, b) => a - b);
}

/** Who is on call from `from` to `to`: segments in order, adjacent ones of the same person and layer merged, gaps as userId null. */
export function timeline(schedule: ScheduleInfo, layers: readonly LayerVersion[], overrides: readonly Override[], from: Date, to: Date): Segment[] {
  const c = context(schedule, layers, overrides);
  const points = boundaries(c, from.getTime(), to.getTime());
  const out: Segment[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i]!;
    const b = points[i + 1]!;
    const p = pointAt(c, a);
    const seg: Segment = "gap" in p ? { start: new Date(a), end: new Date(b), userId: null, layer: null, overrideId: null } : { start: new Date(a), end: new Date(b), userId: p.userId, layer: p.layer, overrideId: p.overrideId };
    const prev = out.at(-1);
    if (prev && prev.end.getTime() === a && prev.userId === seg.userId && prev.layer?.id === seg.layer?.id && prev.overrideId === seg.overrideId) prev.end = seg.end;
    else out.push(seg);
  }
  return out;
}

/** Gaps (nobody on call) and overlaps (several layers cover; the lower ones are shadowed) in [from, to). */
export function coverage(schedule: ScheduleInfo, layers: readonly LayerVersion[], overrides: readonly Override[], from: Date, to: Date): CoverageReport {
  const c = context(schedule, layers, overrides);
  const points = boundaries(c, from.getTime(), to.getTime());
  const gaps: CoverageReport["gaps"] = [];
  const overlaps: CoverageReport["overlaps"] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i]!;
    const b = points[i + 1]!;
    const covering = c.versions.flatMap((v) => {
      const userId = coverOf(v, c.z, c.plans, a);
      return userId === undefined ? [] : [{ ...refOf(v), userId }];
    });
    const overridden = c.overrides.some((o) => o.startsAt.getTime() <= a && a < o.endsAt.getTime());
    if (!covering.length && !overridden) {
      const prev = gaps.at(-1);
      if (prev && prev.end.getTime() === a) prev.end = new Date(b);
      else gaps.push({ start: new Date(a), end: new Date(b) });
    }
    if (covering.length > 1) {
      const prev = overlaps.at(-1);
      const same = prev && prev.end.getTime() === a && JSON.stringify(prev.layers) === JSON.stringify(covering);
      if (same) prev.end = new Date(b);
      else overlaps.push({ start: new Date(a), end: new Date(b), layers: covering });
    }
  }
  return { gaps, overlaps };
}

export type HandoffProblem = { kind: "nonexistent"; date: string; time: string } | undefined;

/**
 * The first handoff of a layer as entered, checked: a local time that does
 * not exist on that date (the clocks spring forward over it) is refused.
 */
export function firstHandoffProblem(timezone: string, v: Pick<LayerVersion, "rotation" | "lengthHours" | "handoffTime" | "handoffWeekday" | "startDate">): HandoffProblem {
  const plan = planOf(v);
  const d = plan.kind === "hours" ? plan.anchorDate : plan.anchor;
  if (instantOf({ ...d, hour: plan.hour, minute: plan.minute }, timezone) !== undefined) return undefined;
  return { kind: "nonexistent", date: `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`, time: v.handoffTime };
}

/**
 * Future handoff dates (within `days`) where the wall-clock handoff time
 * does not exist or happens twice, for warnings when a layer is saved.
 */
export function handoffDstNotes(timezone: string, v: Pick<LayerVersion, "rotation" | "lengthHours" | "handoffTime" | "handoffWeekday" | "startDate">, from: Date, days: number): string[] {
  const plan = planOf(v);
  if (plan.kind === "hours") return [];
  const z = new Zone(timezone);
  const notes: string[] = [];
  for (const t of dstTransitions(timezone, from, new Date(from.getTime() + days * DAY_MS))) {
    const d = z.ymd(t.at.getTime());
    if (plan.kind === "days" && (((dayNumber(d) - dayNumber(plan.anchor)) % plan.days) + plan.days) % plan.days !== 0) continue;
    const date = `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;
    const times = plan.kind === "slots" ? Array.from({ length: 24 / plan.slot }, (_, k) => ((plan.hour + k * plan.slot) % 24) * 60 + plan.minute) : [plan.hour * 60 + plan.minute];
    for (const m of times) {
      const hour = Math.floor(m / 60);
      const minute = m % 60;
      const time = hhmm({ hour, minute });
      const exact = instantOf({ ...d, hour, minute }, timezone);
      if (exact === undefined) notes.push(`${time} does not exist on ${date} in ${timezone}: that handoff happens at ${hhmm(localParts(z.at(d, hour, minute), timezone))}`);
      else if (t.offsetAfter < t.offsetBefore) {
        // Fall back: the same reading comes round again once the clocks go back.
        const again = localParts(exact + (t.offsetBefore - t.offsetAfter) * 60_000, timezone);
        if (again.day === d.day && again.hour === hour && again.minute === minute) notes.push(`${time} happens twice on ${date} in ${timezone}: the handoff is at the first`);
      }
    }
  }
  return notes;
}

const hhmm = (l: { hour: number; minute: number }) => `${String(l.hour).padStart(2, "0")}:${String(l.minute).padStart(2, "0")}`;
