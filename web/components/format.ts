// Times, durations and numbers as people read them: "3 min ago" with the
// absolute time (in the tenant's zone) on hover; "2 h 14 min"; "12,480".

import { html, type VNode } from "../render.ts";

/** "45 s", "12 min", "2 h 14 min", "3 d 4 h": two units at most, never "0 h". */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** "27 Nov 2025, 09:16:00 UTC" in the given IANA zone. */
export function absoluteTime(t: Date, timeZone = "UTC"): string {
  // dateStyle/timeStyle cannot be combined with timeZoneName, hence the fields.
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(t);
}

/** "just now", "3 min ago", "in 2 h". */
export function relativeTime(t: Date, now: Date): string {
  const diff = (now.getTime() - t.getTime()) / 1000;
  if (Math.abs(diff) < 5) return "just now";
  return diff > 0 ? `${humanDuration(diff)} ago` : `in ${humanDuration(-diff)}`;
}

/** <time> showing "3 min ago", the exact time in `timeZone` on hover. */
export function RelativeTime(p: { t: Date; now: Date; timeZone?: string }): VNode {
  return html`<time datetime=${p.t.toISOString()} title=${absoluteTime(p.t, p.timeZone)}>${relativeTime(p.t, p.now)}</time>`;
}

/** <time> for a duration: "2 h 14 min", machine-readable as an ISO 8601 duration. */
export function Duration(p: { seconds: number }): VNode {
  const s = Math.max(0, Math.round(p.seconds));
  return html`<time datetime=${`PT${s}S`}>${humanDuration(s)}</time>`;
}

const INTEGER = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 0 });

/** Thousands separated, for counts in KPIs and tables: "12,480". */
export function formatCount(n: number): string {
  return INTEGER.format(n);
}

/** A measured value with its unit and sensible precision: "21.5 °C", "0.042 V". */
export function formatValue(n: number, unit?: string): string {
  const abs = Math.abs(n);
  const digits = abs === 0 || abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const text = new Intl.NumberFormat("en-GB", { maximumFractionDigits: digits }).format(n);
  return unit ? `${text}${unit === "%" ? "" : " "}${unit}` : text;
}

/** Bytes in binary units: "512 B", "3.4 MiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = Math.max(0, n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(v >= 10 ? 0 : 1)} ${units[i]}`;
}

/**
 * The instant a wall-clock time ("2025-11-27T09:16" or "2025-11-27", as a
 * datetime-local or date input sends it) names in an IANA zone; undefined when
 * the text is not such a time. Around a DST change the later offset wins.
 */
export function zonedTimeToDate(local: string, timeZone: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(local.trim());
  if (!m) return undefined;
  const [mon, day, hour, min, sec] = [+m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)];
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59) return undefined;
  const asUtc = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  if (Number.isNaN(asUtc)) return undefined;
  const fmt = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  // The zone's offset at an instant: its wall-clock reading minus UTC.
  const offset = (t: number) => {
    const parts = Object.fromEntries(fmt.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
    return Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!) - t;
  };
  const first = asUtc - offset(asUtc);
  return new Date(asUtc - offset(first));
}
