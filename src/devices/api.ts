// /api/v1/devices: the registry with latest state, tokens, decommissioning,
// the timeline and CSV import. Tenant-admins change devices; everyone reads.
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ctxFrom } from "../auth/middleware.ts";
import type { HttpEnv } from "../http/env.ts";
import { AppError } from "../lib/errors.ts";
import { apiRouter, decodeCursor, encodeCursor, errorResponses, z } from "../http/openapi.ts";
import type { DeviceDeps } from "./deps.ts";
import { importApi } from "./import-api.ts";
import { createDevice, decommissionDevice, getDevice, listDeviceEvents, listDevices, recommissionDevice, updateDevice, type Device } from "./service.ts";
import { DEVICE_SORTS } from "./store.ts";
import { listDeviceTokens, revokeDeviceToken, rotateDeviceToken, type DeviceToken } from "./tokens.ts";

const Status = z.enum(["ACTIVE", "PENDING", "REVOKED"]);
const Connectivity = z.enum(["ONLINE", "STALE", "OFFLINE"]);

export const DeviceSchema = z
  .object({
    id: z.string().openapi({ example: "pump-17" }),
    name: z.string(),
    site_id: z.string(),
    status: Status,
    tags: z.record(z.string(), z.string()),
    heartbeat_seconds: z.number().int().nullable().openapi({ description: "null: the tenant's default" }),
    effective_heartbeat_seconds: z.number().int().nullable(),
    parent_device_id: z.string().nullable(),
    model: z.string().nullable(),
    serial: z.string().nullable(),
    lat: z.number().nullable(),
    lng: z.number().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
    decommissioned_at: z.string().nullable(),
    decommissioned_by: z.string().nullable(),
    decommission_reason: z.string().nullable(),
    connectivity: Connectivity,
    connectivity_since: z.string().nullable(),
    last_seen_at: z.string().nullable(),
    last_telemetry_at: z.string().nullable(),
    last_heartbeat_at: z.string().nullable(),
    last_metrics: z.record(z.string(), z.unknown()),
    messages: z.number().int(),
    seq_gaps: z.number().int(),
  })
  .openapi("Device");

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const deviceJson = (d: Device) => ({
  id: d.id,
  name: d.name,
  site_id: d.siteId,
  status: d.status,
  tags: d.tags,
  heartbeat_seconds: d.heartbeatSeconds,
  effective_heartbeat_seconds: d.effectiveHeartbeatSeconds,
  parent_device_id: d.parentDeviceId,
  model: d.model,
  serial: d.serial,
  lat: d.lat,
  lng: d.lng,
  metadata: d.metadata,
  created_at: d.createdAt.toISOString(),
  updated_at: d.updatedAt.toISOString(),
  decommissioned_at: iso(d.decommissionedAt),
  decommissioned_by: d.decommissionedBy,
  decommission_reason: d.decommissionReason,
  connectivity: d.connectivity,
  connectivity_since: iso(d.connectivitySince),
  last_seen_at: iso(d.lastSeenAt),
  last_telemetry_at: iso(d.lastTelemetryAt),
  last_heartbeat_at: iso(d.lastHeartbeatAt),
  last_metrics: d.lastMetrics,
  messages: d.messages,
  seq_gaps: d.seqGaps,
});

const TokenSchema = z
  .object({ id: z.string(), created_at: z.string(), expires_at: z.string().nullable(), revoked_at: z.string().nullable(), last_used_at: z.string().nullable(), active: z.boolean() })
  .openapi("DeviceToken");
const tokenJson = (t: DeviceToken) => ({ id: t.id, created_at: t.createdAt.toISOString(), expires_at: iso(t.expiresAt), revoked_at: iso(t.revokedAt), last_used_at: iso(t.lastUsedAt), active: t.active });
const Secret = z.string().openapi({ description: "The provision token: shown once, never again" });

const EventSchema = z.object({ id: z.number(), time: z.string(), kind: z.string(), details: z.record(z.string(), z.unknown()) }).openapi("DeviceEvent");

const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, example: "pump-17" }) });
const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({ body: { content: { "application/json": { schema } } } });
const ok = <T extends z.ZodTypeAny>(description: string, schema: T) => ({ description, content: { "application/json": { schema } } });

const Fields = {
  name: z.string().optional(),
  site_id: z.string().optional(),
  tags: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional().openapi({ description: "Key/value strings, at most 32", example: { line: "3", zone: "cold" } }),
  heartbeat_seconds: z.number().int().nullable().optional(),
  parent_device_id: z.string().nullable().optional(),
  model: z.string().nullable().optional(),
  serial: z.string().nullable().optional(),
  lat: z.number().nullable().optional(),
  lng: z.number().nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
};

const ListQuery = z.object({
  status: Status.optional(),
  connectivity: Connectivity.optional(),
  site_id: z.string().max(64).optional(),
  tag: z.union([z.string().max(300), z.array(z.string().max(300)).max(10)]).optional().openapi({ description: "key=value or key; repeat for several (all must match)" }),
  q: z.string().max(200).optional().openapi({ description: "Text in id, name or serial" }),
  sort: z.enum(DEVICE_SORTS as [string, ...string[]]).default("id"),
  order: z.enum(["asc", "desc"]).default("asc"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(1000).optional().openapi({ description: "From a previous page's next_cursor" }),
  offset: z.coerce.number().int().min(0).max(1_000_000).optional().openapi({ description: "Skip this many (instead of a cursor)" }),
});

/** A small optional JSON body: empty is {}, anything but an object is a 400. */
async function optionalJson(c: Context<HttpEnv>): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new AppError("bad_request", "body: must be a JSON object or empty", { field: "body" });
  return v as Record<string, unknown>;
}

export function devicesApi(deps: DeviceDeps) {
  const api = apiRouter();

  api.openapi(
    createRoute({
      method: "get",
      path: "/devices",
      tags: ["Devices"],
      summary: "Your tenant's devices with their latest state; filtered, sorted, paginated",
      request: { query: ListQuery },
      responses: { 200: ok("Devices", z.object({ items: z.array(DeviceSchema), next_cursor: z.string().nullable(), total: z.number().int() })), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const page = await listDevices(deps, ctxFrom(c), {
        status: q.status,
        connectivity: q.connectivity,
        siteId: q.site_id,
        tags: q.tag === undefined ? undefined : Array.isArray(q.tag) ? q.tag : [q.tag],
        q: q.q,
        sort: q.sort as (typeof DEVICE_SORTS)[number],
        order: q.order,
        limit: q.limit,
        cursor: q.cursor,
        offset: q.offset,
      });
      return c.json({ items: page.items.map(deviceJson), next_cursor: page.nextCursor, total: page.total }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "post",
      path: "/devices",
      tags: ["Devices"],
      summary: "Register a device (tenant-admin); its first provision token is in the answer once",
      request: jsonBody(z.object({ ...Fields, id: z.string().openapi({ example: "pump-17" }), site_id: z.string().openapi({ example: "lab-1" }) })),
      responses: { 201: ok("Created", DeviceSchema.extend({ provision_token: Secret })), ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => {
      const { device, token } = await createDevice(deps, ctxFrom(c), c.req.valid("json"));
      c.header("Cache-Control", "no-store");
      return c.json({ ...deviceJson(device), provision_token: token }, 201);
    },
  );

  api.openapi(
    createRoute({ method: "get", path: "/devices/{id}", tags: ["Devices"], summary: "One device with its latest state", request: { params: IdParam }, responses: { 200: ok("The device", DeviceSchema), ...errorResponses(401, 403, 404) } }),
    async (c) => c.json(deviceJson(await getDevice(deps, ctxFrom(c), c.req.valid("param").id)), 200),
  );

  api.openapi(
    createRoute({
      method: "patch",
      path: "/devices/{id}",
      tags: ["Devices"],
      summary: "Change a device (tenant-admin); tags are replaced whole, null clears optional fields",
      request: { params: IdParam, ...jsonBody(z.object(Fields)) },
      responses: { 200: ok("Updated", DeviceSchema), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(deviceJson(await updateDevice(deps, ctxFrom(c), c.req.valid("param").id, c.req.valid("json"))), 200),
  );

  api.openapi(
    createRoute({
      method: "post",
      path: "/devices/{id}/decommission",
      tags: ["Devices"],
      summary: "Decommission (tenant-admin): tokens revoked, ingest answers DEVICE_REVOKED, history kept",
      description: 'Optional JSON body: {"reason": "…"} (at most 500 characters). An empty body is fine.',
      request: { params: IdParam },
      responses: { 200: ok("Decommissioned", DeviceSchema), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const b = await optionalJson(c);
      return c.json(deviceJson(await decommissionDevice(deps, ctxFrom(c), c.req.valid("param").id, { reason: b?.reason })), 200);
    },
  );

  api.openapi(
    createRoute({
      method: "post",
      path: "/devices/{id}/recommission",
      tags: ["Devices"],
      summary: "Bring a decommissioned device back (tenant-admin) with a new token, shown once",
      request: { params: IdParam },
      responses: { 200: ok("Active again", DeviceSchema.extend({ provision_token: Secret })), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { device, token } = await recommissionDevice(deps, ctxFrom(c), c.req.valid("param").id);
      c.header("Cache-Control", "no-store");
      return c.json({ ...deviceJson(device), provision_token: token }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/devices/{id}/events",
      tags: ["Devices"],
      summary: "The device's timeline, newest first",
      request: { params: IdParam, query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), cursor: z.string().max(200).optional() }) },
      responses: { 200: ok("Events", z.object({ items: z.array(EventSchema), next_cursor: z.string().nullable() })), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const beforeId = decodeCursor(q.cursor, (v): v is number => Number.isInteger(v));
      const events = await listDeviceEvents(deps, ctxFrom(c), c.req.valid("param").id, { limit: q.limit, beforeId });
      const last = events.at(-1);
      return c.json({ items: events.map((e) => ({ ...e, time: e.time.toISOString() })), next_cursor: events.length === q.limit && last ? encodeCursor(last.id) : null }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/devices/{id}/tokens",
      tags: ["Devices"],
      summary: "The device's provision tokens (never the secrets)",
      request: { params: IdParam },
      responses: { 200: ok("Tokens", z.object({ items: z.array(TokenSchema) })), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json({ items: (await listDeviceTokens(deps, ctxFrom(c), c.req.valid("param").id)).map(tokenJson) }, 200),
  );

  api.openapi(
    createRoute({
      method: "post",
      path: "/devices/{id}/tokens/rotate",
      tags: ["Devices"],
      summary: "Issue a new token (tenant-admin); old ones stop now or after overlap_seconds",
      description: 'Optional JSON body: {"overlap_seconds": N} (0 to 2592000; default 0 = the old tokens stop at once). An empty body is fine.',
      request: { params: IdParam },
      responses: { 201: ok("New token", TokenSchema.extend({ provision_token: Secret })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const b = await optionalJson(c);
      const { token, secret } = await rotateDeviceToken(deps, ctxFrom(c), c.req.valid("param").id, { overlapSeconds: b?.overlap_seconds });
      c.header("Cache-Control", "no-store");
      return c.json({ ...tokenJson(token), provision_token: secret }, 201);
    },
  );

  api.openapi(
    createRoute({
      method: "delete",
      path: "/devices/{id}/tokens/{token_id}",
      tags: ["Devices"],
      summary: "Revoke one token at once (tenant-admin)",
      request: { params: IdParam.extend({ token_id: z.string().openapi({ param: { name: "token_id", in: "path" } }) }) },
      responses: { 200: ok("Revoked", TokenSchema), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      return c.json(tokenJson(await revokeDeviceToken(deps, ctxFrom(c), p.id, p.token_id)), 200);
    },
  );

  api.route("/", importApi(deps));
  return api;
}
