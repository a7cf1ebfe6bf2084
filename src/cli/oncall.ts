// pulse oncall now|timeline: who is on call, in the schedule's own time zone.
import { localParts, offsetAt } from "../lib/zoned.ts";
import { runSub, table, type Sub } from "./admin.ts";
import { guard, UsageError, type Command, type Io } from "./command.ts";

interface Person {
  id: string;
  username: string;
  name: string;
}
interface LayerRef {
  id: string;
  name: string;
  position: number;
}
interface ScheduleOut {
  id: string;
  name: string;
  timezone: string;
}
interface NowOut {
  schedule: ScheduleOut;
  at: string;
  user: Person | null;
  layer: LayerRef | null;
  override_id: string | null;
  until: string | null;
}
interface TimelineOut {
  schedule: ScheduleOut;
  from: string;
  to: string;
  segments: Array<{ start: string; end: string; user: Person | null; layer: LayerRef | null; override_id: string | null }>;
  dst_transitions: Array<{ at: string; offset_before_minutes: number; offset_after_minutes: number }>;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** "2026-03-29 03:00 +02:00": the wall clock in the zone, with its offset then. */
export function localTime(iso: string, timezone: string): string {
  const ms = Date.parse(iso);
  const l = localParts(ms, timezone);
  const off = offsetAt(ms, timezone) / 60_000;
  const sign = off < 0 ? "-" : "+";
  return `${l.year}-${pad(l.month)}-${pad(l.day)} ${pad(l.hour)}:${pad(l.minute)} ${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

const who = (user: Person | null) => (user ? user.username : "nobody (gap)");
const source = (layer: LayerRef | null, override: string | null) => (override ? "override" : layer ? layer.name : "–");

function hours(start: string, end: string): string {
  const h = (Date.parse(end) - Date.parse(start)) / 3_600_000;
  return `${Number.isInteger(h) ? h : h.toFixed(1)} h`;
}

const USAGE = `Usage: pulse oncall <subcommand> SCHEDULE --tenant TENANT [options]

  now SCHEDULE                 who is on call now, and until when
  timeline SCHEDULE [--days N] who is on call over the next N days (1-90, default 14),
                               with the daylight-saving changes in between

SCHEDULE is the schedule's name or id. Times are shown in the schedule's time zone.
Common options: --json, -c/--config PATH. Works with or without a running server.`;

const SUBS: Record<string, Sub> = {
  now: {
    command: "oncall.now",
    positionals: ["schedule"],
    options: { tenant: { type: "string" } },
    print(result, io: Io, json) {
      const r = result as NowOut;
      if (json) return io.out(JSON.stringify(r, null, 2));
      const tz = r.schedule.timezone;
      const until = r.until ? ` until ${localTime(r.until, tz)}` : "";
      io.out(`${r.schedule.name} (${tz}): ${who(r.user)}${until}${r.user ? ` [${source(r.layer, r.override_id)}]` : ""}`);
    },
  },
  timeline: {
    command: "oncall.timeline",
    positionals: ["schedule"],
    options: { tenant: { type: "string" }, days: { type: "string" } },
    print(result, io: Io, json) {
      const r = result as TimelineOut;
      if (json) return io.out(JSON.stringify(r, null, 2));
      const tz = r.schedule.timezone;
      io.out(`${r.schedule.name} (${tz}), ${localTime(r.from, tz)} to ${localTime(r.to, tz)}`);
      const rows = [["START", "END", "HOURS", "ON CALL", "LAYER"], ...r.segments.map((s) => [localTime(s.start, tz), localTime(s.end, tz), hours(s.start, s.end), who(s.user), source(s.layer, s.override_id)])];
      io.out(table(rows));
      for (const d of r.dst_transitions) {
        const shift = d.offset_after_minutes - d.offset_before_minutes;
        io.out(`clocks go ${shift > 0 ? "forward" : "back"} ${Math.abs(shift)} min at ${localTime(d.at, tz)}`);
      }
    },
  },
};

async function run(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  // --tenant is checked here, so a forgotten one never opens a database.
  if (name && SUBS[name] && !rest.includes("--help") && !rest.includes("-h") && !rest.some((a) => a === "--tenant" || a.startsWith("--tenant="))) throw new UsageError("--tenant is required");
  return runSub(argv, io, SUBS, USAGE);
}

export const oncall: Command = {
  name: "oncall",
  summary: "Who is on call now, and over the coming days",
  usage: USAGE,
  run: (argv, io) => guard(io, oncall, () => run(argv, io)),
};
