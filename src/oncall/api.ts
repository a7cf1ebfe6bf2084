// /api/v1/oncall-schedules (+ layers, overrides, current, timeline, report)
// and /api/v1/oncall/me. Times go out as ISO 8601 in UTC; local times come in
// as "HH:MM" and "YYYY-MM-DD" in the schedule's zone (or instants with an
// offset, or local date-times, for overrides).
import { createRoute } from "@hono/zod-openapi";
import { ctxFrom } from "../auth/middleware.ts";
import { apiRouter, errorResponses, z } from "../http/openapi.ts";
import { currentOnCall, myOnCall, scheduleCoverage, scheduleTimeline, type MyShift, type NamedSegment } from "./calendar.ts";
import {
  addScheduleLayer,
  addScheduleOverride,
  createOnCallSchedule,
  deleteOnCallSchedule,
  getOnCallSchedule,
  listOnCallSchedules,
  listScheduleLayers,
  listScheduleOverrides,
  removeScheduleLayer,
  removeScheduleOverride,
  updateOnCallSchedule,
  updateScheduleLayer,
  type LayerRow,
  type OnCallDeps,
  type OverrideRow,
  type ScheduleRow,
} from "./service.ts";

const iso = (d: Date | null) => d?.toISOString() ?? null;
const json = <T extends z.ZodTypeAny>(schema: T, description = "OK") => ({ description, content: { "application/json": { schema } } });
const body = <T extends z.ZodTypeAny>(schema: T) => ({ body: { content: { "application/json": { schema } } } });
const Id = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, description: "Schedule id or name" }) });
const LayerParam = Id.extend({ layer_id: z.string().openapi({ param: { name: "layer_id", in: "path" } }) });
const OverrideParam = Id.extend({ override_id: z.string().openapi({ param: { name: "override_id", in: "path" } }) });
const Days = z.object({ days: z.coerce.number().int().min(1).max(90).default(14), from: z.string().datetime({ offset: true }).optional() });

const ScheduleSchema = z.object({ id: z.string(), name: z.string(), timezone: z.string(), created_at: z.string(), updated_at: z.string() }).openapi("OnCallSchedule");
const scheduleJson = (s: ScheduleRow) => ({ id: s.id, name: s.name, timezone: s.timezone, created_at: s.created_at.toISOString(), updated_at: s.updated_at.toISOString() });

const RestrictionSchema = z.object({ days: z.array(z.enum(["MO", "TU", "WE", "TH", "FR", "SA", "SU"])).optional(), start: z.string(), end: z.string() });
const LayerSchema = z
  .object({
    id: z.string().openapi({ description: "The layer (the same across its versions)" }),
    version_id: z.string(),
    name: z.string(),
    position: z.number().openapi({ description: "Higher wins where layers overlap" }),
    rotation: z.enum(["daily", "weekly", "custom"]),
    length_hours: z.number().nullable(),
    handoff_time: z.string(),
    handoff_weekday: z.string().nullable(),
    start_date: z.string(),
    users: z.array(z.string()),
    restrictions: z.array(RestrictionSchema),
    effective_from: z.string(),
    effective_until: z.string().nullable(),
  })
  .openapi("OnCallLayer");
const layerJson = (l: LayerRow) => ({
  id: l.layer_id,
  version_id: l.id,
  name: l.name,
  position: l.position,
  rotation: l.rotation,
  length_hours: l.length_hours,
  handoff_time: l.handoff_time,
  handoff_weekday: l.handoff_weekday,
  start_date: l.start_date,
  users: l.users,
  restrictions: l.restrictions,
  effective_from: l.effective_from.toISOString(),
  effective_until: iso(l.effective_until),
});
const LayerBody = z
  .object({
    name: z.string().optional(),
    position: z.number().optional(),
    rotation: z.string().optional(),
    length_hours: z.number().nullable().optional(),
    handoff_time: z.string().optional().openapi({ description: "HH:MM local; must exist on the start date" }),
    handoff_weekday: z.string().nullable().optional(),
    start_date: z.string().optional().openapi({ description: "YYYY-MM-DD local (default: today)" }),
    users: z.array(z.string()).optional(),
    restrictions: z.array(z.record(z.string(), z.unknown())).nullable().optional(),
  })
  .openapi("OnCallLayerInput");
const SavedLayerSchema = LayerSchema.extend({ warnings: z.array(z.string()).openapi({ description: "Coming DST days where the handoff time is skipped or happens twice" }) });

const OverrideSchema = z.object({ id: z.string(), user_id: z.string(), starts_at: z.string(), ends_at: z.string(), note: z.string().nullable(), created_by: z.string().nullable(), created_at: z.string() }).openapi("OnCallOverride");
const overrideJson = (o: OverrideRow) => ({ id: o.id, user_id: o.user_id, starts_at: o.starts_at.toISOString(), ends_at: o.ends_at.toISOString(), note: o.note, created_by: o.created_by, created_at: o.created_at.toISOString() });
const OverrideBody = z
  .object({
    user_id: z.string().optional().openapi({ description: "Default: you" }),
    starts_at: z.string().optional(),
    ends_at: z.string().optional(),
    hours: z.number().optional().openapi({ description: "Take over for the next N hours (instead of starts_at/ends_at)" }),
    note: z.string().optional(),
  })
  .openapi("OnCallOverrideInput");

const PersonSchema = z.object({ id: z.string(), username: z.string(), name: z.string() });
const LayerRefSchema = z.object({ id: z.string(), name: z.string(), position: z.number() });
const SegmentSchema = z.object({ start: z.string(), end: z.string(), user: PersonSchema.nullable().openapi({ description: "null: a gap" }), layer: LayerRefSchema.nullable(), override_id: z.string().nullable() });
const segmentJson = (s: NamedSegment) => ({ start: s.start.toISOString(), end: s.end.toISOString(), user: s.user, layer: s.layer, override_id: s.overrideId });
const ShiftSchema = z.object({ schedule: z.object({ id: z.string(), name: z.string(), timezone: z.string() }), start: z.string(), end: z.string(), layer: LayerRefSchema.nullable(), override_id: z.string().nullable() });
const shiftJson = (m: MyShift) => ({ schedule: m.schedule, start: m.start.toISOString(), end: m.end.toISOString(), layer: m.layer, override_id: m.overrideId });

export function oncallApi(deps: OnCallDeps) {
  const api = apiRouter();
  const tags = ["On-call"];

  api.openapi(createRoute({ method: "get", path: "/oncall-schedules", tags, summary: "On-call schedules", responses: { 200: json(z.object({ items: z.array(ScheduleSchema) })), ...errorResponses(401) } }), async (c) =>
    c.json({ items: (await listOnCallSchedules(deps, ctxFrom(c))).map(scheduleJson) }, 200),
  );
  api.openapi(
    createRoute({ method: "post", path: "/oncall-schedules", tags, summary: "Create a schedule in a time zone", request: body(z.object({ name: z.string().optional(), timezone: z.string().optional() })), responses: { 201: json(ScheduleSchema, "Created"), ...errorResponses(400, 401, 403, 409) } }),
    async (c) => c.json(scheduleJson(await createOnCallSchedule(deps, ctxFrom(c), c.req.valid("json"))), 201),
  );
  api.openapi(createRoute({ method: "get", path: "/oncall-schedules/{id}", tags, summary: "A schedule with its current layers", request: { params: Id }, responses: { 200: json(ScheduleSchema.extend({ layers: z.array(LayerSchema) })), ...errorResponses(401, 404) } }), async (c) => {
    const s = await getOnCallSchedule(deps, ctxFrom(c), c.req.valid("param").id);
    return c.json({ ...scheduleJson(s), layers: s.layers.map(layerJson) }, 200);
  });
  api.openapi(
    createRoute({ method: "patch", path: "/oncall-schedules/{id}", tags, summary: "Rename a schedule (its zone changes only while it has no layers)", request: { params: Id, ...body(z.object({ name: z.string().optional(), timezone: z.string().optional() })) }, responses: { 200: json(ScheduleSchema), ...errorResponses(400, 401, 403, 404, 409) } }),
    async (c) => c.json(scheduleJson(await updateOnCallSchedule(deps, ctxFrom(c), c.req.valid("param").id, c.req.valid("json"))), 200),
  );
  api.openapi(createRoute({ method: "delete", path: "/oncall-schedules/{id}", tags, summary: "Delete a schedule no escalation policy pages", request: { params: Id }, responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) } }), async (c) => {
    await deleteOnCallSchedule(deps, ctxFrom(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  // Layers
  api.openapi(
    createRoute({ method: "get", path: "/oncall-schedules/{id}/layers", tags, summary: "Current layers (history=true: every version)", request: { params: Id, query: z.object({ history: z.enum(["true", "false"]).optional() }) }, responses: { 200: json(z.object({ items: z.array(LayerSchema) })), ...errorResponses(401, 404) } }),
    async (c) => c.json({ items: (await listScheduleLayers(deps, ctxFrom(c), c.req.valid("param").id, { history: c.req.valid("query").history === "true" })).map(layerJson) }, 200),
  );
  api.openapi(
    createRoute({ method: "post", path: "/oncall-schedules/{id}/layers", tags, summary: "Add a layer (effective now)", request: { params: Id, ...body(LayerBody) }, responses: { 201: json(SavedLayerSchema, "Created"), ...errorResponses(400, 401, 403, 404) } }),
    async (c) => {
      const r = await addScheduleLayer(deps, ctxFrom(c), c.req.valid("param").id, c.req.valid("json"));
      return c.json({ ...layerJson(r.layer), warnings: r.warnings }, 201);
    },
  );
  api.openapi(
    createRoute({ method: "patch", path: "/oncall-schedules/{id}/layers/{layer_id}", tags, summary: "Change a layer from now on (a new version; the past keeps the old one)", request: { params: LayerParam, ...body(LayerBody) }, responses: { 200: json(SavedLayerSchema), ...errorResponses(400, 401, 403, 404) } }),
    async (c) => {
      const p = c.req.valid("param");
      const r = await updateScheduleLayer(deps, ctxFrom(c), p.id, p.layer_id, c.req.valid("json"));
      return c.json({ ...layerJson(r.layer), warnings: r.warnings }, 200);
    },
  );
  api.openapi(createRoute({ method: "delete", path: "/oncall-schedules/{id}/layers/{layer_id}", tags, summary: "Remove a layer from now on", request: { params: LayerParam }, responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404) } }), async (c) => {
    const p = c.req.valid("param");
    await removeScheduleLayer(deps, ctxFrom(c), p.id, p.layer_id);
    return c.body(null, 204);
  });

  // Overrides
  api.openapi(
    createRoute({ method: "get", path: "/oncall-schedules/{id}/overrides", tags, summary: "Overrides (default: from now on)", request: { params: Id, query: z.object({ from: z.string().datetime({ offset: true }).optional(), to: z.string().datetime({ offset: true }).optional() }) }, responses: { 200: json(z.object({ items: z.array(OverrideSchema) })), ...errorResponses(400, 401, 404) } }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json({ items: (await listScheduleOverrides(deps, ctxFrom(c), c.req.valid("param").id, { from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined })).map(overrideJson) }, 200);
    },
  );
  api.openapi(
    createRoute({ method: "post", path: "/oncall-schedules/{id}/overrides", tags, summary: "Put someone on call over every layer (or take over for the next N hours)", request: { params: Id, ...body(OverrideBody) }, responses: { 201: json(OverrideSchema, "Created"), ...errorResponses(400, 401, 403, 404) } }),
    async (c) => c.json(overrideJson(await addScheduleOverride(deps, ctxFrom(c), c.req.valid("param").id, c.req.valid("json"))), 201),
  );
  api.openapi(
    createRoute({ method: "delete", path: "/oncall-schedules/{id}/overrides/{override_id}", tags, summary: "Remove a coming override, or end one in progress now", request: { params: OverrideParam }, responses: { 200: json(z.object({ removed: z.boolean(), override: OverrideSchema.nullable() })), ...errorResponses(401, 403, 404, 409) } }),
    async (c) => {
      const p = c.req.valid("param");
      const r = await removeScheduleOverride(deps, ctxFrom(c), p.id, p.override_id);
      return c.json({ removed: r.removed, override: r.override ? overrideJson(r.override) : null }, 200);
    },
  );

  // Who
  api.openapi(
    createRoute({ method: "get", path: "/oncall-schedules/{id}/current", tags, summary: "Who is on call now, and until when", request: { params: Id }, responses: { 200: json(z.object({ schedule: ScheduleSchema, at: z.string(), user: PersonSchema.nullable(), gap: z.boolean(), layer: LayerRefSchema.nullable(), override_id: z.string().nullable(), until: z.string().nullable() })), ...errorResponses(401, 404) } }),
    async (c) => {
      const r = await currentOnCall(deps, ctxFrom(c), c.req.valid("param").id);
      return c.json({ schedule: scheduleJson(r.schedule), at: r.at.toISOString(), user: r.user, gap: r.user === null, layer: r.layer, override_id: r.overrideId, until: iso(r.until) }, 200);
    },
  );
  api.openapi(
    createRoute({
      method: "get",
      path: "/oncall-schedules/{id}/timeline",
      tags,
      summary: "Who is on call over the coming days, with the DST transitions in that range",
      request: { params: Id, query: Days },
      responses: { 200: json(z.object({ schedule: ScheduleSchema, from: z.string(), to: z.string(), segments: z.array(SegmentSchema), dst_transitions: z.array(z.object({ at: z.string(), offset_before_minutes: z.number(), offset_after_minutes: z.number() })) })), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const t = await scheduleTimeline(deps, ctxFrom(c), c.req.valid("param").id, { days: q.days, from: q.from ? new Date(q.from) : undefined });
      return c.json(
        {
          schedule: scheduleJson(t.schedule),
          from: t.from.toISOString(),
          to: t.to.toISOString(),
          segments: t.segments.map(segmentJson),
          dst_transitions: t.dstTransitions.map((d) => ({ at: d.at.toISOString(), offset_before_minutes: d.offsetBefore, offset_after_minutes: d.offsetAfter })),
        },
        200,
      );
    },
  );
  api.openapi(
    createRoute({
      method: "get",
      path: "/oncall-schedules/{id}/report",
      tags,
      summary: "Gaps (nobody on call) and overlaps (layers shadowing each other) over the coming days",
      request: { params: Id, query: Days },
      responses: { 200: json(z.object({ from: z.string(), to: z.string(), gaps: z.array(z.object({ start: z.string(), end: z.string() })), overlaps: z.array(z.object({ start: z.string(), end: z.string(), layers: z.array(LayerRefSchema.extend({ user: PersonSchema.nullable() })) })) })), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const r = await scheduleCoverage(deps, ctxFrom(c), c.req.valid("param").id, { days: q.days, from: q.from ? new Date(q.from) : undefined });
      return c.json(
        {
          from: r.from.toISOString(),
          to: r.to.toISOString(),
          gaps: r.report.gaps.map((g) => ({ start: g.start.toISOString(), end: g.end.toISOString() })),
          overlaps: r.report.overlaps.map((o) => ({ start: o.start.toISOString(), end: o.end.toISOString(), layers: o.layers.map(({ userId, ...l }) => ({ ...l, user: r.users.get(userId) ?? null })) })),
        },
        200,
      );
    },
  );
  api.openapi(
    createRoute({ method: "get", path: "/oncall/me", tags, summary: "Your shifts: now and coming (next: when you are on call next)", request: { query: z.object({ days: z.coerce.number().int().min(1).max(90).default(30) }) }, responses: { 200: json(z.object({ now: z.array(ShiftSchema), upcoming: z.array(ShiftSchema), next: ShiftSchema.nullable() })), ...errorResponses(400, 401) } }),
    async (c) => {
      const r = await myOnCall(deps, ctxFrom(c), { days: c.req.valid("query").days });
      return c.json({ now: r.now.map(shiftJson), upcoming: r.upcoming.map(shiftJson), next: r.next ? shiftJson(r.next) : null }, 200);
    },
  );
  return api;
}
