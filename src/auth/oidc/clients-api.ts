// /api/v1/oauth-clients: a tenant's registered OAuth/OpenID clients.
import { createRoute } from "@hono/zod-openapi";
import type { Auth } from "../index.ts";
import { ctxFrom } from "../middleware.ts";
import { apiRouter, errorResponses, z } from "../../http/openapi.ts";
import { createClient, deleteClient, listClients, type OAuthClient } from "./clients.ts";

const ClientSchema = z
  .object({ client_id: z.string(), name: z.string(), confidential: z.boolean(), redirect_uris: z.array(z.string()), post_logout_redirect_uris: z.array(z.string()), created_at: z.string() })
  .openapi("OAuthClient");

const json = (c: OAuthClient) => ({
  client_id: c.id,
  name: c.name,
  confidential: c.confidential,
  redirect_uris: c.redirectUris,
  post_logout_redirect_uris: c.postLogoutRedirectUris,
  created_at: c.createdAt.toISOString(),
});

export function oauthClientsApi(auth: Auth) {
  const api = apiRouter();
  const deps = { db: auth.db, clock: auth.clock };
  api.openapi(
    createRoute({ method: "get", path: "/oauth-clients", tags: ["Identity"], summary: "Your tenant's OAuth clients", responses: { 200: { description: "Clients", content: { "application/json": { schema: z.object({ items: z.array(ClientSchema) }) } } }, ...errorResponses(401, 403) } }),
    async (c) => c.json({ items: (await listClients(deps, ctxFrom(c))).map(json) }, 200),
  );
  api.openapi(
    createRoute({
      method: "post",
      path: "/oauth-clients",
      tags: ["Identity"],
      summary: "Register an OAuth client for your tenant; a confidential client's secret is in the answer once",
      request: {
        body: {
          content: {
            "application/json": {
              schema: z.object({
                name: z.string(),
                redirect_uris: z.array(z.string()).min(1).max(10),
                post_logout_redirect_uris: z.array(z.string()).max(10).optional(),
                confidential: z.boolean().default(false),
              }),
            },
          },
        },
      },
      responses: { 201: { description: "Registered", content: { "application/json": { schema: ClientSchema.extend({ client_secret: z.string().optional() }) } } }, ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const { client, secret } = await createClient(deps, ctxFrom(c), { name: b.name, redirectUris: b.redirect_uris, postLogoutRedirectUris: b.post_logout_redirect_uris, confidential: b.confidential });
      c.header("Cache-Control", "no-store");
      return c.json({ ...json(client), ...(secret ? { client_secret: secret } : {}) }, 201);
    },
  );
  api.openapi(
    createRoute({
      method: "delete",
      path: "/oauth-clients/{id}",
      tags: ["Identity"],
      summary: "Remove a client; its refresh tokens stop working",
      request: { params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }) },
      responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      await deleteClient(deps, ctxFrom(c), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
  return api;
}
