// Checks for what people enter about schedules, pure: layers (rotation,
// handoff, start date, restrictions) and override times. Refusals name the
// field. The one DST rule enforced here: a handoff time that does not exist
// on the day it first applies (the clocks spring forward over it) is refused.

import { invalid } from "../lib/errors.ts";
import { instantOf, localParts } from "../lib/zoned.ts";
import { firstHandoffProblem, WEEKDAYS, type Restriction, type RotationKind, type Weekday } from "./resolve.ts";
import { isUuid, type LayerFields } from "./store.ts";

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;
const ROTATIONS: readonly RotationKind[] = ["daily", "weekly", "custom"];

export interface LayerInput {
  name?: unknown;
  position?: unknown;
  rotation?: unknown;
  length_hours?: unknown;
  handoff_time?: unknown;
  handoff_weekday?: unknown;
  start_date?: unknown;
  users?: unknown;
  restrictions?: unknown;
}

function checkDate(field: string, v: unknown): string {
  const m = typeof v === "string" ? YMD.exec(v) : null;
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || !d || d.getUTCDate() !== Number(m[3]) || d.getUTCMonth() !== Number(m[2]) - 1 || Number(m[1]) < 2000 || Number(m[1]) > 2200) throw invalid(field, `${field}: a date as YYYY-MM-DD`);
  return v as string;
}

function checkWeekday(field: string, v: unknown): Weekday {
  if (!WEEKDAYS.includes(v as Weekday)) throw invalid(field, `${field}: one of MO, TU, WE, TH, FR, SA, SU`);
  return v as Weekday;
}

export function checkRestrictions(v: unknown): Restriction[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > 14) throw invalid("restrictions", "restrictions: a list of at most 14 {days, start, end}");
  return v.map((r: unknown, i) => {
    const f = `restrictions.${i}`;
    if (!r || typeof r !== "object" || Array.isArray(r)) throw invalid(f, `${f}: {days, start, end}`);
    const o = r as Record<string, unknown>;
    if (typeof o.start !== "string" || !HHMM.test(o.start)) throw invalid(`${f}.start`, `${f}.start: HH:MM`);
    if (typeof o.end !== "string" || !HHMM.test(o.end)) throw invalid(`${f}.end`, `${f}.end: HH:MM`);
    if (o.start === o.end) throw invalid(`${f}.end`, `${f}.end: must differ from start (for all day, leave restrictions out)`);
    let days: Weekday[] | undefined;
    if (o.days !== undefined && o.days !== null) {
      if (!Array.isArray(o.days) || o.days.length === 0) throw invalid(`${f}.days`, `${f}.days: weekdays like MO, TU (leave out for every day)`);
      days = [...new Set(o.days.map((d) => checkWeekday(`${f}.days`, d)))];
    }
    return { ...(days ? { days } : {}), start: o.start, end: o.end };
  });
}

/**
 * A whole layer from input, over the current version's fields when editing
 * (fields not given keep their values). `today` is the schedule's local date,
 * the default start.
 */
export function checkLayer(input: LayerInput, opts: { timezone: string; current?: LayerFields; today: string; nextPosition: number }): LayerFields {
  const cur = opts.current;
  const pick = <K extends keyof LayerInput>(k: K, fallback: unknown) => (input[k] === undefined ? fallback : input[k]);
  const name = pick("name", cur?.name);
  if (typeof name !== "string" || name.trim() === "" || name.length > 200) throw invalid("name", "name: 1 to 200 characters");
  const position = pick("position", cur?.position ?? opts.nextPosition);
  if (typeof position !== "number" || !Number.isInteger(position) || position < 0 || position > 1000) throw invalid("position", "position: a whole number from 0 to 1000 (higher wins)");
  const rotation = pick("rotation", cur?.rotation);
  if (!ROTATIONS.includes(rotation as RotationKind)) throw invalid("rotation", "rotation: daily, weekly or custom");
  // A length or weekday left over from another rotation kind is dropped when the kind changes.
  const sameKind = cur?.rotation === rotation;
  let length: number | null = null;
  if (rotation === "custom") {
    const l = pick("length_hours", sameKind ? cur?.length_hours : undefined);
    if (typeof l !== "number" || !Number.isInteger(l) || l < 1 || l > 8760) throw invalid("length_hours", "length_hours: whole hours from 1 to 8760 for a custom rotation");
    length = l;
  } else if (input.length_hours !== undefined && input.length_hours !== null) throw invalid("length_hours", `length_hours: only for custom rotations (${rotation} is ${rotation === "daily" ? 24 : 168} h)`);
  const handoff = pick("handoff_time", cur?.handoff_time ?? "09:00");
  if (typeof handoff !== "string" || !HHMM.test(handoff)) throw invalid("handoff_time", "handoff_time: HH:MM, local to the schedule's time zone");
  const start = checkDate("start_date", pick("start_date", cur?.start_date ?? opts.today));
  let weekday: Weekday | null = null;
  if (rotation === "weekly") {
    const w = pick("handoff_weekday", sameKind ? cur?.handoff_weekday : undefined);
    weekday = w === undefined || w === null ? WEEKDAYS[new Date(`${start}T00:00:00Z`).getUTCDay()]! : checkWeekday("handoff_weekday", w);
  } else if (input.handoff_weekday !== undefined && input.handoff_weekday !== null) throw invalid("handoff_weekday", "handoff_weekday: only for weekly rotations");
  const users = pick("users", cur?.users);
  if (!Array.isArray(users) || users.length === 0 || users.length > 100 || users.some((u) => !isUuid(u))) throw invalid("users", "users: 1 to 100 user ids, in rotation order");
  const restrictions = input.restrictions === undefined ? (cur?.restrictions ?? []) : checkRestrictions(input.restrictions);
  const fields: LayerFields = { name: name.trim(), position, rotation: rotation as RotationKind, length_hours: length, handoff_time: handoff, handoff_weekday: weekday, start_date: start, users: users as string[], restrictions };
  const problem = firstHandoffProblem(opts.timezone, { rotation: fields.rotation, lengthHours: length, handoffTime: handoff, handoffWeekday: weekday, startDate: start });
  if (problem) {
    throw invalid("handoff_time", `handoff_time: ${problem.time} does not exist on ${problem.date} in ${opts.timezone} (the clocks spring forward over it); choose another time or start date`);
  }
  return fields;
}

/** Today's date in a zone, YYYY-MM-DD. */
export function localToday(now: Date, timezone: string): string {
  const l = localParts(now.getTime(), timezone);
  return `${l.year}-${String(l.month).padStart(2, "0")}-${String(l.day).padStart(2, "0")}`;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

/**
 * An instant given with an offset (ISO 8601), or as a local time without one,
 * read in the schedule's zone: a local time that does not exist is refused,
 * one that happens twice means the first.
 */
export function checkInstant(field: string, v: unknown, timezone: string): Date {
  if (typeof v !== "string" || v.length > 40) throw invalid(field, `${field}: a time like 2026-03-29T09:00 (local to the schedule) or with an offset`);
  const local = LOCAL.exec(v);
  if (local) {
    const [, y, mo, d, h, mi, s] = local.map(Number) as number[];
    const t = instantOf({ year: y!, month: mo!, day: d!, hour: h!, minute: mi!, second: Number.isNaN(s) ? 0 : s }, timezone);
    if (t === undefined) throw invalid(field, `${field}: ${v} does not exist in ${timezone} (the clocks spring forward over it)`);
    return new Date(t);
  }
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(v) || Number.isNaN(Date.parse(v))) throw invalid(field, `${field}: a time like 2026-03-29T09:00 (local to the schedule) or with an offset`);
  return new Date(v);
}
