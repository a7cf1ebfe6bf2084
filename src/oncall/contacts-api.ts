// /api/v1/me/contact-methods: how you are paged in the tenant you work in.
import { createRoute } from "@hono/zod-openapi";
import { ctxFrom } from "../auth/middleware.ts";
import { apiRouter, errorResponses, z } from "../http/openapi.ts";
import { addMyContactMethod, deleteMyContactMethod, listMyContactMethods, updateMyContactMethod, type ContactDeps, type ContactMethodRow } from "./contacts.ts";

const json = <T extends z.ZodTypeAny>(schema: T, description = "OK") => ({ description, content: { "application/json": { schema } } });
const Id = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });

const MethodSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["email", "slack", "teams", "webhook"]),
    address: z.string().openapi({ description: "The email address, or the URL's scheme and host (the rest is secret)" }),
    min_severity: z.enum(["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"]).openapi({ description: "The least severe alert this method is used for" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("ContactMethod");
const methodJson = (m: ContactMethodRow) => ({ id: m.id, kind: m.kind, address: m.address, min_severity: m.min_severity, created_at: m.created_at.toISOString(), updated_at: m.updated_at.toISOString() });
const MethodBody = z
  .object({
    kind: z.string().optional(),
    address: z.string().optional().openapi({ description: "email: the address" }),
    url: z.string().optional().openapi({ description: "slack, teams: the incoming webhook URL; webhook: the receiver's URL" }),
    secret: z.string().optional().openapi({ description: "webhook: a Standard Webhooks secret (whsec_…); generated and shown once when left out" }),
    min_severity: z.string().optional(),
  })
  .openapi("ContactMethodInput");

export function contactMethodsApi(deps: ContactDeps) {
  const api = apiRouter();
  const tags = ["On-call"];
  api.openapi(createRoute({ method: "get", path: "/me/contact-methods", tags, summary: "How you are paged (without any: at your account's email)", responses: { 200: json(z.object({ items: z.array(MethodSchema) })), ...errorResponses(400, 401) } }), async (c) =>
    c.json({ items: (await listMyContactMethods(deps, ctxFrom(c))).map(methodJson) }, 200),
  );
  api.openapi(
    createRoute({ method: "post", path: "/me/contact-methods", tags, summary: "Add a way to page you", request: { body: { content: { "application/json": { schema: MethodBody } } } }, responses: { 201: json(MethodSchema.extend({ signing_secret: z.string().optional() }), "Created"), ...errorResponses(400, 401) } }),
    async (c) => {
      const r = await addMyContactMethod(deps, ctxFrom(c), c.req.valid("json"));
      return c.json({ ...methodJson(r.method), ...(r.signingSecret ? { signing_secret: r.signingSecret } : {}) }, 201);
    },
  );
  api.openapi(
    createRoute({ method: "patch", path: "/me/contact-methods/{id}", tags, summary: "Change the minimum severity or the address of one", request: { params: Id, body: { content: { "application/json": { schema: MethodBody } } } }, responses: { 200: json(MethodSchema), ...errorResponses(400, 401, 404) } }),
    async (c) => c.json(methodJson(await updateMyContactMethod(deps, ctxFrom(c), c.req.valid("param").id, c.req.valid("json"))), 200),
  );
  api.openapi(createRoute({ method: "delete", path: "/me/contact-methods/{id}", tags, summary: "Remove one", request: { params: Id }, responses: { 204: { description: "Removed" }, ...errorResponses(401, 404) } }), async (c) => {
    await deleteMyContactMethod(deps, ctxFrom(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  return api;
}
