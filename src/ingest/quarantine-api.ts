// /api/v1/quarantine: messages ingest refused (newest first, with the reason
// code and the start of the payload, tokens masked) and the counts per
// reason. A tenant's people see their tenant; operators see every tenant.
import { createRoute } from "@hono/zod-openapi";
import { callerFrom } from "../auth/middleware.ts";
import { apiRouter, errorResponses, pageOf, z } from "../http/openapi.ts";
import { REASONS } from "./parse.ts";
import { listQuarantined, listRejectionCountsOf, type QuarantineDeps } from "./quarantine-read.ts";

const Time = z.string().datetime({ offset: true });

const MessageSchema = z
  .object({
    id: z.number().int(),
    tenant_id: z.string().nullable().openapi({ description: "null: the message named a tenant that does not exist (operators only)" }),
    device_id: z.string().nullable(),
    time: z.string(),
    reason: z.string().openapi({ example: "TOKEN_INVALID" }),
    transport: z.enum(["mqtt", "http"]),
    topic: z.string().nullable().openapi({ description: "MQTT topic or HTTP path" }),
    detail: z.string().nullable(),
    payload: z.string().nullable().openapi({ description: "The first 2 KiB as received; provision tokens are masked" }),
  })
  .openapi("QuarantinedMessage");

const CountSchema = z.object({ tenant_id: z.string(), reason: z.string(), count: z.number().int(), last_at: z.string() }).openapi("RejectionCount");

export function quarantineApi(deps: QuarantineDeps) {
  const api = apiRouter();

  api.openapi(
    createRoute({
      method: "get",
      path: "/quarantine",
      tags: ["Ingest"],
      summary: "Rejected messages, newest first",
      description: "Each tenant keeps its newest 1,000. Operators see every tenant (and messages for unknown tenants); `tenant_id` narrows that (empty = unknown tenants).",
      request: {
        query: z.object({
          reason: z.enum(REASONS).optional(),
          device_id: z.string().max(200).optional(),
          from: Time.optional(),
          to: Time.optional(),
          tenant_id: z.string().max(64).optional().openapi({ description: "Operators only" }),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().max(500).optional(),
        }),
      },
      responses: { 200: { description: "Rejected messages", content: { "application/json": { schema: pageOf(MessageSchema) } } }, ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const page = await listQuarantined(deps, callerFrom(c), {
        reason: q.reason,
        deviceId: q.device_id,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        tenantId: q.tenant_id,
        limit: q.limit,
        cursor: q.cursor,
      });
      return c.json(
        {
          items: page.items.map((m) => ({
            id: m.id,
            tenant_id: m.tenantId,
            device_id: m.deviceId,
            time: m.time.toISOString(),
            reason: m.reason,
            transport: m.transport as "mqtt" | "http",
            topic: m.topic,
            detail: m.detail,
            payload: m.payload,
          })),
          next_cursor: page.nextCursor,
        },
        200,
      );
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/quarantine/counts",
      tags: ["Ingest"],
      summary: "Rejected messages counted per tenant and reason since the start",
      request: { query: z.object({ tenant_id: z.string().max(64).optional().openapi({ description: "Operators only" }) }) },
      responses: { 200: { description: "Counts", content: { "application/json": { schema: z.object({ items: z.array(CountSchema) }) } } }, ...errorResponses(401, 403) },
    }),
    async (c) => {
      const counts = await listRejectionCountsOf(deps, callerFrom(c), { tenantId: c.req.valid("query").tenant_id });
      return c.json({ items: counts.map((r) => ({ tenant_id: r.tenantId, reason: r.reason, count: r.count, last_at: r.lastAt.toISOString() })) }, 200);
    },
  );
  return api;
}
