// /api/v1/identity-providers: upstream OpenID providers people sign in with.
import { createRoute } from "@hono/zod-openapi";
import type { Auth } from "../index.ts";
import { callerFrom } from "../middleware.ts";
import { apiRouter, errorResponses, z } from "../../http/openapi.ts";
import { createProvider, deleteIdentityProvider, listIdentityProviders, updateIdentityProvider, type IdentityProvider, type ProviderInput } from "./service.ts";

const Rule = z.object({
  claim: z.string().openapi({ example: "groups" }),
  equals: z.string().openapi({ example: "pulse-admins" }),
  tenant: z.string().optional().openapi({ description: "Platform providers: the tenant this rule grants a role in" }),
  role: z.enum(["customer", "tenant-admin"]).optional(),
  platform_role: z.enum(["operator", "operator-admin"]).optional(),
});

const ProviderSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    tenant_id: z.string().nullable(),
    issuer: z.string(),
    client_id: z.string(),
    has_client_secret: z.boolean(),
    scopes: z.string(),
    mappings: z.array(Rule),
    default_role: z.enum(["customer", "tenant-admin"]).nullable(),
    jit: z.boolean(),
    enabled: z.boolean(),
  })
  .openapi("IdentityProvider");

const Body = z.object({
  slug: z.string().optional(),
  name: z.string().optional(),
  issuer: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional().openapi({ description: "Stored encrypted; never returned" }),
  scopes: z.string().optional(),
  mappings: z.array(Rule).optional(),
  default_role: z.enum(["customer", "tenant-admin"]).nullable().optional(),
  jit: z.boolean().optional(),
  enabled: z.boolean().optional(),
  scope: z.enum(["tenant", "platform"]).optional().openapi({ description: "platform: for every tenant (operator-admin)" }),
});

const json = (p: IdentityProvider) => ({
  id: p.id,
  slug: p.slug,
  name: p.name,
  tenant_id: p.tenantId,
  issuer: p.issuer,
  client_id: p.clientId,
  has_client_secret: p.hasSecret,
  scopes: p.scopes,
  mappings: p.mappings,
  default_role: p.defaultRole,
  jit: p.jit,
  enabled: p.enabled,
});

const input = (b: z.infer<typeof Body>): ProviderInput => ({
  slug: b.slug,
  name: b.name,
  issuer: b.issuer,
  clientId: b.client_id,
  clientSecret: b.client_secret,
  scopes: b.scopes,
  mappings: b.mappings,
  defaultRole: b.default_role,
  jit: b.jit,
  enabled: b.enabled,
  scope: b.scope,
});

const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });

export function identityProvidersApi(auth: Auth) {
  const api = apiRouter();
  const deps = auth.federation;
  api.openapi(
    createRoute({ method: "get", path: "/identity-providers", tags: ["Identity"], summary: "Identity providers you manage", responses: { 200: { description: "Providers", content: { "application/json": { schema: z.object({ items: z.array(ProviderSchema) }) } } }, ...errorResponses(401, 403) } }),
    async (c) => c.json({ items: (await listIdentityProviders(deps, callerFrom(c))).map(json) }, 200),
  );
  api.openapi(
    createRoute({
      method: "post",
      path: "/identity-providers",
      tags: ["Identity"],
      summary: "Add an upstream OpenID Connect provider (its discovery document must be reachable)",
      request: { body: { content: { "application/json": { schema: Body } } } },
      responses: { 201: { description: "Added", content: { "application/json": { schema: ProviderSchema } } }, ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => c.json(json(await createProvider(deps, callerFrom(c), input(c.req.valid("json")))), 201),
  );
  api.openapi(
    createRoute({
      method: "patch",
      path: "/identity-providers/{id}",
      tags: ["Identity"],
      summary: "Change a provider",
      request: { params: IdParam, body: { content: { "application/json": { schema: Body.omit({ slug: true, scope: true }) } } } },
      responses: { 200: { description: "Changed", content: { "application/json": { schema: ProviderSchema } } }, ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(json(await updateIdentityProvider(deps, callerFrom(c), c.req.valid("param").id, input(c.req.valid("json")))), 200),
  );
  api.openapi(
    createRoute({ method: "delete", path: "/identity-providers/{id}", tags: ["Identity"], summary: "Remove a provider (people it created keep their accounts)", request: { params: IdParam }, responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404) } }),
    async (c) => {
      await deleteIdentityProvider(deps, callerFrom(c), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
  return api;
}
