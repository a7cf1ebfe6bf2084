// Alert rules and NO_HEARTBEAT rules: validation (every refusal names the
// field), CRUD per tenant, and a NOTIFY so every node's engine reloads them.

import { recordAuditIn } from "../audit/service.ts";
import { notifyChange } from "../db/bus.ts";
import type { Db, Sql } from "../db/db.ts";
import { withTenant } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import { requirePermission, type Ctx } from "../lib/ctx.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { requireText } from "../lib/validate.ts";
import { evaluate, inScope, NUMERIC_OPERATORS, OPERATORS, SEVERITIES, type Operator, type Scope, type Severity } from "./evaluate.ts";
import { RULES_CHANNEL } from "./engine.ts";
import { deleteRule, findRule, insertRule, listRules, metricHistory, resetPending, seenMetrics, updateRule, type RuleFields, type RuleRow } from "./store.ts";
import { deleteHeartbeatRule, insertHeartbeatRule, listHeartbeatRules, updateHeartbeatRule, type HeartbeatRuleFields, type HeartbeatRuleRow } from "./windows-store.ts";

export interface RuleDeps {
  db: Db;
  clock: Clock;
}

const METRIC = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A scope object: sites and devices are id lists, tags a key/value map; empty means every device. */
export function checkScope(v: unknown, field = "scope"): Scope {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw invalid(field, `${field}: an object with sites, tags or devices`);
  const s = v as Record<string, unknown>;
  const out: Scope = {};
  for (const key of Object.keys(s)) if (!["sites", "tags", "devices"].includes(key)) throw invalid(`${field}.${key}`, `${field}.${key}: unknown; use sites, tags or devices`);
  for (const key of ["sites", "devices"] as const) {
    const list = s[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length > 1000 || list.some((x) => typeof x !== "string" || !SLUG.test(x))) throw invalid(`${field}.${key}`, `${field}.${key}: a list of ids`);
    if (list.length) out[key] = [...new Set(list as string[])];
  }
  if (s.tags !== undefined) {
    if (typeof s.tags !== "object" || s.tags === null || Array.isArray(s.tags)) throw invalid(`${field}.tags`, `${field}.tags: an object of tag: value`);
    const tags = Object.entries(s.tags as Record<string, unknown>);
    if (tags.some(([k, val]) => !k || k.length > 64 || typeof val !== "string" || val.length > 200)) throw invalid(`${field}.tags`, `${field}.tags: tag names and string values`);
    if (tags.length) out.tags = Object.fromEntries(tags) as Record<string, string>;
  }
  return out;
}

export function checkSeverity(v: unknown, field = "severity"): Severity {
  if (!SEVERITIES.includes(v as Severity)) throw invalid(field, `${field}: one of ${SEVERITIES.join(", ")}`);
  return v as Severity;
}

export interface RuleInput {
  name?: unknown;
  ruleType?: unknown;
  metricName?: unknown;
  normalized?: unknown;
  operator?: unknown;
  threshold?: unknown;
  clearThreshold?: unknown;
  durationSeconds?: unknown;
  severity?: unknown;
  scope?: unknown;
  enabled?: unknown;
  autoClose?: unknown;
  reopenWindowSeconds?: unknown;
  escalationPolicyId?: unknown;
}

/** Validate a whole rule; refusals name the field. */
export function checkRule(input: RuleInput): RuleFields {
  if (input.ruleType !== undefined && input.ruleType !== "THRESHOLD") throw invalid("rule_type", "rule_type: THRESHOLD (NO_HEARTBEAT is built in; tune it with heartbeat rules)");
  const name = requireText("name", input.name);
  if (typeof input.metricName !== "string" || !METRIC.test(input.metricName)) throw invalid("metric_name", "metric_name: a metric name (letters, digits, _ . -; starting with a letter or _)");
  if (!OPERATORS.includes(input.operator as Operator)) throw invalid("operator", `operator: one of ${OPERATORS.join(", ")}`);
  const operator = input.operator as Operator;
  const numeric = NUMERIC_OPERATORS.includes(operator);
  const threshold = input.threshold;
  if (numeric && (typeof threshold !== "number" || !Number.isFinite(threshold))) throw invalid("threshold", `threshold: ${operator} compares numbers; give a number`);
  if (!numeric && !(typeof threshold === "boolean" || (typeof threshold === "number" && Number.isFinite(threshold)) || (typeof threshold === "string" && threshold.length <= 64))) {
    throw invalid("threshold", "threshold: a number, boolean or string of at most 64 characters");
  }
  let clearThreshold: number | null = null;
  if (input.clearThreshold !== undefined && input.clearThreshold !== null) {
    if (!numeric) throw invalid("clear_threshold", "clear_threshold: only for GT, GTE, LT and LTE");
    if (typeof input.clearThreshold !== "number" || !Number.isFinite(input.clearThreshold)) throw invalid("clear_threshold", "clear_threshold: a number");
    const t = threshold as number;
    if ((operator === "GT" || operator === "GTE") && input.clearThreshold > t) throw invalid("clear_threshold", `clear_threshold: for ${operator} it must be at or below the threshold (${t}); it is the value the metric must fall back to`);
    if ((operator === "LT" || operator === "LTE") && input.clearThreshold < t) throw invalid("clear_threshold", `clear_threshold: for ${operator} it must be at or above the threshold (${t}); it is the value the metric must climb back to`);
    clearThreshold = input.clearThreshold;
  }
  const duration = input.durationSeconds ?? 0;
  if (typeof duration !== "number" || !Number.isInteger(duration) || duration < 0 || duration > 7 * 86400) throw invalid("duration_seconds", "duration_seconds: whole seconds from 0 to 604800");
  const reopen = input.reopenWindowSeconds ?? 3600;
  if (typeof reopen !== "number" || !Number.isInteger(reopen) || reopen < 0 || reopen > 30 * 86400) throw invalid("reopen_window_seconds", "reopen_window_seconds: whole seconds from 0 to 2592000");
  const policy = input.escalationPolicyId ?? null;
  if (policy !== null && (typeof policy !== "string" || !/^[0-9a-f-]{36}$/i.test(policy))) throw invalid("escalation_policy_id", "escalation_policy_id: a policy id");
  return {
    name,
    metric_name: input.metricName,
    normalized: input.normalized === true,
    operator,
    threshold: threshold as RuleFields["threshold"],
    clear_threshold: clearThreshold,
    duration_seconds: duration,
    severity: checkSeverity(input.severity),
    scope: checkScope(input.scope),
    enabled: input.enabled !== false,
    auto_close: input.autoClose !== false,
    reopen_window_seconds: reopen,
    escalation_policy_id: policy as string | null,
  };
}

async function changed(tx: Sql, ctx: Ctx, clock: Clock, action: string, id: string, details: Record<string, unknown> = {}): Promise<void> {
  await notifyChange(tx, RULES_CHANNEL, ctx.tenantId);
  await recordAuditIn(tx, clock, { tenantId: ctx.tenantId, actor: ctx.actor, action, target: { kind: "alert_rule", id }, ip: ctx.ip, requestId: ctx.requestId, details });
}

export interface Rule extends RuleRow {
  /** No device of the tenant has sent this metric yet (allowed, but flagged). */
  metricUnseen: boolean;
}

export async function listAlertRules(deps: RuleDeps, ctx: Ctx): Promise<Rule[]> {
  requirePermission(ctx, "read", "see alert rules");
  return withTenant(deps.db, ctx, async (tx) => {
    const seen = await seenMetrics(tx, ctx.tenantId);
    return (await listRules(tx)).map((r) => ({ ...r, metricUnseen: !seen.has(r.metric_name) }));
  });
}

export async function getAlertRule(deps: RuleDeps, ctx: Ctx, id: string): Promise<Rule> {
  requirePermission(ctx, "read", "see alert rules");
  return withTenant(deps.db, ctx, async (tx) => {
    const r = await findRule(tx, id);
    if (!r) throw notFound(`alert rule ${id}`);
    return { ...r, metricUnseen: !(await seenMetrics(tx, ctx.tenantId)).has(r.metric_name) };
  });
}

/** Create a rule (tenant-admin). */
export async function createAlertRule(deps: RuleDeps, ctx: Ctx, input: RuleInput): Promise<Rule> {
  requirePermission(ctx, "admin", "create alert rules");
  const fields = checkRule(input);
  return withTenant(deps.db, ctx, async (tx) => {
    const r = await insertRule(tx, ctx.tenantId, fields, ctx.actor.name, deps.clock.now());
    await changed(tx, ctx, deps.clock, "alert_rule.created", r.id, { name: r.name });
    return { ...r, metricUnseen: !(await seenMetrics(tx, ctx.tenantId)).has(r.metric_name) };
  });
}

/** Replace a rule's definition (tenant-admin); its evaluation state restarts. */
export async function updateAlertRule(deps: RuleDeps, ctx: Ctx, id: string, input: RuleInput): Promise<Rule> {
  requirePermission(ctx, "admin", "change alert rules");
  return withTenant(deps.db, ctx, async (tx) => {
    const current = await findRule(tx, id);
    if (!current) throw notFound(`alert rule ${id}`);
    const merged: RuleInput = {
      name: current.name,
      metricName: current.metric_name,
      normalized: current.normalized,
      operator: current.operator,
      threshold: current.threshold,
      clearThreshold: current.clear_threshold,
      durationSeconds: current.duration_seconds,
      severity: current.severity,
      scope: current.scope,
      enabled: current.enabled,
      autoClose: current.auto_close,
      reopenWindowSeconds: current.reopen_window_seconds,
      escalationPolicyId: current.escalation_policy_id,
      ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    };
    const r = (await updateRule(tx, id, checkRule(merged), deps.clock.now()))!;
    // A changed condition is judged afresh; firing alerts stay until the new condition clears them.
    await resetPending(tx, id);
    await changed(tx, ctx, deps.clock, "alert_rule.updated", id, { name: r.name });
    return { ...r, metricUnseen: !(await seenMetrics(tx, ctx.tenantId)).has(r.metric_name) };
  });
}

export async function deleteAlertRule(deps: RuleDeps, ctx: Ctx, id: string): Promise<void> {
  requirePermission(ctx, "admin", "delete alert rules");
  await withTenant(deps.db, ctx, async (tx) => {
    if (!(await deleteRule(tx, id))) throw notFound(`alert rule ${id}`);
    await changed(tx, ctx, deps.clock, "alert_rule.deleted", id);
  });
}

/** How often a rule would have fired on recent data (the rules page preview). */
export async function previewRule(deps: RuleDeps, ctx: Ctx, input: RuleInput, hours = 24): Promise<{ fires: number; devices: number; evaluated: number }> {
  requirePermission(ctx, "read", "preview alert rules");
  const rule = checkRule({ name: "preview", severity: "INFO", ...input });
  const since = new Date(deps.clock.now().getTime() - hours * 3_600_000);
  const rows = await withTenant(deps.db, ctx, (tx) => metricHistory(tx, ctx.tenantId, rule.metric_name, since, 200_000));
  const states = new Map<string, { pendingSince: number | null; firing: boolean }>();
  const fired = new Set<string>();
  let fires = 0;
  for (const r of rows) {
    if (!inScope(rule.scope, { id: r.device_id, siteId: r.site_id, tags: r.tags })) continue;
    const ev = evaluate({ operator: rule.operator, threshold: rule.threshold, clearThreshold: rule.clear_threshold, durationSeconds: rule.duration_seconds }, states.get(r.device_id) ?? { pendingSince: null, firing: false }, r.value, r.time.getTime());
    states.set(r.device_id, ev.state);
    if (ev.action === "fire") {
      fires++;
      fired.add(r.device_id);
    }
  }
  return { fires, devices: fired.size, evaluated: rows.length };
}

// NO_HEARTBEAT rules

export function checkHeartbeatRule(input: { name?: unknown; scope?: unknown; graceSeconds?: unknown; severity?: unknown; enabled?: unknown; autoClose?: unknown; escalationPolicyId?: unknown }): HeartbeatRuleFields {
  const grace = input.graceSeconds ?? 0;
  if (typeof grace !== "number" || !Number.isInteger(grace) || grace < 0 || grace > 7 * 86400) throw invalid("grace_seconds", "grace_seconds: whole seconds from 0 to 604800");
  const policy = input.escalationPolicyId ?? null;
  if (policy !== null && (typeof policy !== "string" || !/^[0-9a-f-]{36}$/i.test(policy))) throw invalid("escalation_policy_id", "escalation_policy_id: a policy id");
  return {
    name: requireText("name", input.name),
    scope: checkScope(input.scope),
    grace_seconds: grace,
    severity: input.severity === undefined ? "HIGH" : checkSeverity(input.severity),
    enabled: input.enabled !== false,
    auto_close: input.autoClose !== false,
    escalation_policy_id: policy as string | null,
  };
}

export async function listHeartbeatPolicies(deps: RuleDeps, ctx: Ctx): Promise<HeartbeatRuleRow[]> {
  requirePermission(ctx, "read", "see heartbeat rules");
  return withTenant(deps.db, ctx, (tx) => listHeartbeatRules(tx));
}

export async function saveHeartbeatPolicy(deps: RuleDeps, ctx: Ctx, id: string | undefined, input: Parameters<typeof checkHeartbeatRule>[0]): Promise<HeartbeatRuleRow> {
  requirePermission(ctx, "admin", "change heartbeat rules");
  const fields = checkHeartbeatRule(input);
  return withTenant(deps.db, ctx, async (tx) => {
    const row = id ? await updateHeartbeatRule(tx, id, fields, deps.clock.now()) : await insertHeartbeatRule(tx, ctx.tenantId, fields, deps.clock.now());
    if (!row) throw notFound(`heartbeat rule ${id}`);
    await changed(tx, ctx, deps.clock, id ? "heartbeat_rule.updated" : "heartbeat_rule.created", row.id, { name: row.name });
    return row;
  });
}

export async function deleteHeartbeatPolicy(deps: RuleDeps, ctx: Ctx, id: string): Promise<void> {
  requirePermission(ctx, "admin", "delete heartbeat rules");
  await withTenant(deps.db, ctx, async (tx) => {
    if (!(await deleteHeartbeatRule(tx, id))) throw notFound(`heartbeat rule ${id}`);
    await changed(tx, ctx, deps.clock, "heartbeat_rule.deleted", id);
  });
}
