// Maintenance windows, pure: is an instant inside a window? One-off windows
// are a time range; recurring ones repeat daily or on given weekdays at a
// wall-clock time in their own time zone (so 02:00 stays 02:00 across DST).

import { addDays, instantOrAfterGap, localParts } from "../lib/zoned.ts";
import { inScope, type DeviceFacts, type Scope } from "./evaluate.ts";

export const WEEKDAY_CODES = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"] as const;
export type WeekdayCode = (typeof WEEKDAY_CODES)[number];

export interface Recurrence {
  freq: "daily" | "weekly";
  /** For weekly: the days it starts on. */
  days?: WeekdayCode[];
  /** Local start time "HH:MM". */
  start: string;
  durationMinutes: number;
  timezone: string;
}

export interface WindowSpec {
  scope: Scope;
  /** One-off: the range. Recurring: the first day it may start and (optionally) the last. */
  startsAt: number;
  endsAt: number | null;
  recurrence: Recurrence | null;
}

/** The occurrence [start, end) that contains `at`, if any. */
export function occurrenceAt(w: WindowSpec, at: number): { start: number; end: number } | undefined {
  if (!w.recurrence) {
    return at >= w.startsAt && (w.endsAt === null || at < w.endsAt) ? { start: w.startsAt, end: w.endsAt ?? Infinity } : undefined;
  }
  const r = w.recurrence;
  const [hh, mm] = r.start.split(":").map(Number) as [number, number];
  const today = localParts(at, r.timezone);
  // An occurrence that began on an earlier local day may still be running.
  const lookback = Math.ceil(r.durationMinutes / 1440);
  for (let back = 0; back <= lookback; back++) {
    const day = addDays(today, -back);
    const weekday = new Date(Date.UTC(day.year, day.month - 1, day.day)).getUTCDay();
    if (r.freq === "weekly" && !(r.days ?? []).includes(WEEKDAY_CODES[weekday]!)) continue;
    // Occurrences start on or after the first day, and before the end (if any).
    if (day.year * 10_000 + day.month * 100 + day.day < localDate(w.startsAt, r.timezone)) continue;
    const start = instantOrAfterGap({ ...day, hour: hh, minute: mm }, r.timezone);
    if (w.endsAt !== null && start >= w.endsAt) continue;
    const end = start + r.durationMinutes * 60_000;
    if (at >= start && at < end) return { start, end };
  }
  return undefined;
}

function localDate(ms: number, tz: string): number {
  const l = localParts(ms, tz);
  return l.year * 10_000 + l.month * 100 + l.day;
}

/** Whether the device is covered by an active window at `at`. */
export function inMaintenance(windows: readonly WindowSpec[], device: DeviceFacts, at: number): boolean {
  return windows.some((w) => inScope(w.scope, device) && occurrenceAt(w, at) !== undefined);
}
