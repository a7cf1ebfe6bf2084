// /api/v1/sites: the tenant's sites; tenant-admins change them, everyone reads.
import { createRoute } from "@hono/zod-openapi";
import { ctxFrom } from "../auth/middleware.ts";
import { apiRouter, decodeCursor, encodeCursor, errorResponses, pageOf, z } from "../http/openapi.ts";
import { createSite, deleteSite, getSite, listSites, updateSite, type Site, type SiteDeps } from "./service.ts";

export const SiteSchema = z
  .object({
    id: z.string().openapi({ example: "lab-1" }),
    name: z.string(),
    timezone: z.string().openapi({ example: "Europe/Berlin" }),
    lat: z.number().nullable(),
    lng: z.number().nullable(),
    address: z.string().nullable(),
    device_count: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Site");

export const siteJson = (s: Site) => ({
  id: s.id,
  name: s.name,
  timezone: s.timezone,
  lat: s.lat,
  lng: s.lng,
  address: s.address,
  device_count: s.deviceCount,
  created_at: s.createdAt.toISOString(),
  updated_at: s.updatedAt.toISOString(),
});

const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, example: "lab-1" }) });
const ok = (description: string) => ({ description, content: { "application/json": { schema: SiteSchema } } });
const Fields = {
  name: z.string().optional(),
  timezone: z.string().optional().openapi({ description: "IANA time zone", example: "Europe/Berlin" }),
  lat: z.number().nullable().optional(),
  lng: z.number().nullable().optional(),
  address: z.string().nullable().optional(),
};

export function sitesApi(deps: SiteDeps) {
  const api = apiRouter();

  api.openapi(
    createRoute({
      method: "get",
      path: "/sites",
      tags: ["Sites"],
      summary: "Your tenant's sites with their device counts, in id order",
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200), cursor: z.string().max(500).optional(), q: z.string().max(200).optional() }) },
      responses: { 200: { description: "Sites", content: { "application/json": { schema: pageOf(SiteSchema) } } }, ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const afterId = decodeCursor(q.cursor, (v): v is string => typeof v === "string");
      const sites = await listSites(deps, ctxFrom(c), { limit: q.limit, afterId, q: q.q });
      const last = sites.at(-1);
      return c.json({ items: sites.map(siteJson), next_cursor: sites.length === q.limit && last ? encodeCursor(last.id) : null }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "post",
      path: "/sites",
      tags: ["Sites"],
      summary: "Create a site (tenant-admin)",
      request: { body: { content: { "application/json": { schema: z.object({ id: z.string().openapi({ example: "lab-1" }), ...Fields }) } } } },
      responses: { 201: ok("Created"), ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => c.json(siteJson(await createSite(deps, ctxFrom(c), c.req.valid("json"))), 201),
  );

  api.openapi(
    createRoute({ method: "get", path: "/sites/{id}", tags: ["Sites"], summary: "One site", request: { params: IdParam }, responses: { 200: ok("The site"), ...errorResponses(401, 403, 404) } }),
    async (c) => c.json(siteJson(await getSite(deps, ctxFrom(c), c.req.valid("param").id)), 200),
  );

  api.openapi(
    createRoute({
      method: "patch",
      path: "/sites/{id}",
      tags: ["Sites"],
      summary: "Change a site (tenant-admin); null clears lat/lng/address",
      request: { params: IdParam, body: { content: { "application/json": { schema: z.object(Fields) } } } },
      responses: { 200: ok("Updated"), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(siteJson(await updateSite(deps, ctxFrom(c), c.req.valid("param").id, c.req.valid("json"))), 200),
  );

  api.openapi(
    createRoute({
      method: "delete",
      path: "/sites/{id}",
      tags: ["Sites"],
      summary: "Delete a site (tenant-admin); 409 while devices belong to it",
      request: { params: IdParam },
      responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      await deleteSite(deps, ctxFrom(c), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
  return api;
}
