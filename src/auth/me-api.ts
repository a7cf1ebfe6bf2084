// /api/v1/me: who the credentials belong to, in which tenant, with which role.
import { createRoute } from "@hono/zod-openapi";
import type { Auth } from "./index.ts";
import { principalOf } from "./middleware.ts";
import { roleOf } from "./principal.ts";
import { userTenants } from "./users/service.ts";
import { csrfToken } from "./sessions/service.ts";
import { apiRouter, errorResponses, z } from "../http/openapi.ts";

const MeSchema = z
  .object({
    kind: z.enum(["user", "apikey"]),
    id: z.string(),
    name: z.string(),
    tenant_id: z.string().nullable(),
    role: z.string().nullable(),
    platform_role: z.string().nullable(),
    via: z.enum(["session", "token", "apikey"]),
    tenants: z.array(z.object({ id: z.string(), name: z.string(), role: z.string() })),
    csrf_token: z.string().optional().openapi({ description: "With a session cookie: send it as X-CSRF-Token on changes" }),
  })
  .openapi("Me");

export function meApi(auth: Auth) {
  const api = apiRouter();
  api.openapi(
    createRoute({ method: "get", path: "/me", tags: ["Identity"], summary: "The identity behind these credentials", responses: { 200: { description: "You", content: { "application/json": { schema: MeSchema } } }, ...errorResponses(401) } }),
    async (c) => {
      const p = principalOf(c);
      const tenants = p.kind === "user" ? (await userTenants({ db: auth.db, clock: auth.clock }, p.id)).map((m) => ({ id: m.tenant_id, name: m.tenant_name, role: m.role })) : [];
      const csrf = p.sessionIdHash ? await csrfToken(auth.sessions, p.sessionIdHash) : undefined;
      return c.json({ kind: p.kind, id: p.id, name: p.name, tenant_id: p.tenantId, role: roleOf(p), platform_role: p.platformRole, via: p.via, tenants, ...(csrf ? { csrf_token: csrf } : {}) }, 200);
    },
  );
  return api;
}
