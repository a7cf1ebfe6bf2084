// /api/v1/alert-rules, /api/v1/heartbeat-rules, /api/v1/alerts (+ actions),
// /api/v1/maintenance-windows.
import { createRoute } from "@hono/zod-openapi";
import type { Auth } from "../auth/index.ts";
import { ctxFrom } from "../auth/middleware.ts";
import { apiRouter, decodeCursor, encodeCursor, errorResponses, pageOf, z } from "../http/openapi.ts";
import type { AlertBus } from "./bus.ts";
import { OPERATORS, SEVERITIES } from "./evaluate.ts";
import { deleteMaintenanceWindow, listMaintenanceWindows, saveMaintenanceWindow, type MaintenanceWindow } from "./maintenance.ts";
import { createAlertRule, deleteAlertRule, deleteHeartbeatPolicy, getAlertRule, listAlertRules, listHeartbeatPolicies, previewRule, saveHeartbeatPolicy, updateAlertRule, type Rule, type RuleInput } from "./rules.ts";
import { actOnAlerts, activeAlertCounts, getAlertWithTimeline, listTenantAlerts, type AlertAction } from "./service.ts";
import type { AlertRow } from "./store.ts";
import type { HeartbeatRuleRow } from "./windows-store.ts";

const Severity = z.enum(SEVERITIES);
const ScopeSchema = z
  .object({ sites: z.array(z.string()).optional(), tags: z.record(z.string(), z.string()).optional(), devices: z.array(z.string()).optional() })
  .openapi("Scope", { description: "Empty: every device. Otherwise every given criterion must match." });

const RuleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    rule_type: z.literal("THRESHOLD"),
    metric_name: z.string(),
    normalized: z.boolean(),
    operator: z.enum(OPERATORS),
    threshold: z.union([z.number(), z.boolean(), z.string()]),
    clear_threshold: z.number().nullable(),
    duration_seconds: z.number(),
    severity: Severity,
    severity_level: z.number().openapi({ description: "1 (CRITICAL) to 5 (INFO)" }),
    scope: ScopeSchema,
    enabled: z.boolean(),
    auto_close: z.boolean(),
    reopen_window_seconds: z.number(),
    escalation_policy_id: z.string().nullable(),
    metric_unseen: z.boolean().openapi({ description: "No device has sent this metric yet" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("AlertRule");

const RuleBody = z.object({
  name: z.string().optional(),
  rule_type: z.string().optional(),
  metric_name: z.string().optional(),
  normalized: z.boolean().optional(),
  operator: z.string().optional(),
  threshold: z.union([z.number(), z.boolean(), z.string()]).optional(),
  clear_threshold: z.number().nullable().optional(),
  duration_seconds: z.number().optional(),
  severity: z.string().optional(),
  scope: z.record(z.string(), z.unknown()).optional(),
  enabled: z.boolean().optional(),
  auto_close: z.boolean().optional(),
  reopen_window_seconds: z.number().optional(),
  escalation_policy_id: z.string().nullable().optional(),
});

const LEVEL = { CRITICAL: 1, HIGH: 2, MEDIUM: 3, LOW: 4, INFO: 5 } as const;

const ruleJson = (r: Rule) => ({
  id: r.id,
  name: r.name,
  rule_type: r.rule_type,
  metric_name: r.metric_name,
  normalized: r.normalized,
  operator: r.operator,
  threshold: r.threshold,
  clear_threshold: r.clear_threshold,
  duration_seconds: r.duration_seconds,
  severity: r.severity,
  severity_level: LEVEL[r.severity],
  scope: r.scope,
  enabled: r.enabled,
  auto_close: r.auto_close,
  reopen_window_seconds: r.reopen_window_seconds,
  escalation_policy_id: r.escalation_policy_id,
  metric_unseen: r.metricUnseen,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

const ruleInput = (b: z.infer<typeof RuleBody>): RuleInput => ({
  name: b.name,
  ruleType: b.rule_type,
  metricName: b.metric_name,
  normalized: b.normalized,
  operator: b.operator,
  threshold: b.threshold,
  clearThreshold: b.clear_threshold,
  durationSeconds: b.duration_seconds,
  severity: b.severity,
  scope: b.scope,
  enabled: b.enabled,
  autoClose: b.auto_close,
  reopenWindowSeconds: b.reopen_window_seconds,
  escalationPolicyId: b.escalation_policy_id,
});

const AlertSchema = z
  .object({
    id: z.string(),
    fingerprint: z.string(),
    alert_type: z.enum(["THRESHOLD", "NO_HEARTBEAT"]),
    rule_id: z.string().nullable(),
    device_id: z.string(),
    site_id: z.string().nullable(),
    severity: Severity,
    status: z.enum(["OPEN", "ACKNOWLEDGED", "CLOSED"]),
    summary: z.string(),
    metric_name: z.string().nullable(),
    last_value: z.unknown(),
    trigger_count: z.number(),
    opened_at: z.string(),
    last_triggered_at: z.string(),
    acknowledged_at: z.string().nullable(),
    acknowledged_by: z.string().nullable(),
    closed_at: z.string().nullable(),
    closed_by: z.string().nullable(),
    close_reason: z.string().nullable(),
    silenced_until: z.string().nullable(),
    suppressed: z.boolean(),
  })
  .openapi("Alert");

const iso = (d: Date | null) => d?.toISOString() ?? null;
export const alertJson = (a: AlertRow) => ({
  id: a.id,
  fingerprint: a.fingerprint,
  alert_type: a.alert_type,
  rule_id: a.rule_id,
  device_id: a.device_id,
  site_id: a.site_id,
  severity: a.severity,
  status: a.status,
  summary: a.summary,
  metric_name: a.metric_name,
  last_value: a.last_value,
  trigger_count: a.trigger_count,
  opened_at: a.opened_at.toISOString(),
  last_triggered_at: a.last_triggered_at.toISOString(),
  acknowledged_at: iso(a.acknowledged_at),
  acknowledged_by: a.acknowledged_by,
  closed_at: iso(a.closed_at),
  closed_by: a.closed_by,
  close_reason: a.close_reason,
  silenced_until: iso(a.silenced_until),
  suppressed: a.suppressed,
});

const WindowSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: ScopeSchema,
    starts_at: z.string(),
    ends_at: z.string().nullable(),
    recurrence: z
      .object({ freq: z.enum(["daily", "weekly"]), days: z.array(z.string()).optional(), start: z.string(), duration_minutes: z.number(), timezone: z.string() })
      .nullable(),
    active_now: z.object({ start: z.string(), end: z.string().nullable() }).nullable(),
  })
  .openapi("MaintenanceWindow");

const windowJson = (w: MaintenanceWindow) => ({
  id: w.id,
  name: w.name,
  scope: w.scope,
  starts_at: w.starts_at.toISOString(),
  ends_at: iso(w.ends_at),
  recurrence: w.recurrence ? { freq: w.recurrence.freq, ...(w.recurrence.days ? { days: w.recurrence.days } : {}), start: w.recurrence.start, duration_minutes: w.recurrence.durationMinutes, timezone: w.recurrence.timezone } : null,
  active_now: w.activeNow ? { start: w.activeNow.start.toISOString(), end: iso(w.activeNow.end) } : null,
});

const WindowBody = z.object({
  name: z.string(),
  scope: z.record(z.string(), z.unknown()).optional(),
  starts_at: z.string(),
  ends_at: z.string().nullable().optional(),
  recurrence: z.record(z.string(), z.unknown()).nullable().optional(),
});

const HeartbeatSchema = z
  .object({ id: z.string(), name: z.string(), scope: ScopeSchema, grace_seconds: z.number(), severity: Severity, enabled: z.boolean(), auto_close: z.boolean(), escalation_policy_id: z.string().nullable() })
  .openapi("HeartbeatRule");
const heartbeatJson = (h: HeartbeatRuleRow) => ({ id: h.id, name: h.name, scope: h.scope, grace_seconds: h.grace_seconds, severity: h.severity, enabled: h.enabled, auto_close: h.auto_close, escalation_policy_id: h.escalation_policy_id });
const HeartbeatBody = z.object({
  name: z.string(),
  scope: z.record(z.string(), z.unknown()).optional(),
  grace_seconds: z.number().optional(),
  severity: z.string().optional(),
  enabled: z.boolean().optional(),
  auto_close: z.boolean().optional(),
  escalation_policy_id: z.string().nullable().optional(),
});

const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const json = <T extends z.ZodTypeAny>(schema: T, description = "OK") => ({ description, content: { "application/json": { schema } } });

export function alertsApi(auth: Auth, bus: AlertBus, onError: (err: unknown) => void) {
  const api = apiRouter();
  const deps = { db: auth.db, clock: auth.clock, bus, onError };

  // Rules
  api.openapi(createRoute({ method: "get", path: "/alert-rules", tags: ["Alerting"], summary: "Alert rules", responses: { 200: json(z.object({ items: z.array(RuleSchema) })), ...errorResponses(401) } }), async (c) =>
    c.json({ items: (await listAlertRules(deps, ctxFrom(c))).map(ruleJson) }, 200),
  );
  api.openapi(
    createRoute({ method: "post", path: "/alert-rules", tags: ["Alerting"], summary: "Create a threshold rule", request: { body: { content: { "application/json": { schema: RuleBody } } } }, responses: { 201: json(RuleSchema, "Created"), ...errorResponses(400, 401, 403) } }),
    async (c) => c.json(ruleJson(await createAlertRule(deps, ctxFrom(c), ruleInput(c.req.valid("json")))), 201),
  );
  api.openapi(
    createRoute({ method: "post", path: "/alert-rules/preview", tags: ["Alerting"], summary: "How often a rule would have fired on the last 24 h of data", request: { body: { content: { "application/json": { schema: RuleBody } } } }, responses: { 200: json(z.object({ fires: z.number(), devices: z.number(), evaluated: z.number() })), ...errorResponses(400, 401) } }),
    async (c) => c.json(await previewRule(deps, ctxFrom(c), ruleInput(c.req.valid("json"))), 200),
  );
  api.openapi(createRoute({ method: "get", path: "/alert-rules/{id}", tags: ["Alerting"], summary: "One rule", request: { params: IdParam }, responses: { 200: json(RuleSchema), ...errorResponses(401, 404) } }), async (c) =>
    c.json(ruleJson(await getAlertRule(deps, ctxFrom(c), c.req.valid("param").id)), 200),
  );
  api.openapi(
    createRoute({ method: "patch", path: "/alert-rules/{id}", tags: ["Alerting"], summary: "Change a rule", request: { params: IdParam, body: { content: { "application/json": { schema: RuleBody } } } }, responses: { 200: json(RuleSchema), ...errorResponses(400, 401, 403, 404) } }),
    async (c) => c.json(ruleJson(await updateAlertRule(deps, ctxFrom(c), c.req.valid("param").id, ruleInput(c.req.valid("json")))), 200),
  );
  api.openapi(createRoute({ method: "delete", path: "/alert-rules/{id}", tags: ["Alerting"], summary: "Delete a rule", request: { params: IdParam }, responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404) } }), async (c) => {
    await deleteAlertRule(deps, ctxFrom(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  // NO_HEARTBEAT tuning
  api.openapi(createRoute({ method: "get", path: "/heartbeat-rules", tags: ["Alerting"], summary: "NO_HEARTBEAT rules by site or tag", responses: { 200: json(z.object({ items: z.array(HeartbeatSchema) })), ...errorResponses(401) } }), async (c) =>
    c.json({ items: (await listHeartbeatPolicies(deps, ctxFrom(c))).map(heartbeatJson) }, 200),
  );
  api.openapi(
    createRoute({ method: "post", path: "/heartbeat-rules", tags: ["Alerting"], summary: "Tune NO_HEARTBEAT for a scope (grace, severity, off)", request: { body: { content: { "application/json": { schema: HeartbeatBody } } } }, responses: { 201: json(HeartbeatSchema, "Created"), ...errorResponses(400, 401, 403) } }),
    async (c) => {
      const b = c.req.valid("json");
      return c.json(heartbeatJson(await saveHeartbeatPolicy(deps, ctxFrom(c), undefined, { name: b.name, scope: b.scope, graceSeconds: b.grace_seconds, severity: b.severity, enabled: b.enabled, autoClose: b.auto_close, escalationPolicyId: b.escalation_policy_id })), 201);
    },
  );
  api.openapi(
    createRoute({ method: "put", path: "/heartbeat-rules/{id}", tags: ["Alerting"], summary: "Replace a heartbeat rule", request: { params: IdParam, body: { content: { "application/json": { schema: HeartbeatBody } } } }, responses: { 200: json(HeartbeatSchema), ...errorResponses(400, 401, 403, 404) } }),
    async (c) => {
      const b = c.req.valid("json");
      return c.json(heartbeatJson(await saveHeartbeatPolicy(deps, ctxFrom(c), c.req.valid("param").id, { name: b.name, scope: b.scope, graceSeconds: b.grace_seconds, severity: b.severity, enabled: b.enabled, autoClose: b.auto_close, escalationPolicyId: b.escalation_policy_id })), 200);
    },
  );
  api.openapi(createRoute({ method: "delete", path: "/heartbeat-rules/{id}", tags: ["Alerting"], summary: "Delete a heartbeat rule", request: { params: IdParam }, responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404) } }), async (c) => {
    await deleteHeartbeatPolicy(deps, ctxFrom(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  // Alerts
  api.openapi(
    createRoute({
      method: "get",
      path: "/alerts",
      tags: ["Alerting"],
      summary: "Alerts, newest first",
      request: {
        query: z.object({
          status: z.enum(["OPEN", "ACKNOWLEDGED", "CLOSED", "ALL", "ACTIVE"]).default("ACTIVE").openapi({ description: "ACTIVE = open or acknowledged" }),
          severity: z.union([Severity, z.array(Severity)]).optional(),
          device_id: z.string().optional(),
          site_id: z.string().optional(),
          type: z.enum(["THRESHOLD", "NO_HEARTBEAT"]).optional(),
          from: z.string().datetime({ offset: true }).optional(),
          to: z.string().datetime({ offset: true }).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().max(300).optional(),
        }),
      },
      responses: { 200: json(pageOf(AlertSchema)), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const before = decodeCursor(q.cursor, (v): v is [string, string] => Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string");
      const rows = await listTenantAlerts(deps, ctxFrom(c), {
        status: q.status,
        severity: q.severity === undefined ? undefined : Array.isArray(q.severity) ? q.severity : [q.severity],
        deviceId: q.device_id,
        siteId: q.site_id,
        type: q.type,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        before: before ? { at: new Date(before[0]), id: before[1] } : undefined,
        limit: q.limit,
      });
      const last = rows.at(-1);
      return c.json({ items: rows.map(alertJson), next_cursor: rows.length === q.limit && last ? encodeCursor([last.opened_at.toISOString(), last.id]) : null }, 200);
    },
  );
  api.openapi(
    createRoute({ method: "get", path: "/alerts/summary", tags: ["Alerting"], summary: "Open and acknowledged alerts by severity", responses: { 200: json(z.record(z.string(), z.object({ open: z.number(), acknowledged: z.number() }))), ...errorResponses(401) } }),
    async (c) => c.json(await activeAlertCounts(deps, ctxFrom(c)), 200),
  );
  api.openapi(
    createRoute({
      method: "get",
      path: "/alerts/{id}",
      tags: ["Alerting"],
      summary: "One alert with its timeline",
      request: { params: IdParam },
      responses: {
        200: json(AlertSchema.extend({ timeline: z.array(z.object({ time: z.string(), kind: z.string(), actor_kind: z.string(), actor_name: z.string(), value: z.unknown(), details: z.record(z.string(), z.unknown()) })) })),
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const { alert, timeline } = await getAlertWithTimeline(deps, ctxFrom(c), c.req.valid("param").id);
      return c.json({ ...alertJson(alert), timeline: timeline.map((e) => ({ time: e.time.toISOString(), kind: e.kind, actor_kind: e.actor_kind, actor_name: e.actor_name, value: e.value, details: e.details })) }, 200);
    },
  );

  const action = (path: string, summary: string, body: z.ZodTypeAny, toAction: (b: Record<string, unknown>) => AlertAction) => {
    api.openapi(
      createRoute({ method: "post", path: `/alerts/{id}/${path}`, tags: ["Alerting"], summary, request: { params: IdParam, body: { content: { "application/json": { schema: body } }, required: false } }, responses: { 200: json(AlertSchema), ...errorResponses(400, 401, 403, 404) } }),
      async (c) => {
        const b = ((await c.req.json().catch(() => ({}))) ?? {}) as Record<string, unknown>;
        const [alert] = await actOnAlerts(deps, ctxFrom(c), [c.req.valid("param").id], toAction(b));
        return c.json(alertJson(alert!), 200);
      },
    );
  };
  const silenceUntil = (b: Record<string, unknown>, now: Date): Date | null => {
    if (b.minutes !== undefined) return new Date(now.getTime() + Number(b.minutes) * 60_000);
    if (typeof b.until === "string") return new Date(b.until);
    return null;
  };
  action("acknowledge", "Acknowledge: someone is on it; escalation stops", z.object({ note: z.string().max(500).optional() }), (b) => ({ kind: "acknowledge", note: b.note as string | undefined }));
  action("close", "Close by hand", z.object({ reason: z.string().max(500).optional() }), (b) => ({ kind: "close", reason: b.reason as string | undefined }));
  action("silence", "Silence notifications for N minutes or until a time (neither: lift the silence)", z.object({ minutes: z.number().int().min(1).max(43200).optional(), until: z.string().datetime({ offset: true }).optional() }), (b) => ({
    kind: "silence",
    until: silenceUntil(b, auth.clock.now()),
  }));
  api.openapi(
    createRoute({
      method: "post",
      path: "/alerts/bulk",
      tags: ["Alerting"],
      summary: "Acknowledge, close or silence many alerts at once",
      request: {
        body: {
          content: {
            "application/json": {
              schema: z.object({ ids: z.array(z.string()).min(1).max(500), action: z.enum(["acknowledge", "close", "silence"]), minutes: z.number().int().min(1).max(43200).optional(), until: z.string().optional(), reason: z.string().max(500).optional() }),
            },
          },
        },
      },
      responses: { 200: json(z.object({ items: z.array(AlertSchema) })), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const act: AlertAction = b.action === "acknowledge" ? { kind: "acknowledge" } : b.action === "close" ? { kind: "close", reason: b.reason } : { kind: "silence", until: silenceUntil(b, auth.clock.now()) };
      return c.json({ items: (await actOnAlerts(deps, ctxFrom(c), b.ids, act)).map(alertJson) }, 200);
    },
  );

  // Maintenance windows
  api.openapi(
    createRoute({ method: "get", path: "/maintenance-windows", tags: ["Alerting"], summary: "Maintenance windows (current and future; include_ended for history)", request: { query: z.object({ include_ended: z.enum(["true", "false"]).optional() }) }, responses: { 200: json(z.object({ items: z.array(WindowSchema) })), ...errorResponses(401) } }),
    async (c) => c.json({ items: (await listMaintenanceWindows(deps, ctxFrom(c), { includeEnded: c.req.valid("query").include_ended === "true" })).map(windowJson) }, 200),
  );
  api.openapi(
    createRoute({ method: "post", path: "/maintenance-windows", tags: ["Alerting"], summary: "Plan maintenance: alerts inside are recorded but not notified", request: { body: { content: { "application/json": { schema: WindowBody } } } }, responses: { 201: json(WindowSchema, "Created"), ...errorResponses(400, 401, 403) } }),
    async (c) => {
      const b = c.req.valid("json");
      return c.json(windowJson(await saveMaintenanceWindow(deps, ctxFrom(c), undefined, { name: b.name, scope: b.scope, startsAt: b.starts_at, endsAt: b.ends_at, recurrence: b.recurrence })), 201);
    },
  );
  api.openapi(
    createRoute({ method: "put", path: "/maintenance-windows/{id}", tags: ["Alerting"], summary: "Replace a window", request: { params: IdParam, body: { content: { "application/json": { schema: WindowBody } } } }, responses: { 200: json(WindowSchema), ...errorResponses(400, 401, 403, 404) } }),
    async (c) => {
      const b = c.req.valid("json");
      return c.json(windowJson(await saveMaintenanceWindow(deps, ctxFrom(c), c.req.valid("param").id, { name: b.name, scope: b.scope, startsAt: b.starts_at, endsAt: b.ends_at, recurrence: b.recurrence })), 200);
    },
  );
  api.openapi(createRoute({ method: "delete", path: "/maintenance-windows/{id}", tags: ["Alerting"], summary: "Remove a window", request: { params: IdParam }, responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404) } }), async (c) => {
    await deleteMaintenanceWindow(deps, ctxFrom(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  return api;
}
