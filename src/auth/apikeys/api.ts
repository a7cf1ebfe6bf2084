// /api/v1/api-keys: keys for scripts, managed by tenant-admins.
import { createRoute } from "@hono/zod-openapi";
import type { Auth } from "../index.ts";
import { ctxFrom } from "../middleware.ts";
import { apiRouter, errorResponses, z } from "../../http/openapi.ts";
import { createApiKey, listApiKeys, revokeApiKey, type ApiKey } from "./service.ts";

const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    role: z.enum(["customer", "tenant-admin"]),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi("ApiKey");

const json = (k: ApiKey) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  role: k.role,
  created_at: k.createdAt.toISOString(),
  expires_at: k.expiresAt?.toISOString() ?? null,
  last_used_at: k.lastUsedAt?.toISOString() ?? null,
  revoked_at: k.revokedAt?.toISOString() ?? null,
});

export function apiKeysApi(auth: Auth) {
  const api = apiRouter();
  api.openapi(
    createRoute({ method: "get", path: "/api-keys", tags: ["API keys"], summary: "Your tenant's API keys", responses: { 200: { description: "Keys", content: { "application/json": { schema: z.object({ items: z.array(KeySchema) }) } } }, ...errorResponses(401, 403) } }),
    async (c) => c.json({ items: (await listApiKeys(auth.apikeys, ctxFrom(c))).map(json) }, 200),
  );
  api.openapi(
    createRoute({
      method: "post",
      path: "/api-keys",
      tags: ["API keys"],
      summary: "Create an API key; the key is in the answer once and never again",
      request: {
        body: {
          content: {
            "application/json": {
              schema: z.object({ name: z.string(), role: z.enum(["customer", "tenant-admin"]), expires_in_days: z.number().int().min(1).max(3650).optional() }),
            },
          },
        },
      },
      responses: { 201: { description: "Created", content: { "application/json": { schema: KeySchema.extend({ key: z.string().openapi({ description: "Shown once" }) }) } } }, ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const { key, secret } = await createApiKey(auth.apikeys, ctxFrom(c), { name: b.name, role: b.role, expiresInDays: b.expires_in_days });
      c.header("Cache-Control", "no-store");
      return c.json({ ...json(key), key: secret }, 201);
    },
  );
  api.openapi(
    createRoute({
      method: "delete",
      path: "/api-keys/{id}",
      tags: ["API keys"],
      summary: "Revoke an API key (immediately)",
      request: { params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }) },
      responses: { 200: { description: "Revoked", content: { "application/json": { schema: KeySchema } } }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(json(await revokeApiKey(auth.apikeys, ctxFrom(c), c.req.valid("param").id)), 200),
  );
  return api;
}
