// Wall-clock arithmetic for schedules, pure: local dates and times of day
// resolved to instants the way Temporal's "compatible" disambiguation does
// (memoized per computation), and the zone's DST transitions in a range.

import { instantOf, localParts, offsetAt } from "../lib/zoned.ts";

export interface DstTransition {
  at: Date;
  /** UTC offsets in minutes before and after. */
  offsetBefore: number;
  offsetAfter: number;
}

export type Ymd = { year: number; month: number; day: number };

export const HOUR = 3_600_000;
export const DAY_MS = 86_400_000;

export function parseHhmm(s: string): { hour: number; minute: number } {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  if (!m) throw new Error(`oncall: not a time of day: ${s}`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

export function parseYmd(s: string): Ymd {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) throw new Error(`oncall: not a date: ${s}`);
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
}

export const ymdOf = (ms: number, tz: string): Ymd => {
  const l = localParts(ms, tz);
  return { year: l.year, month: l.month, day: l.day };
};
export const dayNumber = (d: Ymd) => Math.round(Date.UTC(d.year, d.month - 1, d.day) / DAY_MS);
export const weekdayOf = (d: Ymd) => new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay();

/**
 * The instant of a local time as Temporal's "compatible" disambiguation
 * reads it: the first occurrence when it happens twice; moved forward by the
 * length of the gap when it never happens (02:30 → 03:30 in Berlin).
 */
export function instantCompatible(l: { year: number; month: number; day: number; hour: number; minute: number }, timeZone: string): number {
  const exact = instantOf(l, timeZone);
  if (exact !== undefined) return exact;
  const naive = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute);
  // Read with the offset from before the gap, the wall clock shows the time pushed on by the gap.
  return naive - offsetAt(naive - DAY_MS, timeZone);
}

/**
 * Resolves local wall-clock times to instants, memoized for one computation
 * (timelines ask for the same handoff many times).
 */
export class Zone {
  private cache = new Map<string, number>();
  constructor(readonly tz: string) {}
  /** The instant of a local date and time (hour may run past 23: it carries into the next days). */
  at(d: Ymd, hour: number, minute: number): number {
    const w = new Date(Date.UTC(d.year, d.month - 1, d.day, hour, minute));
    const key = `${w.getUTCFullYear()}-${w.getUTCMonth()}-${w.getUTCDate()}-${w.getUTCHours()}-${w.getUTCMinutes()}`;
    let v = this.cache.get(key);
    if (v === undefined) {
      v = instantCompatible({ year: w.getUTCFullYear(), month: w.getUTCMonth() + 1, day: w.getUTCDate(), hour: w.getUTCHours(), minute: w.getUTCMinutes() }, this.tz);
      this.cache.set(key, v);
    }
    return v;
  }
  ymd(ms: number): Ymd {
    return ymdOf(ms, this.tz);
  }
}

/** The zone's UTC offset changes in [from, to), to the second. */
export function dstTransitions(timezone: string, from: Date, to: Date): DstTransition[] {
  const out: DstTransition[] = [];
  const step = 6 * HOUR;
  let a = from.getTime();
  let offA = offsetAt(a, timezone);
  while (a < to.getTime()) {
    const b = Math.min(a + step, to.getTime());
    const offB = offsetAt(b, timezone);
    if (offB !== offA) {
      // Narrow down to the second where the offset changes.
      let lo = a;
      let hi = b;
      while (hi - lo > 1000) {
        const mid = Math.floor((lo + hi) / 2000) * 1000;
        if (mid <= lo || mid >= hi) break;
        if (offsetAt(mid, timezone) === offA) lo = mid;
        else hi = mid;
      }
      out.push({ at: new Date(hi), offsetBefore: offA / 60_000, offsetAfter: offB / 60_000 });
    }
    a = b;
    offA = offB;
  }
  return out;
}

