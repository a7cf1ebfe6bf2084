// Wall-clock time in IANA zones without a date library: the zone's offset at
// an instant (from Intl), local parts of an instant, and the instant of a
// local time. A local time that does not exist (spring forward) is reported
// as such; an ambiguous one (fall back) resolves to its first occurrence.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric", weekday: "short" });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface LocalParts {
  year: number;
  month: number; // 1–12
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall-clock reading in `timeZone` at instant `ms`. */
export function localParts(ms: number, timeZone: string): LocalParts {
  const p: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) p[part.type] = part.value;
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour),
    minute: Number(p.minute),
    second: Number(p.second),
    weekday: WEEKDAYS[p.weekday!]!,
  };
}

/** The zone's offset from UTC at an instant, in ms (Europe/Berlin in summer: +7 200 000). */
export function offsetAt(ms: number, timeZone: string): number {
  const l = localParts(ms, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant a local wall-clock time happens in `timeZone`: the earliest if
 * it happens twice (fall back); `undefined` if it never happens (spring forward).
 */
export function instantOf(l: { year: number; month: number; day: number; hour: number; minute: number; second?: number }, timeZone: string): number | undefined {
  const naive = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second ?? 0);
  // Offsets a day either side bracket any transition; try both, earliest valid wins.
  const candidates = [...new Set([offsetAt(naive - 86_400_000, timeZone), offsetAt(naive, timeZone), offsetAt(naive + 86_400_000, timeZone)])]
    .map((off) => naive - off)
    .filter((ms) => {
      const r = localParts(ms, timeZone);
      return r.year === l.year && r.month === l.month && r.day === l.day && r.hour === l.hour && r.minute === l.minute;
    })
    .sort((a, b) => a - b);
  return candidates[0];
}

/** The instant, moving forward past a gap when the local time does not exist (for schedules that must happen). */
export function instantOrAfterGap(l: { year: number; month: number; day: number; hour: number; minute: number }, timeZone: string): number {
  for (let shift = 0; shift <= 180; shift += 15) {
    // Carry minutes past 59 into the hour (and day): instantOf compares wall-clock fields as given.
    const w = new Date(Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute + shift));
    const t = instantOf({ year: w.getUTCFullYear(), month: w.getUTCMonth() + 1, day: w.getUTCDate(), hour: w.getUTCHours(), minute: w.getUTCMinutes() }, timeZone);
    if (t !== undefined) return t;
  }
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute);
}

/** Add days to a calendar date (no zone involved). */
export function addDays(d: { year: number; month: number; day: number }, n: number): { year: number; month: number; day: number } {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + n));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}
