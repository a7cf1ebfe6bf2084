// Who is on call, read from the database through the pure resolver: now,
// over the coming days (a timeline with the DST transitions in it, for the
// UI to mark), gaps and overlaps, and "when am I on call next". The
// escalation worker asks resolveOnCallIn inside its own transaction.

import type { Sql } from "../db/db.ts";
import { withTenant } from "../db/scope.ts";
import { requirePermission, type Ctx } from "../lib/ctx.ts";
import { invalid } from "../lib/errors.ts";
import { coverage, dstTransitions, timeline, whoIsOnCall, type CoverageReport, type DstTransition, type LayerRef, type LayerVersion, type Override, type Segment } from "./resolve.ts";
import { loadSchedulesIn, scheduleIn, type OnCallDeps, type ScheduleRow } from "./service.ts";
import { findSchedule, listActiveMembers, listSchedules, userNames } from "./store.ts";

const DAY = 86_400_000;

export interface Person {
  id: string;
  username: string;
  name: string;
}

export interface NamedSegment extends Omit<Segment, "userId"> {
  user: Person | null;
}

async function named(tx: Sql, segments: Segment[]): Promise<NamedSegment[]> {
  const names = await userNames(tx, segments.flatMap((s) => (s.userId ? [s.userId] : [])));
  return segments.map(({ userId, ...s }) => ({ ...s, user: userId ? { id: userId, ...(names.get(userId) ?? { username: "(deleted user)", name: "" }) } : null }));
}

function days(v: number | undefined, max = 90): number {
  const d = v ?? 14;
  if (!Number.isInteger(d) || d < 1 || d > max) throw invalid("days", `days: 1 to ${max}`);
  return d;
}

export interface CurrentOnCall {
  schedule: ScheduleRow;
  at: Date;
  /** null: nobody (a gap). */
  user: Person | null;
  layer: LayerRef | null;
  overrideId: string | null;
  /** When this changes next (within two weeks), if it does. */
  until: Date | null;
}

/** Who is on call now, and until when. */
export async function currentOnCall(deps: OnCallDeps, ctx: Ctx, scheduleId: string): Promise<CurrentOnCall> {
  requirePermission(ctx, "read", "see on-call schedules");
  const now = deps.clock.now();
  return withTenant(deps.db, ctx, async (tx) => {
    const schedule = await scheduleIn(tx, scheduleId);
    const horizon = new Date(now.getTime() + 14 * DAY);
    const data = (await loadSchedulesIn(tx, [schedule.id], now, horizon)).get(schedule.id)!;
    const [first] = await named(tx, timeline(schedule, data.layers, data.overrides, now, horizon));
    return { schedule, at: now, user: first?.user ?? null, layer: first?.layer ?? null, overrideId: first?.overrideId ?? null, until: first && first.end < horizon ? first.end : null };
  });
}

export interface ScheduleTimeline {
  schedule: ScheduleRow;
  from: Date;
  to: Date;
  segments: NamedSegment[];
  dstTransitions: DstTransition[];
}

/**
 * In the tenant's scope, for readers: the schedule with its layers and
 * overrides over the `days` days (default 14) from `from` (default now).
 */
async function inWindow<T>(
  deps: OnCallDeps,
  ctx: Ctx,
  scheduleId: string,
  opts: { from?: Date; days?: number },
  fn: (w: { tx: Sql; schedule: ScheduleRow; data: { layers: LayerVersion[]; overrides: Override[] }; from: Date; to: Date }) => Promise<T>,
): Promise<T> {
  requirePermission(ctx, "read", "see on-call schedules");
  const from = opts.from ?? deps.clock.now();
  const to = new Date(from.getTime() + days(opts.days) * DAY);
  return withTenant(deps.db, ctx, async (tx) => {
    const schedule = await scheduleIn(tx, scheduleId);
    return fn({ tx, schedule, data: (await loadSchedulesIn(tx, [schedule.id], from, to)).get(schedule.id)!, from, to });
  });
}

/** The next `days` days (default 14) from `from` (default now). */
export async function scheduleTimeline(deps: OnCallDeps, ctx: Ctx, scheduleId: string, opts: { from?: Date; days?: number } = {}): Promise<ScheduleTimeline> {
  return inWindow(deps, ctx, scheduleId, opts, async ({ tx, schedule, data, from, to }) => ({
    schedule,
    from,
    to,
    segments: await named(tx, timeline(schedule, data.layers, data.overrides, from, to)),
    dstTransitions: dstTransitions(schedule.timezone, from, to),
  }));
}

/** Gaps (nobody on call) and overlaps (lower layers shadowed) over the next `days` days. */
export async function scheduleCoverage(deps: OnCallDeps, ctx: Ctx, scheduleId: string, opts: { from?: Date; days?: number } = {}): Promise<{ schedule: ScheduleRow; from: Date; to: Date; report: CoverageReport; users: Map<string, Person> }> {
  return inWindow(deps, ctx, scheduleId, opts, async ({ tx, schedule, data, from, to }) => {
    const report = coverage(schedule, data.layers, data.overrides, from, to);
    const names = await userNames(tx, report.overlaps.flatMap((o) => o.layers.map((l) => l.userId)));
    return { schedule, from, to, report, users: new Map([...names].map(([id, n]) => [id, { id, ...n }])) };
  });
}

export interface MyShift {
  schedule: { id: string; name: string; timezone: string };
  start: Date;
  end: Date;
  layer: LayerRef | null;
  overrideId: string | null;
}

/** The caller's shifts over the next `days` days (default 30): the ones in progress and the coming ones. */
export async function myOnCall(deps: OnCallDeps, ctx: Ctx, opts: { days?: number } = {}): Promise<{ now: MyShift[]; upcoming: MyShift[]; next: MyShift | null }> {
  requirePermission(ctx, "read", "see on-call schedules");
  if (ctx.actor.kind !== "user") throw invalid("actor", "only a person is on call: sign in as one (API keys are not)");
  const from = deps.clock.now();
  const to = new Date(from.getTime() + days(opts.days ?? 30) * DAY);
  return withTenant(deps.db, ctx, async (tx) => {
    const schedules = await listSchedules(tx);
    const data = await loadSchedulesIn(tx, schedules.map((s) => s.id), from, to);
    const mine: MyShift[] = [];
    for (const s of schedules) {
      const d = data.get(s.id)!;
      for (const seg of timeline(s, d.layers, d.overrides, from, to)) {
        if (seg.userId !== ctx.actor.id) continue;
        const prev = mine.at(-1);
        // One shift, even where it passes from a layer to an override of the same person.
        if (prev && prev.schedule.id === s.id && prev.end.getTime() === seg.start.getTime()) prev.end = seg.end;
        else mine.push({ schedule: { id: s.id, name: s.name, timezone: s.timezone }, start: seg.start, end: seg.end, layer: seg.layer, overrideId: seg.overrideId });
      }
    }
    mine.sort((a, b) => a.start.getTime() - b.start.getTime());
    const now = mine.filter((m) => m.start.getTime() <= from.getTime());
    const upcoming = mine.filter((m) => m.start.getTime() > from.getTime());
    return { now, upcoming, next: upcoming[0] ?? null };
  });
}

export type OnCallAnswer = { userId: string; schedule: ScheduleRow; layer: LayerRef | null; overrideId: string | null } | { gap: true; schedule: ScheduleRow } | { missing: true };

/** Who a schedule puts on call at `at`, inside the caller's transaction (the escalation worker, the dry run). */
export async function resolveOnCallIn(tx: Sql, scheduleId: string, at: Date): Promise<OnCallAnswer> {
  const schedule = await findSchedule(tx, scheduleId);
  if (!schedule) return { missing: true };
  const data = (await loadSchedulesIn(tx, [schedule.id], at, new Date(at.getTime() + 1))).get(schedule.id)!;
  const who = whoIsOnCall(schedule, data.layers, data.overrides, at);
  return "gap" in who ? { gap: true, schedule } : { userId: who.userId, schedule, layer: who.layer, overrideId: who.overrideId };
}

/** The people who may be put on call (active members of the tenant), plus names for other ids asked about (people who have left keep their name, marked). */
export async function listOnCallPeople(deps: OnCallDeps, ctx: Ctx, alsoIds: readonly string[] = []): Promise<Array<Person & { member: boolean }>> {
  requirePermission(ctx, "read", "see on-call schedules");
  return withTenant(deps.db, ctx, async (tx) => {
    const members = (await listActiveMembers(tx, ctx.tenantId)).map((m) => ({ ...m, member: true }));
    const known = new Set(members.map((m) => m.id));
    const others = await userNames(tx, alsoIds.filter((id) => !known.has(id)));
    return [...members, ...[...others].map(([id, n]) => ({ id, ...n, member: false }))];
  });
}

export interface ScheduleNow extends Omit<CurrentOnCall, "at"> {
  /** Current layers. */
  layers: number;
  /** Gaps (nobody on call) in the next 14 days. */
  gaps: number;
}

/** Every schedule of the tenant with who is on call now, until when, and its gaps over the next two weeks (one transaction for the list page). */
export async function listOnCallNow(deps: OnCallDeps, ctx: Ctx): Promise<ScheduleNow[]> {
  requirePermission(ctx, "read", "see on-call schedules");
  const now = deps.clock.now();
  const horizon = new Date(now.getTime() + 14 * DAY);
  return withTenant(deps.db, ctx, async (tx) => {
    const schedules = await listSchedules(tx);
    const data = await loadSchedulesIn(tx, schedules.map((s) => s.id), now, horizon);
    const firsts: Segment[] = [];
    const out = schedules.map((schedule) => {
      const d = data.get(schedule.id)!;
      const [first] = timeline(schedule, d.layers, d.overrides, now, horizon);
      if (first) firsts.push(first);
      return { schedule, first, layers: new Set(d.layers.filter((l) => l.effectiveUntil === null).map((l) => l.layerId)).size, gaps: coverage(schedule, d.layers, d.overrides, now, horizon).gaps.length };
    });
    const names = await named(tx, firsts);
    return out.map(({ schedule, first, layers, gaps }) => {
      const n = first ? names[firsts.indexOf(first)]! : undefined;
      return { schedule, user: n?.user ?? null, layer: n?.layer ?? null, overrideId: n?.overrideId ?? null, until: first && first.end < horizon ? first.end : null, layers, gaps };
    });
  });
}

export interface LayerTimeline {
  layer: LayerRef;
  /** What this layer alone would put on call (userId null: it covers nobody then). */
  segments: NamedSegment[];
}

/** Each layer's own shifts over the window, highest position first (the rows above "who is paged" in a timeline). */
export async function scheduleLayerTimelines(deps: OnCallDeps, ctx: Ctx, scheduleId: string, opts: { from?: Date; days?: number } = {}): Promise<LayerTimeline[]> {
  return inWindow(deps, ctx, scheduleId, opts, async ({ tx, schedule, data, from, to }) => {
    const byLayer = new Map<string, typeof data.layers>();
    for (const v of data.layers) byLayer.set(v.layerId, [...(byLayer.get(v.layerId) ?? []), v]);
    const rows: LayerTimeline[] = [];
    for (const versions of byLayer.values()) {
      // The row carries the layer's latest name and position.
      const latest = versions.reduce((a, b) => (b.effectiveFrom > a.effectiveFrom ? b : a));
      rows.push({ layer: { id: latest.layerId, name: latest.name, position: latest.position }, segments: await named(tx, timeline(schedule, versions, [], from, to)) });
    }
    return rows.sort((a, b) => b.layer.position - a.layer.position || a.layer.name.localeCompare(b.layer.name));
  });
}
