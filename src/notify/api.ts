// /api/v1/notification-channels (+ test, preview), /api/v1/notification-routing-rules,
// /api/v1/deliveries (log, dead letters, replay).
import { createRoute } from "@hono/zod-openapi";
import type { Auth } from "../auth/index.ts";
import { ctxFrom, principalOf } from "../auth/middleware.ts";
import { apiRouter, decodeCursor, encodeCursor, errorResponses, pageOf, z } from "../http/openapi.ts";
import { pulseMib } from "./channels/snmp.ts";
import type { RouteRow } from "./store.ts";
import {
  createNotificationChannel,
  deleteNotificationChannel,
  deleteNotificationRoute,
  deliveryAttempts,
  getNotificationChannel,
  listNotificationChannels,
  listNotificationDeliveries,
  listNotificationRoutes,
  previewChannel,
  replayNotification,
  rotateWebhookSecret,
  saveNotificationRoute,
  testChannel,
  updateNotificationChannel,
  type Channel,
  type NotifyDeps,
} from "./service.ts";

const ChannelSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    config: z.record(z.string(), z.unknown()).openapi({ description: "Settings that are not secret" }),
    secrets_set: z.array(z.string()).openapi({ description: "Secret settings that have a value (values are never returned)" }),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable(),
    consecutive_failures: z.number(),
    circuit_open_until: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("NotificationChannel");

const CreatedChannelSchema = ChannelSchema.extend({
  generated_secret: z.string().optional().openapi({ description: "Webhook created without a secret: the signing secret Pulse made for it, shown this once" }),
}).openapi("CreatedNotificationChannel");

const channelJson = (c: Channel) => ({
  id: c.id,
  name: c.name,
  type: c.type,
  config: c.config,
  secrets_set: c.secretsSet,
  enabled: c.enabled,
  disabled_reason: c.disabledReason,
  consecutive_failures: c.consecutiveFailures,
  circuit_open_until: c.circuitOpenUntil?.toISOString() ?? null,
  created_at: c.createdAt.toISOString(),
});

const RouteSchema = z
  .object({
    id: z.string(),
    channel_id: z.string(),
    name: z.string(),
    min_severity: z.string(),
    alert_types: z.array(z.string()),
    scope: z.record(z.string(), z.unknown()),
    transitions: z.array(z.string()),
    throttle_seconds: z.number(),
    active_hours: z.record(z.string(), z.unknown()).nullable(),
    enabled: z.boolean(),
  })
  .openapi("RoutingRule");

const routeJson = (r: RouteRow) => ({
  id: r.id,
  channel_id: r.channel_id,
  name: r.name,
  min_severity: r.min_severity,
  alert_types: r.alert_types,
  scope: r.scope,
  transitions: r.transitions,
  throttle_seconds: r.throttle_seconds,
  active_hours: r.active_hours,
  enabled: r.enabled,
});

const DeliverySchema = z
  .object({
    id: z.number(),
    channel_id: z.string().nullable().openapi({ description: "null for a page to one person (see recipient)" }),
    recipient: z
      .object({ kind: z.string(), address: z.string(), user_id: z.string().nullable(), username: z.string().nullable(), contact_method_id: z.string().nullable() })
      .nullable()
      .openapi({ description: "Escalation pages to one person's contact method: where it went" }),
    channel_name: z.string(),
    channel_type: z.string(),
    alert_id: z.string().nullable(),
    event: z.string(),
    idempotency_key: z.string(),
    status: z.enum(["pending", "delivered", "dead"]),
    attempts: z.number(),
    next_attempt_at: z.string(),
    last_error: z.string().nullable(),
    created_at: z.string(),
    delivered_at: z.string().nullable(),
  })
  .openapi("Delivery");

const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const json = <T extends z.ZodTypeAny>(schema: T, description = "OK") => ({ description, content: { "application/json": { schema } } });
const ChannelBody = z.object({
  name: z.string().optional(),
  type: z.string().optional(),
  settings: z.record(z.string(), z.unknown()).optional().openapi({ description: "Per type; secret fields are write-only" }),
  enabled: z.boolean().optional(),
});
const RouteBody = z.record(z.string(), z.unknown()).openapi("RoutingRuleInput", {
  description: "channel_id, name, min_severity, alert_types, scope {sites, tags}, transitions [triggered, acknowledged, resolved], throttle_seconds, active_hours {days, start, end, timezone}, enabled",
});

export function notificationsApi(auth: Auth, deps: NotifyDeps) {
  const api = apiRouter();

  api.openapi(createRoute({ method: "get", path: "/notification-channels", tags: ["Notifications"], summary: "Channels", responses: { 200: json(z.object({ items: z.array(ChannelSchema) })), ...errorResponses(401) } }), async (c) =>
    c.json({ items: (await listNotificationChannels(deps, ctxFrom(c))).map(channelJson) }, 200),
  );
  api.openapi(
    createRoute({ method: "post", path: "/notification-channels", tags: ["Notifications"], summary: "Add a channel", request: { body: { content: { "application/json": { schema: ChannelBody } } } }, responses: { 201: json(CreatedChannelSchema, "Created"), ...errorResponses(400, 401, 403) } }),
    async (c) => {
      const b = c.req.valid("json");
      const created = await createNotificationChannel(deps, ctxFrom(c), { name: b.name, type: b.type, settings: b.settings ?? {}, enabled: b.enabled });
      return c.json({ ...channelJson(created), ...(created.generatedSecret ? { generated_secret: created.generatedSecret } : {}) }, 201);
    },
  );
  api.openapi(createRoute({ method: "get", path: "/notification-channels/{id}", tags: ["Notifications"], summary: "One channel", request: { params: IdParam }, responses: { 200: json(ChannelSchema), ...errorResponses(401, 404) } }), async (c) =>
    c.json(channelJson(await getNotificationChannel(deps, ctxFrom(c), c.req.valid("param").id)), 200),
  );
  api.openapi(
    createRoute({ method: "patch", path: "/notification-channels/{id}", tags: ["Notifications"], summary: "Change a channel (secret settings left out keep their values)", request: { params: IdParam, body: { content: { "application/json": { schema: ChannelBody } } } }, responses: { 200: json(ChannelSchema), ...errorResponses(400, 401, 403, 404) } }),
    async (c) => {
      const b = c.req.valid("json");
      return c.json(channelJson(await updateNotificationChannel(deps, ctxFrom(c), c.req.valid("param").id, { name: b.name, settings: b.settings, enabled: b.enabled })), 200);
    },
  );
  api.openapi(createRoute({ method: "delete", path: "/notification-channels/{id}", tags: ["Notifications"], summary: "Remove a channel (its routes and queued deliveries go too)", request: { params: IdParam }, responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404) } }), async (c) => {
    await deleteNotificationChannel(deps, ctxFrom(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  api.openapi(
    createRoute({
      method: "post",
      path: "/notification-channels/{id}/rotate-secret",
      tags: ["Notifications"],
      summary: "Webhook: sign with a new secret from now on, and with the current one too (previous_secret) until it is removed; the new secret is shown this once",
      request: { params: IdParam },
      responses: { 200: json(z.object({ secret: z.string(), channel: ChannelSchema })), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const r = await rotateWebhookSecret(deps, ctxFrom(c), c.req.valid("param").id);
      return c.json({ secret: r.secret, channel: channelJson(r.channel) }, 200);
    },
  );
  api.openapi(
    createRoute({ method: "post", path: "/notification-channels/{id}/test", tags: ["Notifications"], summary: "Send a test notification now; the receiver's answer is returned", request: { params: IdParam }, responses: { 200: json(z.object({ ok: z.boolean(), status_code: z.number().nullable(), response: z.string().nullable(), error: z.string().nullable(), latency_ms: z.number() })), ...errorResponses(401, 403, 404) } }),
    async (c) => {
      const r = await testChannel(deps, ctxFrom(c), c.req.valid("param").id);
      return c.json({ ok: r.ok, status_code: r.statusCode, response: r.response, error: r.error, latency_ms: r.latencyMs }, 200);
    },
  );
  api.openapi(
    createRoute({ method: "get", path: "/notification-channels/{id}/preview", tags: ["Notifications"], summary: "What this channel would send for a sample alert", request: { params: IdParam }, responses: { 200: json(z.object({ content_type: z.string(), body: z.string() })), ...errorResponses(401, 404) } }),
    async (c) => {
      const p = await previewChannel(deps, ctxFrom(c), c.req.valid("param").id);
      return c.json({ content_type: p.contentType, body: p.body }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/notification-channels/snmp/mib",
      tags: ["Notifications"],
      summary: "PULSE-MIB: the SNMP notifications and objects this installation sends (for the NMS that receives them)",
      responses: { 200: { description: "The MIB module (SMIv2)", content: { "text/plain": { schema: z.string() } } }, ...errorResponses(401) },
    }),
    async (c) => {
      principalOf(c);
      return c.text(pulseMib(deps.sendContext.snmpEnterpriseOid), 200, { "content-disposition": 'attachment; filename="PULSE-MIB.txt"' });
    },
  );

  api.openapi(createRoute({ method: "get", path: "/notification-routing-rules", tags: ["Notifications"], summary: "Routing rules", responses: { 200: json(z.object({ items: z.array(RouteSchema) })), ...errorResponses(401) } }), async (c) =>
    c.json({ items: (await listNotificationRoutes(deps, ctxFrom(c))).map(routeJson) }, 200),
  );
  api.openapi(
    createRoute({ method: "post", path: "/notification-routing-rules", tags: ["Notifications"], summary: "Add a routing rule", request: { body: { content: { "application/json": { schema: RouteBody } } } }, responses: { 201: json(RouteSchema, "Created"), ...errorResponses(400, 401, 403) } }),
    async (c) => c.json(routeJson(await saveNotificationRoute(deps, ctxFrom(c), undefined, c.req.valid("json"))), 201),
  );
  api.openapi(
    createRoute({ method: "put", path: "/notification-routing-rules/{id}", tags: ["Notifications"], summary: "Replace a routing rule", request: { params: IdParam, body: { content: { "application/json": { schema: RouteBody } } } }, responses: { 200: json(RouteSchema), ...errorResponses(400, 401, 403, 404) } }),
    async (c) => c.json(routeJson(await saveNotificationRoute(deps, ctxFrom(c), c.req.valid("param").id, c.req.valid("json"))), 200),
  );
  api.openapi(createRoute({ method: "delete", path: "/notification-routing-rules/{id}", tags: ["Notifications"], summary: "Remove a routing rule", request: { params: IdParam }, responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404) } }), async (c) => {
    await deleteNotificationRoute(deps, ctxFrom(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  api.openapi(
    createRoute({
      method: "get",
      path: "/deliveries",
      tags: ["Notifications"],
      summary: "The delivery log, newest first (status=dead for the dead letters)",
      request: {
        query: z.object({
          status: z.enum(["pending", "delivered", "dead"]).optional(),
          channel_id: z.string().uuid().optional(),
          alert_id: z.string().uuid().optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().max(100).optional(),
        }),
      },
      responses: { 200: json(pageOf(DeliverySchema)), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const beforeId = decodeCursor(q.cursor, (v): v is number => Number.isInteger(v));
      const rows = await listNotificationDeliveries(deps, ctxFrom(c), { status: q.status, channelId: q.channel_id, alertId: q.alert_id, beforeId, limit: q.limit });
      const last = rows.at(-1);
      return c.json(
        {
          items: rows.map((r) => ({
            id: r.id,
            channel_id: r.channel_id,
            recipient: r.recipient ? { kind: r.recipient.kind, address: r.recipient.address, user_id: r.recipient.user_id, username: r.recipient.username, contact_method_id: r.recipient.contact_method_id } : null,
            channel_name: r.channel_name,
            channel_type: r.channel_type,
            alert_id: r.alert_id,
            event: r.event,
            idempotency_key: r.idempotency_key,
            status: r.status,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at.toISOString(),
            last_error: r.last_error,
            created_at: r.created_at.toISOString(),
            delivered_at: r.delivered_at?.toISOString() ?? null,
          })),
          next_cursor: rows.length === q.limit && last ? encodeCursor(last.id) : null,
        },
        200,
      );
    },
  );
  api.openapi(
    createRoute({
      method: "get",
      path: "/deliveries/{id}/attempts",
      tags: ["Notifications"],
      summary: "Every attempt of one delivery: status, latency, the receiver's answer, the error",
      request: { params: IdParam },
      responses: { 200: json(z.object({ items: z.array(z.object({ time: z.string(), ok: z.boolean(), status_code: z.number().nullable(), latency_ms: z.number(), response: z.string().nullable(), error: z.string().nullable() })) })), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const rows = await deliveryAttempts(deps, ctxFrom(c), Number(c.req.valid("param").id));
      return c.json({ items: rows.map((r) => ({ ...r, time: r.time.toISOString() })) }, 200);
    },
  );
  api.openapi(
    createRoute({ method: "post", path: "/deliveries/{id}/replay", tags: ["Notifications"], summary: "Send a dead letter again (same idempotency key)", request: { params: IdParam }, responses: { 202: { description: "Queued" }, ...errorResponses(401, 403, 404) } }),
    async (c) => {
      await replayNotification(deps, ctxFrom(c), Number(c.req.valid("param").id));
      return c.body(null, 202);
    },
  );
  void auth;
  return api;
}
