// /api/v1/escalation-policies and /api/v1/oncall/dry-run.
import { createRoute } from "@hono/zod-openapi";
import { ctxFrom } from "../auth/middleware.ts";
import { apiRouter, errorResponses, z } from "../http/openapi.ts";
import { dryRunPaging } from "./dry-run.ts";
import { deleteEscalationPolicy, getEscalationPolicy, listEscalationPolicies, saveEscalationPolicy, type EscalationDeps, type Policy } from "./service.ts";

const json = <T extends z.ZodTypeAny>(schema: T, description = "OK") => ({ description, content: { "application/json": { schema } } });
const Id = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });

const TargetSchema = z
  .union([
    z.object({ type: z.literal("user"), user_id: z.string(), username: z.string().nullable() }),
    z.object({ type: z.literal("schedule"), schedule_id: z.string(), name: z.string().nullable() }),
    z.object({ type: z.literal("channel"), channel_id: z.string(), name: z.string().nullable() }),
    z.object({ type: z.literal("webhook"), id: z.string(), url: z.string().openapi({ description: "Scheme and host only" }) }),
  ])
  .openapi("EscalationTarget");
const PolicySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    repeat_count: z.number().openapi({ description: "Run the policy again this many times while nobody acknowledges" }),
    repeat_delay_minutes: z.number().openapi({ description: "Wait after the last level before running again" }),
    is_tenant_default: z.boolean(),
    levels: z.array(z.object({ level: z.number(), delay_minutes: z.number().openapi({ description: "Level 1: after the alert opened; others: after the previous level" }), targets: z.array(TargetSchema) })),
    used_by: z.array(z.string()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("EscalationPolicy");
const policyJson = (p: Policy) => ({ ...p, created_at: p.created_at.toISOString(), updated_at: p.updated_at.toISOString() });
const PolicyBody = z
  .object({
    name: z.string().optional(),
    repeat_count: z.number().optional(),
    repeat_delay_minutes: z.number().optional(),
    is_tenant_default: z.boolean().optional(),
    levels: z
      .array(z.object({ delay_minutes: z.number().optional(), targets: z.array(z.record(z.string(), z.unknown())).optional() }))
      .optional()
      .openapi({
        description:
          'Up to 5 levels. Targets: {"type": "user", "user_id"}, {"type": "schedule", "schedule_id"}, {"type": "channel", "channel_id"}, {"type": "webhook", "url", "secret"?} — or {"type": "webhook", "id"} to keep one of this policy\'s webhooks',
      }),
  })
  .openapi("EscalationPolicyInput");

const DryRunSchema = z.object({
  at: z.string(),
  alert: z.object({ severity: z.string(), device_id: z.string(), site_id: z.string().nullable(), type: z.string(), rule_id: z.string().nullable() }),
  routing: z.array(z.object({ route_id: z.string(), route_name: z.string(), channel_id: z.string(), channel_type: z.string() })),
  policy: z.object({ id: z.string(), name: z.string(), repeat_count: z.number(), repeat_delay_minutes: z.number() }).nullable(),
  levels: z.array(
    z.object({
      level: z.number(),
      at: z.string(),
      delay_minutes: z.number(),
      targets: z.array(z.object({ target: z.object({ type: z.string(), id: z.string() }), who: z.string(), on_call_for: z.string().nullable(), skipped: z.string().nullable(), message: z.string(), via: z.array(z.record(z.string(), z.string())) })),
    }),
  ),
});

export function escalationApi(deps: EscalationDeps) {
  const api = apiRouter();
  const tags = ["Escalation"];
  api.openapi(createRoute({ method: "get", path: "/escalation-policies", tags, summary: "Escalation policies", responses: { 200: json(z.object({ items: z.array(PolicySchema) })), ...errorResponses(401) } }), async (c) =>
    c.json({ items: (await listEscalationPolicies(deps, ctxFrom(c))).map(policyJson) }, 200),
  );
  api.openapi(
    createRoute({ method: "post", path: "/escalation-policies", tags, summary: "Create a policy", request: { body: { content: { "application/json": { schema: PolicyBody } } } }, responses: { 201: json(PolicySchema, "Created"), ...errorResponses(400, 401, 403, 409) } }),
    async (c) => c.json(policyJson(await saveEscalationPolicy(deps, ctxFrom(c), undefined, c.req.valid("json"))), 201),
  );
  api.openapi(createRoute({ method: "get", path: "/escalation-policies/{id}", tags, summary: "One policy", request: { params: Id }, responses: { 200: json(PolicySchema), ...errorResponses(401, 404) } }), async (c) =>
    c.json(policyJson(await getEscalationPolicy(deps, ctxFrom(c), c.req.valid("param").id)), 200),
  );
  api.openapi(
    createRoute({ method: "put", path: "/escalation-policies/{id}", tags, summary: "Replace a policy and its levels (alerts escalating under it follow the new levels)", request: { params: Id, body: { content: { "application/json": { schema: PolicyBody } } } }, responses: { 200: json(PolicySchema), ...errorResponses(400, 401, 403, 404, 409) } }),
    async (c) => c.json(policyJson(await saveEscalationPolicy(deps, ctxFrom(c), c.req.valid("param").id, c.req.valid("json"))), 200),
  );
  api.openapi(createRoute({ method: "delete", path: "/escalation-policies/{id}", tags, summary: "Delete a policy no rule uses", request: { params: Id }, responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) } }), async (c) => {
    await deleteEscalationPolicy(deps, ctxFrom(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  api.openapi(
    createRoute({
      method: "post",
      path: "/oncall/dry-run",
      tags: ["On-call", "Escalation"],
      summary: "Who would be paged now for an alert of this severity on this device: routing, policy, and each level's people and contact methods (nothing is sent)",
      request: { body: { content: { "application/json": { schema: z.object({ severity: z.string(), device_id: z.string(), type: z.string().optional(), rule_id: z.string().optional() }) } } } },
      responses: { 200: json(DryRunSchema), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const r = await dryRunPaging(deps, ctxFrom(c), c.req.valid("json"));
      return c.json(
        {
          at: r.at.toISOString(),
          alert: r.alert,
          routing: r.routing,
          policy: r.policy,
          levels: r.levels.map((l) => ({ level: l.level, at: l.at.toISOString(), delay_minutes: l.delay_minutes, targets: l.targets.map((t) => ({ target: t.target, who: t.who, on_call_for: t.onCallFor, skipped: t.skipped, message: t.message, via: t.via as Array<Record<string, string>> })) })),
        },
        200,
      );
    },
  );
  return api;
}
