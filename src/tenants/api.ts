// /api/v1/tenants: operator-admins manage tenants; others see their own.
import { createRoute } from "@hono/zod-openapi";
import type { Auth } from "../auth/index.ts";
import { callerFrom } from "../auth/middleware.ts";
import { apiRouter, errorResponses, z } from "../http/openapi.ts";
import { changeTenantStatus, createTenant, getTenant, listTenants, updateTenantDetails, type Tenant } from "./service.ts";

const TenantSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(["ACTIVE", "SUSPENDED", "DELETED"]),
    timezone: z.string(),
    created_at: z.string(),
    suspended_at: z.string().nullable(),
    deleted_at: z.string().nullable(),
    purge_after: z.string().nullable(),
    heartbeat_seconds: z.number().int().openapi({ description: "Default seconds between device heartbeats" }),
    device_limit: z.number().int().nullable().openapi({ description: "Most devices (not decommissioned); null = no limit" }),
  })
  .openapi("Tenant");

const json = (t: Tenant) => ({
  id: t.id,
  name: t.name,
  status: t.status,
  timezone: t.timezone,
  created_at: t.createdAt.toISOString(),
  suspended_at: t.suspendedAt?.toISOString() ?? null,
  deleted_at: t.deletedAt?.toISOString() ?? null,
  purge_after: t.purgeAfter?.toISOString() ?? null,
  heartbeat_seconds: t.heartbeatSeconds,
  device_limit: t.deviceLimit,
});

const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, example: "acme" }) });
const ok = (description: string) => ({ description, content: { "application/json": { schema: TenantSchema } } });

export function tenantsApi(auth: Auth) {
  const api = apiRouter();
  const deps = { db: auth.db, clock: auth.clock };

  api.openapi(
    createRoute({
      method: "get",
      path: "/tenants",
      tags: ["Tenants"],
      summary: "List tenants (all for operators, your own otherwise)",
      request: { query: z.object({ include_deleted: z.enum(["true", "false"]).optional() }) },
      responses: { 200: { description: "Tenants", content: { "application/json": { schema: z.object({ items: z.array(TenantSchema) }) } } }, ...errorResponses(401) },
    }),
    async (c) => c.json({ items: (await listTenants(deps, callerFrom(c), { includeDeleted: c.req.valid("query").include_deleted === "true" })).map(json) }, 200),
  );

  api.openapi(
    createRoute({
      method: "post",
      path: "/tenants",
      tags: ["Tenants"],
      summary: "Create a tenant (operator-admin)",
      request: {
        body: {
          content: {
            "application/json": {
              schema: z.object({ id: z.string().openapi({ example: "acme" }), name: z.string().optional(), timezone: z.string().optional().openapi({ example: "Europe/Berlin" }) }),
            },
          },
        },
      },
      responses: { 201: ok("Created"), ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => c.json(json(await createTenant(deps, callerFrom(c), c.req.valid("json"))), 201),
  );

  api.openapi(
    createRoute({ method: "get", path: "/tenants/{id}", tags: ["Tenants"], summary: "Get a tenant", request: { params: IdParam }, responses: { 200: ok("The tenant"), ...errorResponses(401, 404) } }),
    async (c) => c.json(json(await getTenant(deps, callerFrom(c), c.req.valid("param").id)), 200),
  );

  api.openapi(
    createRoute({
      method: "patch",
      path: "/tenants/{id}",
      tags: ["Tenants"],
      summary: "Rename a tenant, change its time zone or devices' default heartbeat; set its device limit (operator-admin)",
      request: {
        params: IdParam,
        body: {
          content: {
            "application/json": {
              schema: z.object({
                name: z.string().optional(),
                timezone: z.string().optional(),
                heartbeat_seconds: z.number().int().optional(),
                device_limit: z.number().int().nullable().optional(),
              }),
            },
          },
        },
      },
      responses: { 200: ok("Updated"), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const input = { name: b.name, timezone: b.timezone, heartbeatSeconds: b.heartbeat_seconds, deviceLimit: b.device_limit };
      return c.json(json(await updateTenantDetails(deps, callerFrom(c), c.req.valid("param").id, input)), 200);
    },
  );

  for (const action of ["suspend", "resume", "restore"] as const) {
    api.openapi(
      createRoute({
        method: "post",
        path: `/tenants/{id}/${action}`,
        tags: ["Tenants"],
        summary: `${action[0]!.toUpperCase()}${action.slice(1)} a tenant (operator-admin)`,
        request: { params: IdParam },
        responses: { 200: ok("Updated"), ...errorResponses(401, 403, 404, 409) },
      }),
      async (c) => c.json(json(await changeTenantStatus(deps, callerFrom(c), c.req.valid("param").id, action)), 200),
    );
  }

  api.openapi(
    createRoute({
      method: "delete",
      path: "/tenants/{id}",
      tags: ["Tenants"],
      summary: "Delete a tenant: refused immediately for sign-ins and data, purged after 30 days unless restored (operator-admin)",
      request: { params: IdParam },
      responses: { 200: ok("Marked deleted"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => c.json(json(await changeTenantStatus(deps, callerFrom(c), c.req.valid("param").id, "delete")), 200),
  );
  return api;
}
